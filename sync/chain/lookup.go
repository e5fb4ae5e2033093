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

// TxInfo is what a node knows of a transaction (eth_getTransactionByHash).
type TxInfo struct {
	Known       bool   // the node has it, in its pool or in a block
	Pending     bool   // known but in no block yet
	BlockNumber uint64 // the block it is in, when known and not pending
}

// CallMsg is an eth_call request.
type CallMsg struct {
	From  common.Address  // zero: unset
	To    *common.Address // nil: contract creation
	Gas   uint64          // 0: the node's default
	Value *big.Int        // nil: zero
	Data  []byte
}

// Errors of the lookups below: the context's error, a *TransportError
// (no endpoint could answer), a *NodeError (wrapped with the method and,
// for the batched ones, the hash it was about; the first one fails the
// whole call), or ErrBadAnswer (wrapped).

// Receipts returns the receipt of each hash (eth_getTransactionReceipt),
// in one batch request; a nil entry means no receipt yet.
func (c *Client) Receipts(ctx context.Context, hashes []common.Hash) ([]*types.Receipt, error) {
	res, err := c.many(ctx, "eth_getTransactionReceipt", hashes)
	if err != nil {
		return nil, err
	}
	out := make([]*types.Receipt, len(hashes))
	for i, r := range res {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("%w: eth_getTransactionReceipt %s: %v", ErrBadAnswer, hashes[i].Hex(), err)
		}
	}
	return out, nil
}

// Transactions returns what the node knows of each hash
// (eth_getTransactionByHash), in one batch request.
func (c *Client) Transactions(ctx context.Context, hashes []common.Hash) ([]TxInfo, error) {
	res, err := c.many(ctx, "eth_getTransactionByHash", hashes)
	if err != nil {
		return nil, err
	}
	out := make([]TxInfo, len(hashes))
	for i, r := range res {
		var tx *struct {
			Hash        *common.Hash    `json:"hash"`
			BlockNumber *hexutil.Uint64 `json:"blockNumber"`
		}
		if err := json.Unmarshal(r, &tx); err != nil || (tx != nil && tx.Hash == nil) {
			return nil, fmt.Errorf("%w: eth_getTransactionByHash %s: %.80s", ErrBadAnswer, hashes[i].Hex(), r)
		}
		if tx == nil {
			continue
		}
		out[i].Known = true
		if tx.BlockNumber == nil {
			out[i].Pending = true
		} else {
			out[i].BlockNumber = uint64(*tx.BlockNumber)
		}
	}
	return out, nil
}

// BlockRef names a block.
type BlockRef struct {
	Number uint64
	Hash   common.Hash
}

// Canonical is what one node answered, in one batch request, about its
// canonical chain: Headers[i] is its block at the i-th number asked (nil:
// it has no block there, as a node behind does not), Latest its head, and
// Finalized its "finalized" block (nil: it has none; NoFinalized says
// why). One batch is one HTTP request, so behind a load balancer the
// answers of one Canonical come from one backend and agree with each
// other: a hash at a height, the head and the finalized block can be
// compared. Answers of different calls may come from different backends.
// (An endpoint that refuses batches gets the calls one at a time, see
// ErrBatchUnsupported; behind a load balancer they may then come from
// different backends too.)
type Canonical struct {
	Headers     []*BlockRef
	Latest      BlockRef
	Finalized   *BlockRef
	NoFinalized string
}

// Canonical asks for the canonical header at each number
// (eth_getBlockByNumber without transactions), the "latest" and the
// "finalized" block, in one batch request. A node that knows no finalized
// block (a chain without a beacon chain, an older node) answers that call
// with an error or null: that is not an error here, it is
// Canonical.Finalized nil. An error answer for a number or for "latest" is
// (as for Receipts) an error of the whole call.
func (c *Client) Canonical(ctx context.Context, numbers []uint64) (Canonical, error) {
	items := make([]*item, 0, len(numbers)+2)
	for _, n := range numbers {
		items = append(items, &item{method: "eth_getBlockByNumber", args: []any{hexutil.EncodeUint64(n), false}})
	}
	items = append(items, &item{method: "eth_getBlockByNumber", args: []any{"latest", false}},
		&item{method: "eth_getBlockByNumber", args: []any{"finalized", false}})
	if err := c.do(ctx, items); err != nil {
		return Canonical{}, err
	}
	out := Canonical{Headers: make([]*BlockRef, len(numbers))}
	latest := items[len(numbers)]
	if latest.err != nil {
		return Canonical{}, fmt.Errorf("chain: eth_getBlockByNumber latest: %w", latest.err)
	}
	switch ref, err := decodeHeader(latest.res); {
	case err != nil:
		return Canonical{}, fmt.Errorf("%w: eth_getBlockByNumber latest: %v", ErrBadAnswer, err)
	case ref == nil:
		return Canonical{}, fmt.Errorf("%w: eth_getBlockByNumber latest returned null", ErrBadAnswer)
	default:
		out.Latest = *ref
	}
	for i, n := range numbers {
		it := items[i]
		if it.err != nil {
			return Canonical{}, fmt.Errorf("chain: eth_getBlockByNumber %d: %w", n, it.err)
		}
		ref, err := decodeHeader(it.res)
		if err != nil {
			return Canonical{}, fmt.Errorf("%w: eth_getBlockByNumber %d: %v", ErrBadAnswer, n, err)
		}
		if ref != nil && ref.Number != n {
			return Canonical{}, fmt.Errorf("%w: eth_getBlockByNumber %d answered block %d", ErrBadAnswer, n, ref.Number)
		}
		out.Headers[i] = ref
	}
	fin, no, err := finalizedFrom(items[len(numbers)+1])
	if err != nil {
		return Canonical{}, err
	}
	out.Finalized, out.NoFinalized = fin, no
	return out, nil
}

