package preflight_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/sync/preflight"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/store"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// outcomes records the till's pre-flight outcomes.
type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) add(_, s string) { o.mu.Lock(); o.got = append(o.got, s); o.mu.Unlock() }
func (o *outcomes) last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.got) == 0 {
		return ""
	}
	return o.got[len(o.got)-1]
}

// lines is a log: what the till writes to its logger.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.Write(p) }
func (l *lines) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// rig is a till on a real store whose pre-flight asks c.
type rig struct {
	till *checkout.Service
	st   *store.Store
	out  *outcomes
	log  *lines // the till's log, Info and above
}

func newRig(t *testing.T, c *chain.Client, over string, onAccept func(checkout.Receipt)) *rig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _ := crypto.GenerateKey()
	r := &rig{st: st, out: &outcomes{}, log: &lines{}}
	r.till = checkout.New(checkout.Options{Config: configtest.New(t, over), Key: key, Store: st, Logger: slog.New(slog.NewTextHandler(r.log, nil)),
		Preflights: func(uint64) checkout.Preflight { return preflight.New(c) }, OnPreflight: r.out.add, OnAccept: onAccept})
	return r
}

// pay makes a request for amount of symbol and hands over key's payment of
// it built with o.
func (r *rig) pay(t *testing.T, ctx context.Context, amount, symbol string, payer *devchain.Account, o paytx.Options) (*types.Transaction, checkout.Receipt, error) {
	t.Helper()
	doc, err := r.till.NewRequest(ctx, amount, symbol, "")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := paytx.Build(doc.Request(), payer.Key, o)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	rec, err := r.till.Pay(ctx, doc.ID, raw)
	return tx, rec, err
}

