// Package preflight answers the till's online pre-flight (checkout.Preflight)
// from one network, through its sync/chain client: a handed-over payment's
// sender's pending nonce, balance and token balance, and whether the node
// knows the payment already, in one batched JSON-RPC request. A terminal on
// several networks makes one per chain client.
//
// It asks only while the client is online (its prober or a call reached an
// endpoint of the right chain): offline, it answers at once with
// ErrOffline, so a terminal without a network loses no time at the
// counter. The budget is the caller's context.
package preflight

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
	"showpos/terminal/checkout"
)

// ErrOffline: the chain client is offline; nothing was asked. The till
// knows it (checkout.ErrPreflightOffline) and does not log each payment.
var ErrOffline = checkout.ErrPreflightOffline

// Node is what the pre-flight asks of a network; *chain.Client is one.
type Node interface {
	Status() chain.Status
	Account(ctx context.Context, addr, token common.Address, tx common.Hash) (chain.Account, error)
}

var _ Node = (*chain.Client)(nil)

// Preflight is a checkout.Preflight over one chain client.
type Preflight struct {
	c Node
}

var _ checkout.Preflight = (*Preflight)(nil)

// New returns the pre-flight of the network c reaches.
func New(c Node) *Preflight { return &Preflight{c: c} }

// Sender asks the network about q's sender in one batch request.
func (p *Preflight) Sender(ctx context.Context, q checkout.SenderQuery) (checkout.SenderState, error) {
	if st := p.c.Status(); !st.Online {
		return checkout.SenderState{}, fmt.Errorf("%w: %s", ErrOffline, st.Err)
	}
	a, err := p.c.Account(ctx, q.From, q.Token, q.Tx)
	if err != nil {
		return checkout.SenderState{}, fmt.Errorf("preflight %s: %w", q.From.Hex(), err)
	}
	return checkout.SenderState{Nonce: a.Nonce, Balance: a.Balance, TokenBalance: a.TokenBalance, TxKnown: a.TxKnown}, nil
}
