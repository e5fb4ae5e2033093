package broadcast_test

import (
	"context"
	"encoding/binary"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/broadcast"
	"showpos/terminal/store"
)

// A stored transaction signed for another chain than the broadcaster's
// network is never sent: it stays queued with a reason naming both
// chains, while the network's own payments are sent.
func TestATransactionForAnotherChainIsNotSent(t *testing.T) {
	merchant := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	// Two payers: a held payment holds up its sender's later nonces.
	signed := func(chainID, nonce uint64) *types.Transaction {
		key, _ := crypto.GenerateKey()
		tx, err := types.SignNewTx(key, types.LatestSignerForChainID(new(big.Int).SetUint64(chainID)), &types.DynamicFeeTx{
			ChainID: new(big.Int).SetUint64(chainID), Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(2e9),
			Gas: 21_000, To: &merchant, Value: big.NewInt(1000)})
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	other, own := signed(1338, 0), signed(fakeChainID, 0)
	rNow := time.Now()
	r := newFakeRig(t, func(st *store.Store) {
		for i, tx := range []*types.Transaction{other, own} {
			raw, _ := tx.MarshalBinary()
			id := []string{"other", "own"}[i]
			if err := st.PutRequest(context.Background(), store.Request{ID: id, Asset: "ETH", Amount: big.NewInt(int64(1000 + i)),
				CreatedAt: rNow, ExpiresAt: rNow.Add(time.Hour), Doc: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			// Both filed under this network's chain: the mistake the
			// guard is for.
			from, _ := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
			p := store.Payment{TxHash: tx.Hash(), RequestID: id, From: from, Nonce: 0, Asset: "ETH", Amount: big.NewInt(1000),
				Raw: raw, State: store.PaymentQueued, ChainID: fakeChainID}
			if _, _, err := st.Accept(context.Background(), p, rNow, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
	r.start(broadcast.Options{ChainID: fakeChainID, Poll: 20 * time.Millisecond})
	r.waitRound("a round that sent", func(rep broadcast.Report) bool { return rep.Sent > 0 })
	// The fake reads a sender and nonce off the raw bytes' first 28.
	otherRaw, _ := other.MarshalBinary()
	ownRaw, _ := own.MarshalBinary()
	asSent := func(raw []byte) sentTx {
		return sentTx{From: common.BytesToAddress(raw[:20]), Nonce: binary.BigEndian.Uint64(raw[20:28])}
	}
	sends := r.chain.sends()
	if len(sends) != 1 || sends[0] != asSent(ownRaw) || sends[0] == asSent(otherRaw) {
		t.Fatalf("sent %+v, want the network's own transaction alone", sends)
	}
	p, err := r.store.Payment(other.Hash())
	if err != nil || p.State != store.PaymentQueued || !strings.Contains(p.Delivery.LastError, "signed for chain 1338, not this network's chain 1337") {
		t.Errorf("the other chain's payment: %s %q (%v), want queued with the chains named", p.State, p.Delivery.LastError, err)
	}
}
