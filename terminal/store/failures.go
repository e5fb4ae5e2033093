package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// A failure after acceptance (a conflict, a revert, a payment not mined
// before its end, an authorization used elsewhere or expired) is a payment
// that entered state failed. The payment's record already says what it
// was (amount, asset, request, reason); the failures buckets (schema 8) add
// a number the cashier and the operator can name it by, the time it
// failed, and whether someone acknowledged it. The number is issued in the
// same write that fails the payment (planTransitionWith marks it, do
// writes it), so no failure is ever missing its entry and none has two.
// A failure stays listed as open until AckFailure or AckAllFailures;
// acknowledging keeps the record (a Z report lists the failures of its
// period) and only leaves the open index.

// Failure is one payment that failed after it was accepted.
type Failure struct {
	ID       uint64    // the failure's number: 1, 2, … in the order they failed
	Payment  Payment   // the payment as stored (State failed, Reason why)
	FailedAt time.Time // when it entered failed
	AckedAt  time.Time // zero while unacknowledged
}

// Acked reports whether someone acknowledged the failure.
func (f Failure) Acked() bool { return !f.AckedAt.IsZero() }

type failureRecord struct {
	TxHash   common.Hash `json:"tx_hash"`
	FailedAt time.Time   `json:"failed_at"`
	AckedAt  time.Time   `json:"acked_at,omitzero"`
}

// FailureFilter selects failures for Failures.
type FailureFilter struct {
	Open    bool      // only the unacknowledged ones
	Since   time.Time // FailedAt >= Since; zero = open
	Until   time.Time // FailedAt < Until; zero = open
	AfterID uint64    // only ID > AfterID: page with the last ID seen
	Limit   int       // at most this many; 0 (or less) = 100
}

// recordFailure gives the payment p, entering failed at now in this
// write, its failure number, unacknowledged.
func recordFailure(w *wtx, p Payment, now time.Time) error {
	n, err := w.nextSeq(bucketFailures)
	if err != nil {
		return fmt.Errorf("number failure: %w", err)
	}
	enc, err := json.Marshal(failureRecord{TxHash: p.TxHash, FailedAt: now})
	if err != nil {
		return err
	}
	if err := w.putChecked(bucketFailures, seqKey(n), enc); err != nil {
		return err
	}
	if err := w.putChecked(bucketFailuresOpen, seqKey(n), p.TxHash[:]); err != nil {
		return err
	}
	return addOpen(w, 1)
}

// addOpen moves the count of open failures, kept as the open index's
// bucket sequence, so the idle screen's count (OpenFailures) is one read
// however many are open. Open checks it against the index.
func addOpen(w *wtx, d int) error {
	b := w.bucket(bucketFailuresOpen)
	n := int64(b.Sequence()) + int64(d)
	if n < 0 {
		return fmt.Errorf("bucket %s: open count below zero: %w", bucketFailuresOpen, ErrCorrupt)
	}
	return b.SetSequence(uint64(n))
}

