package store

import (
	"context"
	"testing"

	"go.etcd.io/bbolt"
)

// RecentFailures lists a chain's latest failures, the latest failed first,
// reading the failures and never the queue: with every queued payment's
// record damaged (a read of any fails ErrCorrupt), it still answers.
func TestRecentFailuresReadsNoQueuedPayment(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var ps []Payment
	for i := range 12 {
		putRequest(t, s, reqID(i))
		ps = append(ps, mustAccept(t, s, on([]uint64{chainA, chainB}[i%3/2], newPayment(reqID(i)))))
	}
	// Fail 0, 3, 6 (chain A) and 2 (chain B), in the order 6, 0, 2, 3.
	for _, i := range []int{6, 0, 2, 3} {
		if _, err := s.SetPaymentState(ctx, ps[i].TxHash, PaymentFailed, "test", t0); err != nil {
			t.Fatal(err)
		}
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		for i, p := range ps {
			if i%3 == 0 || i == 2 {
				continue
			}
			if err := tx.Bucket(bucketPayments).Put(p.TxHash[:], []byte("damaged")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2 := &Store{db: mustBolt(t, path), path: path}
	defer s2.db.Close()
	for _, tc := range []struct {
		chain uint64
		limit int
		want  []int
	}{
		{chainA, 5, []int{3, 0, 6}},
		{chainA, 2, []int{3, 0}},
		{chainB, 5, []int{2}},
		{99, 5, nil},
	} {
		got, err := s2.Chain(tc.chain).RecentFailures(tc.limit)
		if err != nil {
			t.Fatalf("chain %d: %v", tc.chain, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("chain %d limit %d: %d failures, want %v", tc.chain, tc.limit, len(got), tc.want)
		}
		for j, i := range tc.want {
			if got[j].TxHash != ps[i].TxHash || got[j].State != PaymentFailed {
				t.Errorf("chain %d: failure %d is %s, want payment %d's", tc.chain, j, got[j].TxHash, i)
			}
		}
	}
}

// mustBolt opens path with bbolt alone (no Open checks: the file is
// damaged on purpose).
func mustBolt(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
