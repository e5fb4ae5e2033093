package outbox

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

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
