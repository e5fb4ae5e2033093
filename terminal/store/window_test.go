package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// windowFixture is a store with open payments from three senders (nonces
// out of acceptance order) and a settled one from each of two of them.
type windowFixture struct {
	s    *Store
	a, b common.Address
	c    common.Address
	open []OpenKey // in index order
}

func newWindowFixture(t *testing.T) *windowFixture {
	t.Helper()
	f := &windowFixture{s: openTemp(t),
		a: common.HexToAddress("0x0a"), b: common.HexToAddress("0x0b"), c: common.HexToAddress("0x0c")}
	keys := []OpenKey{{f.b, 9}, {f.a, 5}, {f.c, 0}, {f.b, 2}, {f.a, 4}, {f.b, 5}, {f.a, 7}, {f.b, 1}}
	settled := map[OpenKey]PaymentState{{f.a, 7}: PaymentConfirmed, {f.b, 1}: PaymentFailed}
	seedRequests(t, f.s, len(keys))
	for i, k := range keys {
		p := newPayment(reqID(i))
		p.From, p.Nonce = k.From, k.Nonce
		p = mustAccept(t, f.s, p)
		if st, ok := settled[k]; ok {
			if _, err := f.s.SetPaymentState(context.Background(), p.TxHash, st, "", t0); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f.open = append(f.open, k)
	}
	slices.SortFunc(f.open, OpenKey.Compare)
	return f
}

func keysOf(ps []Payment) []OpenKey {
	out := make([]OpenKey, len(ps))
	for i, p := range ps {
		out[i] = p.OpenKey()
	}
	return out
}

// Reading the open index a window at a time, each window starting after
// the last key of the one before, meets every open payment once, in
// OpenPayments' order, and nothing settled.
func TestOpenPaymentsAfterReadsTheIndexAWindowAtATime(t *testing.T) {
	f := newWindowFixture(t)
	all, err := f.s.OpenPayments()
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(all); !slices.Equal(got, f.open) {
		t.Fatalf("OpenPayments %v, want %v", got, f.open)
	}
	for _, limit := range []int{1, 2, 3, 5, 6, 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var got []Payment
			var after *OpenKey
			for range len(f.open) + 1 {
				w, err := f.s.Chain(testChain).OpenPaymentsAfter(after, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(w) > limit {
					t.Fatalf("window of %d, limit %d", len(w), limit)
				}
				got = append(got, w...)
				if len(w) < limit {
					break // the index ends here
				}
				k := w[len(w)-1].OpenKey()
				after = &k
			}
			if !slices.EqualFunc(got, all, func(x, y Payment) bool { return x.TxHash == y.TxHash && x.Seq == y.Seq }) {
				t.Fatalf("windows of %d gave %v, want %v", limit, keysOf(got), f.open)
			}
		})
	}
}

// A window may start after a key that is not (or no longer) in the index:
// a payment settled since, or a place between two payments.
func TestOpenPaymentsAfterAKeyNotInTheIndex(t *testing.T) {
	f := newWindowFixture(t)
	for _, tc := range []struct {
		after OpenKey
		want  []OpenKey
	}{
		{OpenKey{f.a, 7}, []OpenKey{{f.b, 2}, {f.b, 5}, {f.b, 9}, {f.c, 0}}}, // a/7 is confirmed
		{OpenKey{f.b, 0}, []OpenKey{{f.b, 2}, {f.b, 5}, {f.b, 9}, {f.c, 0}}},
		{OpenKey{f.b, 3}, []OpenKey{{f.b, 5}, {f.b, 9}, {f.c, 0}}},
		{OpenKey{common.Address{}, 0}, f.open},
		{OpenKey{f.c, 0}, nil},
		{OpenKey{common.HexToAddress("0xff"), 1 << 63}, nil},
	} {
		got, err := f.s.Chain(testChain).OpenPaymentsAfter(&tc.after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keysOf(got), tc.want) {
			t.Errorf("after %v: %v, want %v", tc.after, keysOf(got), tc.want)
		}
	}
}

