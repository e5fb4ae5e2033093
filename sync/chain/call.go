package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// item is one JSON-RPC call within a (possibly batched) exchange.
type item struct {
	method string
	args   []any

	done bool            // a node answered it: res or err is set
	res  json.RawMessage // the result, "null" included
	err  error           // the node's *NodeError
}

func pending(items []*item) []*item {
	var out []*item
	for _, it := range items {
		if !it.done {
			out = append(out, it)
		}
	}
	return out
}

// order is the endpoints in the order a call tries them: from the last one
// that answered, then the following ones, wrapping around.
func (c *Client) order() []*endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*endpoint, len(c.eps))
	for i := range out {
		out[i] = c.eps[(c.lastGood+i)%len(c.eps)]
	}
	return out
}

// do runs items on the first endpoint that can carry them, failing over on
// transport failures. On return without error every item is done. It
// returns the context's error if ctx ends, or a *TransportError once every
// endpoint has failed (and then marks the Client offline); items done
// before that keep their answers.
func (c *Client) do(ctx context.Context, items []*item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	order := c.order()
	var fails []*TransportError
	retried := make(map[*endpoint]bool)
	for i := 0; i < len(order); i++ {
		ep := order[i]
		err := c.verify(ctx, ep, false)
		if err == nil {
			err = c.exchange(ctx, ep, pending(items))
		}
		if err == nil {
			return nil
		}
		var te *TransportError
		if !errors.As(err, &te) {
			return err // ctx ended
		}
		c.log.Debug("chain: endpoint failed", "endpoint", ep.name, "reason", te.Reason)
		if errors.Is(te, ErrBatchUnsupported) && !retried[ep] {
			// It executed nothing: after the others, try it one call at a time.
			retried[ep] = true
			order = append(order, ep)
			continue
		}
		fails = append(fails, te)
	}
	te := summarize(fails)
	c.offline(te)
	return te
}

// verify makes sure ep is on the right chain, asking eth_chainId unless a
// recent answer is remembered (force: ask anyway). It returns nil, the
// context's error, or a *TransportError (wrong chain included).
func (c *Client) verify(ctx context.Context, ep *endpoint, force bool) error {
	now := c.clock.Now()
	c.mu.Lock()
	fresh := !ep.checkedAt.IsZero() && now.Sub(ep.checkedAt) < c.recheck
	id := ep.chainID
	c.mu.Unlock()
	if fresh && !force {
		if id != c.opts.ChainID {
			return wrongChain(ep, id, c.opts.ChainID)
		}
		return nil
	}

	res, err := c.call1(ctx, ep, "eth_chainId")
	if ne, ok := err.(*NodeError); ok {
		// Answered, but not usable: treated as unreachable, and without
		// the NodeError, which callers would take for a verdict on their
		// request.
		return &TransportError{Endpoint: ep.name, Reason: "eth_chainId refused: " + ne.Error(),
			Err: fmt.Errorf("eth_chainId: %s (code %d)", ne.Message, ne.Code)}
	}
	if err != nil {
		return err
	}
	var got hexutil.Uint64
	if err := json.Unmarshal(res, &got); err != nil {
		c.forget(ep)
		return &TransportError{Endpoint: ep.name, Reason: "bad eth_chainId answer", Err: err}
	}
	c.mu.Lock()
	ep.checkedAt, ep.chainID = c.clock.Now(), uint64(got)
	c.mu.Unlock()
	if uint64(got) != c.opts.ChainID {
		c.log.Warn("chain: endpoint on the wrong chain", "endpoint", ep.name, "chainId", uint64(got), "want", c.opts.ChainID)
		return wrongChain(ep, uint64(got), c.opts.ChainID)
	}
	c.contact(ep)
	return nil
}

// forget makes the next use of ep ask eth_chainId again.
func (c *Client) forget(ep *endpoint) {
	c.mu.Lock()
	ep.checkedAt = time.Time{}
	c.mu.Unlock()
}

