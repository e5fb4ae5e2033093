package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"showpos/terminal/store"
)

// receiptAcker is the store's AckUnmatched: an optional part of Store
// (*store.Store has it), so stores made for benchmarks need not.
type receiptAcker interface {
	AckUnmatched(ctx context.Context, seq uint64, now time.Time) (store.Payment, error)
}

// AckUnmatched acknowledges unmatched receipt seq (the money was given back
// or booked by hand) at the till's clock, and returns it; one acknowledged
// before is returned as it was. An unknown seq wraps
// store.ErrUnknownReceipt. The bounded store deletes acknowledged
// receipts once they are old enough (store.Prune).
func (s *Service) AckUnmatched(ctx context.Context, seq uint64) (PaymentView, error) {
	a, ok := s.store.(receiptAcker)
	if !ok {
		return PaymentView{}, errors.New("acknowledge: this store keeps no acknowledgements")
	}
	p, err := a.AckUnmatched(ctx, seq, s.clock.Now())
	if err != nil {
		return PaymentView{}, fmt.Errorf("acknowledge: %w", err)
	}
	return s.view(s.Config(), p), nil
}
