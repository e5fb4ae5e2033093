package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// write runs fn through the committer: nil means committed and fsynced.
// Once the scrub has found damage in what matters to money it refuses,
// with an error wrapping ErrCorrupt, as Open refuses a damaged store:
// no sale, no request, no payment moved (scrub.go).
func (s *Store) write(ctx context.Context, fn func(*wtx) error) error {
	if err := s.moneyDamagedErr(); err != nil {
		return err
	}
	return s.operatorWrite(ctx, fn)
}

// journaledWrite is write for an fn whose writes record runs again
// (replay): nil means its record is in the journal, fdatasynced, or its
// writes committed (journal.go).
func (s *Store) journaledWrite(ctx context.Context, record func() []byte, key common.Hash, fn func(*wtx) error) error {
	if err := s.moneyDamagedErr(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return s.c.doRecord(ctx, record, key, fn)
}

// saleWrite is write for what decides against the open payments and their
// indexes (Accept, RetireChains): refused with ErrVerifying until they are
// known sound (Options.VerifyBeforeSales).
func (s *Store) saleWrite(ctx context.Context, fn func(*wtx) error) error {
	if !s.moneyVerified.Load() {
		if err := s.moneyDamagedErr(); err != nil {
			return err
		}
		return ErrVerifying
	}
	return s.write(ctx, fn)
}

// operatorWrite is write that goes on in a store out of service for money
// damage: the operator's acknowledgements and revocations, and the
// integrator's request nonces (so that reads for reconciliation still
// authenticate). None of them takes or moves money.
func (s *Store) operatorWrite(ctx context.Context, fn func(*wtx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.c.do(ctx, fn)
}

// readCount is the count of payments in state on every chain.
// Counts are few (states times chains): it reads them all.
func readCount(tx *bbolt.Tx, state PaymentState) (uint64, error) {
	var sum uint64
	err := tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
		// A file before schema 13 (checked as it migrates) keys the
		// count by state alone.
		if !(len(k) == 8+len(state) && string(k[8:]) == string(state)) && string(k) != string(state) {
			return nil
		}
		n, err := decodeCount(k, v)
		sum += n
		return err
	})
	return sum, err
}

// readChainCount is the count of payments in state on chain.
func readChainCount(tx *bbolt.Tx, chain uint64, state PaymentState) (uint64, error) {
	k := countKey(chain, state)
	v := tx.Bucket(bucketCounts).Get(k)
	if v == nil {
		return 0, nil
	}
	return decodeCount(k, v)
}

func countKey(chain uint64, state PaymentState) []byte { return chainKey(chain, []byte(state)) }

func decodeCount(k, v []byte) (uint64, error) {
	body, err := checkValue(bucketCounts, k, v)
	if err != nil {
		return 0, err
	}
	switch len(body) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(body), nil
	}
	return 0, fmt.Errorf("count %x: %d bytes: %w", k, len(body), ErrCorrupt)
}

