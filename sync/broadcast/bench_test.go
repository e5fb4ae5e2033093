package broadcast_test

import (
	"fmt"
	"testing"
	"time"

	"showpos/sync/broadcast"
	"showpos/terminal/store"
)

// BenchmarkDrain measures emptying an outbox of queued payments into the
// dev chain until every one is confirmed: batched JSON-RPC against one
// call per transaction. One op is one whole drain; run with -benchtime=1x.
// The 10,000 case runs unless -short.
func BenchmarkDrain(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, mode := range []struct {
			name string
			one  bool
		}{{"batched", false}, {"one-at-a-time", true}} {
			b.Run(fmt.Sprintf("%s/%d", mode.name, n), func(b *testing.B) {
				if n > 1000 && testing.Short() {
					b.Skip("10,000 payments: not in -short")
				}
				const payers = 100
				for range b.N {
					b.StopTimer()
					node := startNode(b, payers)
					r := newRig(b, node, broadcast.Options{OneAtATime: mode.one, BatchSize: 100, Poll: 20 * time.Millisecond})
					r.link.cut()
					for i := range n {
						r.pay("0.0001", "ETH", node.Payers()[i%payers].Key, uint64(i/payers))
					}
					b.StartTimer()
					start := time.Now()
					r.link.restore(b)
					counts := r.waitSettled(10 * time.Minute)
					elapsed := time.Since(start)
					b.StopTimer()
					if counts[store.PaymentConfirmed]+counts[store.PaymentFinal] != n {
						b.Fatalf("drained %v", counts)
					}
					b.ReportMetric(float64(n)/elapsed.Seconds(), "payments/s")
					r.stop()
					node.Close()
				}
			})
		}
	}
}