// Failures returns the failures f selects, in the order they failed.
func (s *Store) Failures(f FailureFilter) ([]Failure, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []Failure
	err := s.view(func(tx *bbolt.Tx) error {
		name := bucketFailures
		if f.Open {
			name = bucketFailuresOpen
		}
		c := tx.Bucket(name).Cursor()
		for k, _ := c.Seek(seqKey(f.AfterID + 1)); k != nil && len(out) < limit; k, _ = c.Next() {
			fl, err := failureAt(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			if !f.Since.IsZero() && fl.FailedAt.Before(f.Since) || !f.Until.IsZero() && !fl.FailedAt.Before(f.Until) {
				continue
			}
			out = append(out, fl)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failures: %w", err)
	}
	return out, nil
}

// RecentFailures returns the chain's latest limit payments that failed
// after acceptance, the latest failed first, from the failures the store
// keeps (newest number first): it reads the failures, never the queue, so
// its cost does not grow with the payments waiting.
func (cs *ChainStore) RecentFailures(limit int) ([]Payment, error) {
	var out []Payment
	err := cs.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketFailures).Cursor()
		for k, _ := c.Last(); k != nil && len(out) < limit; k, _ = c.Prev() {
			if len(k) != 8 {
				return fmt.Errorf("bucket %s: key %x: %w", bucketFailures, k, ErrCorrupt)
			}
			fl, err := failureAt(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			if fl.Payment.ChainID == cs.id {
				out = append(out, fl.Payment)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent failures: %w", err)
	}
	return out, nil
}

// Failure returns failure id; ErrUnknownFailure if there is none.
func (s *Store) Failure(id uint64) (Failure, error) {
	var out Failure
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		out, err = failureAt(tx, id)
		return err
	})
	return out, err
}

// OpenFailures counts the unacknowledged failures (the idle screen's
// count): one read of the count the writes keep, however many are open.
func (s *Store) OpenFailures() (int, error) {
	n := 0
	err := s.view(func(tx *bbolt.Tx) error {
		n = int(tx.Bucket(bucketFailuresOpen).Sequence())
		return nil
	})
	return n, err
}

// AckFailure acknowledges failure id at now, durably, and returns it.
// Acknowledging one already acknowledged changes nothing and returns it
// as it is (its first acknowledgement's time). An unknown id gives
// ErrUnknownFailure.
func (s *Store) AckFailure(ctx context.Context, id uint64, now time.Time) (Failure, error) {
	var out Failure
	err := s.operatorWrite(ctx, func(w *wtx) error {
		fl, err := failureAt(w.tx, id)
		if err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
		if fl.Acked() {
			out = fl
			return nil
		}
		fl.AckedAt = storeTime(now)
		if err := ackFailure(w, fl); err != nil {
			return fmt.Errorf("acknowledge failure %d: %w", id, err)
		}
		out = fl
		return nil
	})
	if err != nil {
		return Failure{}, err
	}
	return out, nil
}

// AckAllFailures acknowledges every unacknowledged failure at now in one
// durable write and returns how many it acknowledged (0: none was open).
func (s *Store) AckAllFailures(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.operatorWrite(ctx, func(w *wtx) error {
		n = 0
		var ids []uint64
		c := w.bucket(bucketFailuresOpen).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			ids = append(ids, binary.BigEndian.Uint64(k))
		}
		var fls []Failure
		for _, id := range ids {
			fl, err := failureAt(w.tx, id)
			if err != nil {
				return fmt.Errorf("acknowledge all: %w", err)
			}
			fl.AckedAt = storeTime(now)
			fls = append(fls, fl)
		}
		for _, fl := range fls {
			if err := ackFailure(w, fl); err != nil {
				return fmt.Errorf("acknowledge all: failure %d: %w", fl.ID, err)
			}
		}
		n = len(fls)
		return nil
	})
	return n, err
}

func ackFailure(w *wtx, fl Failure) error {
	enc, err := json.Marshal(failureRecord{TxHash: fl.Payment.TxHash, FailedAt: fl.FailedAt, AckedAt: fl.AckedAt})
	if err != nil {
		return err
	}
	if err := w.putChecked(bucketFailures, seqKey(fl.ID), enc); err != nil {
		return err
	}
	if err := w.del(bucketFailuresOpen, seqKey(fl.ID)); err != nil {
		return err
	}
	return addOpen(w, -1)
}

// failureAt reads failure id with its payment.
func failureAt(tx *bbolt.Tx, id uint64) (Failure, error) {
	v, err := getChecked(tx, bucketFailures, seqKey(id))
	if err != nil {
		return Failure{}, err
	}
	if v == nil {
		return Failure{}, fmt.Errorf("failure %d: %w", id, ErrUnknownFailure)
	}
	var rec failureRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return Failure{}, fmt.Errorf("failure %d: %v: %w", id, err, ErrCorrupt)
	}
	p, err := paymentByHash(tx, rec.TxHash[:])
	if err != nil {
		return Failure{}, fmt.Errorf("failure %d: %w", id, err)
	}
	return Failure{ID: id, Payment: p, FailedAt: rec.FailedAt, AckedAt: rec.AckedAt}, nil
}

