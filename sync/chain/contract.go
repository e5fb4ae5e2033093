package chain

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// CallContract runs eth_call of data against the contract at to, at the
// latest block, on a verified endpoint, and returns what it returned.
// Errors as for Receipts; a reverting call is the node's error.
func (c *Client) CallContract(ctx context.Context, to common.Address, data []byte) ([]byte, error) {
	it := &item{method: "eth_call", args: []any{map[string]any{"to": to, "input": hexutil.Bytes(data), "data": hexutil.Bytes(data)}, "latest"}}
	if err := c.do(ctx, []*item{it}); err != nil {
		return nil, err
	}
	if it.err != nil {
		return nil, fmt.Errorf("chain: eth_call %s: %w", to.Hex(), it.err)
	}
	var r hexutil.Bytes
	if err := json.Unmarshal(it.res, &r); err != nil {
		return nil, fmt.Errorf("%w: eth_call %s: %.80s", ErrBadAnswer, to.Hex(), it.res)
	}
	return r, nil
}
