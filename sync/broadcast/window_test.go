package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/terminal/store"
)

// readCounter counts what the broadcaster reads from the store.
type readCounter struct {
	*store.ChainStore
	mu       sync.Mutex
	payments int // payments returned, all reads together
	most     int // most payments one read returned
}

func (c *readCounter) count(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.payments += n
	c.most = max(c.most, n)
}

func (c *readCounter) snapshot() (payments, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.payments, c.most
}

func (c *readCounter) OpenPaymentsAfter(after *store.OpenKey, limit int) ([]store.Payment, error) {
	ps, err := c.ChainStore.OpenPaymentsAfter(after, limit)
	c.count(len(ps))
	return ps, err
}

func (c *readCounter) Payments(f store.PaymentFilter) ([]store.Payment, error) {
	ps, err := c.ChainStore.Payments(f)
	c.count(len(ps))
	return ps, err
}

func (c *readCounter) OldestQueued() (store.Payment, bool, error) {
	p, ok, err := c.ChainStore.OldestQueued()
	if ok {
		c.count(1)
	}
	return p, ok, err
}

func (c *readCounter) RecentFailures(limit int) ([]store.Payment, error) {
	ps, err := c.ChainStore.RecentFailures(limit)
	c.count(len(ps))
	return ps, err
}

func (c *readCounter) OpenBefore(from common.Address, nonce uint64) (store.Payment, bool, error) {
	p, ok, err := c.ChainStore.OpenBefore(from, nonce)
	if ok {
		c.count(1)
	}
	return p, ok, err
}

// fakeRig is a broadcaster on a real store in front of a fakeChain.
type fakeRig struct {
	t      *testing.T
	store  *store.Store
	reads  *readCounter
	chain  *fakeChain
	bc     *broadcast.Broadcaster
	rounds chan broadcast.Report
	now    time.Time
}

func newFakeRig(t *testing.T, seed func(*store.Store)) *fakeRig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if seed != nil {
		seed(st)
	}
	return &fakeRig{t: t, store: st, reads: &readCounter{ChainStore: st.Chain(fakeChainID)}, chain: newFakeChain(),
		rounds: make(chan broadcast.Report, 4096), now: time.Now()}
}

// start runs the broadcaster with o (Store, Chain and OnRound set here).
func (r *fakeRig) start(o broadcast.Options) {
	o.Store, o.Chain = r.reads, r.chain
	o.OnRound = func(rep broadcast.Report) {
		select {
		case r.rounds <- rep:
		default:
		}
	}
	r.bc = broadcast.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.bc.Run(ctx) })
	r.t.Cleanup(func() { cancel(); wg.Wait() })
}

