package chain

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// Calls for following the chain block by block (the watcher of payments
// made straight to the merchant). Errors are as for the lookups in
// lookup.go.

// Header is what the watcher reads of a block header: where it is, what it
// follows, when it was made, and its logs bloom (to skip eth_getLogs for
// blocks that cannot hold a log asked for).
type Header struct {
	Number     uint64
	Hash       common.Hash // as the node gave it, not recomputed: L2 headers differ
	ParentHash common.Hash
	Time       uint64 // seconds since 1970
	Bloom      types.Bloom
}

// Ref is the header's number and hash.
func (h *Header) Ref() BlockRef { return BlockRef{Number: h.Number, Hash: h.Hash} }

// Heads is one batch request's answer about the tip of a node's chain.
type Heads struct {
	Latest      Header
	Finalized   *BlockRef // nil: not asked, or the node has none (NoFinalized says why)
	NoFinalized string
}

// Heads asks for the latest block's header and, if finalized, the
// "finalized" block's, in one request (one call, or two with finalized).
// As for Canonical, a node without a finalized block is not an error.
func (c *Client) Heads(ctx context.Context, finalized bool) (Heads, error) {
	items := []*item{{method: "eth_getBlockByNumber", args: []any{"latest", false}}}
	if finalized {
		items = append(items, &item{method: "eth_getBlockByNumber", args: []any{"finalized", false}})
	}
	if err := c.do(ctx, items); err != nil {
		return Heads{}, err
	}
	var out Heads
	if items[0].err != nil {
		return Heads{}, fmt.Errorf("chain: eth_getBlockByNumber latest: %w", items[0].err)
	}
	h, err := decodeFullHeader(items[0].res)
	switch {
	case err != nil:
		return Heads{}, fmt.Errorf("%w: eth_getBlockByNumber latest: %v", ErrBadAnswer, err)
	case h == nil:
		return Heads{}, fmt.Errorf("%w: eth_getBlockByNumber latest returned null", ErrBadAnswer)
	}
	out.Latest = *h
	if finalized {
		if out.Finalized, out.NoFinalized, err = finalizedFrom(items[1]); err != nil {
			return Heads{}, err
		}
	}
	return out, nil
}

// Headers returns the header at each number (eth_getBlockByNumber without
// transactions), in one batch request; nil where the node has no block.
func (c *Client) Headers(ctx context.Context, numbers []uint64) ([]*Header, error) {
	res, err := c.byNumber(ctx, numbers, false)
	if err != nil {
		return nil, err
	}
	out := make([]*Header, len(numbers))
	for i, r := range res {
		h, err := decodeFullHeader(r)
		if err != nil {
			return nil, fmt.Errorf("%w: eth_getBlockByNumber %d: %v", ErrBadAnswer, numbers[i], err)
		}
		if h != nil && h.Number != numbers[i] {
			return nil, fmt.Errorf("%w: eth_getBlockByNumber %d answered block %d", ErrBadAnswer, numbers[i], h.Number)
		}
		out[i] = h
	}
	return out, nil
}

// Tx is a transaction as a block lists it.
type Tx struct {
	Hash  common.Hash
	Index uint // its position in the block
	From  common.Address
	To    *common.Address // nil: contract creation
	Value *big.Int
}

// Block is a header with its transactions.
type Block struct {
	Header
	Txs []Tx
}

// Blocks returns the block at each number with its transactions
// (eth_getBlockByNumber with full transactions), in one batch request;
// nil where the node has no block.
func (c *Client) Blocks(ctx context.Context, numbers []uint64) ([]*Block, error) {
	res, err := c.byNumber(ctx, numbers, true)
	if err != nil {
		return nil, err
	}
	out := make([]*Block, len(numbers))
	for i, r := range res {
		h, err := decodeFullHeader(r)
		if err == nil && h != nil && h.Number != numbers[i] {
			err = fmt.Errorf("answered block %d", h.Number)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: eth_getBlockByNumber %d: %v", ErrBadAnswer, numbers[i], err)
		}
		if h == nil {
			continue
		}
		var body struct {
			Transactions []struct {
				Hash  *common.Hash    `json:"hash"`
				Index *hexutil.Uint64 `json:"transactionIndex"`
				From  *common.Address `json:"from"`
				To    *common.Address `json:"to"`
				Value *hexutil.Big    `json:"value"`
			} `json:"transactions"`
		}
		if err := json.Unmarshal(r, &body); err != nil {
			return nil, fmt.Errorf("%w: eth_getBlockByNumber %d: transactions: %v", ErrBadAnswer, numbers[i], err)
		}
		b := &Block{Header: *h, Txs: make([]Tx, len(body.Transactions))}
		for j, t := range body.Transactions {
			if t.Hash == nil || t.Index == nil || t.From == nil || t.Value == nil {
				return nil, fmt.Errorf("%w: eth_getBlockByNumber %d: transaction %d lacks hash, index, from or value", ErrBadAnswer, numbers[i], j)
			}
			b.Txs[j] = Tx{Hash: *t.Hash, Index: uint(*t.Index), From: *t.From, To: t.To, Value: t.Value.ToInt()}
		}
		out[i] = b
	}
	return out, nil
}

