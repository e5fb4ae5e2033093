package watch_test

import (
	"math/big"
	"testing"
	"time"

	"showpos/sync/watch"
)

// A round over one new block, on the fake node through a real chain
// client over loopback: calls/block is the figure the issue bounds at 2;
// ns/op is what a round costs once the block is there.
func BenchmarkSteadyStateRound(b *testing.B) {
	r := newRig(b, 100, watch.Options{})
	r.node.mine()
	if _, err := r.w.Round(b.Context()); err != nil {
		b.Fatal(err)
	}
	r.node.mine()
	r.w.Round(b.Context()) // the balance at the cursor, once
	r.node.resetCounts()
	b.ResetTimer()
	for b.Loop() {
		r.node.mine()
		if _, err := r.w.Round(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	total, _ := r.node.counts()
	b.ReportMetric(float64(total)/float64(b.N), "calls/block")
}

// Detection on geth: from a native payment's inclusion (its receipt seen)
// to the transfer recorded, by one round. Run adds the wait for that round:
// up to one poll, stretched to the block time.
func BenchmarkDetectionDevChain(b *testing.B) {
	r := newDevRig(b, watch.Options{})
	var total time.Duration
	for b.Loop() {
		r.send(b, 0, r.merchant, big.NewInt(1e12), nil, 21_000)
		start := time.Now()
		before := len(r.ledger.got())
		for len(r.ledger.got()) == before {
			if _, err := r.w.Round(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/detection")
}
