package broadcast_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/terminal/store"
)

// oneBroadcast seeds a store with one payment already broadcast.
func oneBroadcast(t *testing.T) (func(*store.Store), *store.Payment) {
	p := new(store.Payment)
	return func(s *store.Store) {
		*p = seedStore(t, s, []common.Address{addrN(1)}, 1, 1, time.Now())[0]
	}, p
}

// syncRound runs one sweep round now and returns the payment after it.
func (r *fakeRig) syncRound(h common.Hash) store.Payment {
	r.t.Helper()
	if _, err := r.bc.Sync(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	p, err := r.store.Payment(h)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *fakeRig) edit(fn func(c *fakeChain)) {
	r.chain.mu.Lock()
	defer r.chain.mu.Unlock()
	fn(r.chain)
}

// The node: it lost block 90 but still serves the receipt that
// names it (block 90, hash A; its canonical block 90 has hash B). The
// payment is never confirmed on it, however deep block 90 is, and it is
// sent again.
func TestAStaleReceiptNeverConfirms(t *testing.T) {
	seed, p := oneBroadcast(t)
	r := newFakeRig(t, seed)
	r.edit(func(c *fakeChain) { c.stale[p.TxHash] = chain.BlockRef{Number: 90, Hash: blockHash(90, 7)} })
	r.start(broadcast.Options{Confirmations: 5, MinBackoff: time.Millisecond})
	for i := range 5 {
		if got := r.syncRound(p.TxHash); got.State != store.PaymentBroadcast || got.Delivery.Block != 0 {
			t.Fatalf("round %d: payment %s in block %d, want broadcast and in no block", i, got.State, got.Delivery.Block)
		}
	}
	if n := len(r.chain.sends()); n == 0 {
		t.Error("the payment was never sent again")
	}
}

// The node after a restart: rewound below a confirmed payment's
// block, serving its old receipt, mining nothing at that height. The
// payment is not lost on that (a backend behind looks the same) but its
// bytes are sent again; once the node has another block at that height
// without it, it is lost, back to broadcast.
func TestANodeRewoundBelowAConfirmedPayment(t *testing.T) {
	seed, p := oneBroadcast(t)
	r := newFakeRig(t, seed)
	r.edit(func(c *fakeChain) { c.mined[p.TxHash] = 90 })
	r.start(broadcast.Options{Confirmations: 1})
	if got := r.syncRound(p.TxHash); got.State != store.PaymentConfirmed {
		t.Fatalf("payment %s, want confirmed", got.State)
	}
	sent := len(r.chain.sends())
	r.edit(func(c *fakeChain) {
		c.head = 89
		c.stale[p.TxHash] = chain.BlockRef{Number: 90, Hash: blockHash(90, 0)}
	})
	got := r.syncRound(p.TxHash)
	if got.State != store.PaymentConfirmed || got.Delivery.Reorgs != 0 {
		t.Fatalf("rewound: %s, %+v; want confirmed still (not yet lost)", got.State, got.Delivery)
	}
	if n := len(r.chain.sends()); n <= sent {
		t.Errorf("%d sends after the rewind, want it sent again", n)
	}
	r.edit(func(c *fakeChain) { c.head, c.forks[90] = 90, 1; delete(c.stale, p.TxHash); delete(c.mined, p.TxHash) })
	if got = r.syncRound(p.TxHash); got.State != store.PaymentBroadcast || got.Delivery.Reorgs != 1 {
		t.Fatalf("another block 90: %s, %+v; want broadcast, one reorg", got.State, got.Delivery)
	}
}

// A confirmed payment whose block the node loses (another block at its
// height, the transaction no longer in it) goes back to broadcast, is
// sent again, reported, and confirmed in its new block; final once the
// node's finalized block passes it; then it is looked up no more. It is
// counted once all along.
func TestAPaymentWhoseBlockIsLostIsSentAgain(t *testing.T) {
	seed, p := oneBroadcast(t)
	r := newFakeRig(t, seed)
	r.edit(func(c *fakeChain) { c.mined[p.TxHash] = 90 })
	r.start(broadcast.Options{Confirmations: 3})
	events, stop := r.bc.Subscribe()
	defer stop()
	books := func(step string, want store.PaymentState, unsettled int64) {
		t.Helper()
		counts, _ := r.store.Counts()
		u, _ := r.store.Chain(fakeChainID).Unsettled("ETH")
		for _, s := range store.PaymentStates {
			if n := counts[s]; (s == want) != (n == 1) || n > 1 {
				t.Fatalf("%s: counts %v, want one %s", step, counts, want)
			}
		}
		if u.Int64() != unsettled {
			t.Fatalf("%s: unsettled %s, want %d", step, u, unsettled)
		}
	}
	event := func(step string, want store.PaymentState) store.Payment {
		t.Helper()
		select {
		case e := <-events:
			if e.Payment.State != want {
				t.Fatalf("%s: event for a %s payment, want %s", step, e.Payment.State, want)
			}
			return e.Payment
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no event", step)
		}
		return store.Payment{}
	}

	got := r.syncRound(p.TxHash)
	if got.State != store.PaymentConfirmed || got.Delivery.Block != 90 || got.Delivery.BlockHash != blockHash(90, 0) {
		t.Fatalf("payment %s in block %d %s, want confirmed in block 90", got.State, got.Delivery.Block, got.Delivery.BlockHash)
	}
	event("confirmed", store.PaymentConfirmed)
	books("confirmed", store.PaymentConfirmed, 0)

	// Block 90 is replaced; the transaction is in no block.
	sent := len(r.chain.sends())
	r.edit(func(c *fakeChain) { c.forks[90] = 1; delete(c.mined, p.TxHash) })
	got = r.syncRound(p.TxHash)
	if got.State != store.PaymentBroadcast || got.Delivery.Reorgs != 1 || got.Delivery.ReorgNote == "" || got.Delivery.Block != 0 {
		t.Fatalf("after its block was lost: %s, %+v", got.State, got.Delivery)
	}
	if n := len(r.chain.sends()); n != sent+1 {
		t.Errorf("%d sends after the block was lost, want %d", n, sent+1)
	}
	if e := event("lost", store.PaymentBroadcast); e.Delivery.Reorgs != 1 {
		t.Errorf("event %+v", e.Delivery)
	}
	books("lost", store.PaymentBroadcast, 1000)
	if rep := r.bc.Last(); rep.Reorged != 1 {
		t.Errorf("report %+v, want one reorged", rep)
	}

	// Mined again, in block 95; two blocks on top of it is not enough.
	r.edit(func(c *fakeChain) { c.mined[p.TxHash] = 95; c.head = 96 })
	if got = r.syncRound(p.TxHash); got.State != store.PaymentBroadcast || got.Delivery.Block != 95 {
		t.Fatalf("mined 2 deep: %s in block %d, want broadcast in block 95", got.State, got.Delivery.Block)
	}
	r.edit(func(c *fakeChain) { c.head = 97 })
	if got = r.syncRound(p.TxHash); got.State != store.PaymentConfirmed || got.Delivery.BlockHash != blockHash(95, 0) {
		t.Fatalf("mined 3 deep: %s, %+v", got.State, got.Delivery)
	}
	event("confirmed again", store.PaymentConfirmed)
	books("confirmed again", store.PaymentConfirmed, 0)

	r.edit(func(c *fakeChain) { c.finalized = 95 })
	if got = r.syncRound(p.TxHash); got.State != store.PaymentFinal || got.Delivery.Reorgs != 1 {
		t.Fatalf("finalized: %s, %+v", got.State, got.Delivery)
	}
	event("final", store.PaymentFinal)
	books("final", store.PaymentFinal, 0)

	// Final: never looked up again.
	r.chain.mu.Lock()
	receipts, headers := r.chain.receipts, r.chain.canonical
	r.chain.mu.Unlock()
	for range 3 {
		r.syncRound(p.TxHash)
	}
	r.chain.mu.Lock()
	defer r.chain.mu.Unlock()
	if r.chain.receipts != receipts || r.chain.canonical != headers {
		t.Errorf("a final payment was looked up again: receipts %d→%d, headers %d→%d", receipts, r.chain.receipts, headers, r.chain.canonical)
	}
}

// Final comes from the node's finalized block where it has one, from
// FinalDepth where it has none.
func TestFinalFromTheTagOrTheDepth(t *testing.T) {
	for _, tc := range []struct {
		name        string
		finalized   int64 // <0: no tag
		head        uint64
		then        func(c *fakeChain)
		firstState  store.PaymentState
		secondState store.PaymentState
	}{
		{"tag below the block, then at it", 94, 100, func(c *fakeChain) { c.finalized = 95 }, store.PaymentConfirmed, store.PaymentFinal},
		{"tag present: depth alone is not final", 94, 100, func(c *fakeChain) { c.head = 200 }, store.PaymentConfirmed, store.PaymentConfirmed},
		{"no tag: 9 deep, then 10", -1, 103, func(c *fakeChain) { c.head = 104 }, store.PaymentConfirmed, store.PaymentFinal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed, p := oneBroadcast(t)
			r := newFakeRig(t, seed)
			r.edit(func(c *fakeChain) { c.mined[p.TxHash], c.finalized, c.head = 95, tc.finalized, tc.head })
			r.start(broadcast.Options{Confirmations: 2, FinalDepth: 10})
			if got := r.syncRound(p.TxHash); got.State != tc.firstState {
				t.Fatalf("first: %s, want %s", got.State, tc.firstState)
			}
			r.edit(tc.then)
			if got := r.syncRound(p.TxHash); got.State != tc.secondState {
				t.Fatalf("then: %s, want %s", got.State, tc.secondState)
			}
		})
	}
}

