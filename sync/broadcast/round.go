package broadcast

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/chain"
	"showpos/terminal/check"
	"showpos/terminal/store"
)

// round is one round; see the package comment. Offline it reads the
// counts and the oldest queued payment (one seek each, whatever the
// queue's length); online also a window of the open index (sweepRound) or
// the payments accepted since the last kick round.
func (b *Broadcaster) round(ctx context.Context, kind roundKind) Report {
	now := b.o.Clock.Now()
	st := b.o.Chain.Status()
	r := Report{At: now, Online: st.Online}
	counts, err := b.o.Store.Counts()
	if err != nil {
		// Try again a Poll later, not at once: a damaged counts value
		// stays damaged, and Run would otherwise spin on it.
		b.loop.sweepIn, b.loop.kickMore = b.o.Poll, false
		b.readFailed(&r, "read outbox", err)
		return r
	}
	r.Open = counts[store.PaymentQueued] + counts[store.PaymentBroadcast]
	r.Unfinal = counts[store.PaymentConfirmed]
	switch {
	case !st.Online:
		if r.Open+r.Unfinal > 0 {
			r.Err = "offline: " + st.Err
		}
	case kind == kickRound:
		b.sendFresh(ctx, now, &r)
		b.loop.last = kind
	default:
		b.sweepWindow(ctx, now, &r)
		b.loop.last = kind
	}
	if err := b.oldestQueued(&r); err != nil {
		b.log.Error("read outbox", "err", err)
		if r.Err == "" {
			r.Err = fmt.Sprintf("read outbox: %v", err)
		}
	}
	return r
}

func (b *Broadcaster) newRound(now time.Time) *roundState {
	return &roundState{b: b, now: now, changes: make(map[common.Hash]*store.Change), orig: make(map[common.Hash]store.Payment)}
}

// record commits rd and tells r and the subscribers what it settled;
// false if the commit failed.
func (b *Broadcaster) record(ctx context.Context, rd *roundState, r *Report) bool {
	stored, err := rd.commit(ctx)
	if err != nil {
		r.Err = fmt.Sprintf("record round: %v", err)
		b.log.Error("record broadcast round", "err", err)
		return false
	}
	for _, p := range stored {
		was := rd.orig[p.TxHash]
		if p.Delivery.Reorgs > was.Delivery.Reorgs {
			r.Reorged++
			b.log.Warn("a block holding a payment was lost", "tx", p.TxHash.Hex(), "request", p.RequestID,
				"was", was.State, "now", p.State, "reorgs", p.Delivery.Reorgs, "what", p.Delivery.ReorgNote)
		}
		switch {
		case p.State == was.State:
			if p.Delivery.LastError != "" && !p.State.Settled() {
				r.Retrying++
			}
		case p.State == store.PaymentConfirmed:
			r.Confirmed++
			b.publish(p)
		case p.State == store.PaymentFinal:
			r.Final++
			b.publish(p)
		case p.State == store.PaymentFailed:
			r.Failed++
			b.log.Warn("payment failed after acceptance", "tx", p.TxHash.Hex(), "request", p.RequestID, "reason", p.Reason)
			b.publish(p)
		case was.State == store.PaymentConfirmed:
			// Back to broadcast: the cashier was told it was paid.
			b.publish(p)
		case p.Delivery.LastError != "":
			r.Retrying++
		}
	}
	r.Sent += rd.sent
	return true
}

// roundState gathers one round's decisions; commit records them at once.
type roundState struct {
	b       *Broadcaster
	now     time.Time
	changes map[common.Hash]*store.Change
	orig    map[common.Hash]store.Payment // each changed payment as read
	order   []common.Hash
	sent    int
	// resend holds broadcast payments the node has forgotten.
	resend map[common.Hash]bool
	// settled holds payments decided this round (mined, reverted, failed).
	settled map[common.Hash]bool
	// untried is the first due payment a send cut short never tried.
	untried *store.OpenKey
}

// change returns the pending change for p, starting from its stored state.
func (rd *roundState) change(p store.Payment) *store.Change {
	if c, ok := rd.changes[p.TxHash]; ok {
		return c
	}
	c := &store.Change{Hash: p.TxHash, State: p.State, Reason: p.Reason, Delivery: p.Delivery}
	rd.changes[p.TxHash] = c
	rd.orig[p.TxHash] = p
	rd.order = append(rd.order, p.TxHash)
	return c
}

func (rd *roundState) settle(h common.Hash) {
	if rd.settled == nil {
		rd.settled = make(map[common.Hash]bool)
	}
	rd.settled[h] = true
}