func code(err error) check.Code {
	var r *check.Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

func online(t *testing.T, ctx context.Context, endpoint string) *chain.Client {
	t.Helper()
	c, err := chain.New(chain.Options{Endpoints: []string{endpoint}, ChainID: configtest.ChainID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if st := c.Probe(ctx); !st.Online {
		t.Fatalf("probe: %+v", st)
	}
	return c
}

// send puts a transaction from key straight on the dev chain and waits
// until it is mined.
func send(t *testing.T, ctx context.Context, c *chain.Client, dc *devchain.Chain, key *devchain.Account, nonce uint64, to common.Address, value *big.Int) {
	t.Helper()
	tx, err := types.SignNewTx(key.Key, types.LatestSignerForChainID(dc.ChainID()), &types.DynamicFeeTx{
		ChainID: dc.ChainID(), Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9),
		Gas: 21000, To: &to, Value: value,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	if err := c.Send(ctx, raw); err != nil {
		t.Fatal(err)
	}
	for {
		rs, err := c.Receipts(ctx, []common.Hash{tx.Hash()})
		if err != nil {
			t.Fatal(err)
		}
		if rs[0] != nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Against a real geth dev chain, the pre-flight refuses what the chain
// would never mine as it is, and lets the rest through; each answer
// changes nothing in the store when refused.
func TestPreflightAgainstDevChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c := online(t, ctx, dc.Endpoint())
	payers := dc.Payers()

	// A payer whose nonce 0 is already mined (a transfer it made elsewhere).
	spent := &payers[1]
	send(t, ctx, c, dc, spent, 0, common.HexToAddress("0x000000000000000000000000000000000000beef"), big.NewInt(1))
	// A fresh key: no money at all; and one with ether but no tokens.
	freshKey, _ := crypto.GenerateKey()
	fresh := &devchain.Account{Address: crypto.PubkeyToAddress(freshKey.PublicKey), Key: freshKey}
	noTokKey, _ := crypto.GenerateKey()
	noTokens := &devchain.Account{Address: crypto.PubkeyToAddress(noTokKey.PublicKey), Key: noTokKey}
	send(t, ctx, c, dc, &payers[2], 0, noTokens.Address, big.NewInt(1e18))

	cases := []struct {
		name    string
		payer   *devchain.Account
		symbol  string
		opts    paytx.Options
		want    check.Code // "" accepted
		outcome string
	}{
		{"a good native payment is accepted", &payers[0], "ETH", paytx.Options{Type: types.DynamicFeeTxType}, "", checkout.PreflightOK},
		{"a nonce above the pending nonce is a gap", &payers[3], "ETH", paytx.Options{Type: types.DynamicFeeTxType, Nonce: 5}, check.CodeNonceGap, checkout.PreflightRefused},
		{"a nonce the chain has mined is used", spent, "ETH", paytx.Options{Type: types.DynamicFeeTxType, Nonce: 0}, check.CodeNonceUsed, checkout.PreflightRefused},
		{"a payer without money", fresh, "ETH", paytx.Options{Type: types.DynamicFeeTxType}, check.CodeInsufficientFunds, checkout.PreflightRefused},
		{"a token payer without tokens", noTokens, "TUSD", paytx.Options{Type: types.DynamicFeeTxType}, check.CodeInsufficientFunds, checkout.PreflightRefused},
		{"a token payer with tokens is accepted", &payers[3], "TUSD", paytx.Options{Type: types.DynamicFeeTxType}, "", checkout.PreflightOK},
		{"a legacy payment's gas price counts as its max fee", fresh, "ETH", paytx.Options{Type: types.LegacyTxType}, check.CodeInsufficientFunds, checkout.PreflightRefused},
	}
	r := newRig(t, c, "", nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := r.st.Counts()
			tx, rec, err := r.pay(t, ctx, "0.01", tc.symbol, tc.payer, tc.opts)
			if code(err) != tc.want || (tc.want == "" && err != nil) {
				t.Fatalf("Pay: %+v, %v; want %q", rec, err, tc.want)
			}
			if got := r.out.last(); got != tc.outcome {
				t.Errorf("outcome %q, want %q", got, tc.outcome)
			}
			if tc.want != "" {
				if _, err := r.st.Payment(tx.Hash()); !errors.Is(err, store.ErrUnknownPayment) {
					t.Errorf("refused, yet stored: %v", err)
				}
				if after, _ := r.st.Counts(); !maps(before, after) {
					t.Errorf("refused, yet counts moved: %v → %v", before, after)
				}
			}
		})
	}
}

func maps(a, b map[store.PaymentState]int) bool {
	for _, s := range store.PaymentStates {
		if a[s] != b[s] {
			return false
		}
	}
	return true
}

// The nonces the till holds (accepted, not sent yet) come before the next
// one: no gap. And the same payment handed over again after it reached
// the chain gets its earlier answer, not nonce_used.
func TestPreflightHeldNoncesAndRepeats(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c := online(t, ctx, dc.Endpoint())
	payer := &dc.Payers()[0]
	r := newRig(t, c, "", nil)

	first, _, err := r.pay(t, ctx, "0.01", "ETH", payer, paytx.Options{Nonce: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.pay(t, ctx, "0.01", "ETH", payer, paytx.Options{Nonce: 1}); err != nil {
		t.Fatalf("nonce 1 with nonce 0 held by the till: %v", err)
	}
	if _, _, err := r.pay(t, ctx, "0.01", "ETH", payer, paytx.Options{Nonce: 3}); code(err) != check.CodeNonceGap {
		t.Fatalf("nonce 3 with 0 and 1 held: %v, want nonce_gap", err)
	}

	// The first payment reaches the chain; handed over again, it is the
	// same payment.
	raw, _ := first.MarshalBinary()
	if err := c.Send(ctx, raw); err != nil {
		t.Fatal(err)
	}
	p, err := r.st.Payment(first.Hash())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.till.Pay(ctx, p.RequestID, raw)
	if err != nil || !rec.Repeat {
		t.Fatalf("repeat after sending: %+v, %v", rec, err)
	}
}

// A payment the pre-flight let through is on the node at once: the
// broadcaster, kicked on accept, sends it without waiting for its poll.
func TestPreflightedPaymentSentAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c := online(t, ctx, dc.Endpoint())
	var bc *broadcast.Broadcaster
	r := newRig(t, c, "", func(checkout.Receipt) { bc.Kick() })
	// A poll of an hour: only the kick can send it within the test.
	bc = broadcast.New(broadcast.Options{Store: r.st.Chain(configtest.ChainID), Chain: c, Poll: time.Hour})
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { bc.Run(runCtx) })
	defer func() { stop(); wg.Wait() }()
	if _, err := bc.Sync(ctx); err != nil { // the first pass is over: kick rounds may run
		t.Fatal(err)
	}

	tx, _, err := r.pay(t, ctx, "0.01", "ETH", &dc.Payers()[0], paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.out.last(); got != checkout.PreflightOK {
		t.Fatalf("outcome %q, want ok", got)
	}
	for {
		infos, err := c.Transactions(ctx, []common.Hash{tx.Hash()})
		if err != nil {
			t.Fatal(err)
		}
		if infos[0].Known {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the accepted payment never reached the node: %v", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
