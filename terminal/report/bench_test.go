package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkX measures an X report (and so a Z's reading) with n payments
// stored since the last Z, beside counting the open failures (the idle
// screen's read, kept with the writes). An X reads every payment in its
// period through checkout's totals: its cost grows with the payments
// since the last Z and, as X-after-Z shows, with the payments before it
// too (the totals walk the whole store: issue 19's to bound); the failure
// count does not grow at all.
func BenchmarkX(b *testing.B) {
	for _, n := range []int{100, 1000, 3000} {
		s := openShop(b)
		for i := range n {
			s.sell("0.01", "ETH", map[bool]string{true: "reverted", false: ""}[i%10 == 0])
		}
		b.Run(fmt.Sprintf("payments-%d/X", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.books.X(); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The same payments all before the last Z: the X's period is
		// empty; what it still costs is what it reads outside its period.
		if _, _, err := s.books.TakeZ(context.Background(), ""); err != nil {
			b.Fatal(err)
		}
		s.clock.Advance(time.Minute)
		b.Run(fmt.Sprintf("payments-%d/X-after-Z", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.books.X(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("payments-%d/OpenFailures", n), func(b *testing.B) {
			for b.Loop() {
				if f, err := s.books.OpenFailures(); err != nil || f != n/10 {
					b.Fatalf("open failures %d, %v; want %d", f, err, n/10)
				}
			}
		})
	}
}
