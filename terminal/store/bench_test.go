package store

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Every Accept here is durable (fsynced) before it returns; the figures are
// dominated by the disk's fsync latency. BenchmarkRawPut is the floor: one
// bbolt Update with one 300-byte Put.

func benchPayments(b *testing.B, s *Store) []Payment {
	seedRequests(b, s, b.N)
	pays := make([]Payment, b.N)
	for i := range pays {
		pays[i] = newPayment(reqID(i))
	}
	return pays
}

func BenchmarkAccept(b *testing.B) {
	s := openTemp(b)
	pays := benchPayments(b, s)
	ctx := context.Background()
	before := s.c.commits.Load()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := s.Accept(ctx, pays[i], t0, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(s.c.commits.Load()-before)/float64(b.N), "commits/op")
}

func BenchmarkAcceptParallel64(b *testing.B) {
	s := openTemp(b)
	pays := benchPayments(b, s)
	ctx := context.Background()
	procs := runtime.GOMAXPROCS(0)
	par := (64 + procs - 1) / procs
	b.SetParallelism(par) // par*GOMAXPROCS goroutines: 64 when GOMAXPROCS divides 64
	var next atomic.Int64
	before := s.c.commits.Load()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if _, _, err := s.Accept(ctx, pays[i], t0, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(par*procs), "goroutines")
	b.ReportMetric(float64(s.c.commits.Load()-before)/float64(b.N), "commits/op")
}

func BenchmarkRawPut(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	value := randBytes(300)
	b.ResetTimer()
	for i := range b.N {
		err := db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("b")).Put(binary.BigEndian.AppendUint64(nil, uint64(i)), value)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenWithUnfinal is Open's cost over a store of 10,000
// payments, all final or all confirmed: with confirmed ones the open-time
// check also decodes every payment the unfinal index names (the index
// must name exactly the confirmed payments). The first Open of the
// confirmed store, made schema 3 beforehand, migrates it; its time is
// logged.
func BenchmarkOpenWithUnfinal(b *testing.B) {
	const n = 10_000
	for _, state := range []PaymentState{PaymentFinal, PaymentConfirmed} {
		b.Run(string(state), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				b.Fatal(err)
			}
			seedRequests(b, s, n)
			ctx := context.Background()
			var wg sync.WaitGroup
			hashes := make([]Payment, n)
			for g := range 64 {
				wg.Go(func() {
					for i := g; i < n; i += 64 {
						p, _, err := s.Accept(ctx, newPayment(reqID(i)), t0, nil)
						if err != nil {
							b.Error(err)
							return
						}
						hashes[i] = p
					}
				})
			}
			wg.Wait()
			for start := 0; start < n; start += 1000 {
				var cs []Change
				for _, p := range hashes[start:min(start+1000, n)] {
					cs = append(cs, Change{Hash: p.TxHash, State: state, Delivery: Delivery{Block: 9}})
				}
				if _, err := s.Apply(ctx, t0, cs); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			if state == PaymentConfirmed {
				db, err := bbolt.Open(path, 0o600, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := db.Update(func(tx *bbolt.Tx) error {
					if err := tx.DeleteBucket(bucketUnfinal); err != nil {
						return err
					}
					return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV3)))
				}); err != nil {
					b.Fatal(err)
				}
				db.Close()
				began := time.Now()
				s, err := Open(path, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("migrating schema 3 to 4 with %d confirmed payments: Open took %s", n, time.Since(began).Round(time.Millisecond))
				s.Close()
			}
			b.ResetTimer()
			for b.Loop() {
				s, err := Open(path, nil)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