// OpenBefore finds the sender's open payment just below a nonce, never
// another sender's, and skips settled ones.
func TestOpenBeforeIsTheSendersPreviousOpenPayment(t *testing.T) {
	f := newWindowFixture(t)
	for _, tc := range []struct {
		from  common.Address
		nonce uint64
		want  *OpenKey
	}{
		{f.b, 9, &OpenKey{f.b, 5}},
		{f.b, 5, &OpenKey{f.b, 2}},
		{f.b, 3, &OpenKey{f.b, 2}},
		{f.b, 2, nil}, // b/1 failed
		{f.b, 100, &OpenKey{f.b, 9}},
		{f.a, 8, &OpenKey{f.a, 5}}, // a/7 confirmed
		{f.a, 4, nil},              // nothing below, and 0x0a is the first sender
		{f.c, 0, nil},              // b/9 sits just before: another sender's
		{f.c, 1, &OpenKey{f.c, 0}}, // c is the last sender in the index
		{common.HexToAddress("0xff"), 3, nil},
		{common.Address{}, 3, nil},
	} {
		p, ok, err := f.s.Chain(testChain).OpenBefore(tc.from, tc.nonce)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == nil && ok:
			t.Errorf("before %s/%d: %v, want none", tc.from, tc.nonce, p.OpenKey())
		case tc.want != nil && (!ok || p.OpenKey() != *tc.want):
			t.Errorf("before %s/%d: %v (%v), want %v", tc.from, tc.nonce, p.OpenKey(), ok, *tc.want)
		}
	}
}

func TestLastSeqIsTheLatestAccepted(t *testing.T) {
	s := openTemp(t)
	if seq, err := s.LastSeq(); err != nil || seq != 0 {
		t.Fatalf("LastSeq of an empty store: %d, %v", seq, err)
	}
	seedRequests(t, s, 3)
	var last Payment
	for i := range 3 {
		last = mustAccept(t, s, newPayment(reqID(i)))
	}
	if _, err := s.SetPaymentState(context.Background(), last.TxHash, PaymentConfirmed, "", t0); err != nil {
		t.Fatal(err)
	}
	if seq, err := s.LastSeq(); err != nil || seq != last.Seq || seq == 0 {
		t.Fatalf("LastSeq %d, %v; want %d", seq, err, last.Seq)
	}
}

// The windowed reads check every value's CRC, as every read does: a
// payment changed on disk after Open, or an open index entry, is an error
// wrapping ErrCorrupt, never a payment.
func TestWindowedReadsOfADamagedValueFailCorrupt(t *testing.T) {
	t.Run("payment", func(t *testing.T) {
		f := newCRCFixture(t)
		s, err := Open(f.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		flipMarker(t, f.path, f.paymentMark)
		_, err = s.Chain(testChain).OpenPaymentsAfter(nil, 10)
		wantErr(t, "OpenPaymentsAfter", err, ErrCorrupt)
		_, _, err = s.Chain(testChain).OpenBefore(f.payment.From, f.payment.Nonce+1)
		wantErr(t, "OpenBefore", err, ErrCorrupt)
	})
	t.Run("open index", func(t *testing.T) {
		s := openTemp(t)
		seedRequests(t, s, 2)
		p := mustAccept(t, s, newPayment(reqID(0)))
		mustAccept(t, s, newPayment(reqID(1)))
		err := s.db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketOpen).Put(p.OpenKey().bytes(testChain), append(p.TxHash.Bytes(), 0, 0, 0, 0))
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Chain(testChain).OpenPaymentsAfter(nil, 10)
		wantErr(t, "OpenPaymentsAfter", err, ErrCorrupt)
		if !strings.Contains(err.Error(), "bucket open ") {
			t.Errorf("OpenPaymentsAfter: %v; want the bucket named", err)
		}
		_, _, err = s.Chain(testChain).OpenBefore(p.From, p.Nonce+1)
		wantErr(t, "OpenBefore", err, ErrCorrupt)
	})
	t.Run("seq index", func(t *testing.T) {
		s := openTemp(t)
		seedRequests(t, s, 1)
		p := mustAccept(t, s, newPayment(reqID(0)))
		err := s.db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketBySeq).Put(seqKey(p.Seq), append(p.TxHash.Bytes(), 1, 2, 3, 4))
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.LastSeq()
		wantErr(t, "LastSeq", err, ErrCorrupt)
	})
}