// quiet waits until no round has run for a while.
func (r *fakeRig) quiet() {
	for {
		select {
		case <-r.rounds:
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

// waitRound waits for a round whose report satisfies ok.
func (r *fakeRig) waitRound(what string, ok func(broadcast.Report) bool) broadcast.Report {
	r.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case rep := <-r.rounds:
			if ok(rep) {
				return rep
			}
		case <-deadline:
			r.t.Fatalf("no round %s; last %+v", what, r.bc.Last())
		}
	}
}

func (r *fakeRig) accept(from common.Address, nonce uint64) store.Payment {
	r.t.Helper()
	p, err := acceptFake(context.Background(), r.store, from, nonce, r.now)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// waitSent waits until the node took n transactions.
func (r *fakeRig) waitSent(n int) []sentTx {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := r.chain.sends()
		if len(s) >= n {
			return s
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("node took %d transactions, want %d; last round %+v", len(s), n, r.bc.Last())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inNonceOrder checks that each sender's transactions reached the node
// once each, in nonce order, and that want of them did.
func inNonceOrder(t *testing.T, sent []sentTx, want map[common.Address]int) {
	t.Helper()
	next := map[common.Address]uint64{}
	for _, s := range sent {
		if s.Nonce != next[s.From] {
			t.Errorf("%s nonce %d sent when nonce %d was next (sends %v)", s.From, s.Nonce, next[s.From], sent)
			return
		}
		next[s.From]++
	}
	for from, n := range want {
		if next[from] != uint64(n) {
			t.Errorf("%s: %d sent, want %d", from, next[from], n)
		}
	}
}

// With many payments in flight, a kick round (a payment just accepted)
// reads the payments accepted since the last one, not the outbox, and
// looks nothing up; the in-flight ones are followed once per pass, a
// window at a time.
func TestKickRoundReadsNewPaymentsNotTheOpenOnes(t *testing.T) {
	const payers, each, window = 50, 100, 200
	var senders []common.Address
	for i := range payers {
		senders = append(senders, addrN(i))
	}
	r := newFakeRig(t, func(s *store.Store) { seedStore(t, s, senders, each, each, time.Now()) })
	r.start(broadcast.Options{Window: window, Poll: time.Hour})
	first := r.waitRound("ending the first pass", func(broadcast.Report) bool { return r.chain.lookedUp() >= payers*each })
	r.quiet()
	if n := r.chain.lookedUp(); n != payers*each {
		t.Errorf("first pass looked up %d receipts, want each of the %d in flight once", n, payers*each)
	}
	if _, most := r.reads.snapshot(); most > window {
		t.Errorf("a read returned %d payments; want at most the window of %d", most, window)
	}
	if first.Open != payers*each {
		t.Errorf("report: %d open, want %d", first.Open, payers*each)
	}

	for i := range 5 {
		before, _ := r.reads.snapshot()
		lookups := r.chain.lookedUp()
		fresh := addrN(1000 + i)
		r.accept(fresh, 0)
		r.bc.Kick()
		rep := r.waitRound("sending the new payment", func(rep broadcast.Report) bool { return rep.Sent > 0 })
		after, _ := r.reads.snapshot()
		if read := after - before; read > 4 {
			t.Errorf("kick round %d read %d payments with %d open; want the new one and a few", i, read, payers*each+i)
		}
		if n := r.chain.lookedUp() - lookups; n != 0 {
			t.Errorf("kick round %d looked up %d receipts; want none", i, n)
		}
		if rep.Sent != 1 || rep.Open != payers*each+i+1 || !rep.Online || rep.Err != "" {
			t.Errorf("kick round %d: %+v", i, rep)
		}
		if s := r.chain.sends(); len(s) != i+1 || s[i].From != fresh {
			t.Fatalf("node took %v, want the new payment of %s", s, fresh)
		}
	}
}

// A pass goes through the open index a window at a time and wraps
// around: every sender is reached, each payment is sent once in its
// sender's nonce order, and the next pass follows them to confirmed.
func TestPassesWrapAroundAndReachEverySender(t *testing.T) {
	const payers, each = 7, 9
	var senders []common.Address
	want := map[common.Address]int{}
	for i := range payers {
		senders = append(senders, addrN(i))
		want[addrN(i)] = each
	}
	var ps []store.Payment
	r := newFakeRig(t, func(s *store.Store) { ps = seedStore(t, s, senders, each, 0, time.Now()) })
	r.start(broadcast.Options{Window: 5, BatchSize: 2, Poll: 50 * time.Millisecond})
	inNonceOrder(t, r.waitSent(payers*each), want)
	r.chain.mu.Lock()
	for _, p := range ps {
		r.chain.mined[p.TxHash] = 7
	}
	r.chain.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := r.store.Counts()
		if err != nil {
			t.Fatal(err)
		}
		if c[store.PaymentConfirmed] == payers*each {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("confirmed %v, want all %d", c, payers*each)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, most := r.reads.snapshot(); most > 5 {
		t.Errorf("a read returned %d payments; want at most the window", most)
	}
	inNonceOrder(t, r.chain.sends(), want)
}

// A payment waiting out a backoff holds its sender's later nonces, in
// the windows after its own and in kick rounds alike: nothing of that
// sender is sent until it is.
func TestBackoffHoldsLaterNoncesAcrossWindows(t *testing.T) {
	a, s, z := common.HexToAddress("0x0a"), common.HexToAddress("0x5a"), common.HexToAddress("0xfa")
	r := newFakeRig(t, func(st *store.Store) {
		seedStore(t, st, []common.Address{a}, 3, 0, time.Now())
		seedStore(t, st, []common.Address{s}, 10, 0, time.Now())
		seedStore(t, st, []common.Address{z}, 2, 0, time.Now())
	})
	refused := false // under r.chain.mu
	r.chain.refuse = func(tx sentTx) error {
		if tx.From == s && tx.Nonce == 2 && !refused {
			refused = true
			return &chain.NodeError{Code: -32000, Message: "transaction underpriced"}
		}
		return nil
	}
	// Windows of 3: [a0 a1 a2] [s0 s1 s2] [s3 s4 s5] [s6 s7 s8] [s9 z0 z1]:
	// s2, refused, ends its window; s3 starts the next one.
	r.start(broadcast.Options{Window: 3, BatchSize: 3, Poll: 20 * time.Millisecond,
		MinBackoff: time.Second, MaxBackoff: time.Second})
	// The first pass sends a's, s0, s1 and z's; s2 is refused and waits.
	r.waitSent(7)
	r.accept(s, 10) // a new payment behind the wait, for a kick round
	r.bc.Kick()
	time.Sleep(200 * time.Millisecond) // passes and the kick round run
	if got := r.chain.sends(); len(got) != 7 {
		t.Fatalf("sent %v while s nonce 2 waits; want a's, z's, s 0 and 1 only", got)
	}
	inNonceOrder(t, r.waitSent(3+11+2), map[common.Address]int{a: 3, s: 11, z: 2})
	r.chain.mu.Lock()
	defer r.chain.mu.Unlock()
	if !refused {
		t.Error("s nonce 2 was never refused: the test did not test a backoff")
	}
}

// A kick round whose send was cut short leaves the rest queued; a later
// payment of one of those senders is not sent ahead of its earlier nonce:
// the next sweep sends both, in order.
func TestKickRoundDoesNotSendPastAQueuedNonce(t *testing.T) {
	r := newFakeRig(t, nil)
	r.start(broadcast.Options{BatchSize: 1, Poll: time.Hour})
	r.waitRound("at start", func(broadcast.Report) bool { return true })
	r.quiet()
	tt, s := common.HexToAddress("0x10"), common.HexToAddress("0x20")
	r.chain.mu.Lock()
	r.chain.cutNext = 1 // the first batch (t's) fails; s's is not tried
	r.chain.mu.Unlock()
	r.accept(tt, 0)
	r.accept(s, 0)
	r.bc.Kick()
	r.waitRound("cut short", func(rep broadcast.Report) bool { return rep.Err != "" })
	r.accept(s, 1)
	r.bc.Kick()
	r.waitRound("holding s nonce 1", func(broadcast.Report) bool { return true })
	if got := r.chain.sends(); len(got) != 0 {
		t.Fatalf("sent %v; want nothing of s while its nonce 0 is queued", got)
	}
	if _, err := r.bc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	inNonceOrder(t, r.waitSent(2), map[common.Address]int{s: 2})
}

// Report.OldestQueued follows the queue online: the oldest payment still
// queued after the round, and none once everything is sent.
func TestOldestQueuedOnline(t *testing.T) {
	base := time.Now().Add(-time.Hour)
	var senders []common.Address
	for i := range 20 {
		senders = append(senders, addrN(i))
	}
	var ps []store.Payment
	r := newFakeRig(t, func(st *store.Store) {
		for i, from := range senders { // accepted a minute apart
			ps = append(ps, seedStore(t, st, []common.Address{from}, 5, 0, base.Add(time.Duration(i)*time.Minute))...)
		}
	})
	// The node refuses the oldest five senders' payments for now.
	var mu sync.Mutex
	refusing := true
	r.chain.refuse = func(tx sentTx) error {
		mu.Lock()
		defer mu.Unlock()
		for _, from := range senders[:5] {
			if refusing && tx.From == from {
				return &chain.NodeError{Code: -32000, Message: "transaction underpriced"}
			}
		}
		return nil
	}
	r.start(broadcast.Options{Window: 7, Poll: 20 * time.Millisecond,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	r.waitSent(15 * 5)
	// Each round from now on: the first sender's first payment waits.
	for i := range 30 {
		rep := r.waitRound("while five senders are refused", func(broadcast.Report) bool { return true })
		if !rep.OldestQueued.Equal(ps[0].AcceptedAt) {
			t.Fatalf("round %d: oldest queued %s, want the first sender's %s", i, rep.OldestQueued, ps[0].AcceptedAt)
		}
	}
	mu.Lock()
	refusing = false
	mu.Unlock()
	r.waitSent(20 * 5)
	rep := r.waitRound("with nothing queued", func(rep broadcast.Report) bool { return rep.OldestQueued.IsZero() })
	if c, _ := r.store.Counts(); c[store.PaymentQueued] != 0 {
		t.Errorf("report %+v, but %d still queued", rep, c[store.PaymentQueued])
	}
}

// A batch that fails every time (a proxy refusing its body, a node that
// never answers it) holds up no other sender: whether the other payments
// of its window come before it or after it, they are sent, the pass goes
// on to the next window, and a payment accepted afterwards is sent too.
func TestABatchThatAlwaysFailsHoldsUpNoOtherSender(t *testing.T) {
	for _, tc := range []struct {
		name       string
		bad        common.Address
		goodFirst  common.Address // in the bad one's window
		nextWindow common.Address
	}{
		{"failing batch last in its window", addrN(0x20), addrN(0x10), addrN(0x30)},
		{"failing batch first in its window", addrN(0x10), addrN(0x20), addrN(0x30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFakeRig(t, nil)
			for _, from := range []common.Address{tc.bad, tc.goodFirst, tc.nextWindow} {
				r.accept(from, 0)
			}
			r.chain.cutIf = func(batch []sentTx) bool {
				return slices.ContainsFunc(batch, func(s sentTx) bool { return s.From == tc.bad })
			}
			// Backoffs shorter than a Poll: the bad payment is due again
			// every time its window is read.
			r.start(broadcast.Options{Window: 2, BatchSize: 1, Poll: 30 * time.Millisecond,
				MinBackoff: 5 * time.Millisecond, MaxBackoff: 5 * time.Millisecond})
			r.waitSent(2)
			late := addrN(0x01) // sorts before every other sender
			r.accept(late, 0)
			r.bc.Kick()
			sent := r.waitSent(3)
			want := map[common.Address]bool{tc.goodFirst: true, tc.nextWindow: true, late: true}
			for _, s := range sent {
				if !want[s.From] {
					t.Fatalf("sent %v; want one each from the good senders only", sent)
				}
				delete(want, s.From)
			}
		})
	}
}

// countsFail is a store whose Counts fails once told to.
type countsFail struct {
	*store.ChainStore
	fail atomic.Bool
}

func (s *countsFail) Counts() (map[store.PaymentState]int, error) {
	if s.fail.Load() {
		return nil, fmt.Errorf("counts: %w", store.ErrCorrupt)
	}
	return s.ChainStore.Counts()
}

// A store read that fails (a damaged counts value) is tried again a Poll
// later, not at once: the broadcaster must not spin and flood the log.
func TestAFailingStoreReadIsNotRetriedAtOnce(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 6 {
		if _, err := acceptFake(context.Background(), db, addrN(i+1), 0, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	st := &countsFail{ChainStore: db.Chain(fakeChainID)}
	var rounds, failed atomic.Int32
	first := make(chan struct{})
	bc := broadcast.New(broadcast.Options{Store: st, Chain: newFakeChain(), Window: 2, Poll: time.Hour,
		OnRound: func(r broadcast.Report) {
			if rounds.Add(1) == 1 {
				st.fail.Store(true) // mid-pass: the next window is due at once
				close(first)
			} else if r.Err != "" {
				failed.Add(1)
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { bc.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	<-first
	time.Sleep(300 * time.Millisecond)
	if n := failed.Load(); n == 0 || n > 2 {
		t.Fatalf("%d failed rounds in 300 ms; want one, then a wait of a Poll", n)
	}
}

// windowFail is a store whose next-window read fails once, after a key.
type windowFail struct {
	*store.ChainStore
	after  store.OpenKey
	failed atomic.Bool
}

func (s *windowFail) OpenPaymentsAfter(after *store.OpenKey, limit int) ([]store.Payment, error) {
	if after != nil && *after == s.after && s.failed.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("window after %v: %w", *after, store.ErrCorrupt)
	}
	return s.ChainStore.OpenPaymentsAfter(after, limit)
}

// A window ends inside a sender's run while a later nonce of the sender
// waits out a backoff: until the pass has read the rest of the run, a kick
// round must not send the sender's new payment past the waiting one.
func TestAKickRoundWaitsForThePassToReadTheRestOfASendersRun(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	x, s := addrN(0x05), addrN(0x10) // x sorts first
	st := &windowFail{ChainStore: db.Chain(fakeChainID), after: store.OpenKey{From: s, Nonce: 1}}
	node := newFakeChain()
	var refusedS1 atomic.Bool
	node.refuse = func(tx sentTx) error {
		// s's nonce 1 is refused once, its nonce 2 every time: both wait
		// out a backoff, and the broadcaster remembers only the lower.
		if tx.From == s && (tx.Nonce == 2 || tx.Nonce == 1 && refusedS1.CompareAndSwap(false, true)) {
			return errors.New("insufficient funds for gas * price + value")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	accept := func(from common.Address, nonce uint64) {
		if _, err := acceptFake(ctx, db, from, nonce, time.Now()); err != nil {
			t.Error(err)
		}
	}
	kicked := make(chan broadcast.Report, 1)
	reported := false // OnRound's own
	var bc *broadcast.Broadcaster
	bc = broadcast.New(broadcast.Options{Store: st, Chain: node, Window: 3, Poll: 200 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		OnRound: func(r broadcast.Report) {
			switch {
			case reported:
			case strings.Contains(r.Err, "window after"):
				// The pass stopped after its first window, [x0 s0 s1]:
				// s2 (waiting) and s3 (sent) are not read yet. A new
				// payment from s arrives.
				accept(s, 4)
				bc.Kick()
			case st.failed.Load():
				kicked <- r
				reported = true
			}
		}})
	wg.Go(func() { bc.Run(ctx) })
	time.Sleep(50 * time.Millisecond) // the first pass, over an empty outbox
	accept(x, 0)
	accept(s, 0)
	bc.Kick()
	waitFor(t, "x0 and s0 sent", func() bool { return len(node.sends()) == 2 })
	for n := range uint64(3) {
		accept(s, n+1)
	}
	bc.Kick() // s1, s2, s3 in one batch: the node takes s3 only
	waitFor(t, "s3 sent", func() bool { return len(node.sends()) == 3 })
	select {
	case <-kicked:
	case <-time.After(10 * time.Second):
		t.Fatalf("no round after the failed window read; last %+v", bc.Last())
	}
	for _, tx := range node.sends() {
		if tx.From == s && tx.Nonce == 4 {
			t.Fatalf("s's nonce 4 sent while its nonce 2 waits out a backoff: sends %v", node.sends())
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
