package broadcast

import (
	"context"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/chain"
	"showpos/terminal/store"
)

// Following a payment on the canonical chain.
//
// A receipt says "block N, hash A"; it counts only if the canonical header
// the node gives for height N has hash A. Receipts and headers come in
// different requests, which behind a load balancer may reach different
// backends at different heads; the headers, the head and the finalized
// block come in one batch (chain.Canonical), one backend's view. So:
//
//   - included: the receipt's hash is the canonical header's at its
//     height. Depth is counted from that view's head: confirmed at
//     Confirmations deep, final once the view's finalized block is at or
//     above it (or, on a node without the finalized tag, FinalDepth deep).
//   - not yet: the view has no header at that height (a backend behind,
//     or a node rewound below it). No state changes; the stored bytes are
//     sent again (harmless), so a node that lost the block mines it again.
//   - stale: the view has another hash at the receipt's height (a node
//     serving receipts of a block it lost, or a backend on another fork).
//     Never confirmed on it; a payment not yet confirmed is sent again (the
//     stored bytes, harmless if the node has it).
//   - lost: the payment's stored block (number and hash, from an earlier
//     included receipt) is not the canonical header at its height any
//     more, AND the receipt lookup no longer finds it there (no receipt,
//     or a receipt naming another block). A confirmed payment goes back to
//     broadcast and is sent again; the loss is counted (Delivery.Reorgs),
//     logged, reported and published.
//
// Every confirmed payment is looked at again each pass over the unfinal
// index until it is final, so a block lost at any depth is noticed.

// view is one chain.Canonical answer's view of one height.
type view struct {
	header    *chain.BlockRef // nil: no block at that height there
	latest    uint64
	finalized *chain.BlockRef // nil: that node has no finalized tag
}

// follow looks up every payment that may be on chain: those sent, those
// any send was tried for (a node may have taken one whose answer was
// lost), and the confirmed ones, until final. It goes BatchSize payments
// at a time, each chunk's receipts, then the canonical headers at their
// heights, then its judgement: when the link fails under a later chunk,
// what the earlier ones found is kept (the round records it), so a link
// that carries only a few requests at a time still gets payments on.
func (rd *roundState) follow(ctx context.Context, ps []store.Payment) error {
	var look []store.Payment
	for _, p := range ps {
		if p.State == store.PaymentBroadcast || p.State == store.PaymentConfirmed || p.Delivery.Attempts > 0 {
			look = append(look, p)
		}
	}
	size := rd.b.o.BatchSize
	var unmined []store.Payment
	views := make(map[uint64]view) // each height asked once per follow
	for start := 0; start < len(look); start += size {
		chunk := look[start:min(start+size, len(look))]
		receipts, err := rd.b.o.Chain.Receipts(ctx, hashes(chunk))
		if err != nil {
			return fmt.Errorf("receipts: %w", err)
		}
		if err := rd.canonical(ctx, chunk, receipts, views); err != nil {
			return err
		}
		for i, p := range chunk {
			if rd.judge(ctx, p, receipts[i], views) {
				unmined = append(unmined, p)
			}
		}
	}
	// A sent payment with no receipt should be in the node's pool; one the
	// node has forgotten (restarted, evicted, reorged out) is sent again.
	var sent []store.Payment
	for _, p := range unmined {
		if p.State == store.PaymentBroadcast {
			sent = append(sent, p)
		}
	}
	for start := 0; start < len(sent); start += size {
		chunk := sent[start:min(start+size, len(sent))]
		infos, err := rd.b.o.Chain.Transactions(ctx, hashes(chunk))
		if err != nil {
			return fmt.Errorf("transactions: %w", err)
		}
		for i, p := range chunk {
			if !infos[i].Known {
				rd.markResend(p.TxHash)
				if p.Delivery.Block != 0 {
					c := rd.change(p)
					c.Delivery.Block, c.Delivery.BlockHash = 0, common.Hash{} // reorged out before it was confirmed
				}
			}
		}
	}
	return nil
}

// canonical asks the canonical headers at every height a chunk's receipts
// name and every stored block height that views does not hold yet, once
// each, BatchSize heights a batch, and adds them to views.
func (rd *roundState) canonical(ctx context.Context, look []store.Payment, receipts []*types.Receipt, views map[uint64]view) error {
	set := make(map[uint64]bool)
	for i, p := range look {
		if r := receipts[i]; r != nil && r.BlockNumber != nil {
			set[r.BlockNumber.Uint64()] = true
		}
		if p.Delivery.Block != 0 && (p.Delivery.BlockHash != (common.Hash{}) || p.State == store.PaymentConfirmed) {
			set[p.Delivery.Block] = true
		}
	}
	heights := make([]uint64, 0, len(set))
	for h := range set {
		if _, ok := views[h]; !ok {
			heights = append(heights, h)
		}
	}
	slices.Sort(heights)
	size := rd.b.o.BatchSize
	for start := 0; start < len(heights); start += size {
		chunk := heights[start:min(start+size, len(heights))]
		c, err := rd.b.o.Chain.Canonical(ctx, chunk)
		if err != nil {
			return fmt.Errorf("canonical headers: %w", err)
		}
		for i, h := range chunk {
			views[h] = view{header: c.Headers[i], latest: c.Latest.Number, finalized: c.Finalized}
		}
	}
	return nil
}

