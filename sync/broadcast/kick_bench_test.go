package broadcast_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/broadcast"
	"showpos/terminal/store"
)

// BenchmarkKickRound measures the round a kick starts online: one payment
// was just accepted and must be sent, while open payments are in flight
// (broadcast, not yet mined). One op is one accepted payment's round; the
// store is a real file, the node a fake that answers at once, so the
// figure is the broadcaster's own cost. The round's cost must not follow
// the number of open payments.
func BenchmarkKickRound(b *testing.B) {
	for _, open := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("open=%d", open), func(b *testing.B) {
			const payers = 100
			st, err := store.Open(filepath.Join(b.TempDir(), "showpos.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			now := time.Now()
			senders := make([]common.Address, payers)
			for i := range senders {
				senders[i] = addrN(i)
			}
			seedStore(b, st, senders, open/payers, open/payers, now)
			f := newFakeChain()
			rounds := make(chan broadcast.Report, 1024)
			bc := broadcast.New(broadcast.Options{Store: st.Chain(fakeChainID), Chain: f, Poll: time.Hour,
				OnRound: func(r broadcast.Report) { rounds <- r }})
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { bc.Run(ctx) })
			defer func() { cancel(); wg.Wait() }()
			// Let the rounds at start end.
			for quiet := false; !quiet; {
				select {
				case <-rounds:
				case <-time.After(300 * time.Millisecond):
					quiet = true
				}
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				if _, err := acceptFake(ctx, st, addrN(1000+i), 0, now); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				bc.Kick()
				for r := <-rounds; r.Sent == 0; r = <-rounds {
				}
			}
			b.StopTimer()
		})
	}
}
