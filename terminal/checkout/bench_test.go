package checkout_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/outbox"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/paytx"
)

// payments prepares n requests on a fresh terminal and one signed payment
// for each, outside the timer.
func payments(b *testing.B, n int) (*checkout.Service, []string, [][]byte) {
	b.Helper()
	cfg, err := config.Parse([]byte(`
[terminal]
id = "bench"
[chain]
id = 1337
[merchant]
address = "0x000000000000000000000000000000000000dEaD"
[[assets]]
symbol = "ETH"
`))
	if err != nil {
		b.Fatal(err)
	}
	store, err := outbox.Open(filepath.Join(b.TempDir(), "showpos.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	key, _ := crypto.GenerateKey()
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: store})
	payer, _ := crypto.GenerateKey()
	ids := make([]string, n)
	raws := make([][]byte, n)
	for i := range n {
		doc, err := till.NewRequest(context.Background(), "0.001", "", "")
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