// balancer is a node behind a load balancer: each call goes to one of its
// backends, chosen at random (seeded), so receipts and headers often come
// from different ones.
type balancer struct {
	*fakeChain // Status, Changes, Probe, Call
	mu         sync.Mutex
	rnd        *rand.Rand
	backends   []*fakeChain
}

func (b *balancer) pick() *fakeChain {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.backends[b.rnd.IntN(len(b.backends))]
}

func (b *balancer) SendBatch(ctx context.Context, raws [][]byte) ([]error, error) {
	return b.pick().SendBatch(ctx, raws)
}

func (b *balancer) Receipts(ctx context.Context, hs []common.Hash) ([]*types.Receipt, error) {
	return b.pick().Receipts(ctx, hs)
}

func (b *balancer) Transactions(ctx context.Context, hs []common.Hash) ([]chain.TxInfo, error) {
	return b.pick().Transactions(ctx, hs)
}

func (b *balancer) BlockNumber(ctx context.Context) (uint64, error) {
	return b.pick().BlockNumber(ctx)
}

func (b *balancer) Canonical(ctx context.Context, ns []uint64) (chain.Canonical, error) {
	return b.pick().Canonical(ctx, ns)
}

// Two backends of one chain at different heads (one 20 blocks behind, its
// finalized block below the payment's): whatever mix of answers a round
// gets, the payment is never shown lost, never confirmed or final from a
// header the receipt's backend did not give, and ends final.
func TestALoadBalancerAnsweringFromTwoHeadsConfusesNothing(t *testing.T) {
	for seed := range uint64(8) {
		seedFn, p := oneBroadcast(t)
		r := newFakeRig(t, seedFn)
		ahead, behind := newFakeChain(), newFakeChain()
		ahead.head, ahead.finalized = 100, 96
		behind.head, behind.finalized = 80, 64
		lb := &balancer{fakeChain: ahead, rnd: rand.New(rand.NewPCG(seed, 1)), backends: []*fakeChain{ahead, behind}}
		events := make(chan broadcast.Event, 64)
		o := broadcast.Options{Confirmations: 5, Store: r.store.Chain(fakeChainID), Chain: lb}
		r.bc = broadcast.New(o)
		sub, stop := r.bc.Subscribe()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { r.bc.Run(ctx) })
		wg.Go(func() {
			for {
				select {
				case e := <-sub:
					events <- e
				case <-ctx.Done():
					return
				}
			}
		})
		// Mined in block 90: only the backend ahead has it.
		for _, c := range lb.backends {
			c.mu.Lock()
			c.mined[p.TxHash] = 90
			c.mu.Unlock()
		}
		var got store.Payment
		// A round whose receipts and headers both come from the backend
		// ahead comes one time in four; 200 rounds miss it with odds of
		// about 1e-25.
		for range 200 {
			if got = r.syncRound(p.TxHash); got.State == store.PaymentFinal {
				break
			}
		}
		cancel()
		wg.Wait()
		stop()
		close(events)
		if got.State != store.PaymentFinal || got.Delivery.Reorgs != 0 || got.Delivery.BlockHash != blockHash(90, 0) {
			t.Fatalf("seed %d: payment %s, %+v; want final in block 90, never lost", seed, got.State, got.Delivery)
		}
		for e := range events {
			if e.Payment.State == store.PaymentBroadcast || e.Payment.Delivery.Reorgs != 0 {
				t.Errorf("seed %d: event %s %+v", seed, e.Payment.State, e.Payment.Delivery)
			}
		}
	}
}