// judge decides what p's receipt r (nil: none) and the canonical views
// say (see the comment at the top of this file). It reports whether p is
// unmined as far as the lookups tell: no receipt and no block known lost.
func (rd *roundState) judge(ctx context.Context, p store.Payment, r *types.Receipt, views map[uint64]view) bool {
	d := p.Delivery
	var stored view
	hasStored := d.Block != 0 && d.BlockHash != (common.Hash{})
	if hasStored {
		stored = views[d.Block]
	}
	elsewhere := r == nil || r.BlockNumber.Uint64() != d.Block || r.BlockHash != d.BlockHash
	lost := hasStored && stored.header != nil && stored.header.Hash != d.BlockHash && elsewhere
	if r != nil {
		v := views[r.BlockNumber.Uint64()]
		switch {
		case v.header != nil && v.header.Hash == r.BlockHash:
			rd.included(ctx, p, r, v, lost)
			return false
		case v.header != nil:
			// Stale: its block is not canonical there. Never counted;
			// sent again, harmless if the node has it.
			if lost {
				rd.lose(p, stored)
			}
			rd.markResend(p.TxHash)
			return false
		}
		// Not yet: no header at that height in that view (a backend
		// behind, or a node rewound below it). Nothing changes; the bytes
		// are sent again, which costs nothing if the node has them and
		// gets them mined again if it lost them (geth, rewound, serves
		// the old receipts a while but mines nothing at that height until
		// a transaction comes).
		if lost {
			rd.lose(p, stored)
		}
		rd.markResend(p.TxHash)
		return false
	}
	if lost {
		rd.lose(p, stored)
		rd.markResend(p.TxHash)
		return false
	}
	if p.State == store.PaymentConfirmed {
		if v := views[d.Block]; d.Block != 0 && v.header == nil {
			rd.markResend(p.TxHash) // as above: not yet, sent again
		}
		if d.BlockHash == (common.Hash{}) {
			rd.unchecked(p, views[d.Block])
		}
		return false // not yet: a receipt backend behind, say
	}
	return true
}

// included records that p is in the canonical block of r, at view v's
// depth: broadcast while shallower than Confirmations, confirmed, or final.
// lost says the block it was stored in was replaced meanwhile.
func (rd *roundState) included(ctx context.Context, p store.Payment, r *types.Receipt, v view, lost bool) {
	o := &rd.b.o
	block, hash := r.BlockNumber.Uint64(), r.BlockHash
	c := rd.change(p)
	if lost {
		c.Delivery.Reorgs++
		c.Delivery.ReorgNote = fmt.Sprintf("block %d (%s) was replaced at its height; found again in block %d (%s)",
			p.Delivery.Block, p.Delivery.BlockHash.TerminalString(), block, hash.TerminalString())
	}
	moved := p.Delivery.BlockHash != (common.Hash{}) && (p.Delivery.Block != block || p.Delivery.BlockHash != hash)
	c.Delivery.Block, c.Delivery.BlockHash = block, hash
	c.Delivery.LastError = ""
	if c.Delivery.SentAt.IsZero() {
		c.Delivery.SentAt = rd.now
	}
	rd.settle(p.TxHash)
	if r.Status != types.ReceiptStatusSuccessful {
		c.State = store.PaymentFailed
		c.Reason = "reverted in block " + fmt.Sprint(block) + rd.revertReason(ctx, p, block)
		return
	}
	depth := uint64(1)
	if v.latest >= block {
		depth = v.latest - block + 1
	}
	switch {
	case depth < o.Confirmations && p.State == store.PaymentConfirmed && !moved:
		// Its block is the one it was confirmed in: a view this shallow
		// is a backend behind, not a lost block. It stays confirmed.
	case depth < o.Confirmations:
		c.State = store.PaymentBroadcast // mined, waiting for confirmations
	case v.finalized != nil && v.finalized.Number >= block, v.finalized == nil && depth >= o.FinalDepth:
		c.State = store.PaymentFinal
	default:
		c.State = store.PaymentConfirmed
	}
}

// lose records that p's stored block was replaced and the transaction is
// not found in it any more: it is sent again, and a confirmed payment goes
// back to broadcast.
func (rd *roundState) lose(p store.Payment, stored view) {
	c := rd.change(p)
	c.Delivery.Reorgs++
	c.Delivery.ReorgNote = fmt.Sprintf("block %d (%s) was replaced by %s and the transaction is no longer in it; sent again",
		p.Delivery.Block, p.Delivery.BlockHash.TerminalString(), stored.header.Hash.TerminalString())
	c.Delivery.Block, c.Delivery.BlockHash = 0, common.Hash{}
	if c.State == store.PaymentConfirmed {
		c.State = store.PaymentBroadcast
	}
}

// unchecked settles a payment confirmed by a build that kept no block hash
// (store schema 2) whose receipt the node no longer gives: once the
// canonical chain is final past its block it is taken as final, as it was
// recorded. With a receipt it is checked like any other (judge).
func (rd *roundState) unchecked(p store.Payment, v view) {
	if v.header == nil {
		return
	}
	depth := uint64(1)
	if v.latest >= p.Delivery.Block {
		depth = v.latest - p.Delivery.Block + 1
	}
	if v.finalized != nil && v.finalized.Number >= p.Delivery.Block || v.finalized == nil && depth >= rd.b.o.FinalDepth {
		c := rd.change(p)
		c.State = store.PaymentFinal
		rd.b.log.Warn("a payment confirmed before block hashes were kept has no receipt to check; its block is final, so it is taken as final",
			"tx", p.TxHash.Hex(), "block", p.Delivery.Block)
	}
}

func (rd *roundState) markResend(h common.Hash) {
	if rd.resend == nil {
		rd.resend = make(map[common.Hash]bool)
	}
	rd.resend[h] = true
}
