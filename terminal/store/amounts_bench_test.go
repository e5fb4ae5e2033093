package store

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"
)

// BenchmarkFreeAmountWithManyPending is the till's search for a free
// amount when 1,000 pending requests hold the keyed amount and the 999
// tails after it (a till keying one price all day): the search reads
// each holder's status and expiry, and nothing else of it.
func BenchmarkFreeAmountWithManyPending(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	const n = 1000
	base := big.NewInt(5_000_000)
	for i := range n {
		r := Request{ID: fmt.Sprintf("r-%06d-abcdefgh", i), Asset: "TUSD", Amount: new(big.Int).Add(base, big.NewInt(int64(i))),
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Doc: randBytes(260), Chains: []uint64{testChain}}
		if err := s.PutRequest(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		free, ok, err := s.FreeAmount("TUSD", base, big.NewInt(2*n), t0.Add(time.Minute))
		if err != nil || !ok || free.Cmp(new(big.Int).Add(base, big.NewInt(n))) != 0 {
			b.Fatalf("FreeAmount: %v %v %v", free, ok, err)
		}
	}
}
