package relay

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"showpos/device/clock/clocktest"
	"showpos/sync/chain"
	"showpos/tools/devchain"
)

var merchant = common.HexToAddress("0x00000000000000000000000000000000000a11ce")

// env is a dev chain, a client on it, and the relayer's key (a funded
// payer of the dev chain, the last one, so it pays no one).
type env struct {
	t     *testing.T
	ctx   context.Context
	dc    *devchain.Chain
	c     *chain.Client
	key   *ecdsa.PrivateKey
	clock *clocktest.Fake
	n     int // authorizations made
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	return newEnvOn(t, ctx, dc, dc.Endpoint())
}

func newEnvOn(t *testing.T, ctx context.Context, dc *devchain.Chain, endpoint string) *env {
	c, err := chain.New(chain.Options{Endpoints: []string{endpoint}, ChainID: dc.ChainID().Uint64()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &env{t: t, ctx: ctx, dc: dc, c: c, key: devchain.PayerKey(3), clock: clocktest.NewFake(time.Now())}
}

// relayer makes a Relayer on j with test options.
func (e *env) relayer(j *memJournal, mod func(*Options)) *Relayer {
	e.t.Helper()
	o := Options{Key: e.key, Chain: e.c, Queue: j, Journal: j, MaxFeePerGas: big.NewInt(100e9),
		MinTip: big.NewInt(1), FinalDepth: 3, StuckAfter: time.Minute, Clock: e.clock}
	if mod != nil {
		mod(&o)
	}
	r, err := New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// auth makes an authorization from payer i to the merchant, valid for an
// hour, signed with devchain.SignAuthorization.
func (e *env) auth(payer int, value int64) Authorization {
	e.t.Helper()
	e.n++
	key := devchain.PayerKey(payer)
	var nonce [32]byte
	nonce[0], nonce[31] = byte(e.n), byte(payer)
	now := e.clock.Now().Unix()
	a := devchain.Authorization{From: crypto.PubkeyToAddress(key.PublicKey), To: merchant, Value: big.NewInt(value),
		ValidAfter: big.NewInt(now - 600), ValidBefore: big.NewInt(now + 3600), Nonce: nonce}
	sig, err := devchain.SignAuthorization(key, e.dc.ChainID(), a)
	if err != nil {
		e.t.Fatal(err)
	}
	return Authorization{ID: "auth-" + string(rune('a'+e.n)), Token: devchain.TokenAddr, From: a.From, To: a.To,
		Value: a.Value, ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: nonce, Signature: sig}
}

// round does one round, then lets the dev chain mine what it sent.
func (e *env) round(r *Relayer) {
	e.t.Helper()
	if err := r.Round(e.ctx); err != nil {
		e.t.Fatalf("round: %v", err)
	}
	e.settle()
}

// tokenBalance reads the test token's balanceOf(addr).
func (e *env) tokenBalance(addr common.Address) *big.Int {
	e.t.Helper()
	a, err := e.c.Account(e.ctx, addr, devchain.TokenAddr, common.Hash{})
	if err != nil {
		e.t.Fatal(err)
	}
	return a.TokenBalance
}

// minedNonce is the relayer account's mined transaction count.
func (e *env) minedNonce() uint64 {
	e.t.Helper()
	n, err := e.c.NonceAt(e.ctx, crypto.PubkeyToAddress(e.key.PublicKey), "latest")
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// settle waits until the dev chain has mined everything of the relayer's
// that it can mine (it seals a block a few milliseconds after a
// transaction arrives). geth takes a sent transaction into its queue at
// once and promotes it to pending a moment later, so the pending nonce
// alone can still read as mined: settle also waits until the pool holds
// nothing of the account at or below the next nonce. A transaction
// queued behind a gap (its predecessor lost) is never mined and does not
// hold settle up.
func (e *env) settle() {
	e.t.Helper()
	addr := crypto.PubkeyToAddress(e.key.PublicKey)
	rc, err := rpc.DialContext(e.ctx, e.dc.Endpoint())
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	for {
		p, err1 := e.c.NonceAt(e.ctx, addr, "pending")
		l, err2 := e.c.NonceAt(e.ctx, addr, "latest")
		var pool struct {
			Pending map[string]json.RawMessage `json:"pending"`
			Queued  map[string]json.RawMessage `json:"queued"`
		}
		err3 := rc.CallContext(e.ctx, &pool, "txpool_contentFrom", addr)
		if err1 != nil || err2 != nil || err3 != nil {
			e.t.Fatal(err1, err2, err3)
		}
		waiting := len(pool.Pending) > 0
		for n := range pool.Queued {
			if v, err := strconv.ParseUint(n, 10, 64); err == nil && v <= l {
				waiting = true
			}
		}
		if p == l && !waiting {
			return
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatal("the dev chain never mined its pool")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func wantStates(t *testing.T, j *memJournal, id string, want ...string) {
	t.Helper()
	if got := j.states(id); !slices.Equal(got, want) {
		t.Fatalf("%s: outcomes %q, want %q", id, got, want)
	}
}

// Authorizations signed by payers settle: the tokens move, each
// transaction carries the token's AuthorizationUsed, and the journal says
// confirmed, then final once the block is deep enough. Two go in one
// round, batched into the pool with consecutive nonces.
func TestSettlesOnDevChain(t *testing.T) {
	e := newEnv(t)
	a, b := e.auth(0, 1_500_000), e.auth(1, 250_000)
	j := newMemJournal(a, b)
	r := e.relayer(j, nil)
	before := e.tokenBalance(merchant)

	e.round(r) // sends both
	if n := e.minedNonce(); n != 2 {
		t.Fatalf("relayer's mined nonce %d after one round, want 2", n)
	}
	e.round(r) // receipts
	wantStates(t, j, a.ID, "confirmed")
	wantStates(t, j, b.ID, "confirmed")
	if got := new(big.Int).Sub(e.tokenBalance(merchant), before); got.Int64() != 1_750_000 {
		t.Fatalf("merchant got %s units, want 1750000", got)
	}
	if err := e.dc.Mine(3); err != nil {
		t.Fatal(err)
	}
	e.round(r)
	wantStates(t, j, a.ID, "confirmed", "final")
	wantStates(t, j, b.ID, "confirmed", "final")
	if txs, _ := j.Txs(); len(txs) != 0 {
		t.Fatalf("live transactions after final: %+v", txs)
	}
	for _, id := range []string{a.ID, b.ID} {
		if c := j.carrying(id); len(c) != 1 || len(c[0].Hashes) != 1 || c[0].State != TxFinal {
			t.Fatalf("%s carried by %+v, want one final transaction with one hash", id, c)
		}
	}
	rc, err := e.c.Receipts(e.ctx, j.carrying(a.ID)[0].Hashes)
	if err != nil || rc[0] == nil || !usedIn(rc[0], devchain.TokenAddr, a.From, a.Nonce) {
		t.Fatalf("receipt %+v, %v: want the token's AuthorizationUsed(from, nonce)", rc, err)
	}
	st := r.Status()
	if st.Address != crypto.PubkeyToAddress(e.key.PublicKey) || st.Balance == nil || st.Covers == 0 || st.Low || st.LastError != "" || st.Nonce != 2 {
		t.Fatalf("status %+v", st)
	}
}

// An authorization the payer used elsewhere first (submitted it itself)
// fails authorization_used and the relayer sends nothing for it.
func TestUsedElsewhereFailsWithoutSending(t *testing.T) {
	e := newEnv(t)
	a := e.auth(0, 1_000)
	data, err := transferCalldata(a)
	if err != nil {
		t.Fatal(err)
	}
	payer := devchain.PayerKey(0)
	tx, _ := types.SignNewTx(payer, types.LatestSignerForChainID(e.dc.ChainID()), &types.DynamicFeeTx{
		ChainID: e.dc.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9), Gas: 200_000,
		To: &devchain.TokenAddr, Data: data})
	raw, _ := tx.MarshalBinary()
	if err := e.c.Send(e.ctx, raw); err != nil {
		t.Fatal(err)
	}
	j := newMemJournal(a)
	r := e.relayer(j, nil)
	e.round(r)
	e.round(r)
	wantStates(t, j, a.ID, "failed authorization_used")
	if len(j.records) != 0 || e.minedNonce() != 0 {
		t.Fatalf("relayer sent %d transactions (mined nonce %d), want none", len(j.records), e.minedNonce())
	}
}

// An authorization whose validBefore passed (or is within the margin)
// before settlement fails authorization_expired without a transaction; a
// payer without the tokens fails insufficient_balance the same way.
func TestRefusedBeforeSending(t *testing.T) {
	e := newEnv(t)
	expired := e.auth(0, 1_000)
	poor := e.auth(1, 0)
	poor.Value = new(big.Int).Mul(big.NewInt(2_000_000), big.NewInt(1_000_000)) // more than the payer has
	poor.ValidBefore = new(big.Int).Add(poor.ValidBefore, big.NewInt(3600))
	key := devchain.PayerKey(1)
	sig, err := devchain.SignAuthorization(key, e.dc.ChainID(), devchain.Authorization{From: poor.From, To: poor.To,
		Value: poor.Value, ValidAfter: poor.ValidAfter, ValidBefore: poor.ValidBefore, Nonce: poor.Nonce})
	if err != nil {
		t.Fatal(err)
	}
	poor.Signature = sig
	j := newMemJournal(expired, poor)
	r := e.relayer(j, nil)
	e.clock.Advance(3600*time.Second - DefaultExpiryMargin + time.Second) // expired's validBefore is within the margin
	e.round(r)
	wantStates(t, j, expired.ID, "failed authorization_expired")
	wantStates(t, j, poor.ID, "failed insufficient_balance")
	if len(j.records) != 0 || e.minedNonce() != 0 {
		t.Fatalf("relayer sent %d transactions, want none", len(j.records))
	}
}

// A restart between send and receipt (a new Relayer on the same journal)
// sends nothing twice and finds the outcome.
func TestRestartBetweenSendAndReceipt(t *testing.T) {
	e := newEnv(t)
	a := e.auth(0, 5_000)
	j := newMemJournal(a)
	first := e.relayer(j, nil)
	e.round(first) // recorded and sent; its receipt not read yet

	second := e.relayer(j, nil)
	e.round(second)
	e.round(second)
	if err := e.dc.Mine(3); err != nil {
		t.Fatal(err)
	}
	e.round(second)
	wantStates(t, j, a.ID, "confirmed", "final")
	if c := j.carrying(a.ID); len(c) != 1 || len(c[0].Hashes) != 1 {
		t.Fatalf("carried by %+v, want one transaction with one hash", c)
	}
	if n := e.minedNonce(); n != 1 {
		t.Fatalf("relayer account sent %d transactions, want 1", n)
	}
}

// After a transaction sent from the relayer account by someone else
// (another copy of the key), the relayer's nonce is stale: the node says
// "nonce too low", the relayer reads the nonce from the chain again, and
// the authorization settles under the next free nonce, once.
func TestNonceResyncAfterOutOfBandTransaction(t *testing.T) {
	e := newEnv(t)
	a, b := e.auth(0, 1_000), e.auth(1, 2_000)
	j := newMemJournal(a)
	r := e.relayer(j, nil)
	e.round(r)
	e.round(r)
	wantStates(t, j, a.ID, "confirmed")

	to := common.HexToAddress("0xbeef")
	for nonce := uint64(1); nonce <= 2; nonce++ { // two: a relayer that only counted up would need two tries
		tx, _ := types.SignNewTx(e.key, types.LatestSignerForChainID(e.dc.ChainID()), &types.DynamicFeeTx{
			ChainID: e.dc.ChainID(), Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9), Gas: 21_000, To: &to})
		raw, _ := tx.MarshalBinary()
		if err := e.c.Send(e.ctx, raw); err != nil {
			t.Fatal(err)
		}
		e.settle()
	}

	j.add(b)
	if err := r.Round(e.ctx); err == nil || !strings.Contains(err.Error(), "nonce too low") {
		t.Fatalf("round with a stale nonce: %v, want nonce too low", err)
	}
	e.round(r) // drops the stale one, reads the nonce again, signs at 3
	e.round(r)
	wantStates(t, j, b.ID, "confirmed")
	c := j.carrying(b.ID)
	if len(c) != 2 || c[0].Nonce != 1 || c[0].State != TxDropped || c[1].Nonce != 3 || c[1].State != TxMined {
		t.Fatalf("carried by %+v, want nonce 1 dropped then nonce 3 mined", c)
	}
	if n := e.minedNonce(); n != 4 {
		t.Fatalf("mined nonce %d, want 4", n)
	}
}

// Two authorizations from one payer that together exceed its balance both
// pass the check alone and are sent in one round; the second reverts on
// chain. Once its block is final it fails insufficient_balance, the first
// is final, and nothing is sent again.
func TestRevertOnChainFailsWithReason(t *testing.T) {
	e := newEnv(t)
	_, units := e.dc.PayerBalances()
	part := new(big.Int).Add(new(big.Int).Rsh(units, 1), big.NewInt(1)) // just over half
	a, b := e.auth(0, 0), e.auth(0, 0)
	for _, x := range []*Authorization{&a, &b} {
		x.Value = part
		sig, err := devchain.SignAuthorization(devchain.PayerKey(0), e.dc.ChainID(), devchain.Authorization{From: x.From, To: x.To,
			Value: x.Value, ValidAfter: x.ValidAfter, ValidBefore: x.ValidBefore, Nonce: x.Nonce})
		if err != nil {
			t.Fatal(err)
		}
		x.Signature = sig
	}
	j := newMemJournal(a, b)
	r := e.relayer(j, nil)
	e.round(r)
	e.round(r)
	if err := e.dc.Mine(3); err != nil {
		t.Fatal(err)
	}
	e.round(r)
	wantStates(t, j, a.ID, "confirmed", "final")
	wantStates(t, j, b.ID, "failed insufficient_balance")
	if c := j.carrying(b.ID); len(c) != 1 || c[0].State != TxFinal {
		t.Fatalf("b carried by %+v, want one final transaction", c)
	}
	e.round(r)
	if n := e.minedNonce(); n != 2 {
		t.Fatalf("mined nonce %d, want 2", n)
	}
}

// A settlement whose block is reorganised away goes back to unconfirmed
// (TxNotMined), is sent again at once (the node does not put it back in
// its pool), and is confirmed again in the new block, then final.
func TestReorgUnconfirmsThenSettlesAgain(t *testing.T) {
	e := newEnv(t)
	a := e.auth(0, 6_000)
	j := newMemJournal(a)
	r := e.relayer(j, nil)
	e.round(r)
	e.round(r)
	wantStates(t, j, a.ID, "confirmed")
	lost := *j.carrying(a.ID)[0].Block
	if err := e.dc.Rewind(lost.Number - 1); err != nil {
		t.Fatal(err)
	}
	e.round(r) // no receipt any more: unconfirmed, sent again
	e.round(r)
	wantStates(t, j, a.ID, "confirmed", "unconfirmed", "confirmed")
	if now := j.carrying(a.ID)[0].Block; now == nil || now.Hash == lost.Hash {
		t.Fatalf("block %+v after the reorg, want a new block (lost %+v)", now, lost)
	}
	if err := e.dc.Mine(3); err != nil {
		t.Fatal(err)
	}
	e.round(r)
	wantStates(t, j, a.ID, "confirmed", "unconfirmed", "confirmed", "final")
	if c := j.carrying(a.ID); len(c) != 1 || len(c[0].Hashes) != 1 {
		t.Fatalf("carried by %+v, want one transaction, one hash", c)
	}
}
