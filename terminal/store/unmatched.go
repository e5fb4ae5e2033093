package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Acknowledging unmatched receipts. An unmatched receipt is money that
// reached the merchant and paid no request: someone gives it back or books
// it by hand, and then acknowledges it, as a failure is. Acknowledging
// writes no event (nothing about the money changed) and is what lets the
// bounded store delete the receipt (prune.go).

// AckUnmatched marks unmatched receipt seq acknowledged at now, durably,
// and returns it. One already acknowledged is returned unchanged (no
// write). An unknown seq is ErrUnknownReceipt.
func (s *Store) AckUnmatched(ctx context.Context, seq uint64, now time.Time) (Payment, error) {
	now = storeTime(now)
	var out Payment
	err := s.operatorWrite(ctx, func(w *wtx) error {
		v, err := w.getChecked(bucketUnmatched, seqKey(seq))
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("unmatched receipt %d: %w", seq, ErrUnknownReceipt)
		}
		var u unmatchedRecord
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("unmatched receipt %d: %v: %w", seq, err, ErrCorrupt)
		}
		if u.AckedAt.IsZero() {
			u.AckedAt = now
			enc, err := json.Marshal(u)
			if err != nil {
				return err
			}
			if err := w.putChecked(bucketUnmatched, seqKey(seq), enc); err != nil {
				return err
			}
		}
		out, err = u.payment()
		return err
	})
	if err != nil {
		return Payment{}, fmt.Errorf("acknowledge unmatched receipt %d: %w", seq, err)
	}
	return out, nil
}
