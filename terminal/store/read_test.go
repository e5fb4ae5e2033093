package store

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestPaymentsFilterAndOrder(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	seedRequests(t, s, 10)
	var pays []Payment
	for i := range 10 {
		p, _, err := s.Accept(ctx, newPayment(reqID(i)), t0.Add(time.Duration(i)*time.Minute), nil)
		if err != nil {
			t.Fatal(err)
		}
		pays = append(pays, p)
	}
	for _, i := range []int{1, 3} {
		if _, err := s.SetPaymentState(ctx, pays[i].TxHash, PaymentBroadcast, "", t0); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(ps []Payment) (out []uint64) {
		for _, p := range ps {
			out = append(out, p.Seq)
		}
		return out
	}
	want := func(idx ...int) (out []uint64) {
		for _, i := range idx {
			out = append(out, pays[i].Seq)
		}
		return out
	}
	cases := []struct {
		name string
		f    PaymentFilter
		want []uint64
	}{
		{"all in acceptance order", PaymentFilter{}, want(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)},
		{"by state", PaymentFilter{State: PaymentBroadcast}, want(1, 3)},
		{"since is inclusive", PaymentFilter{Since: t0.Add(8 * time.Minute)}, want(8, 9)},
		{"until is exclusive", PaymentFilter{Until: t0.Add(2 * time.Minute)}, want(0, 1)},
		{"after seq pages", PaymentFilter{AfterSeq: pays[6].Seq, Limit: 2}, want(7, 8)},
		{"limit", PaymentFilter{Limit: 3}, want(0, 1, 2)},
		{"state and after seq", PaymentFilter{State: PaymentQueued, AfterSeq: pays[1].Seq, Limit: 2}, want(2, 4)},
		{"nothing after the last", PaymentFilter{AfterSeq: pays[9].Seq}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Payments(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := seqs(got); len(g) != len(tc.want) || (len(g) > 0 && !equal(g, tc.want)) {
				t.Fatalf("seqs %v, want %v", g, tc.want)
			}
		})
	}
	counts, err := s.Counts()
	if err != nil || counts[PaymentQueued] != 8 || counts[PaymentBroadcast] != 2 || counts[PaymentConfirmed] != 0 {
		t.Fatalf("Counts() = %v, %v", counts, err)
	}
	if _, ok := counts[PaymentFailed]; !ok {
		t.Fatal("Counts() omits a state with zero payments")
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPaymentsDefaultLimitIs100(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 120)
	for i := range 120 {
		mustAccept(t, s, newPayment(reqID(i)))
	}
	got, err := s.Payments(PaymentFilter{})
	if err != nil || len(got) != 100 {
		t.Fatalf("Payments() returned %d, %v; want 100", len(got), err)
	}
}

func TestLookupsOfUnknownPayments(t *testing.T) {
	s := openTemp(t)
	_, err := s.Payment(randHash())
	wantErr(t, "Payment", err, ErrUnknownPayment)
	_, err = s.Chain(testChain).PaymentBySenderNonce(randAddr(), 1)
	wantErr(t, "PaymentBySenderNonce", err, ErrUnknownPayment)
}

func TestPaymentsNewestFirst(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 5)
	var hashes []common.Hash
	for i := range 5 {
		hashes = append(hashes, mustAccept(t, s, newPayment(reqID(i))).TxHash)
	}
	if _, err := s.SetPaymentState(context.Background(), hashes[1], PaymentFailed, "conflict", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPaymentState(context.Background(), hashes[3], PaymentFailed, "reverted", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Payments(PaymentFilter{State: PaymentFailed, Newest: true, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TxHash != hashes[3] || got[1].TxHash != hashes[1] {
		t.Fatalf("newest failed first: got %d payments", len(got))
	}
	last, _ := s.Payments(PaymentFilter{Newest: true, Limit: 1})
	if len(last) != 1 || last[0].TxHash != hashes[4] {
		t.Errorf("newest payment: %v", last)
	}
}
