package watch_test

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
	"showpos/sync/watch"
	"showpos/terminal/asset"
)

var (
	merchant = common.HexToAddress("0x00000000000000000000000000000000004e4c40")
	payerA   = common.HexToAddress("0xA11CE00000000000000000000000000000000001")
	payerB   = common.HexToAddress("0xB0B0000000000000000000000000000000000002")
	tusd     = common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
	usdc     = common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
	assets   = []asset.Asset{{Symbol: "ETH", Decimals: 18}, {Symbol: "TUSD", Decimals: 6, Token: tusd}, {Symbol: "USDC", Decimals: 6, Token: usdc}}
)

// rig is a watcher on a fake node through a real chain.Client.
type rig struct {
	node   *fakeNode
	ledger *memLedger
	w      *watch.Watcher
	client *chain.Client
}

func newRig(t testing.TB, height uint64, o watch.Options, endpoints ...string) *rig {
	t.Helper()
	node := newFakeNode(t, merchant, height)
	if len(endpoints) == 0 {
		endpoints = []string{node.URL()}
	}
	c, err := chain.New(chain.Options{Endpoints: endpoints, ChainID: fakeChainID, CallTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	l := newMemLedger(t)
	o.Ledger, o.Chain, o.Merchant = l, c, merchant
	if o.Assets == nil {
		o.Assets = assets
	}
	w, err := watch.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{node: node, ledger: l, w: w, client: c}
}

// round runs one round and fails the test on an error.
func (r *rig) round(t testing.TB) watch.Report {
	t.Helper()
	rep, err := r.w.Round(context.Background())
	if err != nil {
		t.Fatalf("round: %v", err)
	}
	return rep
}

// The first round starts at the head (nothing before can pay a request
// made from now on) and stores the cursor.
func TestTheFirstRoundStartsAtTheHead(t *testing.T) {
	r := newRig(t, 40, watch.Options{})
	r.node.mine(native{from: payerA, value: 5}) // block 41: before the watcher existed
	rep := r.round(t)
	if c := r.ledger.cursor(); c.Height != 41 || len(c.Hashes) != 1 || c.Hashes[0] != r.node.hash(41) {
		t.Errorf("cursor %+v, want 41 and its hash", c)
	}
	if got := r.ledger.got(); len(got) != 0 || rep.Height != 41 {
		t.Errorf("recorded %v (report %+v): want nothing", got, rep)
	}
}

// Every kind of money that reaches the merchant is recorded, once, with
// its block and sender; what is not money to the merchant is not.
func TestTransfersToTheMerchantAreRecorded(t *testing.T) {
	r := newRig(t, 10, watch.Options{})
	r.round(t)
	other := common.Address{0x99}
	r.node.mine(native{from: payerA, value: 50_000})                                                                                                          // 11
	r.node.mine(token{token: tusd, from: payerB, value: 1_250_000})                                                                                           // 12
	r.node.mine(native{from: payerB, value: 7, failed: true}, token{token: common.Address{0xee}, from: payerA, value: 9})                                     // 13: failed; unknown token
	r.node.mine(internal{value: 300})                                                                                                                         // 14: a contract wallet's call
	r.node.mine(spend{to: other, value: 1000, fee: 21}, native{from: payerA, value: 60})                                                                      // 15: merchant spends, and is paid
	r.node.mine(token{token: usdc, from: payerA, value: 3}, internal{value: 4}, native{from: payerB, value: 5}, native{from: payerA, value: 8, failed: true}) // 16
	r.node.mine()                                                                                                                                             // 17
	rep := r.round(t)
	want := []string{
		"50000 ETH from 0xa11c @11",
		"1250000 TUSD from 0xb0b0 @12",
		"300 ETH gap @14",
		"60 ETH from 0xa11c @15",
		"3 USDC from 0xa11c @16",
		"5 ETH from 0xb0b0 @16",
		"4 ETH gap @16",
	}
	if got := r.ledger.got(); !slices.Equal(got, want) {
		t.Errorf("recorded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Blocks != 7 || rep.Transfers != 7 || rep.Gaps != 2 || r.ledger.cursor().Height != 17 {
		t.Errorf("report %+v, cursor %d", rep, r.ledger.cursor().Height)
	}
	// Receipts were read for the merchant's own transaction (15) and for
	// the payments of block 16, where the balance rose by less than they
	// carried (one failed); nowhere else.
	if _, by := r.node.counts(); by["eth_getTransactionReceipt"] != 1+2 {
		t.Errorf("%d receipts read, want 3", by["eth_getTransactionReceipt"])
	}
	// Recorded details: block hash and time from the header, the log's
	// index and the transaction's.
	r.ledger.mu.Lock()
	ts := slices.Clone(r.ledger.transfers)
	r.ledger.mu.Unlock()
	for _, tr := range ts {
		if tr.BlockHash != r.node.hash(tr.Block) || tr.BlockTime.Unix() != int64(1_700_000_000+2*tr.Block) {
			t.Errorf("%s: block %s at %v", describe(tr), tr.BlockHash, tr.BlockTime)
		}
		if tr.Gap != (tr.TxHash == common.Hash{}) || tr.Gap && (tr.Index != uint(tr.Block) || tr.From != common.Address{}) {
			t.Errorf("%s: tx %s index %d from %s", describe(tr), tr.TxHash, tr.Index, tr.From)
		}
	}

	// The same blocks again (a round with nothing new) record nothing more.
	r.round(t)
	if got := r.ledger.got(); len(got) != len(want) {
		t.Errorf("after an idle round: %d transfers", len(got))
	}
}

// The budget: in steady state at most 2 JSON-RPC calls per new
// block (a call in a batch counts), whatever happens off chain. Exactly:
// a round that finds no new block costs 1 call (the head), a round that
// finds k new blocks 1+k (k-1 headers and the merchant's balance), with
// the finalized block asked once every FinalEvery blocks while a
// recorded transfer is not final. Money moving costs more (logs where a
// bloom matches, the blocks in which the balance moved): counted apart.
func TestSteadyStateCostsAtMostTwoCallsPerNewBlock(t *testing.T) {
	r := newRig(t, 100, watch.Options{Confirmations: 2, FinalDepth: 8})
	r.round(t)
	r.node.mine()
	if rep := r.round(t); rep.Calls != 3 {
		t.Errorf("the first round after the start: %d calls, want 3 (the balance at the cursor too)", rep.Calls)
	}
	r.node.resetCounts()

	for i := range 100 {
		r.node.mine()
		rep := r.round(t)
		if rep.Calls != 2 {
			t.Fatalf("round %d with one new block: %d calls, want 2", i, rep.Calls)
		}
	}
	total, by := r.node.counts()
	if total != 200 || by["eth_getBlockByNumber"] != 100 || by["eth_getBalance"] != 100 {
		t.Errorf("100 blocks, one a round: %d calls on the node (%v), want 200", total, by)
	}

	r.node.resetCounts()
	for range 10 {
		if rep := r.round(t); rep.Calls != 1 {
			t.Errorf("a round with no new block: %d calls, want 1", rep.Calls)
		}
	}
	r.node.mineN(3)
	if rep := r.round(t); rep.Calls != 4 {
		t.Errorf("a round with 3 new blocks: %d calls, want 4", rep.Calls)
	}
	if total, by := r.node.counts(); total != 14 {
		t.Errorf("calls on the node: %d (%v), want 14", total, by)
	}

	// A payment: its bloom asks for the logs, the balance bisection finds
	// its block, and that block is read.
	r.node.resetCounts()
	r.node.mine(token{token: tusd, from: payerA, value: 1})
	r.node.mine(native{from: payerB, value: 2})
	rep := r.round(t)
	_, by = r.node.counts()
	if by["eth_getLogs"] != 1 || by["full"] != 1 || rep.Transfers != 2 {
		t.Errorf("a round with two payments: %v, report %+v", by, rep)
	}
	// Then, until final, the finalized tag once every FinalEvery (32) blocks.
	r.node.resetCounts()
	for range 64 {
		r.node.mine()
		r.round(t)
	}
	if total, by := r.node.counts(); total > 2*64+2 {
		t.Errorf("64 blocks after a payment: %d calls (%v), want at most 130", total, by)
	}
}

// Confirmations and finality as the broadcaster counts them: confirmed
// with Confirmations-1 blocks on top; final at the node's finalized block,
// or FinalDepth deep without one; never final before confirmed.
func TestSettleCountsAsTheBroadcaster(t *testing.T) {
	for _, tc := range []struct {
		name      string
		finalized int64
		want      [2]uint64
	}{
		{"no finalized tag: final depth", -1, [2]uint64{58, 53}},
		{"finalized tag", 30, [2]uint64{58, 30}},
		{"finalized tag above confirmed", 59, [2]uint64{58, 58}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 40, watch.Options{Confirmations: 3, FinalDepth: 8, FinalEvery: 1})
			r.node.setFinalized(min(tc.finalized, 0))
			r.round(t)
			r.node.mine(native{from: payerA, value: 1}) // 41
			r.node.mineN(19)                            // head 60
			r.node.setFinalized(tc.finalized)
			r.round(t)
			r.round(t) // asks the finalized block again (FinalEvery 1)
			if got := r.ledger.lastSettle(); got != tc.want {
				t.Errorf("Settle%v, want %v", got, tc.want)
			}
		})
	}
}

// A block that holds a recorded transfer is reorganised away: the watcher
// finds the fork point among the kept hashes, rewinds the ledger to it
// (the transfer is taken back), and records what the new blocks hold.
func TestAReorgRewindsToTheForkPoint(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(n *fakeNode) // the new fork
		want  string
	}{
		{"a longer fork", func(n *fakeNode) { n.mineN(3); n.mine(native{from: payerB, value: 70}); n.mineN(2) }, "70 ETH from 0xb0b0 @26"},
		{"a fork as long: the head replaced at the cursor's height", func(n *fakeNode) { n.mine(native{from: payerB, value: 70}); n.mineN(3) }, "70 ETH from 0xb0b0 @23"},
		{"a shorter fork", func(n *fakeNode) { n.mine(native{from: payerB, value: 70}) }, "70 ETH from 0xb0b0 @23"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 20, watch.Options{FinalDepth: 16})
			r.round(t)
			r.node.mineN(2)
			r.node.mine(native{from: payerA, value: 50}, token{token: tusd, from: payerA, value: 9}) // 23
			r.node.mineN(3)                                                                          // 26
			r.round(t)
			if got := r.ledger.got(); len(got) != 2 {
				t.Fatalf("before the reorg: %v", got)
			}
			r.node.reorg(22)
			tc.after(r.node)
			rep := r.round(t)
			if !rep.Reorg || len(r.ledger.rewinds) != 1 || r.ledger.rewinds[0] != 22 {
				t.Fatalf("report %+v, rewinds %v: want one rewind to 22", rep, r.ledger.rewinds)
			}
			if got := r.ledger.got(); len(got) != 0 {
				t.Errorf("after the rewind: %v, want nothing", got)
			}
			for rep.More {
				rep = r.round(t)
			}
			if got := r.ledger.got(); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("after the new fork: %v", got)
			}
			c := r.ledger.cursor()
			if c.Height != r.node.head() || c.Hashes[len(c.Hashes)-1] != r.node.hash(c.Height) {
				t.Errorf("cursor %d, head %d", c.Height, r.node.head())
			}
			if w := r.w.Status(); w.Reorgs != 1 {
				t.Errorf("status %+v", w)
			}
		})
	}
}

