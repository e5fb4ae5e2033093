package harness

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"showpos/device/clock"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// TestLinkCut: payments arrive and drain into a real dev chain while the
// link to it (a toxiproxy in front of the node) is cut and restored at
// random for a while; then every payment must be mined exactly once and
// none failed.
func TestLinkCut(t *testing.T) {
	log := harness(t)
	cutFor := sizeDuration(t, "SHOWPOS_LINKCUT_FOR", 3*time.Minute, 30*time.Second)
	want := sizeInt(t, "SHOWPOS_LINKCUT_PAYMENTS", 3000, 1000)
	payers := min(want, 100)
	each := (want + payers - 1) / payers
	ctx := t.Context()

	node, err := devchain.Start(ctx, devchain.Options{Payers: payers})
	if err != nil {
		t.Fatalf("dev chain: %v", err)
	}
	t.Cleanup(func() { node.Close() })
	link, err := newLink(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(link.stop)
	eth, err := ethclient.Dial(node.Endpoint()) // the harness's own view, past the link
	if err != nil {
		t.Fatalf("dial dev chain: %v", err)
	}
	t.Cleanup(eth.Close)

	dir := t.TempDir()
	d := newDaemon(t, log, dir, terminalConfig(t, dir, fmt.Sprintf(`
rpc = [%q]
confirmations = 1
call_timeout = "2s"
probe_every = "200ms"
`, link.url()), `
[broadcast]
poll = "100ms"
batch_size = 50
`))
	began := time.Now()
	if _, err := d.start(ctx); err != nil {
		t.Fatal(err)
	}

	// Payers pay through the whole cutting phase but its last fifth, each
	// its nonces in order, at jittered intervals so that payments keep
	// arriving. The link starts cut: the first ones pile up, and the first
	// restore starts a drain with a backlog.
	link.cut()
	l := &chainLedger{}
	payCtx, stopPayers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	pause := cutFor * 4 / 5 / time.Duration(each)
	for i, acct := range node.Payers() {
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		wg.Go(func() { payChain(payCtx, d, acct.Key, each, pause, rng, l) })
	}
	t.Cleanup(func() { stopPayers(); wg.Wait() })

	rng := rand.New(rand.NewPCG(3, 4))
	cuts, cutsInFlight := 1, 0
	var down durations
	for off := 2 * time.Second; ; off = time.Duration(100+rng.IntN(1900)) * time.Millisecond {
		down = append(down, off)
		_ = clock.Sleep(ctx, off)
		if err := link.restore(); err != nil {
			t.Fatal(err)
		}
		if time.Since(began) > cutFor {
			break
		}
		// Cut at a random moment once payments are queued or in flight
		// again (up to 2 s more): on a fast machine a backlog drains
		// within the random wait, and a cut then tests nothing.
		_ = clock.Sleep(ctx, time.Duration(200+rng.IntN(1800))*time.Millisecond)
		for wait := time.Now().Add(2 * time.Second); ; _ = clock.Sleep(ctx, 20*time.Millisecond) {
			if st, err := d.status(ctx); err == nil && st.Queue["queued"]+st.Queue["broadcast"] > 0 {
				cutsInFlight++
				break
			}
			if time.Now().After(wait) {
				break
			}
		}
		link.cut()
		cuts++
	}
	wg.Wait()
	stopPayers()
	restored := time.Now()
	if l.accepted.Load() != int64(payers*each) {
		t.Fatalf("%d of %d payments accepted; refusals: %v", l.accepted.Load(), payers*each, l.errs.err())
	}

	// Drain: wait until nothing is queued or broadcast.
	var st status
	for {
		if st, err = d.status(ctx); err != nil {
			t.Fatal(err)
		}
		if st.Queue["queued"]+st.Queue["broadcast"] == 0 {
			break
		}
		if time.Since(restored) > 5*time.Minute {
			t.Fatalf("not drained 5 minutes after the last restore: %v", st.Queue)
		}
		_ = clock.Sleep(ctx, 100*time.Millisecond)
	}
	drain := time.Since(restored)

	// The terminal's view, then the chain's, by hash and by sender nonce.
	list, err := d.payments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	var settle durations
	var first, last time.Time
	for _, p := range list {
		states[p.State]++
		settle = append(settle, p.Updated.Sub(p.Accepted))
		if first.IsZero() || p.Accepted.Before(first) {
			first = p.Accepted
		}
		if p.Updated.After(last) {
			last = p.Updated
		}
	}
	oc, err := onChain(ctx, eth, node, l.hashes(), uint64(each))
	if err != nil {
		t.Fatal(err)
	}

	f := figures{name: "linkcut: the node's link cut and restored during a drain"}
	f.add("cuts", "%d in %s (%d while payments were queued or in flight); down %s", cuts, cutFor, cutsInFlight, down)
	f.add("payments", "%d accepted from %d payers (%d each, in nonce order)", l.accepted.Load(), payers, each)
	f.add("mined", "%d (receipt found by tx hash, status 1)", oc.mined)
	f.add("mined by sender nonce", "%d payers with on-chain nonce %d and %d txs in blocks; %d not", oc.noncesOK, each, each, oc.noncesBad)
	f.add("confirmed", "%d (the terminal's state: confirmed or final)", states["confirmed"]+states["final"])
	f.add("failed", "%d (must be 0)", states["failed"])
	f.add("duplicates", "%d (a payment twice in the store, or a payer's tx on chain more than once; must be 0)", oc.dups+len(list)-len(uniq(list)))
	f.add("other txs from payers", "%d (must be 0)", oc.strangers)
	f.add("accepted → confirmed", "%s", settle)
	f.add("drain", "%s from the first acceptance to the last confirmation; %s after the last restore",
		last.Sub(first).Round(time.Millisecond), drain.Round(time.Millisecond))
	f.add("total (cutting + drain)", "%s", time.Since(began).Round(time.Millisecond))
	f.add("blocks scanned", "%d", oc.blocks)
	f.print()

	n := payers * each
	if oc.mined != n || states["confirmed"]+states["final"] != n || states["failed"] != 0 || oc.dups != 0 || oc.strangers != 0 ||
		oc.noncesBad != 0 || len(list) != n || len(uniq(list)) != n {
		t.Errorf("want all %d mined once and confirmed: mined %d, states %v, duplicates %d, listed %d; first failures: %v",
			n, oc.mined, states, oc.dups, len(list), failures(list))
	}
	if cutsInFlight < 5 {
		t.Errorf("only %d cuts hit while payments were in flight: the drain was not tested under a flaky link", cutsInFlight)
	}
}

// link is a TCP proxy between the terminal and the node, cut and restored
// by the harness (toxiproxy's proxy, in process).
type link struct{ p *toxiproxy.Proxy }

func newLink(upstream string) (*link, error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "rpc", "127.0.0.1:0", strings.TrimPrefix(upstream, "http://"))
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start link: %w", err)
	}
	return &link{p: p}, nil
}

