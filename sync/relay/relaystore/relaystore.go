// Package relaystore is the relayer's Queue and Journal (sync/relay) over
// the terminal's store (terminal/store: its open authorizations and its
// relay journal), for one relayer account on one chain (a store.ChainStore:
// one chain's view of the store). posd settles
// authorizations through it, and posbench times settlement through the
// same code. The two sides' types differ in form only; this converts
// them. An authorization's ID on the relayer's side is its payment's hash
// (the EIP-712 digest the payer signed) in hex.
package relaystore

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
	"showpos/sync/relay"
	"showpos/terminal/store"
)

// Journal is a relay.Queue and relay.Journal over a store.
type Journal struct {
	st      *store.ChainStore
	chainID uint64
	relayer common.Address
	outcome func(relay.Outcome, store.Payment)
}

var (
	_ relay.Queue   = (*Journal)(nil)
	_ relay.Journal = (*Journal)(nil)
)

// New is the queue and journal of relayer's account on st's chain. outcome, when not nil, is called after each outcome is stored, with
// the payment as it now stands (to count it and tell the cashier); it
// must not block for long: the relayer's round waits for it.
func New(st *store.ChainStore, relayer common.Address, outcome func(relay.Outcome, store.Payment)) *Journal {
	return &Journal{st: st, chainID: st.ID(), relayer: relayer, outcome: outcome}
}

// Open returns up to limit open (queued or broadcast) authorizations in
// the order they were accepted, after the one whose ID is after ("" for
// the first).
func (j *Journal) Open(after string, limit int) ([]relay.Authorization, error) {
	var from common.Hash
	if after != "" {
		from = common.HexToHash(after)
	}
	ps, err := j.st.OpenAuthorizationsAfter(from, limit)
	if err != nil {
		return nil, err
	}
	out := make([]relay.Authorization, 0, len(ps))
	for _, p := range ps {
		a := p.Authorization
		out = append(out, relay.Authorization{ID: p.TxHash.Hex(), Token: a.Token, From: p.From, To: a.To, Value: p.Amount,
			ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: a.Signature[:]})
	}
	return out, nil
}

// Txs returns the account's live transactions on the chain, in nonce
// order.
func (j *Journal) Txs() ([]relay.Tx, error) {
	ts, err := j.st.RelayTxs(j.relayer)
	if err != nil {
		return nil, err
	}
	out := make([]relay.Tx, len(ts))
	for i, t := range ts {
		out[i] = relay.Tx{Nonce: t.Nonce, AuthID: t.AuthID.Hex(), Token: t.Token, From: t.From, AuthNonce: t.AuthNonce,
			Hashes: t.Hashes, Raw: t.Raw, Fees: relay.Fees{TipCap: t.TipCap, FeeCap: t.FeeCap}, SignedAt: t.SignedAt,
			State: relay.TxState(t.State)}
		if t.Mined {
			out[i].Block = &chain.BlockRef{Number: t.Block, Hash: t.BlockHash}
		}
	}
	return out, nil
}

// Record stores t durably (store.RecordRelayTx): the first record of an
// authorization's transaction moves it from queued to broadcast.
func (j *Journal) Record(t relay.Tx) error {
	rt := store.RelayTx{ChainID: j.chainID, Relayer: j.relayer, Nonce: t.Nonce, AuthID: common.HexToHash(t.AuthID),
		Token: t.Token, From: t.From, AuthNonce: t.AuthNonce, Hashes: t.Hashes, Raw: t.Raw,
		TipCap: t.Fees.TipCap, FeeCap: t.Fees.FeeCap, SignedAt: t.SignedAt, State: store.RelayTxState(t.State)}
	if t.Block != nil {
		rt.Mined, rt.Block, rt.BlockHash = true, t.Block.Number, t.Block.Hash
	}
	return j.st.RecordRelayTx(context.Background(), rt, time.Now())
}

// Report moves the authorization's payment as o says
// (store.ReportRelayOutcome), then tells outcome.
func (j *Journal) Report(o relay.Outcome) error {
	ro := store.RelayOutcome{AuthID: common.HexToHash(o.AuthID), State: store.RelayOutcomeState(o.State), Reason: o.Reason, Tx: o.Tx}
	if o.Block != nil {
		ro.Block, ro.BlockHash = o.Block.Number, o.Block.Hash
	}
	p, err := j.st.ReportRelayOutcome(context.Background(), ro, time.Now())
	if err != nil {
		return err
	}
	if j.outcome != nil {
		j.outcome(o, p)
	}
	return nil
}
