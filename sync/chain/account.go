package chain

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Account is what one node said of an address, in one batch request.
type Account struct {
	Nonce        uint64   // eth_getTransactionCount at "pending": the next nonce, the node's pool included
	Balance      *big.Int // eth_getBalance at "pending", wei
	TokenBalance *big.Int // balanceOf(address) of the token asked, by eth_call at "pending"; nil when none was asked
	TxKnown      bool     // the node knows the transaction asked (eth_getTransactionByHash), in its pool or a block
}

// balanceOfSelector is the 4-byte selector of ERC-20 balanceOf(address).
var balanceOfSelector = []byte{0x70, 0xa0, 0x82, 0x31}

// Account asks, in one batch request (one round trip to a verified
// endpoint), addr's pending nonce and balance, its balance of token
// (skipped when token is zero) and whether the node knows tx (skipped when
// tx is zero). The answers come from one backend, so they agree with each
// other. Errors as for Receipts: a node error for any of the calls (a
// reverting balanceOf included) fails the whole call.
func (c *Client) Account(ctx context.Context, addr, token common.Address, tx common.Hash) (Account, error) {
	nonce := &item{method: "eth_getTransactionCount", args: []any{addr, "pending"}}
	bal := &item{method: "eth_getBalance", args: []any{addr, "pending"}}
	items := []*item{nonce, bal}
	var tok, known *item
	if token != (common.Address{}) {
		data := append(append([]byte{}, balanceOfSelector...), common.LeftPadBytes(addr[:], 32)...)
		tok = &item{method: "eth_call", args: []any{map[string]any{"to": token, "input": hexutil.Bytes(data), "data": hexutil.Bytes(data)}, "pending"}}
		items = append(items, tok)
	}
	if tx != (common.Hash{}) {
		known = &item{method: "eth_getTransactionByHash", args: []any{tx}}
		items = append(items, known)
	}
	if err := c.do(ctx, items); err != nil {
		return Account{}, err
	}
	for _, it := range items {
		if it.err != nil {
			return Account{}, fmt.Errorf("chain: %s %s: %w", it.method, addr.Hex(), it.err)
		}
	}
	var out Account
	var n hexutil.Uint64
	if err := json.Unmarshal(nonce.res, &n); err != nil {
		return Account{}, fmt.Errorf("%w: eth_getTransactionCount: %.80s", ErrBadAnswer, nonce.res)
	}
	out.Nonce = uint64(n)
	var b *hexutil.Big
	if err := json.Unmarshal(bal.res, &b); err != nil || b == nil {
		return Account{}, fmt.Errorf("%w: eth_getBalance: %.80s", ErrBadAnswer, bal.res)
	}
	out.Balance = b.ToInt()
	if tok != nil {
		var r hexutil.Bytes
		if err := json.Unmarshal(tok.res, &r); err != nil || len(r) != 32 {
			// No contract at token answers "0x": not a balance of zero.
			return Account{}, fmt.Errorf("%w: balanceOf at %s: %.80s", ErrBadAnswer, token.Hex(), tok.res)
		}
		out.TokenBalance = new(big.Int).SetBytes(r)
	}
	if known != nil {
		var t *struct {
			Hash *common.Hash `json:"hash"`
		}
		if err := json.Unmarshal(known.res, &t); err != nil || (t != nil && t.Hash == nil) {
			return Account{}, fmt.Errorf("%w: eth_getTransactionByHash %s: %.80s", ErrBadAnswer, tx.Hex(), known.res)
		}
		out.TxKnown = t != nil
	}
	return out, nil
}
