package checkout_test

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// payments prepares n requests on a fresh terminal and one signed payment
// for each, outside the timer.
func payments(b *testing.B, n int) (*checkout.Service, []string, [][]byte) {
	b.Helper()
	cfg := configtest.New(b, `
[terminal]
id = "bench"
`)
	st, err := store.Open(filepath.Join(b.TempDir(), "showpos.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	key, _ := crypto.GenerateKey()
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st})
	payer, _ := crypto.GenerateKey()
	ids := make([]string, n)
	raws := make([][]byte, n)
	for i := range n {
		// Each its own amount, 0.001 ETH + i gwei: pending requests of one
		// amount hold the 1,000 wei above it (amount_in_use), and a fast
		// disk runs more than 1,000 ops.
		doc, err := till.NewRequest(context.Background(), fmt.Sprintf("0.%09d", 1_000_000+i), "", "")
		if err != nil {
			b.Fatal(err)
		}
		r := doc.Request()
		tx, err := paytx.Build(r, payer, paytx.Options{Type: types.DynamicFeeTxType, Nonce: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = r.ID
		raws[i], _ = tx.MarshalBinary()
	}
	return till, ids, raws
}

// BenchmarkPay is one payer at a time: check plus one fsync'd commit each.
func BenchmarkPay(b *testing.B) {
	till, ids, raws := payments(b, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := till.Pay(context.Background(), ids[i], raws[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayParallel64 is 64 payers at once; group commit shares fsyncs.
func BenchmarkPayParallel64(b *testing.B) {
	till, ids, raws := payments(b, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // 64 goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if _, err := till.Pay(context.Background(), ids[i], raws[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// memStore is a Store that keeps requests in memory, so a benchmark of
// NewRequest measures the till's own work (parse, sign, encode) without the
// fsync a real store spends on every request.
type memStore struct {
	checkout.Store // only PutRequest and Request are used
	reqs           map[string]store.Request
}

func (m *memStore) PutRequest(_ context.Context, r store.Request) error {
	m.reqs[r.ID] = r
	return nil
}

func (m *memStore) FreeAmount(_ string, amount, _ *big.Int, _ time.Time) (*big.Int, bool, error) {
	return amount, true, nil
}

func (m *memStore) Request(id string) (store.Request, error) {
	r, ok := m.reqs[id]
	if !ok {
		return store.Request{}, store.ErrUnknownRequest
	}
	return r, nil
}

// BenchmarkNewRequest creates, signs and stores one request per op: on a
// real store (an fsync'd commit each) and on an in-memory one (the till's
// CPU work alone). It reports the stored document's size (doc-B) and, on
// the real store, the file's size per request (file-B/req, meaningful once
// b.N is in the thousands).
func BenchmarkNewRequest(b *testing.B) {
	cfg := configtest.New(b, `
[terminal]
id = "bench"
public_url = "https://till-7.example.com:8443"
`)
	key, _ := crypto.GenerateKey()
	for _, st := range []string{"bbolt", "memory"} {
		b.Run("store="+st, func(b *testing.B) {
			var s checkout.Store
			path := filepath.Join(b.TempDir(), "showpos.db")
			if st == "bbolt" {
				db, err := store.Open(path, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				s = db
			} else {
				s = &memStore{reqs: map[string]store.Request{}}
			}
			till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: s})
			ctx := context.Background()
			var last string
			b.ReportAllocs()
			for b.Loop() {
				doc, err := till.NewRequest(ctx, "12.50", "TUSD", "Table 4, 2 coffees")
				if err != nil {
					b.Fatal(err)
				}
				last = doc.ID
			}
			b.StopTimer()
			rec, err := s.Request(last)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(rec.Doc)), "doc-B")
			if st == "bbolt" {
				fi, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(fi.Size())/float64(b.N), "file-B/req")
			}
		})
	}
}