// call1 makes one plain (unbatched) call. It returns the raw result, a
// *NodeError, the context's error or a *TransportError (and then forgets
// ep's chain check). It does not record contact.
func (c *Client) call1(ctx context.Context, ep *endpoint, method string, args ...any) (json.RawMessage, error) {
	cctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	var res json.RawMessage
	err := ep.rpc.CallContext(cctx, &res, method, args...)
	if err == nil {
		return res, nil
	}
	if ne, ok := nodeError(err); ok {
		return nil, ne
	}
	err = failure(ctx, cctx, ep, err)
	if IsTransport(err) {
		c.forget(ep)
	}
	return nil, err
}

// exchange sends items to ep, which is verified: in batches of up to
// maxBatch where ep takes batches, else one call at a time. Items answered
// are marked done (and contact recorded); on a transport failure it stops
// and returns it.
func (c *Client) exchange(ctx context.Context, ep *endpoint, items []*item) error {
	c.mu.Lock()
	noBatch := ep.noBatch
	c.mu.Unlock()
	if len(items) == 1 || noBatch {
		for _, it := range items {
			res, err := c.call1(ctx, ep, it.method, it.args...)
			if ne, ok := err.(*NodeError); ok {
				it.done, it.err = true, ne
			} else if err != nil {
				return err
			} else {
				it.done, it.res = true, res
			}
			c.contact(ep)
		}
		return nil
	}
	for len(items) > 0 {
		n := min(len(items), maxBatch)
		if err := c.batch1(ctx, ep, items[:n]); err != nil {
			return err
		}
		c.contact(ep)
		items = items[n:]
	}
	return nil
}

// batch1 sends items as one batch request. Either every item is done, or
// none is and it returns the context's error or a *TransportError.
func (c *Client) batch1(ctx context.Context, ep *endpoint, items []*item) error {
	cctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	elems := make([]rpc.BatchElem, len(items))
	results := make([]json.RawMessage, len(items))
	for i, it := range items {
		elems[i] = rpc.BatchElem{Method: it.method, Args: it.args, Result: &results[i]}
	}
	err := ep.rpc.BatchCallContext(cctx, elems)
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// Valid JSON, but not an array: an error object for the batch.
		err = fmt.Errorf("%w: answered with a JSON %s", ErrBatchUnsupported, typ.Value)
	} else if err == nil {
		err = batchAnswered(elems)
	}
	if err != nil {
		if errors.Is(err, ErrBatchUnsupported) && ctx.Err() == nil {
			c.mu.Lock()
			ep.noBatch = true
			c.mu.Unlock()
			c.log.Info("chain: endpoint refused a batch; sending to it one call at a time", "endpoint", ep.name)
			return &TransportError{Endpoint: ep.name, Reason: ErrBatchUnsupported.Error(), Err: err}
		}
		err = failure(ctx, cctx, ep, err)
		if IsTransport(err) {
			c.forget(ep)
		}
		return err
	}
	for i, it := range items {
		if ne, ok := nodeError(elems[i].Error); ok {
			it.done, it.err = true, ne
		} else {
			it.done, it.res = true, results[i]
		}
	}
	return nil
}

// batchAnswered checks that a batch got an answer for each call. An object
// where the array should be, or a lone error with the other answers
// missing (geth's "batch too large"), means the batch was refused whole;
// other gaps or answers with neither result nor error are malformed.
func batchAnswered(elems []rpc.BatchElem) error {
	missing, answered := 0, 0
	for _, e := range elems {
		switch {
		case errors.Is(e.Error, rpc.ErrMissingBatchResponse):
			missing++
		case errors.Is(e.Error, rpc.ErrNoResult):
			return fmt.Errorf("answer with neither result nor error: %w", rpc.ErrNoResult)
		default:
			answered++
		}
	}
	if missing == 0 {
		return nil
	}
	if answered <= 1 {
		lone := "nothing"
		for _, e := range elems {
			if e.Error != nil && !errors.Is(e.Error, rpc.ErrMissingBatchResponse) {
				lone = fmt.Sprintf("%q", e.Error.Error())
			}
		}
		return fmt.Errorf("%w: %d of %d calls unanswered, answer %s", ErrBatchUnsupported, missing, len(elems), lone)
	}
	return fmt.Errorf("%d of %d calls unanswered: %w", missing, len(elems), rpc.ErrMissingBatchResponse)
}
