package chain_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/tools/devchain"
)

// Account against a real geth: a funded payer's pending nonce, balance and
// token balance as the genesis made them; a fresh key's zeros; and a sent
// transaction known to the node and counted in the pending nonce.
func TestAccountAgainstDevChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dc, c := devClient(t, ctx)
	payer := dc.Payers()[0]
	wei, units := dc.PayerBalances()

	a, err := c.Account(ctx, payer.Address, devchain.TokenAddr, common.Hash{0x01})
	if err != nil {
		t.Fatal(err)
	}
	if a.Nonce != 0 || a.Balance.Cmp(wei) != 0 || a.TokenBalance.Cmp(units) != 0 || a.TxKnown {
		t.Fatalf("funded payer: %+v, want nonce 0, %s wei, %s units, tx unknown", a, wei, units)
	}

	fresh, _ := crypto.GenerateKey()
	a, err = c.Account(ctx, crypto.PubkeyToAddress(fresh.PublicKey), devchain.TokenAddr, common.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Nonce != 0 || a.Balance.Sign() != 0 || a.TokenBalance.Sign() != 0 {
		t.Fatalf("fresh key: %+v, want all zero", a)
	}
	a, err = c.Account(ctx, payer.Address, common.Address{}, common.Hash{})
	if err != nil || a.TokenBalance != nil {
		t.Fatalf("no token asked: %+v, %v; want no token balance", a, err)
	}

	to := common.HexToAddress("0x000000000000000000000000000000000000beef")
	tx, err := types.SignNewTx(payer.Key, types.LatestSignerForChainID(dc.ChainID()), &types.DynamicFeeTx{
		ChainID: dc.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9),
		Gas: 21000, To: &to, Value: big.NewInt(1e15),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	if err := c.Send(ctx, raw); err != nil {
		t.Fatal(err)
	}
	a, err = c.Account(ctx, payer.Address, common.Address{}, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if a.Nonce != 1 || !a.TxKnown {
		t.Fatalf("after sending: %+v, want nonce 1 and the tx known", a)
	}
}
