package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/broadcast"
	"showpos/terminal/store"
)

// Offline and idle, a round reads the counts and the oldest queued
// payment, never the queue: from the first round on, each reads at most
// one payment however many are queued, and the oldest it reports follows
// payments leaving the queue out of acceptance order.
func TestAnOfflineRoundDoesNotReadTheQueue(t *testing.T) {
	base := time.Now().Add(-time.Hour).Round(0)
	var senders []common.Address
	for i := range 20 {
		senders = append(senders, addrN(i))
	}
	var ps []store.Payment
	r := newFakeRig(t, func(st *store.Store) {
		for i, from := range senders { // each sender's 100 accepted a minute after the previous sender's
			ps = append(ps, seedStore(t, st, []common.Address{from}, 100, 0, base.Add(time.Duration(i)*time.Minute))...)
		}
	})
	r.chain.online.Store(false)
	r.start(broadcast.Options{Window: 50, Poll: 10 * time.Millisecond})
	r.waitRound("at start", func(broadcast.Report) bool { return true })
	ctx := context.Background()
	round := func(what string) broadcast.Report {
		t.Helper()
		before, _ := r.reads.snapshot()
		r.bc.Kick()
		rep := r.waitRound(what, func(broadcast.Report) bool { return true })
		if after, _ := r.reads.snapshot(); after-before > 1 {
			t.Fatalf("%s: the round read %d payments of %d queued; want at most the oldest", what, after-before, len(ps))
		}
		if rep.Online || rep.Open != r.open() {
			t.Fatalf("%s: report %+v, want offline with %d open", what, rep, r.open())
		}
		return rep
	}
	leave := func(state store.PaymentState, which ...store.Payment) {
		t.Helper()
		for _, p := range which {
			if _, err := r.store.SetPaymentState(ctx, p.TxHash, state, "test", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		leave func()
		want  time.Time
	}{
		{"the first round", func() {}, ps[0].AcceptedAt},
		{"a later sender's payments leave first", func() { leave(store.PaymentFailed, ps[500:600]...) }, ps[0].AcceptedAt},
		{"the first sender's payments leave, the second's first one too", func() {
			leave(store.PaymentBroadcast, ps[100])
			leave(store.PaymentFailed, ps[:100]...)
		}, ps[101].AcceptedAt},
		{"the second sender's leave", func() { leave(store.PaymentBroadcast, ps[101:200]...) }, ps[200].AcceptedAt},
		{"all but the last leave", func() {
			for i := 200; i < len(ps)-100; i += 100 {
				if i == 500 {
					continue // failed already
				}
				leave(store.PaymentFailed, ps[i:i+100]...)
			}
			leave(store.PaymentFailed, ps[len(ps)-100:len(ps)-1]...)
		}, ps[len(ps)-1].AcceptedAt},
		{"none queued", func() { leave(store.PaymentBroadcast, ps[len(ps)-1]) }, time.Time{}},
	} {
		tc.leave()
		for i := range 3 {
			if rep := round(tc.name); !rep.OldestQueued.Equal(tc.want) {
				t.Fatalf("%s, round %d: oldest queued %s, want %s", tc.name, i, rep.OldestQueued, tc.want)
			}
		}
	}
}

// open is the chain's count of queued and broadcast payments.
func (r *fakeRig) open() int {
	c, err := r.store.Chain(fakeChainID).Counts()
	if err != nil {
		r.t.Fatal(err)
	}
	return c[store.PaymentQueued] + c[store.PaymentBroadcast]
}

// The operator's queue (posctl queue, the cashier's sync key) lists the
// latest failures from the failures the store keeps, not by reading every
// payment back from the newest until five failed ones turn up: with 2,000
// queued and two failed, it reads the two.
func TestQueueReadsTheFailuresNotThePayments(t *testing.T) {
	var ps []store.Payment
	r := newFakeRig(t, func(st *store.Store) {
		ps = seedStore(t, st, []common.Address{addrN(1), addrN(2)}, 1000, 0, time.Now().Add(-time.Minute))
	})
	for _, p := range []store.Payment{ps[0], ps[1000]} {
		if _, err := r.store.SetPaymentState(context.Background(), p.TxHash, store.PaymentFailed, "conflict "+p.TxHash.Hex(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	r.chain.online.Store(false)
	r.start(broadcast.Options{Window: 50, Poll: 10 * time.Millisecond})
	r.waitRound("at start", func(broadcast.Report) bool { return true })
	before, _ := r.reads.snapshot()
	q, err := r.bc.Queue()
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := r.reads.snapshot(); after-before > 2 {
		t.Errorf("Queue read %d payments; want the 2 failed", after-before)
	}
	if len(q.RecentFailures) != 2 || q.RecentFailures[0].TxHash != ps[1000].TxHash.Hex() || q.RecentFailures[1].TxHash != ps[0].TxHash.Hex() ||
		q.RecentFailures[0].Reason != "conflict "+ps[1000].TxHash.Hex() {
		t.Errorf("recent failures %+v, want the two, the latest first", q.RecentFailures)
	}
}