// The backend behind gives a confirmed payment's height no header, and
// its receipt lookup finds nothing: that is "not yet", not lost. The
// payment stays confirmed; its bytes may be sent again (harmless: the node
// takes them, or already has them), which changes nothing either.
func TestABackendBehindDoesNotUnconfirm(t *testing.T) {
	seed, p := oneBroadcast(t)
	r := newFakeRig(t, seed)
	r.edit(func(c *fakeChain) { c.mined[p.TxHash] = 90 })
	r.start(broadcast.Options{Confirmations: 1})
	if got := r.syncRound(p.TxHash); got.State != store.PaymentConfirmed {
		t.Fatalf("payment %s, want confirmed", got.State)
	}
	r.edit(func(c *fakeChain) { c.head = 80 }) // now answering from a backend 20 blocks behind
	for range 3 {
		if got := r.syncRound(p.TxHash); got.State != store.PaymentConfirmed || got.Delivery.Reorgs != 0 ||
			got.Delivery.Block != 90 || got.Delivery.BlockHash != blockHash(90, 0) {
			t.Fatalf("behind: %s, %+v", got.State, got.Delivery)
		}
	}
	r.edit(func(c *fakeChain) { c.head, c.finalized = 100, 90 }) // caught up
	if got := r.syncRound(p.TxHash); got.State != store.PaymentFinal || got.Delivery.Reorgs != 0 {
		t.Fatalf("caught up: %s, %+v; want final", got.State, got.Delivery)
	}
}
