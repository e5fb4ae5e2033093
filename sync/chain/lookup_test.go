package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

func TestReceiptsAndTransactionsInOneBatch(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	_, h := signedTxs(t, 3)
	node.receipts[h[1]] = &types.Receipt{
		Status: types.ReceiptStatusSuccessful, CumulativeGasUsed: 21000, GasUsed: 21000, Logs: []*types.Log{},
		TxHash: h[1], BlockHash: common.Hash{7}, BlockNumber: big.NewInt(7), EffectiveGasPrice: big.NewInt(1),
	}
	node.txs[h[1]] = map[string]any{"hash": h[1], "blockNumber": "0x7"}
	node.txs[h[2]] = map[string]any{"hash": h[2], "blockNumber": nil}

	c.Probe(context.Background())
	_, b0 := node.counts()
	rs, err := c.Receipts(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0] != nil || rs[2] != nil || rs[1] == nil || rs[1].TxHash != h[1] || rs[1].BlockNumber.Uint64() != 7 || rs[1].Status != 1 {
		t.Errorf("receipts %v", rs)
	}
	infos, err := c.Transactions(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	want := []TxInfo{{}, {Known: true, BlockNumber: 7}, {Known: true, Pending: true}}
	for i := range want {
		if infos[i] != want[i] {
			t.Errorf("tx %d: %+v, want %+v", i, infos[i], want[i])
		}
	}
	if _, b := node.counts(); b-b0 != 2 {
		t.Errorf("%d batches for two lookups", b-b0)
	}
	if rs, err := c.Receipts(context.Background(), nil); err != nil || len(rs) != 0 {
		t.Errorf("no hashes: %v, %v", rs, err)
	}
}

// Canonical headers and the finalized block come in one batch; a number
// the node has no block at is nil (a node behind), and a node without a
// finalized block (an error or null for the tag) is no error.
func TestCanonicalHeadersInOneBatch(t *testing.T) {
	header := func(n uint64, h common.Hash) map[string]any {
		return map[string]any{"number": hexutil.EncodeUint64(n), "hash": h, "parentHash": common.Hash{}}
	}
	for _, tc := range []struct {
		name      string
		finalized any
		want      *BlockRef
	}{
		{"finalized tag", header(5, common.Hash{5}), &BlockRef{Number: 5, Hash: common.Hash{5}}},
		{"no finalized tag: error", &rpcErr{Code: -39001, Message: "finalized block not found"}, nil},
		{"no finalized tag: null", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := newFakeNode(t, testChain)
			c := newTestClient(t, Options{}, node.URL())
			node.headers["0x7"] = header(7, common.Hash{7})
			node.headers["0x9"] = header(9, common.Hash{9})
			node.headers["latest"] = header(10, common.Hash{10})
			if tc.finalized != nil {
				node.headers["finalized"] = tc.finalized
			}
			c.Probe(context.Background())
			_, b0 := node.counts()
			got, err := c.Canonical(context.Background(), []uint64{7, 8, 9})
			if err != nil {
				t.Fatal(err)
			}
			if _, b := node.counts(); b-b0 != 1 {
				t.Errorf("%d batches, want 1", b-b0)
			}
			if got.Headers[0] == nil || *got.Headers[0] != (BlockRef{7, common.Hash{7}}) || got.Headers[1] != nil ||
				got.Headers[2] == nil || got.Headers[2].Hash != (common.Hash{9}) {
				t.Errorf("headers %v", got.Headers)
			}
			if got.Latest != (BlockRef{10, common.Hash{10}}) {
				t.Errorf("latest %v", got.Latest)
			}
			if (got.Finalized == nil) != (tc.want == nil) || got.Finalized != nil && *got.Finalized != *tc.want {
				t.Errorf("finalized %v, want %v", got.Finalized, tc.want)
			}
			if tc.want == nil && got.NoFinalized == "" {
				t.Error("no reason given for the missing finalized block")
			}
		})
	}
	t.Run("a header of another height is a bad answer", func(t *testing.T) {
		node := newFakeNode(t, testChain)
		c := newTestClient(t, Options{}, node.URL())
		node.headers["0x7"] = header(8, common.Hash{8})
		node.headers["latest"] = header(10, common.Hash{10})
		if _, err := c.Canonical(context.Background(), []uint64{7}); !errors.Is(err, ErrBadAnswer) {
			t.Errorf("err %v, want ErrBadAnswer", err)
		}
	})
}

func TestSingleLookups(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	addr := common.HexToAddress("0x1234")
	token := common.HexToAddress("0x70ce")
	bad := common.HexToAddress("0xbad")
	node.block = 42
	node.nonces[addr.Hex()+"/pending"] = 9
	node.nonces[addr.Hex()+"/latest"] = 8
	node.callRes[token] = hexutil.Bytes{0, 0, 5}
	revert := "0x08c379a0" + strings.Repeat("0", 60)
	node.callRes[bad] = &rpcErr{Code: 3, Message: "execution reverted: insufficient balance", Data: revert}

	if n, err := c.BlockNumber(context.Background()); err != nil || n != 42 {
		t.Errorf("BlockNumber = %d, %v", n, err)
	}
	for block, want := range map[string]uint64{"pending": 9, "latest": 8, "": 8} {
		if n, err := c.NonceAt(context.Background(), addr, block); err != nil || n != want {
			t.Errorf("NonceAt(%q) = %d, %v; want %d", block, n, err, want)
		}
	}
	if _, err := c.NonceAt(context.Background(), addr, "newest"); err == nil {
		t.Error("NonceAt took a bad block")
	}

	out, err := c.Call(context.Background(), CallMsg{From: addr, To: &token, Data: []byte{0xa9, 0x05}}, "latest")
	if err != nil || !bytes.Equal(out, []byte{0, 0, 5}) {
		t.Errorf("Call = %x, %v", out, err)
	}
	var arg map[string]string
	json.Unmarshal(node.lastCall["arg"], &arg)
	if arg["input"] != "0xa905" || arg["data"] != "0xa905" || arg["from"] != strings.ToLower(addr.Hex()) {
		t.Errorf("eth_call sent %v", arg)
	}

	_, err = c.Call(context.Background(), CallMsg{To: &bad}, "pending")
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Code != 3 || ne.Data != revert || !strings.Contains(err.Error(), "execution reverted: insufficient balance") {
		t.Errorf("Call revert: %#v", err)
	}
}

func TestResponseCap(t *testing.T) {
	body := &capBody{rc: io.NopCloser(strings.NewReader("0123456789")), left: 10}
	if b, err := io.ReadAll(body); err != nil || string(b) != "0123456789" {
		t.Errorf("exactly at the cap: %q, %v", b, err)
	}
	body = &capBody{rc: io.NopCloser(strings.NewReader("0123456789x")), left: 10}
	if _, err := io.ReadAll(body); !errors.Is(err, errResponseTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 80: 5 * time.Second} {
		for range 20 {
			if d := backoff(n, 5*time.Second); d > want || d < want*3/4 {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, want*3/4, want)
			}
		}
	}
	if d := backoff(1, 50*time.Millisecond); d > 50*time.Millisecond {
		t.Errorf("backoff above the cap: %v", d)
	}
}
