package devchain

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// One chain, the whole story a payment goes through: configured chain id,
// funded payers, native and token payments mined at once, a failing token
// payment mined as failed, and a batch of raw transactions.
func TestChain(t *testing.T) {
	const chainID = 31337
	c := startChain(t, Options{ChainID: chainID})
	ec := dial(t, c)
	ctx := context.Background()
	payers := c.Payers()
	if len(payers) != DefaultPayers {
		t.Fatalf("%d payers, want %d", len(payers), DefaultPayers)
	}
	p0, p1, p2 := payers[0], payers[1], payers[2]

	t.Run("endpoint is loopback HTTP", func(t *testing.T) {
		if !strings.HasPrefix(c.Endpoint(), "http://127.0.0.1:") {
			t.Fatalf("Endpoint() = %q", c.Endpoint())
		}
	})

	t.Run("eth_chainId answers the configured id", func(t *testing.T) {
		id, err := ec.ChainID(ctx)
		if err != nil || id.Uint64() != chainID || c.ChainID().Uint64() != chainID {
			t.Fatalf("eth_chainId = %v, %v; ChainID() = %v; want %d", id, err, c.ChainID(), chainID)
		}
		net, err := ec.NetworkID(ctx)
		if err != nil || net.Uint64() != chainID {
			t.Fatalf("net_version = %v, %v; want %d", net, err, chainID)
		}
	})

	t.Run("payers are funded in ether and TUSD", func(t *testing.T) {
		for _, p := range []Account{p0, payers[len(payers)-1]} {
			bal, err := ec.BalanceAt(ctx, p.Address, nil)
			if err != nil || bal.Cmp(ether(1000)) != 0 {
				t.Errorf("balance of %s = %v, %v; want 1000 ether", p.Address, bal, err)
			}
			if got, want := tokenBalance(t, ec, p.Address), big.NewInt(1e12); got.Cmp(want) != 0 {
				t.Errorf("TUSD balance of %s = %v, want %v", p.Address, got, want)
			}
		}
		supply := callToken(t, ec, "totalSupply").(*big.Int)
		if want := big.NewInt(1e12 * DefaultPayers); supply.Cmp(want) != 0 {
			t.Errorf("totalSupply = %v, want %v", supply, want)
		}
		if got := callToken(t, ec, "name"); got != TokenName {
			t.Errorf("name() = %v", got)
		}
		if got := callToken(t, ec, "symbol"); got != TokenSymbol {
			t.Errorf("symbol() = %v", got)
		}
		if got := callToken(t, ec, "decimals"); got != uint8(TokenDecimals) {
			t.Errorf("decimals() = %v", got)
		}
	})

	t.Run("native transfer is mined with status 1", func(t *testing.T) {
		before, _ := ec.BalanceAt(ctx, p2.Address, nil)
		value := ether(1)
		tx := signTx(t, c, p0, 0, p2.Address, value, 21_000, nil)
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("send: %v", err)
		}
		r, took := waitReceipt(t, ec, tx.Hash())
		t.Logf("native transfer: receipt %v after send (block %v)", took.Round(time.Microsecond), r.BlockNumber)
		if r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("status %d, want 1", r.Status)
		}
		after, _ := ec.BalanceAt(ctx, p2.Address, nil)
		if diff := new(big.Int).Sub(after, before); diff.Cmp(value) != 0 {
			t.Fatalf("recipient got %v wei, want %v", diff, value)
		}
	})

	t.Run("token transfer is mined with status 1 and a Transfer log", func(t *testing.T) {
		from0, to0 := tokenBalance(t, ec, p0.Address), tokenBalance(t, ec, p2.Address)
		amount := big.NewInt(12_340_000) // 12.34 TUSD
		tx := tokenTransferTx(t, c, p0, 1, p2.Address, amount)
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("send: %v", err)
		}
		r, took := waitReceipt(t, ec, tx.Hash())
		t.Logf("token transfer: receipt %v after send, gas used %d", took.Round(time.Microsecond), r.GasUsed)
		if r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("status %d, want 1", r.Status)
		}
		if got := tokenBalance(t, ec, p0.Address); new(big.Int).Sub(from0, got).Cmp(amount) != 0 {
			t.Errorf("sender balance %v → %v, want a decrease of %v", from0, got, amount)
		}
		if got := tokenBalance(t, ec, p2.Address); new(big.Int).Sub(got, to0).Cmp(amount) != 0 {
			t.Errorf("recipient balance %v → %v, want an increase of %v", to0, got, amount)
		}
		if len(r.Logs) != 1 || r.Logs[0].Address != TokenAddr || r.Logs[0].Topics[0] != tokenABI.Events["Transfer"].ID ||
			common.BytesToAddress(r.Logs[0].Topics[1].Bytes()) != p0.Address ||
			common.BytesToAddress(r.Logs[0].Topics[2].Bytes()) != p2.Address ||
			new(big.Int).SetBytes(r.Logs[0].Data).Cmp(amount) != 0 {
			t.Errorf("logs = %+v, want one Transfer(p0, p2, %v)", r.Logs, amount)
		}
		logs, err := ec.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{TokenAddr}, FromBlock: r.BlockNumber, ToBlock: r.BlockNumber})
		if err != nil || len(logs) != 1 {
			t.Errorf("eth_getLogs = %d logs, %v; want 1", len(logs), err)
		}
	})

	t.Run("over-balance token transfer is mined with status 0", func(t *testing.T) {
		over := new(big.Int).Add(tokenBalance(t, ec, p0.Address), big.NewInt(1))
		data, _ := tokenABI.Pack("transfer", p2.Address, over)
		_, err := ec.CallContract(ctx, ethereum.CallMsg{From: p0.Address, To: &TokenAddr, Data: data}, nil)
		if err == nil || !strings.Contains(err.Error(), "insufficient balance") {
			t.Errorf("eth_call of the transfer: err = %v, want a revert with \"insufficient balance\"", err)
		}
		tx := tokenTransferTx(t, c, p0, 2, p2.Address, over)
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("send: %v", err)
		}
		r, took := waitReceipt(t, ec, tx.Hash())
		t.Logf("reverting transfer: receipt %v after send", took.Round(time.Microsecond))
		if r.Status != types.ReceiptStatusFailed {
			t.Fatalf("status %d, want 0", r.Status)
		}
		if len(r.Logs) != 0 {
			t.Errorf("a reverted transfer logged %d events", len(r.Logs))
		}
	})

	t.Run("a batch of two eth_sendRawTransaction works", func(t *testing.T) {
		txs := []*types.Transaction{
			tokenTransferTx(t, c, p1, 0, p2.Address, big.NewInt(1_000_000)),
			signTx(t, c, p1, 1, p2.Address, big.NewInt(1), 21_000, nil),
		}
		rc, err := rpc.Dial(c.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		batch := make([]rpc.BatchElem, len(txs))
		hashes := make([]common.Hash, len(txs))
		for i, tx := range txs {
			raw, _ := tx.MarshalBinary()
			batch[i] = rpc.BatchElem{Method: "eth_sendRawTransaction", Args: []any{hexutil.Bytes(raw)}, Result: &hashes[i]}
		}
		if err := rc.BatchCallContext(ctx, batch); err != nil {
			t.Fatalf("batch: %v", err)
		}
		for i, tx := range txs {
			if batch[i].Error != nil || hashes[i] != tx.Hash() {
				t.Fatalf("batch[%d]: hash %s, err %v; want %s", i, hashes[i], batch[i].Error, tx.Hash())
			}
		}
		for _, tx := range txs {
			if r, _ := waitReceipt(t, ec, tx.Hash()); r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("tx %s status %d", tx.Hash(), r.Status)
			}
		}
	})

	t.Run("batches are limited to 1000 requests", func(t *testing.T) {
		rc, err := rpc.Dial(c.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		for _, n := range []int{1000, 1001} {
			batch := make([]rpc.BatchElem, n)
			ids := make([]hexutil.Big, n)
			for i := range batch {
				batch[i] = rpc.BatchElem{Method: "eth_chainId", Result: &ids[i]}
			}
			err := rc.BatchCallContext(ctx, batch)
			failed := err != nil
			for _, e := range batch {
				failed = failed || e.Error != nil
			}
			if failed != (n > 1000) {
				t.Errorf("batch of %d: failed %v (err %v, first elem %v)", n, failed, err, batch[0].Error)
			}
		}
	})

	t.Run("txpool namespace answers", func(t *testing.T) {
		var status map[string]hexutil.Uint
		if err := ec.Client().CallContext(ctx, &status, "txpool_status"); err != nil {
			t.Fatalf("txpool_status: %v", err)
		}
		// Not judged for emptiness: the pool drops mined transactions on
		// its own reset, which may lag the receipts a little.
		if _, ok := status["pending"]; !ok {
			t.Errorf("txpool_status = %v, want a pending count", status)
		}
	})
}