// revertReason replays the transaction on the state before its block to
// read the contract's reason (Error(string)); best effort, "" if none.
func (rd *roundState) revertReason(ctx context.Context, p store.Payment, block uint64) string {
	var tx types.Transaction
	if err := tx.UnmarshalBinary(p.Raw); err != nil || tx.To() == nil || block == 0 {
		return ""
	}
	msg := chain.CallMsg{From: p.From, To: tx.To(), Gas: tx.Gas(), Value: tx.Value(), Data: tx.Data()}
	_, err := rd.b.o.Chain.Call(ctx, msg, hexutil.EncodeUint64(block-1))
	var ne *chain.NodeError
	if !errors.As(err, &ne) {
		return ""
	}
	if data, ok := ne.Data.(string); ok {
		if b, err := hexutil.Decode(data); err == nil {
			if reason, ok := unpackRevert(b); ok {
				return ": " + reason
			}
		}
	}
	if msg := strings.TrimPrefix(ne.Message, "execution reverted"); msg != ne.Message {
		return ": execution reverted" + msg
	}
	return ""
}

// expire fails every payment past its maximum age that is not mined.
func (rd *roundState) expire(ps []store.Payment) {
	for _, p := range ps {
		if rd.settled[p.TxHash] || p.Delivery.Block != 0 && !rd.resend[p.TxHash] {
			continue
		}
		if rd.now.Sub(p.AcceptedAt) <= rd.b.o.MaxAge {
			continue
		}
		c := rd.change(p)
		c.State = store.PaymentFailed
		c.Reason = fmt.Sprintf("not mined within %s of acceptance", rd.b.o.MaxAge)
		if p.Delivery.LastError != "" {
			c.Reason += " (last answer: " + p.Delivery.LastError + ")"
		}
		rd.settle(p.TxHash)
	}
}

// send sends what is due, per sender in nonce order. ps is sorted by
// sender, then nonce. A sender's line stops at its first payment that is
// waiting out a backoff: a later nonce cannot be mined before it anyway.
// The stop is remembered (loop.blocked) so that it holds in later windows
// and kick rounds too, until a sweep reads that payment again.
func (rd *roundState) send(ctx context.Context, ps []store.Payment) error {
	l := &rd.b.loop
	var due []store.Payment
	for _, p := range ps {
		if l.held(p) || rd.settled[p.TxHash] {
			continue
		}
		needs := p.State == store.PaymentQueued || rd.resend[p.TxHash]
		if !needs {
			continue
		}
		if p.Delivery.NextAttempt.After(rd.now) {
			l.block(p.From, p.Nonce)
			continue
		}
		if id := rd.b.o.ChainID; id != 0 {
			// What cannot be decoded is the node's to refuse, as before.
			if got, err := check.ChainIDOf(p.Raw); err == nil && got != 0 && got != id {
				rd.retry(p, fmt.Sprintf("signed for chain %d, not this network's chain %d: not sent", got, id))
				continue
			}
		}
		due = append(due, p)
	}
	size := rd.b.o.BatchSize
	if rd.b.o.OneAtATime {
		size = 1
	}
	var lookups []store.Payment
	for start := 0; start < len(due); start += size {
		chunk := due[start:min(start+size, len(due))]
		raws := make([][]byte, len(chunk))
		for i, p := range chunk {
			raws[i] = p.Raw
		}
		results, err := rd.b.o.Chain.SendBatch(ctx, raws)
		if err != nil {
			// The link failed under the whole batch: nothing is known of
			// what reached the node. Retry these later; stop this round.
			// What was never tried is noted, so a sweep goes on from
			// there next time instead of meeting this batch again.
			for _, p := range chunk {
				rd.retry(p, err.Error())
			}
			if rest := start + len(chunk); rest < len(due) {
				k := due[rest].OpenKey()
				rd.untried = &k
			}
			return fmt.Errorf("send: %w", err)
		}
		for i, p := range chunk {
			v := Classify(results[i])
			if c := rd.changes[p.TxHash]; c != nil && c.State == store.PaymentConfirmed && v != Sent {
				// Sent again on a stale receipt while confirmed: what one
				// node answers moves nothing; follow decides (see follow).
				c.Delivery.LastError = results[i].Error()
				continue
			}
			switch v {
			case Sent:
				c := rd.change(p)
				if c.State != store.PaymentConfirmed {
					// A confirmed payment sent again on a stale receipt
					// stays confirmed: a node taking it proves nothing
					// (a backend behind takes it too); follow decides.
					c.State = store.PaymentBroadcast
				}
				c.Delivery.Attempts++
				c.Delivery.LastError, c.Delivery.NextAttempt, c.Delivery.Retrying = "", time.Time{}, time.Time{}
				if c.Delivery.SentAt.IsZero() {
					c.Delivery.SentAt = rd.now
				}
				rd.sent++
			case LookUp:
				c := rd.change(p)
				c.Delivery.Attempts++
				c.Delivery.LastError = results[i].Error()
				lookups = append(lookups, p)
			case RetryFunds:
				c := rd.change(p)
				if c.Delivery.Retrying.IsZero() {
					c.Delivery.Retrying = rd.now
				}
				if rd.now.Sub(c.Delivery.Retrying) > rd.b.o.FundsWindow {
					rd.fail(p, results[i].Error())
					continue
				}
				rd.retry(p, results[i].Error())
			case RetryFee, RetryLink:
				rd.retry(p, results[i].Error())
			case Fail:
				rd.fail(p, results[i].Error())
			}
		}
	}
	return rd.lookUp(ctx, lookups)
}

