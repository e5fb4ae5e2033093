package broadcast_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/broadcast"
	"showpos/terminal/store"
)

// A link that fails whenever the confirmed payments are looked up (as a
// flaky one does within a round's first few requests): a payment waiting
// to be sent is sent all the same. Following the confirmed payments until
// final, every round, must not stand between the queue and the network.
func TestFollowingConfirmedPaymentsDoesNotHoldUpASend(t *testing.T) {
	var seeded []store.Payment
	payers := []common.Address{addrN(1), addrN(2), addrN(3), addrN(4), addrN(5), addrN(6)}
	r := newFakeRig(t, func(s *store.Store) { seeded = seedStore(t, s, payers, 1, 1, time.Now()) })
	r.edit(func(c *fakeChain) {
		for _, p := range seeded {
			c.mined[p.TxHash] = 90
		}
	})
	r.start(broadcast.Options{BatchSize: 2})
	for _, p := range seeded {
		if got := r.syncRound(p.TxHash); got.State != store.PaymentConfirmed {
			t.Fatalf("seeded payment %s, want confirmed", got.State)
		}
	}
	confirmed := map[common.Hash]bool{}
	for _, p := range seeded {
		confirmed[p.TxHash] = true
	}
	r.edit(func(c *fakeChain) {
		c.cutReceipts = func(_ int, hs []common.Hash) bool {
			return slices.ContainsFunc(hs, func(h common.Hash) bool { return confirmed[h] })
		}
	})
	fresh := r.accept(addrN(7), 0)
	got := r.syncRound(fresh.TxHash)
	if got.State != store.PaymentBroadcast || !slices.Contains(r.chain.sends(), sentTx{From: addrN(7), Nonce: 0}) {
		t.Fatalf("payment waiting to be sent: %s, %+v; want sent (last round %+v)", got.State, got.Delivery, r.bc.Last())
	}
	if last := r.bc.Last(); !strings.Contains(last.Err, "receipts") {
		t.Errorf("round error %q, want the failed lookup of the confirmed payments reported", last.Err)
	}
}

// A link that carries one request in two: each round's follow is cut
// short, and what it found before the cut is kept, so every payment gets
// confirmed in a few rounds (all or nothing, none ever would).
func TestAFollowCutShortKeepsWhatItFound(t *testing.T) {
	var seeded []store.Payment
	var payers []common.Address
	for i := range 6 {
		payers = append(payers, addrN(i+1))
	}
	r := newFakeRig(t, func(s *store.Store) { seeded = seedStore(t, s, payers, 1, 1, time.Now()) })
	r.edit(func(c *fakeChain) {
		for _, p := range seeded {
			c.mined[p.TxHash] = 90
		}
		c.cutReceipts = func(call int, _ []common.Hash) bool { return call%2 == 0 }
	})
	r.start(broadcast.Options{BatchSize: 2})
	for range 6 {
		r.syncRound(seeded[0].TxHash)
		if c, _ := r.store.Counts(); c[store.PaymentConfirmed] == len(seeded) {
			return
		}
	}
	c, _ := r.store.Counts()
	t.Fatalf("after 6 rounds on a link that carries one request in two: %v, want %d confirmed (last round %+v)",
		c, len(seeded), r.bc.Last())
}
