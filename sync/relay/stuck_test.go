package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/tools/devchain"
)

// dropProxy stands in front of geth and swallows the first drop
// eth_sendRawTransaction calls: it answers them with the transaction's
// hash, as a node would that took it and then lost it, and forwards
// nothing. Everything else goes to geth unchanged, unless offline is set
// (every request is answered 503, as by a gateway whose node is gone) or
// refuseSends (so is every request that sends a transaction).
type dropProxy struct {
	target      string
	offline     atomic.Bool
	refuseSends atomic.Bool
	mu          sync.Mutex
	drop        int
	dropped     []common.Hash
	noFunds     int // the next sends answered as geth answers a sender it sees unfunded
}

func (p *dropProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if p.offline.Load() || p.refuseSends.Load() && bytes.Contains(body, []byte("eth_sendRawTransaction")) {
		http.Error(w, "no node", http.StatusServiceUnavailable)
		return
	}
	var req struct {
		ID     json.RawMessage   `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if json.Unmarshal(body, &req) == nil && req.Method == "eth_sendRawTransaction" && len(req.Params) == 1 {
		p.mu.Lock()
		drop := p.drop > 0
		if drop {
			p.drop--
		}
		poor := !drop && p.noFunds > 0
		if poor {
			p.noFunds--
		}
		p.mu.Unlock()
		if poor {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID,
				"error": map[string]any{"code": -32000, "message": "insufficient funds for gas * price + value: balance 0, tx cost 100000"}})
			return
		}
		var raw hexutil.Bytes
		var tx types.Transaction
		if drop && json.Unmarshal(req.Params[0], &raw) == nil && tx.UnmarshalBinary(raw) == nil {
			p.mu.Lock()
			p.dropped = append(p.dropped, tx.Hash())
			p.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": tx.Hash()})
			return
		}
	}
	resp, err := http.Post(p.target, "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// newDropEnv is a dev chain reached through a dropProxy.
func newDropEnv(t *testing.T, drop int) (*env, *dropProxy) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	p := &dropProxy{target: dc.Endpoint(), drop: drop}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return newEnvOn(t, ctx, dc, srv.URL), p
}

// A settlement whose first send the endpoint lost stays unmined; after
// StuckAfter it is replaced with the same nonce and both fees at least
// 10% higher, and the replacement is mined. Both hashes are in the
// journal; the authorization is settled once.
func TestStuckSettlementIsReplaced(t *testing.T) {
	e, p := newDropEnv(t, 1)
	a := e.auth(0, 7_000)
	j := newMemJournal(a)
	r := e.relayer(j, nil)
	e.round(r) // sent, swallowed
	e.round(r) // not stuck yet: nothing sent
	if len(p.dropped) != 1 || e.minedNonce() != 0 {
		t.Fatalf("dropped %d, mined nonce %d; want the first send dropped and nothing mined", len(p.dropped), e.minedNonce())
	}
	if c := j.carrying(a.ID); len(c) != 1 || len(c[0].Hashes) != 1 {
		t.Fatalf("before the stuck delay: %+v, want one hash", c)
	}
	first := j.carrying(a.ID)[0].Fees

	e.clock.Advance(time.Minute) // StuckAfter
	e.round(r)                   // replaced
	e.round(r)                   // receipt
	wantStates(t, j, a.ID, "confirmed")
	c := j.carrying(a.ID)
	if len(c) != 1 || len(c[0].Hashes) != 2 || c[0].Hashes[0] != p.dropped[0] {
		t.Fatalf("carried by %+v, want one nonce with the dropped hash then its replacement", c)
	}
	got := c[0].Fees
	if got.TipCap.Cmp(bumped(first.TipCap)) < 0 || got.FeeCap.Cmp(bumped(first.FeeCap)) < 0 {
		t.Fatalf("replacement fees %v/%v, first %v/%v: want both ≥ +10%%", got.TipCap, got.FeeCap, first.TipCap, first.FeeCap)
	}
	rc, err := e.c.Receipts(e.ctx, c[0].Hashes)
	if err != nil || rc[0] != nil || rc[1] == nil || rc[1].Status != 1 {
		t.Fatalf("receipts %v, %v: want the replacement mined, the first not", rc, err)
	}
	if e.minedNonce() != 1 {
		t.Fatalf("mined nonce %d, want 1", e.minedNonce())
	}
}

// At the fee cap a stuck settlement cannot be replaced (a node would
// refuse less than +10%): it is sent again unchanged, never above
// MaxFeePerGas, and mined.
func TestFeeCapRespected(t *testing.T) {
	e, p := newDropEnv(t, 1)
	h, err := e.c.FeeHistory(e.ctx, 1, "latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	capFee := new(big.Int).Add(h.NextBaseFee(), big.NewInt(1000))
	a := e.auth(0, 7_000)
	j := newMemJournal(a)
	r := e.relayer(j, func(o *Options) { o.MaxFeePerGas = capFee })
	e.round(r)
	e.clock.Advance(time.Minute)
	e.round(r) // stuck at the cap: the same bytes again
	e.round(r)
	wantStates(t, j, a.ID, "confirmed")
	c := j.carrying(a.ID)
	if len(p.dropped) != 1 || len(c) != 1 || len(c[0].Hashes) != 1 || c[0].Hashes[0] != p.dropped[0] {
		t.Fatalf("carried by %+v, want the one dropped hash, sent again", c)
	}
	for _, rec := range j.records {
		if rec.Fees.FeeCap.Cmp(capFee) > 0 {
			t.Fatalf("fee cap %v above MaxFeePerGas %v", rec.Fees.FeeCap, capFee)
		}
	}
}

// An empty relayer account: nothing is sent, the authorization waits (no
// outcome), Status says low and why; once funded it settles.
func TestEmptyRelayerWaitsThenSettles(t *testing.T) {
	e := newEnv(t)
	e.key, _ = crypto.GenerateKey()
	a := e.auth(0, 3_000)
	j := newMemJournal(a)
	r := e.relayer(j, nil)
	if err := r.Round(e.ctx); !errors.Is(err, ErrLowBalance) {
		t.Fatalf("round: %v, want ErrLowBalance", err)
	}
	st := r.Status()
	if !st.Low || st.Covers != 0 || st.Balance.Sign() != 0 || st.LastError == "" || len(j.outcomes) != 0 || len(j.records) != 0 {
		t.Fatalf("empty relayer: status %+v, outcomes %v, records %d", st, j.outcomes, len(j.records))
	}

	funder := devchain.PayerKey(2)
	to := r.Address()
	tx, _ := types.SignNewTx(funder, types.LatestSignerForChainID(e.dc.ChainID()), &types.DynamicFeeTx{
		ChainID: e.dc.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9), Gas: 21_000,
		To: &to, Value: new(big.Int).Mul(big.NewInt(1e18), big.NewInt(1))})
	raw, _ := tx.MarshalBinary()
	if err := e.c.Send(e.ctx, raw); err != nil {
		t.Fatal(err)
	}
	for {
		if b, _ := e.c.Account(e.ctx, to, common.Address{}, common.Hash{}); b.Balance != nil && b.Balance.Sign() > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// geth's pool takes in a new head after the RPC shows it: until then
	// it still refuses the send for the balance it had. The relayer says
	// so and tries again, as it would the next round; rounds go on until
	// the settlement is sent and its receipt read.
	// Bounded by time, not by a count of rounds: on a loaded machine the
	// pool may take a while to see the head.
	for deadline := time.Now().Add(30 * time.Second); len(j.states(a.ID)) == 0; {
		err := r.Round(e.ctx)
		if err != nil && !errors.Is(err, ErrLowBalance) {
			t.Fatalf("round after funding: %v", err)
		}
		e.settle()
		if time.Now().After(deadline) {
			t.Fatalf("the funded relayer never settled (last round: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantStates(t, j, a.ID, "confirmed")
	if st := r.Status(); st.Low || st.Covers == 0 || st.LastError != "" {
		t.Fatalf("funded relayer: status %+v", st)
	}
}

// Run settles on Kick and stops with its context.
func TestRunSettlesOnKick(t *testing.T) {
	e := newEnv(t)
	j := newMemJournal()
	r := e.relayer(j, func(o *Options) { o.Every = time.Hour })
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	a := e.auth(0, 9_000)
	j.add(a)
	for len(j.states(a.ID)) == 0 {
		if e.ctx.Err() != nil {
			t.Fatal("never settled")
		}
		r.Kick()
		time.Sleep(10 * time.Millisecond)
	}
	wantStates(t, j, a.ID, "confirmed")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

// A crash after a settlement was recorded but before it reached a node
// (here: the endpoint lost it) loses nothing: the next relayer on the same
// journal sends the recorded bytes again in its first round, without
// waiting for the stuck delay and without a second transaction.
func TestRestartAfterRecordBeforeSend(t *testing.T) {
	e, p := newDropEnv(t, 1)
	a := e.auth(0, 4_000)
	j := newMemJournal(a)
	e.round(e.relayer(j, nil)) // recorded; the send lost

	second := e.relayer(j, nil)
	e.round(second) // sends the recorded bytes again
	e.round(second)
	wantStates(t, j, a.ID, "confirmed")
	if c := j.carrying(a.ID); len(c) != 1 || len(c[0].Hashes) != 1 || c[0].Hashes[0] != p.dropped[0] {
		t.Fatalf("carried by %+v, want the recorded transaction, once", c)
	}
}

// A send the node refuses for funds (a pool that has not yet seen the
// relayer's funding block answers so for a moment) is sent again the
// next round, not only once StuckAfter has passed: the clock does not
// move here, and the settlement is mined.
func TestRefusedForFundsIsSentAgainNextRound(t *testing.T) {
	e, p := newDropEnv(t, 0)
	p.noFunds = 1
	a := e.auth(0, 5_000)
	j := newMemJournal(a)
	r := e.relayer(j, nil)
	if err := r.Round(e.ctx); !errors.Is(err, ErrLowBalance) {
		t.Fatalf("first round: %v, want ErrLowBalance (the send refused for funds)", err)
	}
	e.settle()
	e.round(r) // sent again: mined
	e.round(r) // receipt
	wantStates(t, j, a.ID, "confirmed")
}
