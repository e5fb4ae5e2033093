package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// SetPaymentState moves a payment forward along
// queued -> broadcast -> confirmed | failed (steps may be skipped, e.g.
// queued -> failed) and returns it; the change is durable on return.
// reason is stored with the new state (meant for failed). UpdatedAt
// becomes now. Leaving the unsettled states (queued, broadcast) for
// confirmed or failed subtracts Amount from Unsettled(Asset).
//
// Setting the state a queued or broadcast payment already has is a no-op
// that returns it unchanged. Any move out of confirmed or failed, or
// backwards, gives ErrBadTransition; an unknown hash ErrUnknownPayment.
func (s *Store) SetPaymentState(ctx context.Context, hash common.Hash, state PaymentState, reason string, now time.Time) (Payment, error) {
	if state.rank() < 0 {
		return Payment{}, fmt.Errorf("set state %s: unknown state %q: %w", hash, state, ErrBadTransition)
	}
	now = storeTime(now)
	var out Payment
	err := s.write(ctx, func(w *wtx) error {
		v := w.bucket(bucketPayments).Get(hash[:])
		if v == nil {
			return fmt.Errorf("set state %s: %w", hash, ErrUnknownPayment)
		}
		p, err := decodePayment(v)
		if err != nil {
			return fmt.Errorf("set state %s: %w", hash, err)
		}
		from := p.State
		if from == state && from.unsettled() {
			out = p
			return nil
		}
		if !from.unsettled() || state.rank() <= from.rank() {
			return fmt.Errorf("set state %s: %s -> %s: %w", hash, from, state, ErrBadTransition)
		}

		counts := w.bucket(bucketCounts)
		nFrom, err := readCount(counts, from)
		if err != nil {
			return fmt.Errorf("set state %s: %w", hash, err)
		}
		nTo, err := readCount(counts, state)
		if err != nil {
			return fmt.Errorf("set state %s: %w", hash, err)
		}
		if nFrom == 0 {
			return fmt.Errorf("set state %s: count of %s is zero: %w", hash, from, ErrCorrupt)
		}
		var unsettled []byte
		if !state.unsettled() {
			u, err := decodeAmount(p.Asset, w.bucket(bucketUnsettled).Get([]byte(p.Asset)))
			if err != nil {
				return fmt.Errorf("set state %s: %w", hash, err)
			}
			if u.Sub(u, p.Amount); u.Sign() < 0 {
				return fmt.Errorf("set state %s: unsettled %s would be negative: %w", hash, p.Asset, ErrCorrupt)
			}
			unsettled = []byte(u.String())
		}

		// Checks done; from here on, only writes.
		p.State, p.Reason, p.UpdatedAt = state, reason, now
		enc, err := encodePayment(p)
		if err != nil {
			return fmt.Errorf("set state %s: %w", hash, err)
		}
		writes := []struct{ b, k, v []byte }{
			{bucketPayments, hash[:], enc},
			{bucketCounts, []byte(from), countBytes(nFrom - 1)},
			{bucketCounts, []byte(state), countBytes(nTo + 1)},
		}
		if unsettled != nil {
			writes = append(writes, struct{ b, k, v []byte }{bucketUnsettled, []byte(p.Asset), unsettled})
		}
		for _, kv := range writes {
			if err := w.put(kv.b, kv.k, kv.v); err != nil {
				return fmt.Errorf("set state %s: %w", hash, err)
			}
		}
		out = p
		return nil
	})
	if err != nil {
		return Payment{}, err
	}
	return out, nil
}