// Latency of a payment on an otherwise idle chain: send, then poll for the
// receipt. Logged, not judged.
func TestTxToReceiptLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	c := startChain(t, Options{Payers: 2})
	ec := dial(t, c)
	p := c.Payers()
	const n = 10
	var total, worst time.Duration
	for i := range n {
		tx := tokenTransferTx(t, c, p[0], uint64(i), p[1].Address, big.NewInt(1))
		if err := ec.SendTransaction(context.Background(), tx); err != nil {
			t.Fatal(err)
		}
		r, took := waitReceipt(t, ec, tx.Hash())
		if r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("status %d", r.Status)
		}
		total += took
		worst = max(worst, took)
	}
	t.Logf("token transfer send→receipt over %d txs: mean %v, worst %v", n, (total / n).Round(time.Microsecond), worst.Round(time.Microsecond))
}

func TestCloseStopsEndpointGoroutinesAndFiles(t *testing.T) {
	// A first chain warms up geth's package-level goroutines, if any.
	warm, err := Start(context.Background(), Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	baseline := runtime.NumGoroutine()

	c, err := Start(context.Background(), Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	keystore := c.stack.KeyStoreDir()
	if _, err := os.Stat(keystore); err != nil {
		t.Fatalf("keystore dir while running: %v", err)
	}
	// Mine a block so the beacon's sealing goroutine has run.
	ec := dial(t, c)
	tx := signTx(t, c, c.Payers()[0], 0, common.Address{1}, big.NewInt(1), 21_000, nil)
	if err := ec.SendTransaction(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	waitReceipt(t, ec, tx.Hash())
	ec.Close()

	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(c.Endpoint(), "application/json", bytes.NewBufferString(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("endpoint %s still answers after Close", c.Endpoint())
	}
	if _, err := os.Stat(keystore); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("keystore dir %s after Close: %v, want it gone", keystore, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before Start:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

func TestStartRefuses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		name string
		o    Options
		want error
	}{
		{"a non-loopback address", Options{HTTPAddr: "0.0.0.0:8545"}, ErrNotLoopback},
		{"a host name other than localhost", Options{HTTPAddr: "example.com:8545"}, ErrNotLoopback},
		{"an address without a port", Options{HTTPAddr: "127.0.0.1"}, ErrBadOptions},
		{"negative payers", Options{Payers: -1}, ErrBadOptions},
		{"a negative balance", Options{Balance: big.NewInt(-1)}, ErrBadOptions},
		{"a total supply over 2^256", Options{TokenBalance: maxUint256}, ErrBadOptions},
		{"a busy port", Options{Payers: 1, HTTPAddr: busy.Addr().String()}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Start(context.Background(), tc.o)
			if err == nil {
				c.Close()
				t.Fatal("Start succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a cancelled context: %v", err)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after refused starts, %d before", n, before)
	}
}

// geth's own on-demand loop re-seals while any transaction is executable, so
// one whose fee cap is below the base fee had it seal empty blocks forever.
// Ours leaves it pending, and later payments still go through.
func TestUnderpricedTxStaysPendingWithoutSpinning(t *testing.T) {
	c := startChain(t, Options{Payers: 2})
	ec := dial(t, c)
	ctx := context.Background()
	p := c.Payers()
	stuck, err := types.SignNewTx(p[0].Key, types.LatestSignerForChainID(c.ChainID()), &types.DynamicFeeTx{
		ChainID: c.ChainID(), Nonce: 0, Gas: 21_000, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1),
		To: &p[1].Address, Value: big.NewInt(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.SendTransaction(ctx, stuck); err != nil {
		t.Fatalf("send: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if n, err := ec.BlockNumber(ctx); err != nil || n > 3 {
		t.Fatalf("block number %d, %v after 300 ms with one unminable tx; want ≤ 3 (no spinning)", n, err)
	}
	if _, err := ec.TransactionReceipt(ctx, stuck.Hash()); err != ethereum.NotFound {
		t.Fatalf("receipt of the underpriced tx: %v, want not found", err)
	}
	tx := tokenTransferTx(t, c, p[1], 0, p[0].Address, big.NewInt(1))
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if r, _ := waitReceipt(t, ec, tx.Hash()); r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("status %d", r.Status)
	}
}