// byNumber calls eth_getBlockByNumber for each number, batched.
func (c *Client) byNumber(ctx context.Context, numbers []uint64, full bool) ([]json.RawMessage, error) {
	if len(numbers) == 0 {
		return nil, ctx.Err()
	}
	items := make([]*item, len(numbers))
	for i, n := range numbers {
		items[i] = &item{method: "eth_getBlockByNumber", args: []any{hexutil.EncodeUint64(n), full}}
	}
	if err := c.do(ctx, items); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		if it.err != nil {
			return nil, fmt.Errorf("chain: eth_getBlockByNumber %d: %w", numbers[i], it.err)
		}
		out[i] = it.res
	}
	return out, nil
}

// decodeFullHeader reads the Header fields of a block; nil for null.
func decodeFullHeader(res json.RawMessage) (*Header, error) {
	var h *struct {
		Number     *hexutil.Uint64 `json:"number"`
		Hash       *common.Hash    `json:"hash"`
		ParentHash *common.Hash    `json:"parentHash"`
		Time       *hexutil.Uint64 `json:"timestamp"`
		Bloom      *types.Bloom    `json:"logsBloom"`
	}
	if err := json.Unmarshal(res, &h); err != nil {
		return nil, fmt.Errorf("%v: %.80s", err, res)
	}
	if h == nil {
		return nil, nil
	}
	if h.Number == nil || h.Hash == nil || h.ParentHash == nil || h.Time == nil {
		return nil, fmt.Errorf("no number, hash, parentHash or timestamp: %.80s", res)
	}
	out := &Header{Number: uint64(*h.Number), Hash: *h.Hash, ParentHash: *h.ParentHash, Time: uint64(*h.Time)}
	if h.Bloom != nil {
		out.Bloom = *h.Bloom
	} else {
		// No bloom: as if every log might be there.
		for i := range out.Bloom {
			out.Bloom[i] = 0xff
		}
	}
	return out, nil
}

// LogFilter is an eth_getLogs query over the blocks From..To (both
// included).
type LogFilter struct {
	From, To  uint64
	Addresses []common.Address // emitting contracts; empty: any
	Topics    [][]common.Hash  // per position, any of; an empty position: any
}

// Logs returns the logs matching f (eth_getLogs), one call. Nodes cap the
// range and the answer (geth: 10,000 logs; providers often 1,000–10,000
// blocks or fewer): keep ranges bounded.
func (c *Client) Logs(ctx context.Context, f LogFilter) ([]types.Log, error) {
	if f.To < f.From {
		return nil, fmt.Errorf("chain: eth_getLogs: block %d after %d", f.From, f.To)
	}
	topics := make([]any, len(f.Topics))
	for i, ts := range f.Topics {
		if len(ts) > 0 {
			topics[i] = ts
		}
	}
	arg := map[string]any{
		"fromBlock": hexutil.EncodeUint64(f.From),
		"toBlock":   hexutil.EncodeUint64(f.To),
		"topics":    topics,
	}
	if len(f.Addresses) > 0 {
		arg["address"] = f.Addresses
	}
	it := &item{method: "eth_getLogs", args: []any{arg}}
	if err := c.do(ctx, []*item{it}); err != nil {
		return nil, err
	}
	if it.err != nil {
		return nil, fmt.Errorf("chain: eth_getLogs %d..%d: %w", f.From, f.To, it.err)
	}
	var out []types.Log // null (some nodes' "none") decodes as none
	if err := json.Unmarshal(it.res, &out); err != nil {
		return nil, fmt.Errorf("%w: eth_getLogs: %v", ErrBadAnswer, err)
	}
	for _, l := range out {
		if l.BlockNumber < f.From || l.BlockNumber > f.To {
			return nil, fmt.Errorf("%w: eth_getLogs %d..%d answered a log of block %d", ErrBadAnswer, f.From, f.To, l.BlockNumber)
		}
	}
	return out, nil
}

// BalanceAt returns addr's native balance after the block with the given
// hash (eth_getBalance with an EIP-1898 block hash, requireCanonical), one
// call. A block that is not canonical any more (reorganised away between
// two requests) is a *NodeError.
func (c *Client) BalanceAt(ctx context.Context, addr common.Address, block common.Hash) (*big.Int, error) {
	var out hexutil.Big
	arg := map[string]any{"blockHash": block, "requireCanonical": true}
	if err := c.one(ctx, &out, "eth_getBalance", addr, arg); err != nil {
		return nil, err
	}
	return out.ToInt(), nil
}
