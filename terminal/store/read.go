package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"runtime/debug"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// Reads run in their own bbolt read transactions, concurrently with each
// other and with the committer. Each sees one consistent committed state.
// A read may see a commit a moment before it is fsynced (bbolt publishes
// the new meta page, then syncs it); the writer's call has not returned
// yet then.

// viewFunc runs a function in a read transaction: view, or a ChainStore's.
type viewFunc = func(func(*bbolt.Tx) error) error

// view runs fn in a read transaction. A panic or memory fault while reading
// (the file damaged after Open) becomes an error wrapping ErrCorrupt. Once
// the scrub has found damage in what matters to money it refuses, with an
// error wrapping ErrCorrupt: the store is out of service, as one refused
// at Open (a damaged B+tree can leave records out of a range read with no
// error at all).
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	if err := s.moneyDamagedErr(); err != nil {
		return err
	}
	return s.viewAny(fn)
}

// viewOf is view for a read of the payment with that hash alone: it asks
// for a commit only if the journal holds that payment's accept.
func (s *Store) viewOf(hash common.Hash, fn func(*bbolt.Tx) error) error {
	if err := s.moneyDamagedErr(); err != nil {
		return err
	}
	if s.c.holds(hash) {
		if err := s.c.sync(); err != nil {
			if errors.Is(err, ErrClosed) {
				return err
			}
			return s.c.readHeld(fn)
		}
	}
	return s.viewCommitted(fn)
}

// viewAny is view in a store out of service too: for the counts that
// status and the watchdog read (bounded, checked at Open). Like view it
// first has the committer commit what waits in its journal, so that it sees
// every write answered before it.
func (s *Store) viewAny(fn func(*bbolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.c.sync(); err != nil {
		if errors.Is(err, ErrClosed) {
			return err
		}
		// The accepts held cannot be committed (the disk is full): the
		// read runs in the committer's transaction, which holds them.
		return s.c.readHeld(fn)
	}
	return s.viewCommitted(fn)
}

// viewCommitted is viewAny over what is committed, without asking for a
// commit: for the scrub (it checks the file), and for the followers the
// commit itself wakes (the event log's readers).
func (s *Store) viewCommitted(fn func(*bbolt.Tx) error) (err error) {
	if s.closed.Load() {
		return ErrClosed
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corruptf(s.path, "read failed: %v", r)
		}
	}()
	err = s.db.View(fn)
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Request returns the stored request; ErrUnknownRequest if there is none.
func (s *Store) Request(id string) (Request, error) {
	var r Request
	err := s.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketRequests, []byte(id))
		if err != nil {
			return fmt.Errorf("request %q: %w", id, err)
		}
		if v == nil {
			return fmt.Errorf("request %q: %w", id, ErrUnknownRequest)
		}
		if r, err = decodeRequest([]byte(id), v); err != nil {
			return err
		}
		return withShared(tx, &r)
	})
	return r, err
}

// Payment returns the payment with that tx hash; ErrUnknownPayment if none.
// It asks for a commit only if the journal holds that payment's accept:
// every other write of a payment is committed before it is answered.
func (s *Store) Payment(hash common.Hash) (Payment, error) {
	var p Payment
	err := s.viewOf(hash, func(tx *bbolt.Tx) error {
		var err error
		p, err = paymentByHash(tx, hash[:])
		return err
	})
	return p, err
}

// PaymentBySenderNonce returns the latest payment accepted from that sender
// with that nonce; ErrUnknownPayment if none. There is more than one only
// when earlier ones failed (Accept lets a failed payment's nonce be paid
// again): the latest is then the only one that may not have failed. The
// earlier ones keep their records, found by Payment and Payments.
func (cs *ChainStore) PaymentBySenderNonce(from common.Address, nonce uint64) (Payment, error) {
	var p Payment
	err := cs.view(func(tx *bbolt.Tx) error {
		h, err := senderHash(tx, senderNonceKey(cs.id, from, nonce))
		if err != nil {
			return fmt.Errorf("payment from %s nonce %d: %w", from, nonce, err)
		}
		if h == nil {
			return fmt.Errorf("payment from %s nonce %d: %w", from, nonce, ErrUnknownPayment)
		}
		p, err = namedPayment(tx, bucketBySender, h)
		return err
	})
	return p, err
}

// namedPayment reads the payment an entry of index names: a payment that
// is not stored is damage (ErrCorrupt), not an unknown payment. Open no
// longer walks every index against the records (the scrub does, after
// READY), so a read may be first to meet it.
func namedPayment(tx *bbolt.Tx, index, hash []byte) (Payment, error) {
	p, err := paymentByHash(tx, hash)
	if errors.Is(err, ErrUnknownPayment) {
		return Payment{}, fmt.Errorf("bucket %s names payment 0x%x, which is not stored: %w", index, hash, ErrCorrupt)
	}
	return p, err
}

func paymentByHash(tx *bbolt.Tx, hash []byte) (Payment, error) {
	v, err := getChecked(tx, bucketPayments, hash)
	if err != nil {
		return Payment{}, err
	}
	if v == nil {
		return Payment{}, fmt.Errorf("payment 0x%x: %w", hash, ErrUnknownPayment)
	}
	return decodePayment(hash, v)
}

