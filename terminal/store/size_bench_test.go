package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkStoreSize reports the store file's size after n payments (from
// 1,000 payers), each requested, accepted and settled (final) through the
// real committer, with everything kept and with keep = 0 (Prune every
// 1,000 payments, then the event log down to its retention): the bounded
// store's file stops growing. With keep = 0 it also reports the longest
// Prune call (150 records, one durable write). n is 100,000 (-short:
// 5,000); `make bench-go` runs it once. Measured figures are in the README
// ("Bounded store").
func BenchmarkStoreSize(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 5_000
	}
	for _, keep := range []string{"all", "0"} {
		b.Run(fmt.Sprintf("payments=%d/keep=%s", n, keep), func(b *testing.B) {
			for range b.N {
				bytes, live, longest := fillSettled(b, n, keep == "0")
				b.ReportMetric(float64(bytes), "file-bytes")
				b.ReportMetric(float64(bytes)/float64(n), "bytes/payment")
				b.ReportMetric(float64(live), "payments-kept")
				if keep == "0" {
					b.ReportMetric(float64(longest.Microseconds())/1000, "longest-prune-ms")
				}
			}
		})
	}
}

// fillSettled makes n settled payments in a new store, 8 writers at once
// (so commits batch as under load), pruning as it goes when prune is set,
// and returns the file's size, the payments kept and the longest Prune
// call (one durable write: what an accept queued behind it could wait).
func fillSettled(b *testing.B, n int, prune bool) (int64, int, time.Duration) {
	b.Helper()
	var mu sync.Mutex
	clock := t0
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	path := filepath.Join(b.TempDir(), "pos.db")
	s, err := Open(path, &Options{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const writers, step = 8, 1000
	var longest time.Duration
	// 1,000 payers, each paying with its next nonce: a pruned payment
	// leaves its payer's highest nonce (spent_nonces), one entry a payer.
	// Writer w pays as payers w, w+8, …, so each payer's nonces come in
	// order.
	payers := make([]common.Address, 1000)
	for i := range payers {
		payers[i] = randAddr()
	}
	for base := 0; base < n; base += step {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := base + w; i < min(base+step, n); i += writers {
					at := t0.Add(time.Duration(i) * time.Second)
					paidFrom(b, s, fmt.Sprintf("s-%07d", i), at, PaymentFinal, payers[i%len(payers)], uint64(i/len(payers)))
				}
			})
		}
		wg.Wait()
		if prune {
			end := t0.Add(time.Duration(base+step) * time.Second)
			mu.Lock()
			clock = end
			mu.Unlock()
			for {
				began := time.Now()
				r, err := s.Prune(bg, end, 150)
				longest = max(longest, time.Since(began))
				if err != nil {
					b.Fatal(err)
				}
				if !r.More {
					break
				}
			}
			for {
				k, err := s.PruneEvents(bg, DefaultEventRetention, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if k == 0 {
					break
				}
			}
		}
	}
	st, err := s.Stats()
	if err != nil {
		b.Fatal(err)
	}
	live := 0
	for _, c := range st.Payments {
		live += c
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size(), live, longest
}
