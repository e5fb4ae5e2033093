package store

import (
	"context"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestOpenPaymentsInSenderNonceOrderAndOnlyUnsettled(t *testing.T) {
	s := openTemp(t)
	a := common.HexToAddress("0x0a")
	b := common.HexToAddress("0x0b")
	var hashes []common.Hash
	// Accepted out of order: b/2, a/5, b/1, a/4.
	for i, sn := range []struct {
		from  common.Address
		nonce uint64
	}{{b, 2}, {a, 5}, {b, 1}, {a, 4}} {
		id := reqID(i)
		putRequest(t, s, id)
		p := newPayment(id)
		p.From, p.Nonce = sn.from, sn.nonce
		hashes = append(hashes, mustAccept(t, s, p).TxHash)
	}
	if _, err := s.SetPaymentState(context.Background(), hashes[3], PaymentConfirmed, "", t0); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenPayments()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range open {
		got = append(got, strings.ToLower(p.From.Hex()[40:])+"/"+string(rune('0'+p.Nonce)))
	}
	want := []string{"0a/5", "0b/1", "0b/2"}
	if len(got) != len(want) {
		t.Fatalf("open = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("open = %v, want %v", got, want)
		}
	}
}

func TestApplyRecordsDeliveryAndStatesInOneCommit(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 3)
	var ps []Payment
	for i := range 3 {
		ps = append(ps, mustAccept(t, s, newPayment(reqID(i))))
	}
	commits := s.c.commits.Load()
	sent := t0.Add(time.Minute)
	got, err := s.Apply(context.Background(), sent, []Change{
		{Hash: ps[0].TxHash, State: PaymentBroadcast, Delivery: Delivery{Attempts: 1, SentAt: sent}},
		{Hash: ps[1].TxHash, Delivery: Delivery{Attempts: 1, LastError: "transaction underpriced", NextAttempt: sent.Add(time.Second)}},
		{Hash: ps[2].TxHash, State: PaymentFailed, Reason: "conflict: nonce 7 used by another transaction", Delivery: Delivery{Attempts: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.c.commits.Load() - commits; n != 1 {
		t.Errorf("Apply used %d commits, want 1", n)
	}
	if got[0].State != PaymentBroadcast || !got[0].Delivery.SentAt.Equal(sent) || got[1].State != PaymentQueued || got[2].State != PaymentFailed {
		t.Errorf("Apply returned %+v", got)
	}
	stored, _ := s.Payment(ps[1].TxHash)
	if stored.Delivery.LastError != "transaction underpriced" || stored.Delivery.Attempts != 1 || !stored.UpdatedAt.Equal(sent) {
		t.Errorf("stored delivery %+v", stored.Delivery)
	}
	counts, _ := s.Counts()
	if counts[PaymentQueued] != 1 || counts[PaymentBroadcast] != 1 || counts[PaymentFailed] != 1 {
		t.Errorf("counts %v", counts)
	}
	if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Cmp(big.NewInt(200)) != 0 {
		t.Errorf("unsettled %s, want 200", u)
	}
	open, _ := s.OpenPayments()
	if len(open) != 2 {
		t.Errorf("%d open payments, want 2", len(open))
	}
}

func TestApplyIsAllOrNothing(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 2)
	p0 := mustAccept(t, s, newPayment(reqID(0)))
	p1 := mustAccept(t, s, newPayment(reqID(1)))
	if _, err := s.SetPaymentState(context.Background(), p1.TxHash, PaymentFinal, "", t0); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, s, reqID(0), reqID(1))
	_, err := s.Apply(context.Background(), t0, []Change{
		{Hash: p0.TxHash, State: PaymentBroadcast},
		{Hash: p1.TxHash, State: PaymentFailed, Reason: "too late"}, // final is terminal
	})
	wantErr(t, "apply with an illegal transition", err, ErrBadTransition)
	if after := takeSnapshot(t, s, reqID(0), reqID(1)); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused Apply changed the store:\n before %+v\n after  %+v", before, after)
	}
	_, err = s.Apply(context.Background(), t0, []Change{{Hash: randHash(), State: PaymentBroadcast}})
	wantErr(t, "apply to an unknown payment", err, ErrUnknownPayment)
}

func TestApplyTwoChangesToOnePaymentInABatch(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 1)
	p := mustAccept(t, s, newPayment(reqID(0)))
	got, err := s.Apply(context.Background(), t0, []Change{
		{Hash: p.TxHash, State: PaymentBroadcast, Delivery: Delivery{Attempts: 1}},
		{Hash: p.TxHash, State: PaymentConfirmed, Delivery: Delivery{Attempts: 1, Block: 9}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[1].State != PaymentConfirmed || got[1].Delivery.Block != 9 {
		t.Errorf("got %+v", got[1])
	}
	counts, _ := s.Counts()
	if counts[PaymentQueued] != 0 || counts[PaymentBroadcast] != 0 || counts[PaymentConfirmed] != 1 {
		t.Errorf("counts %v", counts)
	}
	if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Sign() != 0 {
		t.Errorf("unsettled %s, want 0", u)
	}
}