// lookUp settles "nonce too low" and "replacement transaction
// underpriced": if the node knows our transaction it is ours (mined or
// pending); otherwise another transaction took the sender's nonce.
func (rd *roundState) lookUp(ctx context.Context, ps []store.Payment) error {
	for start := 0; start < len(ps); start += rd.b.o.BatchSize {
		chunk := ps[start:min(start+rd.b.o.BatchSize, len(ps))]
		infos, err := rd.b.o.Chain.Transactions(ctx, hashes(chunk))
		if err != nil {
			for _, p := range chunk {
				rd.retry(p, rd.changes[p.TxHash].Delivery.LastError)
			}
			return fmt.Errorf("%w: %w", errLookUp, err)
		}
		for i, p := range chunk {
			c := rd.change(p)
			if infos[i].Known {
				if c.State != store.PaymentConfirmed {
					c.State = store.PaymentBroadcast
				}
				if c.Delivery.SentAt.IsZero() {
					c.Delivery.SentAt = rd.now
				}
				c.Delivery.LastError = ""
				continue
			}
			c.State = store.PaymentFailed
			c.Reason = fmt.Sprintf("conflict: nonce %d of %s was used by another transaction (%s)", p.Nonce, p.From.Hex(), c.Delivery.LastError)
		}
	}
	return nil
}

// errLookUp marks a send's error as its lookups' (after "nonce too low"
// or "underpriced"): every send of the round was made by then, and every
// payment not settled waits out a backoff.
var errLookUp = errors.New("look up")

func (rd *roundState) retry(p store.Payment, why string) {
	c := rd.change(p)
	c.Delivery.Attempts++
	c.Delivery.LastError = why
	c.Delivery.NextAttempt = rd.now.Add(rd.b.backoff(c.Delivery.Attempts))
	rd.b.loop.block(p.From, p.Nonce)
}

func (rd *roundState) fail(p store.Payment, why string) {
	c := rd.change(p)
	c.Delivery.Attempts++
	c.Delivery.LastError = why
	c.State = store.PaymentFailed
	c.Reason = "refused by the network: " + why
}

// commit records the round's changes in one durable transaction.
func (rd *roundState) commit(ctx context.Context) ([]store.Payment, error) {
	if len(rd.order) == 0 {
		return nil, nil
	}
	changes := make([]store.Change, len(rd.order))
	for i, h := range rd.order {
		changes[i] = *rd.changes[h]
	}
	// The round's work is done; record it even if ctx is ending, so a
	// shutdown does not throw away what the node already answered.
	return rd.b.o.Store.Apply(context.WithoutCancel(ctx), rd.now, changes)
}

func hashes(ps []store.Payment) []common.Hash {
	hs := make([]common.Hash, len(ps))
	for i, p := range ps {
		hs[i] = p.TxHash
	}
	return hs
}

// unpackRevert reads Solidity's Error(string) revert data: the selector
// 0x08c379a0, then the ABI encoding of one string (offset, length, bytes).
func unpackRevert(b []byte) (string, bool) {
	if len(b) < 4+64 || !bytes.Equal(b[:4], []byte{0x08, 0xc3, 0x79, 0xa0}) {
		return "", false
	}
	body := b[4:]
	off := new(big.Int).SetBytes(body[:32])
	if !off.IsUint64() || off.Uint64() > uint64(len(body)-32) {
		return "", false
	}
	o := off.Uint64()
	n := new(big.Int).SetBytes(body[o : o+32])
	if !n.IsUint64() || n.Uint64() > uint64(len(body))-o-32 {
		return "", false
	}
	return string(body[o+32 : o+32+n.Uint64()]), true
}
