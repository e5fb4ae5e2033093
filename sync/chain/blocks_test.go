package chain

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// fullHeader is a block header as a node answers it.
func fullHeader(n uint64, h, parent common.Hash) map[string]any {
	return map[string]any{"number": hexutil.EncodeUint64(n), "hash": h, "parentHash": parent,
		"timestamp": hexutil.EncodeUint64(1_700_000_000 + n), "logsBloom": types.Bloom{byte(n)}}
}

// The head and the finalized block come in one request; without
// finalized, one call; a node without a finalized block is no error.
func TestHeadsAsksLatestAndFinalizedInOneRequest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ask       bool
		finalized any
		want      *BlockRef
		calls     int
	}{
		{"latest alone", false, fullHeader(5, common.Hash{5}, common.Hash{4}), nil, 1},
		{"with the finalized tag", true, fullHeader(5, common.Hash{5}, common.Hash{4}), &BlockRef{5, common.Hash{5}}, 2},
		{"node without finalized", true, &rpcErr{Code: -39001, Message: "finalized block not found"}, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := newFakeNode(t, testChain)
			c := newTestClient(t, Options{}, node.URL())
			node.headers["latest"] = fullHeader(9, common.Hash{9}, common.Hash{8})
			node.headers["finalized"] = tc.finalized
			c.Probe(context.Background())
			r0, _ := node.counts()
			before := len(node.methods)
			h, err := c.Heads(context.Background(), tc.ask)
			if err != nil {
				t.Fatal(err)
			}
			if h.Latest.Number != 9 || h.Latest.Hash != (common.Hash{9}) || h.Latest.ParentHash != (common.Hash{8}) ||
				h.Latest.Time != 1_700_000_009 || h.Latest.Bloom[0] != 9 {
				t.Errorf("latest %+v", h.Latest)
			}
			if (h.Finalized == nil) != (tc.want == nil) || h.Finalized != nil && *h.Finalized != *tc.want {
				t.Errorf("finalized %v, want %v", h.Finalized, tc.want)
			}
			if tc.ask && tc.want == nil && h.NoFinalized == "" {
				t.Error("no reason for the missing finalized block")
			}
			if r, _ := node.counts(); r-r0 != 1 || len(node.methods)-before != tc.calls {
				t.Errorf("%d requests, %d calls; want 1 request, %d calls", r-r0, len(node.methods)-before, tc.calls)
			}
		})
	}
}

// Headers and full blocks at many numbers come in one batch; a number the
// node has no block at is nil; the transactions keep sender, recipient
// (nil for a creation), value and index.
func TestHeadersAndBlocksInOneBatch(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	to := common.Address{0xbe, 0xef}
	node.headers["0x7"] = fullHeader(7, common.Hash{7}, common.Hash{6})
	node.headers["0x8"] = fullHeader(8, common.Hash{8}, common.Hash{7})
	b7 := fullHeader(7, common.Hash{7}, common.Hash{6})
	b7["transactions"] = []any{
		map[string]any{"hash": common.Hash{0x71}, "transactionIndex": "0x0", "from": common.Address{1}, "to": to, "value": "0x2a"},
		map[string]any{"hash": common.Hash{0x72}, "transactionIndex": "0x1", "from": common.Address{2}, "to": nil, "value": "0x0"},
	}
	node.full = map[string]any{"0x7": b7}
	c.Probe(context.Background())
	_, b0 := node.counts()

	hs, err := c.Headers(context.Background(), []uint64{7, 8, 9})
	if err != nil {
		t.Fatal(err)
	}
	if hs[0] == nil || hs[0].Hash != (common.Hash{7}) || hs[1] == nil || hs[1].ParentHash != (common.Hash{7}) || hs[2] != nil {
		t.Errorf("headers %+v %+v %+v", hs[0], hs[1], hs[2])
	}
	bs, err := c.Blocks(context.Background(), []uint64{7, 9})
	if err != nil {
		t.Fatal(err)
	}
	if bs[1] != nil || bs[0] == nil || len(bs[0].Txs) != 2 {
		t.Fatalf("blocks %+v", bs)
	}
	t0, t1 := bs[0].Txs[0], bs[0].Txs[1]
	if t0.Hash != (common.Hash{0x71}) || t0.From != (common.Address{1}) || t0.To == nil || *t0.To != to || t0.Value.Int64() != 42 || t0.Index != 0 {
		t.Errorf("tx 0 %+v", t0)
	}
	if t1.To != nil || t1.Index != 1 || t1.Value.Sign() != 0 {
		t.Errorf("tx 1 %+v", t1)
	}
	if _, b := node.counts(); b-b0 != 2 {
		t.Errorf("%d batches for two lookups", b-b0)
	}

	node.headers["0xa"] = fullHeader(11, common.Hash{11}, common.Hash{10})
	if _, err := c.Headers(context.Background(), []uint64{10}); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("a header of another height: %v, want ErrBadAnswer", err)
	}
}

// eth_getLogs gets the range as hex, the addresses and the topics (nil
// for "any"); a log outside the range asked is a bad answer.
func TestLogsSendsTheFilterAndChecksTheRange(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	token, merchant := common.Address{0x70}, common.Address{0x3e}
	transfer := common.Hash{0xdd}
	log := &types.Log{Address: token, Topics: []common.Hash{transfer, {}, common.BytesToHash(merchant[:])},
		Data: common.LeftPadBytes(big.NewInt(5).Bytes(), 32), BlockNumber: 12, BlockHash: common.Hash{12},
		TxHash: common.Hash{0xaa}, Index: 3}
	node.logs = []any{log}
	logs, err := c.Logs(context.Background(), LogFilter{From: 10, To: 12, Addresses: []common.Address{token},
		Topics: [][]common.Hash{{transfer}, nil, {common.BytesToHash(merchant[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].TxHash != log.TxHash || logs[0].Index != 3 || logs[0].BlockNumber != 12 {
		t.Errorf("logs %+v", logs)
	}
	var sent struct {
		From    string `json:"fromBlock"`
		To      string `json:"toBlock"`
		Address []common.Address
		Topics  []json.RawMessage
	}
	if err := json.Unmarshal(node.lastLogs, &sent); err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(sent.From, "0xa") || !strings.EqualFold(sent.To, "0xc") || len(sent.Address) != 1 ||
		len(sent.Topics) != 3 || string(sent.Topics[1]) != "null" {
		t.Errorf("filter sent %s", node.lastLogs)
	}

	if _, err := c.Logs(context.Background(), LogFilter{From: 13, To: 20}); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("a log below the range: %v, want ErrBadAnswer", err)
	}
}

// eth_getBalance asks at a block hash, canonical only (EIP-1898); a node
// that no longer has that block canonical answers with an error.
func TestBalanceAtABlockHash(t *testing.T) {
	node := newFakeNode(t, testChain)
	c := newTestClient(t, Options{}, node.URL())
	h := common.Hash{0x42}
	key, _ := json.Marshal(map[string]any{"blockHash": h, "requireCanonical": true})
	node.balances = map[string]any{string(key): "0xde0b6b3a7640000"}
	bal, err := c.BalanceAt(context.Background(), common.Address{1}, h)
	if err != nil || bal.String() != "1000000000000000000" {
		t.Fatalf("balance %v, %v", bal, err)
	}
	_, err = c.BalanceAt(context.Background(), common.Address{1}, common.Hash{0x43})
	var ne *NodeError
	if !errors.As(err, &ne) {
		t.Errorf("unknown block: %v, want a node error", err)
	}
}