// PaymentFilter selects payments for Payments.
type PaymentFilter struct {
	State    PaymentState // "" = any
	Since    time.Time    // AcceptedAt >= Since; zero = open
	Until    time.Time    // AcceptedAt < Until; zero = open
	AfterSeq uint64       // only Seq > AfterSeq: page with the last Seq seen
	Limit    int          // at most this many; 0 (or less) = 100
	// Newest lists from the newest payment backwards (AfterSeq is then
	// ignored): the latest failures, say.
	Newest bool
	// ChainID: only payments (or unmatched receipts) on that chain; 0:
	// every chain.
	ChainID uint64
}

// Payments returns the payments matching f in acceptance order (Seq
// ascending), or newest first with f.Newest. Unmatched receipts are not
// payments of a request: they are listed only with State
// PaymentUnmatched, in their own order (their Seq is their own, and
// AcceptedAt the block's time). Cost: it scans the acceptance index from AfterSeq, so a
// selective State or time filter over many payments reads them all.
func (s *Store) Payments(f PaymentFilter) ([]Payment, error) { return paymentsIn(s.view, f) }

// paymentsIn is Payments in view's read transactions.
func paymentsIn(view viewFunc, f PaymentFilter) ([]Payment, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []Payment
	if f.AfterSeq == math.MaxUint64 {
		return out, nil
	}
	if f.State == PaymentUnmatched {
		err := view(func(tx *bbolt.Tx) error {
			var err error
			out, err = unmatchedPayments(tx, f, limit)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
		return out, nil
	}
	err := view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketBySeq).Cursor()
		first, next := func() ([]byte, []byte) { return c.Seek(seqKey(f.AfterSeq + 1)) }, c.Next
		if f.Newest {
			first, next = c.Last, c.Prev
		}
		for k, v := first(); k != nil && len(out) < limit; k, v = next() {
			h, err := checkValue(bucketBySeq, k, v)
			if err != nil {
				return fmt.Errorf("payments: %w", err)
			}
			p, err := namedPayment(tx, bucketBySeq, h)
			if err != nil {
				return fmt.Errorf("payments: seq index 0x%x: %w", k, err)
			}
			if f.State != "" && p.State != f.State || f.ChainID != 0 && p.ChainID != f.ChainID ||
				!f.Since.IsZero() && p.AcceptedAt.Before(f.Since) ||
				!f.Until.IsZero() && !p.AcceptedAt.Before(f.Until) {
				continue
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Unsettled returns the total Amount of queued and broadcast payments in
// asset on the chain: the terminal's exposure to payments not yet final
// there. Never nil.
func (cs *ChainStore) Unsettled(asset string) (*big.Int, error) {
	var n *big.Int
	err := cs.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketUnsettled, chainKey(cs.id, []byte(asset)))
		if err != nil {
			return err
		}
		n, err = decodeAmount(asset, v)
		return err
	})
	if err != nil {
		return new(big.Int), err
	}
	return n, nil
}

// Counts returns the number of payments in each state on every chain;
// every state is present, zero included. It reads counters kept by the
// writes, not a scan.
func (s *Store) Counts() (map[PaymentState]int, error) {
	m := make(map[PaymentState]int, len(PaymentStates))
	err := s.viewAny(func(tx *bbolt.Tx) error {
		for _, st := range PaymentStates {
			n, err := readCount(tx, st)
			if err != nil {
				return err
			}
			m[st] = int(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// CountsByChain returns Counts per chain: every chain that has held a
// payment or an unmatched receipt, each with every state, zero included.
func (s *Store) CountsByChain() (map[uint64]map[PaymentState]int, error) {
	out := map[uint64]map[PaymentState]int{}
	err := s.viewAny(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if len(k) <= 8 {
				return fmt.Errorf("count key %x: %w", k, ErrCorrupt)
			}
			n, err := decodeCount(k, v)
			if err != nil {
				return err
			}
			chain := binary.BigEndian.Uint64(k[:8])
			m := out[chain]
			if m == nil {
				m = make(map[PaymentState]int, len(PaymentStates))
				for _, st := range PaymentStates {
					m[st] = 0
				}
				out[chain] = m
			}
			m[PaymentState(k[8:])] += int(n)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Counts is Store.Counts on the chain alone.
func (cs *ChainStore) Counts() (map[PaymentState]int, error) {
	m := make(map[PaymentState]int, len(PaymentStates))
	err := cs.viewAny(func(tx *bbolt.Tx) error {
		for _, st := range PaymentStates {
			n, err := readChainCount(tx, cs.id, st)
			if err != nil {
				return err
			}
			m[st] = int(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// OpenPayments returns every queued or broadcast payment, ordered by
// chain, then sender and, for each sender, by nonce: the order in which the broadcaster must
// send them. It reads the open index, so its cost follows the number of
// unsettled payments, not the whole history; but it holds them all at
// once, so the broadcaster reads them a window at a time instead
// (OpenPaymentsAfter).
func (s *Store) OpenPayments() ([]Payment, error) {
	var out []Payment
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOpen).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			p, err := openPayment(tx, k, v)
			if err != nil {
				return fmt.Errorf("open payments: %w", err)
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
