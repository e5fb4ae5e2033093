package broadcast_test

import (
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/broadcast"
	"showpos/sync/outbox"
)

// A link that carries one request in two: each round's follow is cut
// short, and what it found before the cut is kept, so every payment gets
// confirmed in a few rounds (all or nothing, none ever would).
func TestAFollowCutShortKeepsWhatItFound(t *testing.T) {
	var seeded []outbox.Payment
	var payers []common.Address
	for i := range 6 {
		payers = append(payers, addrN(i+1))
	}
	r := newFakeRig(t, func(s *outbox.Store) { seeded = seedStore(t, s, payers, 1, 1, time.Now()) })
	r.edit(func(c *fakeChain) {
		for _, p := range seeded {
			c.mined[p.TxHash] = 90
		}
		c.cutReceipts = func(call int, _ []common.Hash) bool { return call%2 == 0 }
	})
	r.start(broadcast.Options{BatchSize: 2})
	for range 6 {
		r.syncRound(seeded[0].TxHash)
		if c, _ := r.store.Counts(); c[outbox.PaymentConfirmed] == len(seeded) {
			return
		}
	}
	c, _ := r.store.Counts()
	t.Fatalf("after 6 rounds on a link that carries one request in two: %v, want %d confirmed (last round %+v)",
		c, len(seeded), r.bc.Last())
}
