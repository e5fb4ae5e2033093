package relaystore

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
	"showpos/sync/relay"
	"showpos/terminal/store"
)

const testChain = 1337

var (
	relayer = common.HexToAddress("0x00000000000000000000000000000000000000aa")
	token   = common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
	payee   = common.HexToAddress("0x000000000000000000000000000000000000dEaD")
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randomHash(t *testing.T) common.Hash { return common.BytesToHash(randomBytes(t, 32)) }

func randomAddr(t *testing.T) common.Address { return common.BytesToAddress(randomBytes(t, 20)) }

// accept stores n authorizations as the till would, each paying its own
// request, and returns them in acceptance order.
func accept(t *testing.T, st *store.Store, n int) []store.Payment {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	var out []store.Payment
	for i := range n {
		id := fmt.Sprintf("r%d", i)
		amount := big.NewInt(int64(1000 + i))
		if err := st.PutRequest(ctx, store.Request{ID: id, Asset: "TUSD", Amount: amount, CreatedAt: now,
			ExpiresAt: now.Add(time.Hour), Doc: []byte(`{"id":"` + id + `"}`)}); err != nil {
			t.Fatal(err)
		}
		a := &store.Authorization{Token: token, To: payee, ValidAfter: big.NewInt(now.Unix() - 60),
			ValidBefore: big.NewInt(now.Add(48 * time.Hour).Unix()), Nonce: randomHash(t)}
		if _, err := rand.Read(a.Signature[:64]); err != nil {
			t.Fatal(err)
		}
		a.Signature[64] = 27
		p, _, err := st.AcceptAuthorization(ctx, store.Payment{TxHash: randomHash(t), RequestID: id,
			From: randomAddr(t), Asset: "TUSD", Amount: amount, State: store.PaymentQueued, ChainID: testChain, Authorization: a}, now, store.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func ids(as []relay.Authorization) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func TestOpenReturnsTheStoresAuthorizationsInAcceptanceOrder(t *testing.T) {
	st := openStore(t)
	ps := accept(t, st, 4)
	all := make([]string, len(ps))
	for i, p := range ps {
		all[i] = p.TxHash.Hex()
	}
	j := New(st.Chain(testChain), relayer, nil)
	for _, tc := range []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{"from the first", "", 10, all},
		{"a window", "", 2, all[:2]},
		{"after one", all[1], 10, all[2:]},
		{"after the last", all[3], 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := j.Open(tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Fatalf("Open(%q, %d) = %v, want %v", tc.after, tc.limit, ids(got), tc.want)
			}
		})
	}
	// Every field the relayer signs with is the stored authorization's.
	got, _ := j.Open("", 1)
	p, a := ps[0], got[0]
	if a.Token != token || a.From != p.From || a.To != payee || a.Value.Cmp(p.Amount) != 0 ||
		a.ValidAfter.Cmp(p.Authorization.ValidAfter) != 0 || a.ValidBefore.Cmp(p.Authorization.ValidBefore) != 0 ||
		a.Nonce != p.Authorization.Nonce || !slices.Equal(a.Signature, p.Authorization.Signature[:]) {
		t.Fatalf("Open gave %+v for the stored %+v %+v", a, p, p.Authorization)
	}
}

func TestRecordedTransactionsComeBackFromTxs(t *testing.T) {
	st := openStore(t)
	ps := accept(t, st, 2)
	j := New(st.Chain(testChain), relayer, nil)
	signed := time.Now().Truncate(time.Second)
	sent := relay.Tx{Nonce: 5, AuthID: ps[0].TxHash.Hex(), Token: token, From: ps[0].From, AuthNonce: ps[0].Authorization.Nonce,
		Hashes: []common.Hash{randomHash(t)}, Raw: []byte{0x02, 0xf8, 0x01}, Fees: relay.Fees{TipCap: big.NewInt(1e9), FeeCap: big.NewInt(3e9)},
		SignedAt: signed, State: relay.TxSent}
	bumped := sent
	bumped.Hashes = append(slices.Clone(sent.Hashes), randomHash(t))
	bumped.Fees = relay.Fees{TipCap: big.NewInt(2e9), FeeCap: big.NewInt(4e9)}
	mined := bumped
	mined.State, mined.Block = relay.TxMined, &chain.BlockRef{Number: 42, Hash: randomHash(t)}

	for _, tc := range []struct {
		name string
		tx   relay.Tx
	}{{"sent", sent}, {"bumped", bumped}, {"mined", mined}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := j.Record(tc.tx); err != nil {
				t.Fatal(err)
			}
			txs, err := j.Txs()
			if err != nil {
				t.Fatal(err)
			}
			if len(txs) != 1 {
				t.Fatalf("Txs = %d transactions, want 1", len(txs))
			}
			got, want := txs[0], tc.tx
			if got.Nonce != want.Nonce || got.AuthID != want.AuthID || got.Token != want.Token || got.From != want.From ||
				got.AuthNonce != want.AuthNonce || !slices.Equal(got.Hashes, want.Hashes) || !slices.Equal(got.Raw, want.Raw) ||
				got.Fees.TipCap.Cmp(want.Fees.TipCap) != 0 || got.Fees.FeeCap.Cmp(want.Fees.FeeCap) != 0 ||
				!got.SignedAt.Equal(want.SignedAt) || got.State != want.State {
				t.Fatalf("Txs gave %+v, recorded %+v", got, want)
			}
			if (got.Block == nil) != (want.Block == nil) || (want.Block != nil && *got.Block != *want.Block) {
				t.Fatalf("block %+v, recorded %+v", got.Block, want.Block)
			}
		})
	}
	// The first record moved the authorization to broadcast; another
	// account's journal (or another chain's) holds none of it.
	if p, _ := st.Payment(ps[0].TxHash); p.State != store.PaymentBroadcast {
		t.Fatalf("recorded authorization is %s, want broadcast", p.State)
	}
	for _, other := range []*Journal{New(st.Chain(testChain+1), relayer, nil), New(st.Chain(testChain), payee, nil)} {
		if txs, err := other.Txs(); err != nil || len(txs) != 0 {
			t.Fatalf("another journal's Txs = %v %v", txs, err)
		}
	}
}

