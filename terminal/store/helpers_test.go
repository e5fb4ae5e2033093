package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// t0 is the tests' "now"; requests expire an hour later unless a test says.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "pos.db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func randHash() (h common.Hash) {
	_, _ = rand.Read(h[:])
	return h
}

func randAddr() (a common.Address) {
	_, _ = rand.Read(a[:])
	return a
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newRequest is a pending request of its own amount (100 plus a number
// from its ID): pending requests of one asset may not share an amount.
func newRequest(id string) Request {
	return Request{
		ID: id, Asset: "ETH", Amount: big.NewInt(100 + int64(crc32.ChecksumIEEE([]byte(id)))),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		Doc: []byte(`{"id":"` + id + `"}`),
	}
}

func putRequest(t testing.TB, s *Store, id string) Request {
	t.Helper()
	r := newRequest(id)
	if err := s.PutRequest(context.Background(), r); err != nil {
		t.Fatalf("PutRequest(%q): %v", id, err)
	}
	return r
}

func newPayment(reqID string) Payment {
	return Payment{
		TxHash: randHash(), Source: SourceHandover, RequestID: reqID, From: randAddr(), Nonce: 7,
		Asset: "ETH", Amount: big.NewInt(100), Raw: randBytes(300), State: PaymentQueued,
		ChainID: testChain,
	}
}

func mustAccept(t testing.TB, s *Store, p Payment) Payment {
	t.Helper()
	got, repeat, err := s.Accept(context.Background(), p, t0, nil)
	if err != nil || repeat {
		t.Fatalf("Accept(%s): repeat=%v err=%v", p.TxHash, repeat, err)
	}
	return got
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want errors.Is %v", what, err, want)
	}
}

// snapshot is everything an Accept may change, to prove a refusal wrote nothing.
type snapshot struct {
	counts    map[PaymentState]int
	unsettled string
	commits   uint64
	requests  map[string]RequestStatus
}

func takeSnapshot(t testing.TB, s *Store, reqIDs ...string) snapshot {
	t.Helper()
	counts, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Chain(testChain).Unsettled("ETH")
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot{counts: counts, unsettled: u.String(), commits: s.c.commits.Load(), requests: map[string]RequestStatus{}}
	for _, id := range reqIDs {
		if r, err := s.Request(id); err == nil {
			snap.requests[id] = r.Status
		}
	}
	return snap
}

func reqID(i int) string { return fmt.Sprintf("req-%06d", i) }

// seedRequests stores n pending requests reqID(0..n-1) in one transaction,
// bypassing PutRequest so benchmarks and tests set up fast.
func seedRequests(t testing.TB, s *Store, n int) {
	t.Helper()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRequests)
		for i := range n {
			r := newRequest(reqID(i))
			r.Status = RequestPending
			enc, err := encodeRequest(r)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(r.ID), seal(bucketRequests, []byte(r.ID), enc)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed requests: %v", err)
	}
}