// finalizedFrom reads the answer to eth_getBlockByNumber("finalized"): the
// block, or why the node has none (an error answer, or null), or an error
// for an answer that is not a block.
func finalizedFrom(it *item) (*BlockRef, string, error) {
	ref, err := decodeHeader(it.res)
	switch {
	case it.err != nil:
		return nil, it.err.Error(), nil
	case err != nil:
		return nil, "", fmt.Errorf("%w: eth_getBlockByNumber finalized: %v", ErrBadAnswer, err)
	case ref == nil:
		return nil, "the node has no finalized block", nil
	}
	return ref, "", nil
}

// decodeHeader reads a block's number and hash; nil for null.
func decodeHeader(res json.RawMessage) (*BlockRef, error) {
	var h *struct {
		Number *hexutil.Uint64 `json:"number"`
		Hash   *common.Hash    `json:"hash"`
	}
	if err := json.Unmarshal(res, &h); err != nil {
		return nil, fmt.Errorf("%v: %.80s", err, res)
	}
	if h == nil {
		return nil, nil
	}
	if h.Number == nil || h.Hash == nil {
		return nil, fmt.Errorf("no number or hash: %.80s", res)
	}
	return &BlockRef{Number: uint64(*h.Number), Hash: *h.Hash}, nil
}

// BlockNumber returns the number of the node's latest block.
func (c *Client) BlockNumber(ctx context.Context) (uint64, error) {
	var n hexutil.Uint64
	if err := c.one(ctx, &n, "eth_blockNumber"); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// NonceAt returns addr's transaction count at block: "latest" (mined) or
// "pending" (with the node's pool); also "safe", "finalized", "earliest"
// or a 0x-hex number. "" means "latest".
func (c *Client) NonceAt(ctx context.Context, addr common.Address, block string) (uint64, error) {
	b, err := blockArg(block)
	if err != nil {
		return 0, err
	}
	var n hexutil.Uint64
	if err := c.one(ctx, &n, "eth_getTransactionCount", addr, b); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// Call runs msg with eth_call at block (as for NonceAt) and returns what
// it returned. A revert is a *NodeError (geth: code 3, Message "execution
// reverted: …", Data the revert data as a 0x-hex string).
func (c *Client) Call(ctx context.Context, msg CallMsg, block string) ([]byte, error) {
	b, err := blockArg(block)
	if err != nil {
		return nil, err
	}
	arg := map[string]any{"to": msg.To}
	if msg.From != (common.Address{}) {
		arg["from"] = msg.From
	}
	if len(msg.Data) > 0 {
		// "input" is the current name, "data" the one older nodes know;
		// geth accepts both when they agree.
		arg["input"] = hexutil.Bytes(msg.Data)
		arg["data"] = hexutil.Bytes(msg.Data)
	}
	if msg.Value != nil {
		arg["value"] = (*hexutil.Big)(msg.Value)
	}
	if msg.Gas != 0 {
		arg["gas"] = hexutil.Uint64(msg.Gas)
	}
	var out hexutil.Bytes
	if err := c.one(ctx, &out, "eth_call", arg, b); err != nil {
		return nil, err
	}
	return out, nil
}

// many calls method once per hash, batched, and returns the raw results.
func (c *Client) many(ctx context.Context, method string, hashes []common.Hash) ([]json.RawMessage, error) {
	if len(hashes) == 0 {
		return nil, ctx.Err()
	}
	items := make([]*item, len(hashes))
	for i, h := range hashes {
		items[i] = &item{method: method, args: []any{h}}
	}
	if err := c.do(ctx, items); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		if it.err != nil {
			return nil, fmt.Errorf("chain: %s %s: %w", method, hashes[i].Hex(), it.err)
		}
		out[i] = it.res
	}
	return out, nil
}

// one makes a single call and decodes its result into out; a null result
// is ErrBadAnswer.
func (c *Client) one(ctx context.Context, out any, method string, args ...any) error {
	it := &item{method: method, args: args}
	if err := c.do(ctx, []*item{it}); err != nil {
		return err
	}
	if it.err != nil {
		return fmt.Errorf("chain: %s: %w", method, it.err)
	}
	if string(it.res) == "null" {
		return fmt.Errorf("%w: %s returned null", ErrBadAnswer, method)
	}
	if err := json.Unmarshal(it.res, out); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadAnswer, method, err)
	}
	return nil
}

// blockArg checks a block parameter.
func blockArg(b string) (string, error) {
	switch b {
	case "":
		return "latest", nil
	case "latest", "pending", "safe", "finalized", "earliest":
		return b, nil
	}
	if _, err := hexutil.DecodeUint64(b); err != nil {
		return "", fmt.Errorf("chain: block %q: want latest, pending, safe, finalized, earliest or 0x-hex", b)
	}
	return b, nil
}