func TestReportMovesThePaymentThenTellsOutcome(t *testing.T) {
	st := openStore(t)
	ps := accept(t, st, 2)
	type told struct {
		o relay.Outcome
		p store.Payment
	}
	var heard []told
	j := New(st.Chain(testChain), relayer, func(o relay.Outcome, p store.Payment) { heard = append(heard, told{o, p}) })
	block := &chain.BlockRef{Number: 9, Hash: randomHash(t)}
	tx := randomHash(t)
	for _, tc := range []struct {
		name       string
		o          relay.Outcome
		state      store.PaymentState
		reason     string
		stillOpen  bool // the store's open queue is queued and broadcast only: a confirmed one is followed by its transaction
		settlement common.Hash
	}{
		{"confirmed", relay.Outcome{AuthID: ps[0].TxHash.Hex(), State: relay.OutcomeConfirmed, Tx: tx, Block: block}, store.PaymentConfirmed, "", false, tx},
		{"unconfirmed", relay.Outcome{AuthID: ps[0].TxHash.Hex(), State: relay.OutcomeUnconfirmed, Tx: tx}, store.PaymentBroadcast, "", true, tx},
		{"final", relay.Outcome{AuthID: ps[0].TxHash.Hex(), State: relay.OutcomeFinal, Tx: tx, Block: block}, store.PaymentFinal, "", false, tx},
		{"failed", relay.Outcome{AuthID: ps[1].TxHash.Hex(), State: relay.OutcomeFailed, Reason: relay.ReasonUsed}, store.PaymentFailed, relay.ReasonUsed, false, common.Hash{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			heard = nil
			if err := j.Report(tc.o); err != nil {
				t.Fatal(err)
			}
			p, err := st.Payment(common.HexToHash(tc.o.AuthID))
			if err != nil {
				t.Fatal(err)
			}
			if p.State != tc.state || p.Reason != tc.reason || p.Authorization.Settlement != tc.settlement {
				t.Fatalf("payment %s reason %q settlement %s, want %s %q %s", p.State, p.Reason, p.Authorization.Settlement, tc.state, tc.reason, tc.settlement)
			}
			if tc.o.Block != nil && p.Delivery.Block != tc.o.Block.Number {
				t.Fatalf("delivery block %d, want %d", p.Delivery.Block, tc.o.Block.Number)
			}
			if len(heard) != 1 || heard[0].o.State != tc.o.State || heard[0].p.State != tc.state {
				t.Fatalf("outcome told %+v, want once with the payment %s", heard, tc.state)
			}
			open, _ := j.Open("", 10)
			if slices.Contains(ids(open), tc.o.AuthID) != tc.stillOpen {
				t.Fatalf("open after %s: %v", tc.name, ids(open))
			}
		})
	}
	// A refused outcome changes nothing and tells nobody.
	heard = nil
	if err := j.Report(relay.Outcome{AuthID: ps[0].TxHash.Hex(), State: relay.OutcomeFailed, Reason: relay.ReasonUsed}); err == nil {
		t.Fatal("failed after final: no error")
	}
	if p, _ := st.Payment(ps[0].TxHash); p.State != store.PaymentFinal || len(heard) != 0 {
		t.Fatalf("after a refused report: %s, told %d", p.State, len(heard))
	}
}