func countBytes(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// maxChains is how many chains a request may be offered on: request.MaxOptions.
const maxChains = 8

// validChains checks a request's Chains: at most maxChains, none 0, no
// two the same. None is allowed: the home chain's (Options.HomeChainID).
func validChains(chains []uint64) error {
	if len(chains) > maxChains {
		return fmt.Errorf("%d chains, at most %d", len(chains), maxChains)
	}
	for i, c := range chains {
		if c == 0 {
			return fmt.Errorf("chain %d of %d is 0", i, len(chains))
		}
		if slices.Contains(chains[:i], c) {
			return fmt.Errorf("chain %d offered twice", c)
		}
	}
	return nil
}

// PutRequest stores a new request; it is durable when PutRequest returns
// nil. r.Status must be pending (or empty, meaning pending) and PaidTx
// unset. An existing ID gives ErrRequestExists and changes nothing.
//
// The amount must be free: another request of the same asset and amount
// that is pending and, at r.CreatedAt, before its expiry plus MatchGrace
// gives ErrAmountTaken (FreeAmount finds a free one; see amounts.go). The
// check and the reservation are one write, so of two requests made at once
// for one amount only one gets it. A request offered on a chain
// RetireChains retired gives ErrChainRetired (its network is being
// removed: the till makes it again under the new config).
func (s *Store) PutRequest(ctx context.Context, r Request) error {
	if r.Status == "" {
		r.Status = RequestPending
	}
	switch {
	case r.ID == "":
		return errors.New("put request: empty ID")
	case r.Status != RequestPending:
		return fmt.Errorf("put request %q: status %q, want %q", r.ID, r.Status, RequestPending)
	case r.Amount == nil || r.Amount.Sign() < 0:
		return fmt.Errorf("put request %q: amount %v: want a non-negative amount", r.ID, r.Amount)
	case r.ExpiresAt.IsZero():
		return fmt.Errorf("put request %q: no expiry", r.ID)
	case r.PaidTx != [32]byte{}:
		return fmt.Errorf("put request %q: PaidTx set on a new request", r.ID)
	}
	if err := validChains(r.Chains); err != nil {
		return fmt.Errorf("put request %q: %w", r.ID, err)
	}
	r.Chains = slices.Clone(r.Chains)
	r.CreatedAt, r.ExpiresAt = storeTime(r.CreatedAt), storeTime(r.ExpiresAt)
	r.LastEvent = 0 // the store's to set
	if r.DocShared != nil && (len(r.DocShared) == 0 || len(r.DocShared) > maxDocShared) {
		return fmt.Errorf("put request %q: a shared part of %d bytes, want 1 to %d", r.ID, len(r.DocShared), maxDocShared)
	}
	r.DocShared = bytes.Clone(r.DocShared)
	r.shared = 0
	// What would refuse the record, before the write (a refusal after
	// the part is interned would abort the batch): with a part, the
	// record must be binary, which a number of it does not change.
	check := r
	if r.DocShared != nil {
		check.shared = 1
	}
	if _, err := encodeRequest(check); err != nil {
		return fmt.Errorf("put request %q: %w", r.ID, err)
	}
	return s.write(ctx, func(w *wtx) error {
		if old, err := w.getChecked(bucketRequests, []byte(r.ID)); err != nil {
			return fmt.Errorf("put request %q: %w", r.ID, err)
		} else if old != nil {
			return fmt.Errorf("put request %q: %w", r.ID, ErrRequestExists)
		}
		// Inside the write, as Accept: a request made after RetireChains
		// could be paid on the removed network with nothing watching.
		if chain, ok := s.retiredOffer(r); ok {
			return fmt.Errorf("put request %q: offered on chain %d, which is retired (its network is being removed): %w", r.ID, chain, ErrChainRetired)
		}
		r := r // the caller's stays as given
		var err error
		if r.DocShared != nil {
			if r.shared, err = findShared(w, r.DocShared); err != nil {
				return fmt.Errorf("put request %q: %w", r.ID, err)
			}
		}
		holder, stale, err := reservedBy(w.tx, r.Asset, r.Amount, r.CreatedAt)
		if err != nil {
			return fmt.Errorf("put request %q: %w", r.ID, err)
		}
		if holder != nil {
			return fmt.Errorf("put request %q: %s %s is the amount of pending request %q until %s: %w",
				r.ID, r.Amount, r.Asset, holder.ID, holder.ExpiresAt.Add(MatchGrace).Format(time.RFC3339), ErrAmountTaken)
		}
		for _, k := range stale {
			if err := w.del(bucketAmounts, k); err != nil {
				return fmt.Errorf("put request %q: %w", r.ID, err)
			}
		}
		// Checks done; from here on, only writes.
		if r.DocShared != nil && r.shared == 0 {
			if r.shared, err = addShared(w, r.DocShared); err != nil {
				return fmt.Errorf("put request %q: %w", r.ID, err)
			}
		}
		enc, err := encodeRequest(r)
		if err != nil {
			return fmt.Errorf("put request %q: %w", r.ID, err)
		}
		if err := w.putChecked(bucketRequests, []byte(r.ID), enc); err != nil {
			return fmt.Errorf("put request %q: %w", r.ID, err)
		}
		if err := reserve(w, r); err != nil {
			return fmt.Errorf("put request %q: %w", r.ID, err)
		}
		if err := enterExpiry(w, r); err != nil {
			return fmt.Errorf("put request %q: %w", r.ID, err)
		}
		return nil
	})
}

// CancelRequest moves a pending request to cancelled, durably, and returns
// it. A request already cancelled is returned unchanged with no error.
// Errors: ErrUnknownRequest, ErrAlreadyPaid, ErrExpired (pending and
// now >= ExpiresAt: it can no longer be paid, so there is nothing to cancel).
func (s *Store) CancelRequest(ctx context.Context, id string, now time.Time) (Request, error) {
	var out Request
	err := s.write(ctx, func(w *wtx) error {
		v, err := w.getChecked(bucketRequests, []byte(id))
		if err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		if v == nil {
			return fmt.Errorf("cancel request %q: %w", id, ErrUnknownRequest)
		}
		r, err := decodeRequest([]byte(id), v)
		if err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		// Read before any write: a part missing refuses the cancel alone.
		if err := withShared(w.tx, &r); err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		switch {
		case r.Status == RequestCancelled:
			out = r
			return nil
		case r.Status == RequestPaid:
			return fmt.Errorf("cancel request %q: paid by %s: %w", id, r.PaidTx, ErrAlreadyPaid)
		case r.StatusAt(now) == RequestExpired:
			return fmt.Errorf("cancel request %q: %w", id, ErrExpired)
		}
		r.Status = RequestCancelled
		seq, err := w.nextEvent()
		if err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		r.LastEvent = seq
		enc, err := encodeRequest(r)
		if err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		if err := w.putChecked(bucketRequests, []byte(id), enc); err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		if err := unreserve(w, r); err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		if err := leaveExpiry(w, r); err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		if err := w.putEvent(seq, w.requestEvent(EventRequestCancelled, r, RequestCancelled, now)); err != nil {
			return fmt.Errorf("cancel request %q: %w", id, err)
		}
		out = r
		return nil
	})
	if err != nil {
		return Request{}, err
	}
	return out, nil
}
