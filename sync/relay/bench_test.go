package relay

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/sync/chain"
	"showpos/tools/devchain"
)

// BenchmarkSettle measures settling n authorizations into the dev chain,
// from a queue of n to every one confirmed, MaxInFlight at a time (one
// batch of sends per round). One op is one whole run; run with
// -benchtime=1x. It reports settlements per second.
func BenchmarkSettle(b *testing.B) {
	for _, n := range []int{200, 1000} {
		for _, inFlight := range []int{16, 64} {
			b.Run(fmt.Sprintf("%d/inflight-%d", n, inFlight), func(b *testing.B) {
				if n > 200 && testing.Short() {
					b.Skip("1,000 settlements: not in -short")
				}
				for range b.N {
					b.StopTimer()
					benchSettle(b, n, inFlight)
				}
			})
		}
	}
}

func benchSettle(b *testing.B, n, inFlight int) {
	const payers = 49 // the 50th is the relayer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dc, err := devchain.Start(ctx, devchain.Options{Payers: payers + 1})
	if err != nil {
		b.Fatal(err)
	}
	defer dc.Close()
	c, err := chain.New(chain.Options{Endpoints: []string{dc.Endpoint()}, ChainID: dc.ChainID().Uint64()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	clk := clocktest.NewFake(time.Now())
	j := newMemJournal()
	now := clk.Now().Unix()
	for i := range n {
		key := devchain.PayerKey(i % payers)
		var nonce [32]byte
		nonce[0], nonce[1], nonce[2] = byte(i>>16), byte(i>>8), byte(i)
		a := devchain.Authorization{From: crypto.PubkeyToAddress(key.PublicKey), To: merchant, Value: big.NewInt(1),
			ValidAfter: big.NewInt(now - 600), ValidBefore: big.NewInt(now + 3600), Nonce: nonce}
		sig, err := devchain.SignAuthorization(key, dc.ChainID(), a)
		if err != nil {
			b.Fatal(err)
		}
		j.add(Authorization{ID: fmt.Sprintf("a%06d", i), Token: devchain.TokenAddr, From: a.From, To: a.To, Value: a.Value,
			ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: nonce, Signature: sig})
	}
	r, err := New(Options{Key: devchain.PayerKey(payers), Chain: c, Queue: j, Journal: j, MaxFeePerGas: big.NewInt(100e9),
		MinTip: big.NewInt(1), MaxInFlight: inFlight, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start := time.Now()
	for confirmed := 0; confirmed < n; {
		if err := r.Round(ctx); err != nil {
			b.Fatal(err)
		}
		confirmed = 0
		j.mu.Lock()
		for _, o := range j.outcomes {
			if o.State == OutcomeConfirmed {
				confirmed++
			} else {
				j.mu.Unlock()
				b.Fatalf("outcome %+v", o)
			}
		}
		j.mu.Unlock()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "settlements/s")
}