func (l *link) url() string { return "http://" + l.p.Listen }

// cut closes the listener and every connection through it.
func (l *link) cut() { l.p.Stop() }

func (l *link) restore() error {
	if err := l.p.Start(); err != nil {
		return fmt.Errorf("restore link: %w", err)
	}
	return nil
}

func (l *link) stop() { l.p.Stop() }

// chainLedger is what the payers of the link harness were told.
type chainLedger struct {
	accepted atomic.Int64
	mu       sync.Mutex
	txs      []common.Hash
	errs     errorsOf
}

func (l *chainLedger) hashes() []common.Hash {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]common.Hash(nil), l.txs...)
}

// payChain pays each requests from key, nonces 0..each-1, the first at
// once and then one every pause (jittered by half either way).
// Every payment must be accepted (202): the terminal takes payments
// whether the node is reachable or not.
func payChain(ctx context.Context, d *daemon, key *ecdsa.PrivateKey, each int, pause time.Duration, rng *rand.Rand, l *chainLedger) {
	for n := range each {
		req := createRequest(ctx, d, "0.001")
		if req == nil {
			return
		}
		tx, err := paytx.Build(req, key, paytx.Options{Type: types.DynamicFeeTxType, Nonce: uint64(n),
			FeeCap: big.NewInt(50e9), TipCap: big.NewInt(1e9)})
		if err != nil {
			panic(err)
		}
		raw, _ := tx.MarshalBinary()
		r, err := d.pay(ctx, req.ID, raw)
		l.mu.Lock()
		switch {
		case err != nil:
			l.errs.add(err)
		case r.status != http.StatusAccepted:
			l.errs.add(fmt.Errorf("nonce %d: %d %s", n, r.status, r.body))
		default:
			l.txs = append(l.txs, tx.Hash())
			l.accepted.Add(1)
		}
		l.mu.Unlock()
		if err != nil || r.status != http.StatusAccepted {
			return // later nonces could never be mined
		}
		_ = clock.Sleep(ctx, pause/2+time.Duration(rng.Int64N(int64(pause))))
	}
}

// chainView is what the chain says about the payments.
type chainView struct {
	mined, dups, strangers, noncesOK, noncesBad, blocks int
}

// onChain looks every payment up by hash (receipt, status 1), compares
// each payer's nonce with its payments, and scans every block for the
// payers' transactions: each payment must be there once, and nothing else
// from them.
func onChain(ctx context.Context, eth *ethclient.Client, node *devchain.Chain, txs []common.Hash, each uint64) (chainView, error) {
	var v chainView
	ours := map[common.Hash]int{}
	for _, h := range txs {
		ours[h] = 0
		rcpt, err := eth.TransactionReceipt(ctx, h)
		if err == nil && rcpt.Status == types.ReceiptStatusSuccessful {
			v.mined++
		}
	}
	payers := map[common.Address]uint64{}
	signer := types.LatestSignerForChainID(node.ChainID())
	head, err := eth.BlockNumber(ctx)
	if err != nil {
		return v, fmt.Errorf("block number: %w", err)
	}
	for _, a := range node.Payers() {
		payers[a.Address] = 0
	}
	for b := uint64(0); b <= head; b++ {
		blk, err := eth.BlockByNumber(ctx, new(big.Int).SetUint64(b))
		if err != nil {
			return v, fmt.Errorf("block %d: %w", b, err)
		}
		v.blocks++
		for _, tx := range blk.Transactions() {
			from, err := types.Sender(signer, tx)
			if err != nil {
				continue
			}
			if _, payer := payers[from]; !payer {
				continue
			}
			payers[from]++
			seen, mine := ours[tx.Hash()]
			switch {
			case !mine:
				v.strangers++
			case seen > 0:
				v.dups++
			}
			ours[tx.Hash()] = seen + 1
		}
	}
	for _, a := range node.Payers() {
		nonce, err := eth.NonceAt(ctx, a.Address, nil)
		if err != nil {
			return v, fmt.Errorf("nonce of %s: %w", a.Address, err)
		}
		if nonce == each && payers[a.Address] == each {
			v.noncesOK++
		} else {
			v.noncesBad++
		}
	}
	return v, nil
}

func uniq(ps []payment) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		m[p.TxHash] = true
	}
	return m
}

func failures(ps []payment) []string {
	var out []string
	for _, p := range ps {
		if p.State != "confirmed" && p.State != "final" && len(out) < 5 {
			out = append(out, p.TxHash+" "+p.State+" "+p.Reason)
		}
	}
	return out
}
