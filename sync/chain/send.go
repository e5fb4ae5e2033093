package chain

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// SendBatch sends each raw transaction, byte for byte as stored, with
// eth_sendRawTransaction: all in one JSON-RPC batch request (split every
// 100) where the endpoint takes batches, else one call at a time.
//
// The error is non-nil when the call did not get through: the context
// ended, or no endpoint of the right chain could carry it (a
// *TransportError: timeouts, refused connections, HTTP 429/5xx, a refused
// batch, wrong chain ids, on every endpoint). The transactions may or may
// not have reached a node; send them again later. errs is then nil.
//
// Otherwise errs has one entry per raw: nil when a node accepted it and
// returned its hash (checked against the hash of raw when raw decodes as a
// transaction; a mismatch is ErrHashMismatch); a *NodeError with the
// node's code and message as received ("already known", "nonce too low:
// next nonce 1, tx nonce 0", …: classify by text); ErrBadAnswer for a
// result that is not a hash; or, rarely, the *TransportError or context
// error that stopped the call, for entries left unsent when an endpoint
// that takes no batches failed part way through.
func (c *Client) SendBatch(ctx context.Context, raws [][]byte) ([]error, error) {
	if len(raws) == 0 {
		return []error{}, nil
	}
	items := make([]*item, len(raws))
	for i, raw := range raws {
		items[i] = &item{method: "eth_sendRawTransaction", args: []any{hexutil.Bytes(raw)}}
	}
	err := c.do(ctx, items)
	if err != nil && len(pending(items)) == len(items) {
		return nil, err
	}
	errs := make([]error, len(items))
	for i, it := range items {
		switch {
		case !it.done:
			errs[i] = err
		case it.err != nil:
			errs[i] = it.err
		default:
			errs[i] = checkHash(raws[i], it.res)
		}
	}
	return errs, nil
}

// Send sends one raw transaction as SendBatch does, without a batch. The
// error is nil (accepted), a *NodeError, ErrHashMismatch, ErrBadAnswer, a
// *TransportError or the context's error.
func (c *Client) Send(ctx context.Context, raw []byte) error {
	errs, err := c.SendBatch(ctx, [][]byte{raw})
	if err != nil {
		return err
	}
	return errs[0]
}

// checkHash checks the hash a node returned for raw.
func checkHash(raw []byte, res json.RawMessage) error {
	var got *common.Hash
	if err := json.Unmarshal(res, &got); err != nil || got == nil {
		return fmt.Errorf("%w: eth_sendRawTransaction returned %.80s", ErrBadAnswer, res)
	}
	var tx types.Transaction
	if tx.UnmarshalBinary(raw) != nil {
		return nil // the node took what we could not decode; nothing to compare
	}
	if want := tx.Hash(); *got != want {
		return fmt.Errorf("%w: %s, want %s", ErrHashMismatch, got.Hex(), want.Hex())
	}
	return nil
}