// migrateFailures brings a schema 7 file to schema 8 in one bbolt
// transaction that also records the new version: it makes the failures
// and Z buckets and gives every payment already failed a failure number,
// in acceptance order, unacknowledged, dated when the payment was last
// updated (when it failed: a failed payment is never updated again). An
// older build showed a failure only as a notice the next one replaced and
// a restart forgot, so nothing tells which were seen: the operator
// acknowledges them, one by one or all at once. It then verifies the file
// again. Other files are left as they are.
func migrateFailures(db *bbolt.DB, path string, log *slog.Logger) error {
	return migration{from: schemaV7, to: schemaV8, what: "failures kept until acknowledged, Z reports",
		buckets: [][]byte{bucketZs, bucketZKeys},
		fill: func(tx *bbolt.Tx) ([]any, error) {
			// A schema 7 file has none of these buckets, or only the empty
			// ones initSchema made; the failures are numbered from 1 afresh.
			for _, name := range [][]byte{bucketFailures, bucketFailuresOpen} {
				if tx.Bucket(name) != nil {
					if err := tx.DeleteBucket(name); err != nil {
						return nil, fmt.Errorf("delete bucket %s: %w", name, err)
					}
				}
				if _, err := tx.CreateBucket(name); err != nil {
					return nil, fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
			n := 0
			w := &wtx{tx: tx}
			c := tx.Bucket(bucketBySeq).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				h, err := checkValue(bucketBySeq, k, v)
				if err != nil {
					return nil, err
				}
				p, err := paymentByHash(tx, h)
				if err != nil {
					return nil, err
				}
				if p.State != PaymentFailed {
					continue
				}
				if err := recordFailure(w, p, p.UpdatedAt); err != nil {
					return nil, err
				}
				n++
			}
			return []any{"failures", n}, nil
		}}.run(db, path, log)
}

// checkFailures requires the failures buckets (schema 8) to agree with the
// payments: every failure names a failed payment, no payment twice, as
// many failures as failed payments (so none lacks its entry), and the open
// index to hold exactly the unacknowledged ones, each naming its failure's
// payment.
func checkFailures(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketFailures, bucketFailuresOpen} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %s missing: %w", name, ErrCorrupt)
		}
	}
	seen := map[common.Hash]bool{}
	open := 0
	var last uint64
	if err := tx.Bucket(bucketFailures).ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("bucket %s: key %x: %w", bucketFailures, k, ErrCorrupt)
		}
		last = binary.BigEndian.Uint64(k)
		fl, err := failureAt(tx, last)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", bucketFailures, err)
		}
		if fl.Payment.State != PaymentFailed || seen[fl.Payment.TxHash] {
			return fmt.Errorf("bucket %s: failure %d names payment %s (%s, twice: %v): %w", bucketFailures, fl.ID, fl.Payment.TxHash, fl.Payment.State, seen[fl.Payment.TxHash], ErrCorrupt)
		}
		seen[fl.Payment.TxHash] = true
		h, err := getChecked(tx, bucketFailuresOpen, k)
		if err != nil {
			return err
		}
		if fl.Acked() != (h == nil) || h != nil && !bytes.Equal(h, fl.Payment.TxHash[:]) {
			return fmt.Errorf("bucket %s: failure %d (acknowledged %v) out of step with its open entry: %w", bucketFailuresOpen, fl.ID, fl.Acked(), ErrCorrupt)
		}
		if h != nil {
			open++
		}
		return nil
	}); err != nil {
		return err
	}
	if b := tx.Bucket(bucketFailures); last > b.Sequence() {
		return fmt.Errorf("bucket %s: sequence %d below the highest number %d: %w", bucketFailures, b.Sequence(), last, ErrCorrupt)
	}
	if b := tx.Bucket(bucketFailuresOpen); b.Stats().KeyN != open || b.Sequence() != uint64(open) {
		return fmt.Errorf("bucket %s: %d entries, counted %d, %d failures unacknowledged: %w", bucketFailuresOpen, b.Stats().KeyN, b.Sequence(), open, ErrCorrupt)
	}
	failed, err := readCount(tx, PaymentFailed)
	if err != nil {
		return err
	}
	if uint64(len(seen)) != failed {
		return fmt.Errorf("bucket %s: %d failures, but %d payments failed: %w", bucketFailures, len(seen), failed, ErrCorrupt)
	}
	return nil
}
