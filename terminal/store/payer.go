package store

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Limits cap what waits to settle offline: the value of queued and
// broadcast payments, in the base units of the payment's asset, on the
// payment's chain (each network's asset has its own caps).
type Limits struct {
	// Unsettled caps the asset's total (rule 4 of Accept); nil: no cap.
	Unsettled *big.Int
	// PerPayer caps one sender's part of it (rule 4b); nil: no cap.
	PerPayer *big.Int
}

// AcceptLimited is Accept with both caps of lim: after rule 4, rule 4b
// refuses with ErrPayerLimit when lim.PerPayer != nil and the sender's
// unsettled amount of p.Asset plus p.Amount is above it. Both are checked
// inside the write that records p, so two payments of one payer racing
// cannot both pass.
func (s *Store) AcceptLimited(ctx context.Context, p Payment, now time.Time, lim Limits) (Payment, bool, error) {
	p.Authorization = nil // a handover; AcceptAuthorization takes authorizations
	return s.accept(ctx, p, now, lim)
}

// payerUnsettled returns what from has waiting to settle in asset: the sum
// of its queued and broadcast payments of that asset, handed over or
// authorized, on chain. It scans the open and auth_payer indexes from
// from's first key on chain (the index is keyed chain || sender || nonce), so its
// cost grows with that payer's own open payments only, never with the
// whole queue; no separate per-payer total is kept, so no schema change.
func payerUnsettled(w *wtx, chain uint64, from common.Address, asset string) (*big.Int, error) {
	sum := new(big.Int)
	prefix := chainKey(chain, from[:])
	c := w.tx.Bucket(bucketOpen).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		p, err := openPayment(w.tx, k, v)
		if err != nil {
			return nil, fmt.Errorf("unsettled of %s: %w", from, err)
		}
		if p.Asset == asset {
			sum.Add(sum, p.Amount)
		}
	}
	// Its authorizations waiting to settle (schema 6) count the same.
	c = w.tx.Bucket(bucketAuthPayer).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		p, err := indexedPayment(w.tx, bucketAuthPayer, k, v)
		if err != nil {
			return nil, fmt.Errorf("unsettled of %s: %w", from, err)
		}
		if p.Asset == asset {
			sum.Add(sum, p.Amount)
		}
	}
	return sum, nil
}