// The cursor keeps at most FinalDepth hashes, newest last.
func TestTheCursorKeepsTheLastFinalDepthHashes(t *testing.T) {
	r := newRig(t, 5, watch.Options{FinalDepth: 4})
	r.round(t)
	r.node.mineN(10)
	r.round(t)
	c := r.ledger.cursor()
	want := []common.Hash{r.node.hash(12), r.node.hash(13), r.node.hash(14), r.node.hash(15)}
	if c.Height != 15 || !slices.Equal(c.Hashes, want) {
		t.Errorf("cursor %d %v, want 15 and the hashes of 12..15", c.Height, c.Hashes)
	}
}

// After time offline the watcher catches up from its cursor in rounds of
// at most MaxRange blocks (each one eth_getLogs at most), recording what
// was paid meanwhile.
func TestCatchUpInBoundedRanges(t *testing.T) {
	r := newRig(t, 10, watch.Options{MaxRange: 100})
	r.round(t)
	var want []string
	for i := range 350 {
		switch i % 50 {
		case 7:
			r.node.mine(native{from: payerA, value: int64(i)})
			want = append(want, describeN(int64(i), "ETH", payerA, uint64(11+i)))
		case 31:
			r.node.mine(token{token: tusd, from: payerB, value: int64(i)})
			want = append(want, describeN(int64(i), "TUSD", payerB, uint64(11+i)))
		default:
			r.node.mine()
		}
	}
	rounds := 0
	for {
		rounds++
		if rep := r.round(t); !rep.More {
			break
		}
	}
	if rounds != 4 {
		t.Errorf("%d rounds for 350 blocks, want 4", rounds)
	}
	for _, rg := range r.ledger.ranges[1:] {
		if rg[1]-rg[0]+1 > 100 {
			t.Errorf("range %v longer than MaxRange", rg)
		}
	}
	_, by := r.node.counts()
	logs := 0
	for m, n := range by {
		var blocks int
		if _, err := fmt.Sscanf(m, "logs %d", &blocks); err == nil {
			logs += n
			if blocks > 100 {
				t.Errorf("an eth_getLogs over %d blocks", blocks)
			}
		}
	}
	if logs == 0 || logs > 4 {
		t.Errorf("%d eth_getLogs for 4 rounds", logs)
	}
	if got := r.ledger.got(); !slices.Equal(got, want) {
		t.Errorf("recorded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func describeN(v int64, sym string, from common.Address, block uint64) string {
	return describe(watch.Transfer{Amount: bigInt(v), Asset: sym, From: from, Block: block})
}

// Further behind than MaxLookback, the older blocks are skipped: the
// cursor jumps, a warning, Status.Skipped; the blocks within the lookback
// are processed.
func TestOfflineLongerThanTheLookbackSkips(t *testing.T) {
	r := newRig(t, 10, watch.Options{MaxLookback: 50, MaxRange: 1000})
	r.round(t)
	r.node.mine(native{from: payerA, value: 1}) // 11: too far back
	r.node.mineN(148)                           // 159
	r.node.mine(native{from: payerB, value: 2}) // 160
	r.round(t)
	st := r.w.Status()
	if st.Skipped != 100 || st.SkippedTo != 110 || st.Height != 160 {
		t.Errorf("status %+v: want 100 skipped up to 110, height 160", st)
	}
	if got := r.ledger.got(); !slices.Equal(got, []string{"2 ETH from 0xb0b0 @160"}) {
		t.Errorf("recorded %v", got)
	}
}

// An endpoint that stalls: the round fails with the chain client's
// timeout and records nothing; with a second endpoint the watcher goes on
// through it.
func TestAStalledEndpoint(t *testing.T) {
	r := newRig(t, 10, watch.Options{})
	r.round(t)
	r.node.mine(native{from: payerA, value: 1})
	r.node.setStall()
	rep, err := r.w.Round(context.Background())
	if !chain.IsTransport(err) || rep.Err == "" || r.ledger.cursor().Height != 10 {
		t.Errorf("stalled: %v, report %+v, cursor %d", err, rep, r.ledger.cursor().Height)
	}
	if st := r.w.Status(); st.Err == "" || st.Height != 10 {
		t.Errorf("status %+v", st)
	}
	r.node.unstall()
	r.round(t)
	if got := r.ledger.got(); len(got) != 1 {
		t.Errorf("after the stall: %v", got)
	}
}

// With two endpoints, the first stalling, the watcher goes on through the
// second (the chain client's failover).
func TestAStalledFirstEndpointFailsOver(t *testing.T) {
	hung := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hung); stalled.Close() })
	node := newFakeNode(t, merchant, 10)
	c, err := chain.New(chain.Options{Endpoints: []string{stalled.URL, node.URL()}, ChainID: fakeChainID, CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	l := newMemLedger(t)
	w, err := watch.New(watch.Options{Ledger: l, Chain: c, Merchant: merchant, Assets: assets})
	if err != nil {
		t.Fatal(err)
	}
	for _, what := range []any{nil, native{from: payerA, value: 4}} {
		if what != nil {
			node.mine(what)
		}
		if _, err := w.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.got(); !slices.Equal(got, []string{"4 ETH from 0xa11c @11"}) {
		t.Errorf("recorded %v", got)
	}
}

func bigInt(v int64) *big.Int { return big.NewInt(v) }

// Run rounds until its context ends, at once when kicked, and returns.
func TestRunFollowsAndStopsWithItsContext(t *testing.T) {
	r := newRig(t, 10, watch.Options{Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.w.Run(ctx) }()
	waitFor(t, func() bool { return r.w.Status().Height == 10 })
	r.node.mine(native{from: payerA, value: 3})
	r.w.Kick()
	waitFor(t, func() bool { return len(r.ledger.got()) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 500 {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5 s")
}
