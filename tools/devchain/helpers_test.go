package devchain

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
)

// startChain starts a chain for one test and closes it at the end.
func startChain(t *testing.T, o Options) *Chain {
	t.Helper()
	begin := time.Now()
	c, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func dial(t *testing.T, c *Chain) *ethclient.Client {
	t.Helper()
	ec, err := ethclient.Dial(c.Endpoint())
	if err != nil {
		t.Fatalf("dial %s: %v", c.Endpoint(), err)
	}
	t.Cleanup(ec.Close)
	return ec
}

var tokenABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(TokenABI))
	if err != nil {
		panic(err)
	}
	return a
}()

// signTx signs an EIP-1559 transaction from payer with a 1 gwei tip.
func signTx(t *testing.T, c *Chain, from Account, nonce uint64, to common.Address, value *big.Int, gas uint64, data []byte) *types.Transaction {
	t.Helper()
	tx, err := types.SignNewTx(from.Key, types.LatestSignerForChainID(c.ChainID()), &types.DynamicFeeTx{
		ChainID:   c.ChainID(),
		Nonce:     nonce,
		GasTipCap: big.NewInt(1e9),
		GasFeeCap: big.NewInt(100e9),
		Gas:       gas,
		To:        &to,
		Value:     value,
		Data:      data,
	})
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tx
}

// tokenTransferTx signs TestToken.transfer(to, amount) from payer.
func tokenTransferTx(t *testing.T, c *Chain, from Account, nonce uint64, to common.Address, amount *big.Int) *types.Transaction {
	t.Helper()
	data, err := tokenABI.Pack("transfer", to, amount)
	if err != nil {
		t.Fatal(err)
	}
	return signTx(t, c, from, nonce, TokenAddr, new(big.Int), 100_000, data)
}

// waitReceipt polls for tx's receipt, and for its block to be the head
// (or below it), for up to 5 s and returns it with the time it took.
func waitReceipt(t *testing.T, ec *ethclient.Client, hash common.Hash) (*types.Receipt, time.Duration) {
	t.Helper()
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		r, err := ec.TransactionReceipt(ctx, hash)
		if err == nil {
			// geth indexes a block's receipts a moment before the block
			// is the head: wait for the head, so what the test reads
			// next at "latest" holds the transaction.
			if n, herr := ec.BlockNumber(ctx); herr == nil && n >= r.BlockNumber.Uint64() {
				return r, time.Since(begin)
			}
		} else if err != ethereum.NotFound {
			t.Fatalf("receipt %s: %v", hash, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tx %s not mined within 5 s", hash)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// callToken calls a view function of the token and returns its one result.
func callToken(t *testing.T, ec *ethclient.Client, method string, args ...any) any {
	t.Helper()
	data, err := tokenABI.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ec.CallContract(context.Background(), ethereum.CallMsg{To: &TokenAddr, Data: data}, nil)
	if err != nil {
		t.Fatalf("eth_call %s: %v", method, err)
	}
	res, err := tokenABI.Unpack(method, out)
	if err != nil {
		t.Fatalf("unpack %s: %v", method, err)
	}
	return res[0]
}

func tokenBalance(t *testing.T, ec *ethclient.Client, who common.Address) *big.Int {
	t.Helper()
	return callToken(t, ec, "balanceOf", who).(*big.Int)
}
