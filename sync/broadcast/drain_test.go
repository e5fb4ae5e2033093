package broadcast_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/config/configtest"
	"showpos/terminal/store"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// link is a TCP proxy between the terminal and the node, which a test
// cuts and restores (toxiproxy's proxy, in process).
type link struct {
	p *toxiproxy.Proxy
}

func newLink(t testing.TB, upstream string) *link {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "rpc", "127.0.0.1:0", strings.TrimPrefix(upstream, "http://"))
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &link{p: p}
}

func (l *link) url() string { return "http://" + l.p.Listen }
func (l *link) cut()        { l.p.Stop() }
func (l *link) restore(t testing.TB) {
	t.Helper()
	// cut gave the port up; another process's connection may hold it as
	// its source port for a moment (seen in CI: "address already in
	// use"), so the restore tries again for a while before failing.
	var err error
	for range 50 {
		if err = l.p.Start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("restore link: %v", err)
}

// rig is a terminal (store, till, chain client, broadcaster) in front of a
// real dev chain, reached through a link the test controls.
type rig struct {
	t      testing.TB
	node   *devchain.Chain
	link   *link
	cfg    *config.Config
	path   string
	store  *store.Store
	till   *checkout.Service
	client *chain.Client
	bc     *broadcast.Broadcaster
	eth    *ethclient.Client
	stop   func()
	// wrap, if set, is what the broadcaster reads the store through.
	wrap func(*store.ChainStore) broadcast.Store
	// wrapChain, if set, is what the broadcaster reaches the node through.
	wrapChain func(*chain.Client) broadcast.Chain
}

func startNode(t testing.TB, payers int) *devchain.Chain {
	t.Helper()
	node, err := devchain.Start(context.Background(), devchain.Options{Payers: payers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	return node
}

func newRig(t testing.TB, node *devchain.Chain, o broadcast.Options) *rig {
	t.Helper()
	return newRigWith(t, node, o, nil)
}

// newRigWith is newRig with the broadcaster reading the store through wrap.
func newRigWith(t testing.TB, node *devchain.Chain, o broadcast.Options, wrap func(*store.ChainStore) broadcast.Store) *rig {
	t.Helper()
	return newRigChain(t, node, o, wrap, nil)
}

// newRigChain is newRigWith with the broadcaster reaching the node through
// wrapChain.
func newRigChain(t testing.TB, node *devchain.Chain, o broadcast.Options, wrap func(*store.ChainStore) broadcast.Store,
	wrapChain func(*chain.Client) broadcast.Chain) *rig {
	t.Helper()
	r := &rig{t: t, node: node, link: newLink(t, node.Endpoint()), wrap: wrap, wrapChain: wrapChain}
	r.cfg = configtest.New(t, fmt.Sprintf(`
[terminal]
id = "drain-till"
request_ttl = "1h"
[chain]
id = %d
rpc = [%q]
[[assets]]
symbol = "TUSD"
token = %q
`, node.ChainID().Uint64(), r.link.url(), devchain.TokenAddress))
	r.path = filepath.Join(t.TempDir(), "showpos.db")
	var err error
	r.eth, err = ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.eth.Close)
	r.open(o)
	return r
}

// open starts the terminal's parts on r.path (again, after a stop).
func (r *rig) open(o broadcast.Options) {
	t := r.t
	st, err := store.Open(r.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	client, err := chain.New(chain.Options{
		Endpoints: r.cfg.Chain.RPC, ChainID: r.cfg.ChainID,
		CallTimeout: 2 * time.Second, ProbeEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	o.Store, o.Chain = st.Chain(r.cfg.ChainID), client
	if r.wrap != nil {
		o.Store = r.wrap(st.Chain(r.cfg.ChainID))
	}
	if r.wrapChain != nil {
		o.Chain = r.wrapChain(client)
	}
	if o.Poll == 0 {
		o.Poll = 50 * time.Millisecond
	}
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 50*time.Millisecond, 400*time.Millisecond
	}
	bc := broadcast.New(o)
	r.store, r.client, r.bc = st, client, bc
	r.till = checkout.New(checkout.Options{Config: r.cfg, Key: key, Store: st, OnAccept: func(checkout.Receipt) { bc.Kick() }})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { client.Run(ctx) })
	wg.Go(func() { bc.Run(ctx) })
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		wg.Wait()
		client.Close()
		st.Close()
	}
	t.Cleanup(r.stop)
}

// pay creates a request and pays it from key at nonce, through the till.
func (r *rig) pay(amount, symbol string, key *ecdsa.PrivateKey, nonce uint64) *types.Transaction {
	r.t.Helper()
	tx, err := r.tryPay(amount, symbol, key, nonce)
	if err != nil {
		r.t.Fatal(err)
	}
	return tx
}

// tryPay is pay for other goroutines than the test's.
func (r *rig) tryPay(amount, symbol string, key *ecdsa.PrivateKey, nonce uint64) (*types.Transaction, error) {
	doc, err := r.till.NewRequest(context.Background(), amount, symbol, "")
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	tx, err := paytx.Build(doc.Request(), key, paytx.Options{Type: types.DynamicFeeTxType, Nonce: nonce, FeeCap: big.NewInt(50e9), TipCap: big.NewInt(1e9)})
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	raw, _ := tx.MarshalBinary()
	if _, err := r.till.Pay(context.Background(), doc.ID, raw); err != nil {
		return nil, fmt.Errorf("pay: %w", err)
	}
	return tx, nil
}

// waitSettled waits until no payment is queued or broadcast.
func (r *rig) waitSettled(within time.Duration) map[store.PaymentState]int {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		counts, err := r.store.Counts()
		if err != nil {
			r.t.Fatal(err)
		}
		if counts[store.PaymentQueued]+counts[store.PaymentBroadcast] == 0 {
			return counts
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("not settled after %s: %v; %s", within, counts, r.unsettled())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unsettled names the first payments still queued or broadcast, with
// their delivery state, and the last round: what a drain is stuck on.
func (r *rig) unsettled() string {
	var b strings.Builder
	for _, st := range []store.PaymentState{store.PaymentQueued, store.PaymentBroadcast} {
		ps, err := r.store.Payments(store.PaymentFilter{State: st, Limit: 10})
		if err != nil {
			fmt.Fprintf(&b, "read %s payments: %v\n", st, err)
		}
		for _, p := range ps {
			d := p.Delivery
			fmt.Fprintf(&b, "  %s %s nonce %d: %s, attempts %d, next attempt %s, last error %q, sent %s, block %d %s\n",
				p.TxHash.Hex(), p.From.Hex(), p.Nonce, p.State, d.Attempts, d.NextAttempt.Format(time.RFC3339Nano),
				d.LastError, d.SentAt.Format(time.RFC3339Nano), d.Block, d.BlockHash.TerminalString())
		}
	}
	return fmt.Sprintf("stuck payments (the first of each state):\n%slast round %+v\nlast online round %+v", b.String(), r.bc.Last(), r.bc.LastSync())
}

// Payments accepted while the node is unreachable are all mined once it
// can be reached: each exactly once, each sender's in nonce order.
func TestDrainAfterTheNodeComesUp(t *testing.T) {
	const payers, each = 50, 20
	node := startNode(t, payers)
	r := newRig(t, node, broadcast.Options{})
	r.link.cut()
	var txs [][]*types.Transaction
	for i, acct := range node.Payers() {
		txs = append(txs, nil)
		for n := range each {
			txs[i] = append(txs[i], r.pay("0.001", "ETH", acct.Key, uint64(n)))
		}
	}
	if c, _ := r.store.Counts(); c[store.PaymentQueued] != payers*each {
		t.Fatalf("accepted offline: %v", c)
	}
	r.link.restore(t)
	counts := r.waitSettled(3 * time.Minute)
	if counts[store.PaymentConfirmed]+counts[store.PaymentFinal] != payers*each || counts[store.PaymentFailed] != 0 {
		t.Fatalf("after drain: %v", counts)
	}
	r.minedInOrder(txs)
}

// minedInOrder checks that txs[i], payer i's payments by nonce, are each
// mined once, in nonce order, and stored confirmed in their block.
func (r *rig) minedInOrder(txs [][]*types.Transaction) {
	t := r.t
	t.Helper()
	ctx := context.Background()
	for i, acct := range r.node.Payers() {
		each := uint64(len(txs[i]))
		nonce, err := r.eth.NonceAt(ctx, acct.Address, nil)
		if err != nil || nonce != each {
			t.Errorf("payer %d: on-chain nonce %d (%v), want %d: each payment mined exactly once", i, nonce, err, each)
		}
		var lastBlock, lastIndex uint64
		for n, tx := range txs[i] {
			rcpt, err := r.eth.TransactionReceipt(ctx, tx.Hash())
			if err != nil || rcpt.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("payer %d nonce %d: receipt %v, %v", i, n, rcpt, err)
			}
			b, idx := rcpt.BlockNumber.Uint64(), uint64(rcpt.TransactionIndex)
			if n > 0 && (b < lastBlock || b == lastBlock && idx < lastIndex) {
				t.Errorf("payer %d nonce %d mined before nonce %d", i, n, n-1)
			}
			lastBlock, lastIndex = b, idx
			p, _ := r.store.Payment(tx.Hash())
			if !p.State.Settled() || p.Delivery.Block != b {
				t.Errorf("payer %d nonce %d: stored %s block %d, chain block %d", i, n, p.State, p.Delivery.Block, b)
			}
		}
	}
	if u, _ := r.store.Chain(r.cfg.ChainID).Unsettled("ETH"); u.Sign() != 0 {
		t.Errorf("unsettled after drain: %s", u)
	}
}

// The link is cut and restored again and again during a drain: every
// payment is mined exactly once and none is wrongly failed.
func TestDrainThroughAFlakyLink(t *testing.T) {
	const payers, each = 25, 20
	node := startNode(t, payers)
	r := newRig(t, node, broadcast.Options{BatchSize: 20})
	r.link.cut()
	for _, acct := range node.Payers() {
		for n := range each {
			r.pay("0.001", "ETH", acct.Key, uint64(n))
		}
	}
	r.link.restore(t)
	// Cut and restore at random moments until the drain is done; count
	// the cuts that hit while payments were still in flight.
	// The drain takes some 20s on a loaded machine; a broadcaster that
	// makes no headway through the flaps (each round all or nothing, say)
	// fails here, naming what is stuck, instead of hanging the package.
	const within = 3 * time.Minute
	rng := rand.New(rand.NewPCG(1, 2))
	cutsMidDrain := 0
	deadline := time.Now().Add(within)
	for {
		time.Sleep(time.Duration(10+rng.IntN(60)) * time.Millisecond)
		c, _ := r.store.Counts()
		if c[store.PaymentQueued]+c[store.PaymentBroadcast] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained through a flaky link after %s (%d cuts): %v; %s", within, cutsMidDrain, c, r.unsettled())
		}
		r.link.cut()
		cutsMidDrain++
		time.Sleep(time.Duration(10+rng.IntN(150)) * time.Millisecond)
		r.link.restore(t)
	}
	counts := r.waitSettled(3 * time.Minute)
	t.Logf("%d cuts during the drain", cutsMidDrain)
	if cutsMidDrain < 5 {
		t.Errorf("only %d cuts landed during the drain; the test did not test a flaky link", cutsMidDrain)
	}
	if counts[store.PaymentConfirmed]+counts[store.PaymentFinal] != payers*each || counts[store.PaymentFailed] != 0 {
		t.Fatalf("after a flaky drain: %v", counts)
	}
	for i, acct := range node.Payers() {
		if nonce, _ := r.eth.NonceAt(context.Background(), acct.Address, nil); nonce != each {
			t.Errorf("payer %d: on-chain nonce %d, want %d", i, nonce, each)
		}
	}
}

// The broadcaster stopped in the middle of a drain (the daemon killed and
// restarted) resumes from the store without losing or double-counting.
func TestDrainResumesAfterRestart(t *testing.T) {
	const payers, each = 10, 20
	node := startNode(t, payers)
	o := broadcast.Options{BatchSize: 10}
	r := newRig(t, node, o)
	r.link.cut()
	for _, acct := range node.Payers() {
		for n := range each {
			r.pay("0.001", "ETH", acct.Key, uint64(n))
		}
	}
	r.link.restore(t)
	// Stop as soon as some, not all, are confirmed.
	for {
		c, _ := r.store.Counts()
		if c[store.PaymentConfirmed]+c[store.PaymentFinal] > 0 || c[store.PaymentBroadcast] > 20 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.stop()
	r.open(o)
	counts := r.waitSettled(2 * time.Minute)
	if counts[store.PaymentConfirmed]+counts[store.PaymentFinal] != payers*each || counts[store.PaymentFailed] != 0 {
		t.Fatalf("after restart: %v", counts)
	}
	if u, _ := r.store.Chain(r.cfg.ChainID).Unsettled("ETH"); u.Sign() != 0 {
		t.Errorf("unsettled %s after drain: double-counted or lost", u)
	}
}

// Another transaction with the same sender and nonce, mined first from
// elsewhere, makes the accepted payment fail as a conflict.
func TestConflictingTransactionFailsThePayment(t *testing.T) {
	node := startNode(t, 1)
	r := newRig(t, node, broadcast.Options{})
	events, unsubscribe := r.bc.Subscribe()
	defer unsubscribe()
	r.link.cut()
	payer := node.Payers()[0]
	accepted := r.pay("0.01", "ETH", payer.Key, 0)

	// The payer spends nonce 0 elsewhere first.
	other, err := types.SignNewTx(payer.Key, types.LatestSignerForChainID(node.ChainID()), &types.DynamicFeeTx{
		ChainID: node.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(50e9),
		Gas: 21000, To: &payer.Address, Value: big.NewInt(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.eth.SendTransaction(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	waitMined(t, r.eth, other.Hash())

	r.link.restore(t)
	r.waitSettled(time.Minute)
	p, _ := r.store.Payment(accepted.Hash())
	if p.State != store.PaymentFailed || !strings.Contains(p.Reason, "conflict") {
		t.Fatalf("payment %s: %q, want failed with a conflict reason", p.State, p.Reason)
	}
	q, err := r.bc.Queue()
	if err != nil {
		t.Fatal(err)
	}
	if q.Counts[store.PaymentFailed] != 1 || len(q.RecentFailures) != 1 ||
		q.RecentFailures[0].TxHash != accepted.Hash().Hex() || q.RecentFailures[0].Reason != p.Reason || !q.Chain.Online {
		t.Errorf("queue view after the failure: %+v", q)
	}
	select {
	case ev := <-events:
		if ev.Payment.TxHash != accepted.Hash() || ev.Payment.State != store.PaymentFailed {
			t.Errorf("event %+v", ev.Payment)
		}
	case <-time.After(5 * time.Second):
		t.Error("no event for the failed payment")
	}
}

// A token payment the payer cannot cover is mined, reverts, and fails
// with the token's reason; the terminal could not know offline.
func TestRevertingTokenPaymentFails(t *testing.T) {
	node := startNode(t, 1)
	r := newRig(t, node, broadcast.Options{})
	events, unsubscribe := r.bc.Subscribe()
	defer unsubscribe()
	r.link.cut()

	// A payer with gas money and no tokens.
	broke, _ := crypto.GenerateKey()
	brokeAddr := crypto.PubkeyToAddress(broke.PublicKey)
	funder := node.Payers()[0]
	fund, err := types.SignNewTx(funder.Key, types.LatestSignerForChainID(node.ChainID()), &types.DynamicFeeTx{
		ChainID: node.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(50e9),
		Gas: 21000, To: &brokeAddr, Value: big.NewInt(1e18),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.eth.SendTransaction(context.Background(), fund); err != nil {
		t.Fatal(err)
	}
	waitMined(t, r.eth, fund.Hash())
	if bal := tokenBalance(t, r.eth, brokeAddr); bal.Sign() != 0 {
		t.Fatalf("payer holds %s TUSD units", bal)
	}

	accepted := r.pay("5", "TUSD", broke, 0)
	r.link.restore(t)
	r.waitSettled(time.Minute)
	p, _ := r.store.Payment(accepted.Hash())
	if p.State != store.PaymentFailed || !strings.Contains(p.Reason, "reverted") || !strings.Contains(p.Reason, "insufficient balance") {
		t.Fatalf("token payment: %s %q, want failed with the revert reason", p.State, p.Reason)
	}
	rcpt := waitMined(t, r.eth, accepted.Hash())
	if rcpt.Status != types.ReceiptStatusFailed || p.Delivery.Block != rcpt.BlockNumber.Uint64() {
		t.Errorf("receipt status %d block %d; stored block %d", rcpt.Status, rcpt.BlockNumber, p.Delivery.Block)
	}
	select {
	case ev := <-events:
		if ev.Payment.TxHash != accepted.Hash() || ev.Payment.State != store.PaymentFailed {
			t.Errorf("event %+v", ev.Payment)
		}
	case <-time.After(5 * time.Second):
		t.Error("no event for the failed payment")
	}
}

func waitMined(t testing.TB, eth *ethclient.Client, h common.Hash) *types.Receipt {
	t.Helper()
	for range 200 {
		if rcpt, err := eth.TransactionReceipt(context.Background(), h); err == nil {
			// The receipt is indexed a moment before its block is the
			// head: state read next at "latest" must hold it.
			if n, err := eth.BlockNumber(context.Background()); err == nil && n >= rcpt.BlockNumber.Uint64() {
				return rcpt
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s not mined", h)
	return nil
}

func tokenBalance(t testing.TB, eth *ethclient.Client, who common.Address) *big.Int {
	t.Helper()
	data := append([]byte{0x70, 0xa0, 0x82, 0x31}, common.LeftPadBytes(who.Bytes(), 32)...)
	out, err := eth.CallContract(context.Background(), ethereum.CallMsg{To: &devchain.TokenAddr, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(out)
}

// A sent payment the node no longer knows (here the node is replaced by a
// fresh one, as after a node restart that lost its pool, or a reorg that
// dropped the block) is sent again and confirmed on the chain that is
// there now.
func TestForgottenPaymentIsSentAgain(t *testing.T) {
	first := startNode(t, 2)
	r := newRig(t, first, broadcast.Options{Confirmations: 2})
	payer := first.Payers()[0]
	tx := r.pay("0.02", "ETH", payer.Key, 0)
	rcpt := waitMined(t, r.eth, tx.Hash())
	waitState(t, r, tx.Hash(), func(p store.Payment) bool { return p.Delivery.Block == rcpt.BlockNumber.Uint64() })

	// The node behind the link is replaced by one that never saw it.
	second := startNode(t, 2)
	r.link.cut()
	r.link.p.Upstream = strings.TrimPrefix(second.Endpoint(), "http://")
	r.link.restore(t)
	eth2, err := ethclient.Dial(second.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer eth2.Close()
	rcpt2 := waitMined(t, eth2, tx.Hash())
	// One more block on top makes it two deep.
	bump, _ := types.SignNewTx(second.Payers()[1].Key, types.LatestSignerForChainID(second.ChainID()), &types.DynamicFeeTx{
		ChainID: second.ChainID(), GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(50e9), Gas: 21000,
		To: &second.Payers()[1].Address,
	})
	if err := eth2.SendTransaction(context.Background(), bump); err != nil {
		t.Fatal(err)
	}
	r.waitSettled(time.Minute)
	p, _ := r.store.Payment(tx.Hash())
	if !p.State.Settled() || p.Delivery.Block != rcpt2.BlockNumber.Uint64() {
		t.Fatalf("payment %s in block %d, want confirmed in block %d of the new chain", p.State, p.Delivery.Block, rcpt2.BlockNumber)
	}
}

func waitState(t testing.TB, r *rig, h common.Hash, ok func(store.Payment) bool) {
	t.Helper()
	for range 400 {
		if p, err := r.store.Payment(h); err == nil && ok(p) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	p, _ := r.store.Payment(h)
	t.Fatalf("payment never reached the awaited state: %+v", p)
}

// "insufficient funds" is retried for the funds window, then the payment
// fails with the node's words.
func TestInsufficientFundsFailsAfterItsWindow(t *testing.T) {
	node := startNode(t, 1)
	r := newRig(t, node, broadcast.Options{FundsWindow: 300 * time.Millisecond})
	broke, _ := crypto.GenerateKey() // no ETH at all
	tx := r.pay("0.01", "ETH", broke, 0)
	r.waitSettled(30 * time.Second)
	p, _ := r.store.Payment(tx.Hash())
	if p.State != store.PaymentFailed || !strings.Contains(p.Reason, "insufficient funds") || p.Delivery.Attempts < 2 {
		t.Fatalf("payment %s after %d attempts: %q", p.State, p.Delivery.Attempts, p.Reason)
	}
}

// A payment the network will not mine (its fee cap is below the base fee,
// so it sits in the pool) is not retried forever: past the maximum age it
// fails with the reason.
func TestNothingIsRetriedPastMaxAge(t *testing.T) {
	node := startNode(t, 1)
	r := newRig(t, node, broadcast.Options{MaxAge: time.Second})
	doc, err := r.till.NewRequest(context.Background(), "0.01", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := paytx.Build(doc.Request(), node.Payers()[0].Key, paytx.Options{Type: types.DynamicFeeTxType, FeeCap: big.NewInt(1), TipCap: big.NewInt(1)})
	raw, _ := tx.MarshalBinary()
	if _, err := r.till.Pay(context.Background(), doc.ID, raw); err != nil {
		t.Fatal(err)
	}
	r.waitSettled(30 * time.Second)
	p, _ := r.store.Payment(tx.Hash())
	if p.State != store.PaymentFailed || !strings.Contains(p.Reason, "not mined within 1s") {
		t.Fatalf("payment %s: %q", p.State, p.Reason)
	}
	if _, err := r.eth.TransactionReceipt(context.Background(), tx.Hash()); err == nil {
		t.Error("the payment was mined after all; the test did not test an unminable payment")
	}
}
