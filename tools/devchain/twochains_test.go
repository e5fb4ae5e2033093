package devchain

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// Two chains in one process (issue 18: a terminal on several networks, and
// cmd/devnet -chains 2) share nothing: each answers its own chain id on its
// own endpoint, mines its own transactions with its own miner, keeps its
// own balances, and closing one leaves the other serving and mining.
func TestTwoChainsInOneProcessAreIndependent(t *testing.T) {
	ctx := context.Background()
	relayer := common.HexToAddress("0x00000000000000000000000000000000000000e1")
	a := startChain(t, Options{ChainID: 1337, Payers: 2, Fund: []common.Address{relayer}})
	b := startChain(t, Options{ChainID: 1338, Payers: 2, Fund: []common.Address{relayer}})
	if a.Endpoint() == b.Endpoint() {
		t.Fatalf("both chains on %s", a.Endpoint())
	}
	ecA, ecB := dial(t, a), dial(t, b)
	payer, payee := a.Payers()[0], a.Payers()[1]
	if payer.Address != b.Payers()[0].Address {
		t.Fatalf("payer 0 is %s on one chain and %s on the other, want the same account", payer.Address, b.Payers()[0].Address)
	}

	// One transfer on each chain, of a different amount: each chain's
	// balance shows its own transfer only (a shared pool, miner or state
	// would show both, or the other's).
	for _, tc := range []struct {
		name   string
		c      *Chain
		amount int64
	}{
		{"1337", a, 1_000_000},
		{"1338", b, 2_500_000},
	} {
		ec := dial(t, tc.c)
		tx := tokenTransferTx(t, tc.c, payer, 0, payee.Address, big.NewInt(tc.amount))
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("chain %s: send: %v", tc.name, err)
		}
		if r, _ := waitReceipt(t, ec, tx.Hash()); r.Status != 1 {
			t.Fatalf("chain %s: receipt status %d", tc.name, r.Status)
		}
	}
	for _, tc := range []struct {
		name    string
		c       *Chain
		wantID  uint64
		wantBal int64
	}{
		{"1337", a, 1337, 1e12 + 1_000_000},
		{"1338", b, 1338, 1e12 + 2_500_000},
	} {
		ec := dial(t, tc.c)
		id, err := ec.ChainID(ctx)
		if err != nil || id.Uint64() != tc.wantID {
			t.Errorf("chain %s: eth_chainId = %v, %v; want %d", tc.name, id, err, tc.wantID)
		}
		if got := tokenBalance(t, ec, payee.Address); got.Cmp(big.NewInt(tc.wantBal)) != 0 {
			t.Errorf("chain %s: payee's TUSD = %v, want %d", tc.name, got, tc.wantBal)
		}
		if bal, err := ec.BalanceAt(ctx, relayer, nil); err != nil || bal.Cmp(ether(1000)) != 0 {
			t.Errorf("chain %s: relayer's balance = %v, %v; want 1000 ether", tc.name, bal, err)
		}
	}

	// Closing the first leaves the second answering and mining.
	if err := a.Close(); err != nil {
		t.Fatalf("Close 1337: %v", err)
	}
	if _, err := ecA.ChainID(ctx); err == nil {
		t.Fatalf("chain 1337 still answers after Close")
	}
	tx := tokenTransferTx(t, b, payer, 1, payee.Address, big.NewInt(1))
	if err := ecB.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("chain 1338 after 1337 closed: send: %v", err)
	}
	if r, _ := waitReceipt(t, ecB, tx.Hash()); r.Status != 1 {
		t.Fatalf("chain 1338 after 1337 closed: receipt status %d", r.Status)
	}
	if id, err := ecB.ChainID(ctx); err != nil || id.Uint64() != 1338 {
		t.Fatalf("chain 1338 after 1337 closed: eth_chainId = %v, %v", id, err)
	}
}
