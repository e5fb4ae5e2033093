package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The day's close (schema 8). A Z report closes a period of the books:
// numbered 1, 2, … with no gap, each period starting where the last one
// ended, stored once and never rewritten. The store keeps the number, the
// period, the caller's idempotency key and the report itself (Doc, opaque
// here: terminal/report writes and reads it). TakeZ checks the period
// against the last Z and numbers the new one in one write, so two Zs can
// never cover the same period, and a call repeated with the same key gets
// the Z the first made.

// Marks are how far each of the store's record sequences had gone when a
// caller began to read the books: the last payment Seq, unmatched receipt
// seq and failure number. TakeZ refuses a Z (ErrZMoved) when a record
// dated inside the Z's period was stored after them: the report read
// would have missed it.
type Marks struct {
	Payments  uint64 `json:"payments"`
	Unmatched uint64 `json:"unmatched"`
	Failures  uint64 `json:"failures"`
}

// Z is a stored Z report.
type Z struct {
	Number uint64    // 1, 2, …; given by TakeZ
	From   time.Time // the period: [From, To)
	To     time.Time
	Key    string // the idempotency key it was taken with ("" none)
	Marks  Marks  // where the books stood when it was read
	Doc    []byte // the report, opaque to the store
}

type zRecord struct {
	Number uint64    `json:"number"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Key    string    `json:"key,omitempty"`
	Marks  Marks     `json:"marks"`
	Doc    []byte    `json:"doc"`
}

// maxZKey bounds an idempotency key.
const maxZKey = 128

// Marks returns how far the record sequences have gone now.
func (s *Store) Marks() (Marks, error) {
	var m Marks
	err := s.view(func(tx *bbolt.Tx) error {
		m = marksOf(tx)
		return nil
	})
	return m, err
}

func marksOf(tx *bbolt.Tx) Marks {
	last := func(name []byte) uint64 {
		if k, _ := tx.Bucket(name).Cursor().Last(); len(k) == 8 {
			return binary.BigEndian.Uint64(k)
		}
		return 0
	}
	return Marks{Payments: last(bucketBySeq), Unmatched: last(bucketUnmatched), Failures: last(bucketFailures)}
}

// TakeZ stores z as the next Z report, durably, and returns it numbered,
// with true. In the same write it checks:
//   - z.Key: a Z already taken with this key is returned as it is, with
//     false (a repeated call: the caller's first answer was lost);
//   - the period: z.From must be the last Z's To (the first Z's may be any
//     time), and z.To after z.From (the first Z's may equal it: nothing
//     happened yet): else ErrZPeriod;
//   - the books: no payment, unmatched receipt or failure dated in
//     [z.From, z.To) may have been stored after z.Marks: else ErrZMoved.
//
// A refused Z writes nothing: read the books again and take it again.
func (s *Store) TakeZ(ctx context.Context, z Z) (Z, bool, error) {
	if len(z.Key) > maxZKey {
		return Z{}, false, fmt.Errorf("take Z: key of %d bytes, at most %d", len(z.Key), maxZKey)
	}
	z.From, z.To = storeTime(z.From), storeTime(z.To)
	var out Z
	created := false
	err := s.write(ctx, func(w *wtx) error {
		created = false
		if z.Key != "" {
			v, err := w.getChecked(bucketZKeys, []byte(z.Key))
			if err != nil {
				return fmt.Errorf("take Z: %w", err)
			}
			if v != nil {
				if len(v) != 8 {
					return fmt.Errorf("take Z: key %q: %w", z.Key, ErrCorrupt)
				}
				out, err = zAt(w.tx, binary.BigEndian.Uint64(v))
				return err
			}
		}
		last, ok, err := lastZ(w.tx)
		if err != nil {
			return fmt.Errorf("take Z: %w", err)
		}
		if ok && !z.From.Equal(last.To) {
			return fmt.Errorf("take Z: period from %s, but Z %d ended at %s: %w", z.From.Format(time.RFC3339Nano), last.Number, last.To.Format(time.RFC3339Nano), ErrZPeriod)
		}
		if ok && !z.To.After(z.From) || z.To.Before(z.From) {
			return fmt.Errorf("take Z: period ends at %s, not after its start %s (is the clock behind?): %w", z.To.Format(time.RFC3339), z.From.Format(time.RFC3339), ErrZPeriod)
		}
		if err := movedSince(w.tx, z); err != nil {
			return fmt.Errorf("take Z: %w", err)
		}
		z.Number = last.Number + 1
		enc, err := json.Marshal(zRecord{Number: z.Number, From: z.From, To: z.To, Key: z.Key, Marks: z.Marks, Doc: z.Doc})
		if err != nil {
			return err
		}
		if err := w.putChecked(bucketZs, seqKey(z.Number), enc); err != nil {
			return fmt.Errorf("take Z: %w", err)
		}
		if z.Key != "" {
			if err := w.putChecked(bucketZKeys, []byte(z.Key), seqKey(z.Number)); err != nil {
				return fmt.Errorf("take Z: %w", err)
			}
		}
		out, created = z, true
		return nil
	})
	if err != nil {
		return Z{}, false, err
	}
	return out, created, nil
}

// movedSince reports ErrZMoved if a record dated in z's period was stored
// after z.Marks.
func movedSince(tx *bbolt.Tx, z Z) error {
	in := func(t time.Time) bool { return !t.Before(z.From) && t.Before(z.To) }
	c := tx.Bucket(bucketBySeq).Cursor()
	for k, v := c.Seek(seqKey(z.Marks.Payments + 1)); k != nil; k, v = c.Next() {
		h, err := checkValue(bucketBySeq, k, v)
		if err != nil {
			return err
		}
		p, err := paymentByHash(tx, h)
		if err != nil {
			return err
		}
		if in(p.AcceptedAt) {
			return fmt.Errorf("payment %s accepted at %s was stored after the books were read: %w", p.TxHash, p.AcceptedAt.Format(time.RFC3339), ErrZMoved)
		}
	}
	c = tx.Bucket(bucketUnmatched).Cursor()
	for k, v := c.Seek(seqKey(z.Marks.Unmatched + 1)); k != nil; k, v = c.Next() {
		body, err := checkValue(bucketUnmatched, k, v)
		if err != nil {
			return err
		}
		p, err := decodeUnmatched(body)
		if err != nil {
			return err
		}
		if in(p.AcceptedAt) {
			return fmt.Errorf("unmatched receipt %x was stored after the books were read: %w", k, ErrZMoved)
		}
	}
	c = tx.Bucket(bucketFailures).Cursor()
	for k, _ := c.Seek(seqKey(z.Marks.Failures + 1)); k != nil; k, _ = c.Next() {
		fl, err := failureAt(tx, binary.BigEndian.Uint64(k))
		if err != nil {
			return err
		}
		if in(fl.FailedAt) {
			return fmt.Errorf("failure %d was stored after the books were read: %w", fl.ID, ErrZMoved)
		}
	}
	return nil
}

// Z returns Z report n; ErrUnknownZ if there is none.
func (s *Store) Z(n uint64) (Z, error) {
	var out Z
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		out, err = zAt(tx, n)
		return err
	})
	return out, err
}

// LastZ returns the latest Z report, and false when none was taken yet.
func (s *Store) LastZ() (Z, bool, error) {
	var out Z
	var ok bool
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		out, ok, err = lastZ(tx)
		return err
	})
	return out, ok, err
}

func lastZ(tx *bbolt.Tx) (Z, bool, error) {
	k, _ := tx.Bucket(bucketZs).Cursor().Last()
	if k == nil {
		return Z{}, false, nil
	}
	if len(k) != 8 {
		return Z{}, false, fmt.Errorf("bucket %s: key %x: %w", bucketZs, k, ErrCorrupt)
	}
	z, err := zAt(tx, binary.BigEndian.Uint64(k))
	return z, err == nil, err
}

func zAt(tx *bbolt.Tx, n uint64) (Z, error) {
	v, err := getChecked(tx, bucketZs, seqKey(n))
	if err != nil {
		return Z{}, err
	}
	if v == nil {
		return Z{}, fmt.Errorf("Z %d: %w", n, ErrUnknownZ)
	}
	var rec zRecord
	if err := json.Unmarshal(v, &rec); err != nil || rec.Number != n {
		return Z{}, fmt.Errorf("Z %d: record of Z %d (%v): %w", n, rec.Number, err, ErrCorrupt)
	}
	return Z{Number: rec.Number, From: rec.From, To: rec.To, Key: rec.Key, Marks: rec.Marks, Doc: rec.Doc}, nil
}

// checkZs requires the Z reports (schema 8) to be numbered 1, 2, … with
// each period starting where the one before ended, and every key to name
// the Z taken with it.
func checkZs(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketZs, bucketZKeys} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %s missing: %w", name, ErrCorrupt)
		}
	}
	var prev Z
	if err := tx.Bucket(bucketZs).ForEach(func(k, _ []byte) error {
		if len(k) != 8 || binary.BigEndian.Uint64(k) != prev.Number+1 {
			return fmt.Errorf("bucket %s: key %x after Z %d: %w", bucketZs, k, prev.Number, ErrCorrupt)
		}
		z, err := zAt(tx, prev.Number+1)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", bucketZs, err)
		}
		if prev.Number > 0 && !z.From.Equal(prev.To) || z.To.Before(z.From) {
			return fmt.Errorf("bucket %s: Z %d covers %s to %s, Z %d ended at %s: %w", bucketZs, z.Number, z.From, z.To, prev.Number, prev.To, ErrCorrupt)
		}
		prev = z
		return nil
	}); err != nil {
		return err
	}
	return tx.Bucket(bucketZKeys).ForEach(func(k, v []byte) error {
		n, err := checkValue(bucketZKeys, k, v)
		if err != nil {
			return err
		}
		if len(n) != 8 {
			return fmt.Errorf("bucket %s: key %q: %w", bucketZKeys, k, ErrCorrupt)
		}
		z, err := zAt(tx, binary.BigEndian.Uint64(n))
		if err != nil || z.Key != string(k) {
			return fmt.Errorf("bucket %s: key %q names Z %d (%v): %w", bucketZKeys, k, binary.BigEndian.Uint64(n), err, ErrCorrupt)
		}
		return nil
	})
}
