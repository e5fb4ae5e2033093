package auth_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"showpos/terminal/auth"
	"showpos/terminal/store"
)

// BenchmarkVerify is one signed call's check on a real store: HMAC over the
// body and the durable record of its nonce (one fsync'd commit, shared
// among concurrent callers by the store's group commit).
func BenchmarkVerify(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "one-client-at-a-time"
		if parallel {
			name = "64-concurrent"
		}
		b.Run(name, func(b *testing.B) {
			st, err := store.Open(filepath.Join(b.TempDir(), "pos.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			key := []byte("register-key-0123456789abcdef012")
			err = st.PutClient(context.Background(), store.Client{Number: regNumber, Name: "bench", Role: store.RoleRegister,
				Keys: []store.ClientKey{{Secret: key}}, Created: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			v := &auth.Verifier{Store: st}
			body := []byte(`{"amount":"12.50","asset":"TUSD","memo":"order 77"}`)
			verify := func() {
				req, _ := http.NewRequest("POST", "http://till/v1/requests", bytes.NewReader(body))
				auth.Sign(req, body, regNumber, key, time.Now(), auth.NewNonce())
				if _, err := v.Verify(req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			if parallel {
				b.SetParallelism(32) // 64 goroutines on 2 CPUs
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						verify()
					}
				})
				return
			}
			for b.Loop() {
				verify()
			}
		})
	}
}
