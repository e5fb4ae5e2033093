package store

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// seedEvents appends n payment.accepted events to s's log, 10,000 to a
// transaction, bypassing the committer so a benchmark sets up fast.
func seedEvents(b *testing.B, s *Store, n int) {
	b.Helper()
	ev := Event{Kind: EventPaymentAccepted, At: t0, Payment: &EventPayment{
		ID: randHash(), Source: SourceHandover, RequestID: "req-000000", From: randAddr(), Asset: "ETH",
		Amount: big.NewInt(1234567).String(), State: PaymentQueued, AcceptedAt: t0,
	}}
	for done := 0; done < n; {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			w := &wtx{tx: tx}
			for i := 0; i < 10_000 && done < n; i, done = i+1, done+1 {
				seq, err := w.nextEvent()
				if err != nil {
					return err
				}
				if err := w.putEvent(seq, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventLog shows that the log's costs do not grow with its length:
// append (one event in its own bbolt transaction, without the fsync, which
// is the same at any length and would hide the tree's cost; at 100,000
// events each append also drops the two oldest delivered ones, as the
// retention does in production) and read (a
// sink reading the next 100 events from its cursor halfway down the log),
// at 1,000 and 100,000 events. Pending is a sink's backlog: a count and one
// seek. Measured on this machine (2 shared cores, tmpfs-backed temp dir):
// see the README's store section for the figures.
func BenchmarkEventLog(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			s := openTemp(b)
			// A sink that has delivered nothing keeps every event seeded.
			if _, err := s.RegisterSink(bg, "mqtt", SinkFromOldest, t0); err != nil {
				b.Fatal(err)
			}
			seedEvents(b, s, n)
			if err := s.MarkDelivered(bg, "mqtt", uint64(n/2)); err != nil {
				b.Fatal(err)
			}
			ev := Event{Kind: EventRequestPaid, At: t0, Request: &EventRequest{ID: "r", Asset: "ETH", Amount: "1", Status: RequestPaid, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}}
			b.Run("append", func(b *testing.B) {
				s.db.NoSync = true
				defer func() { s.db.NoSync = false }()
				for range b.N {
					err := s.db.Update(func(tx *bbolt.Tx) error {
						w := &wtx{tx: tx}
						seq, err := w.nextEvent()
						if err != nil {
							return err
						}
						return w.putEvent(seq, ev)
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("read100", func(b *testing.B) {
				for range b.N {
					es, err := s.Events(uint64(n/2), 100)
					if err != nil || len(es) != 100 {
						b.Fatalf("Events: %d, %v", len(es), err)
					}
				}
			})
			b.Run("pending", func(b *testing.B) {
				for range b.N {
					if sk, err := s.Sink("mqtt"); err != nil || sk.Pending == 0 {
						b.Fatalf("Sink: %+v, %v", sk, err)
					}
				}
			})
		})
	}
}
