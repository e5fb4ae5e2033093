package watch

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
)

// step is one round (see Round); r collects its report.
func (w *Watcher) step(ctx context.Context, r *Report) error {
	if !w.have {
		c, ok, err := w.o.Ledger.WatchCursor()
		if err != nil {
			return fmt.Errorf("watch: read cursor: %w", err)
		}
		if ok {
			w.cur, w.have = c, true
			w.recorded = c.Height
		}
	}
	askFinal := w.unfinal && (!w.askedOnce || w.cur.Height >= w.finalAsked+w.o.FinalEvery)
	heads, err := w.o.Chain.Heads(ctx, askFinal)
	r.Calls++
	if askFinal {
		r.Calls++
	}
	if err != nil {
		return fmt.Errorf("watch: head: %w", err)
	}
	head := heads.Latest
	r.Head = head.Number
	if askFinal {
		w.askedOnce, w.finalAsked = true, w.cur.Height
		w.tagged = heads.Finalized != nil
		if w.tagged {
			w.finalTag = max(w.finalTag, heads.Finalized.Number)
		}
	}

	if !w.have {
		// The first round: the watcher starts at the head. Nothing before
		// it can pay a request made from now on.
		c := Cursor{Height: head.Number, Hashes: []common.Hash{head.Hash}}
		if err := w.o.Ledger.RecordRange(ctx, c, nil); err != nil {
			return fmt.Errorf("watch: record the first cursor: %w", err)
		}
		w.cur, w.have, w.unfinal = c, true, false
		w.lastNumber, w.lastTime = head.Number, head.Time
		w.log.Info("watch: starting at the head", "block", head.Number)
		return nil
	}

	if head.Number <= w.cur.Height {
		if h, ok := w.cur.hashAt(head.Number); ok && h != head.Hash {
			return w.rewind(ctx, r, head.Number)
		}
		// Nothing new (or a backend behind us).
		return w.settle(ctx, head.Number)
	}

	if behind := head.Number - w.cur.Height; behind > w.o.MaxLookback {
		if err := w.skip(ctx, r, head.Number-w.o.MaxLookback); err != nil {
			return err
		}
	}

	from := w.cur.Height + 1
	to := min(head.Number, from+w.o.MaxRange-1)
	r.More = to < head.Number
	hs, err := w.headers(ctx, r, from, to, head)
	if err != nil {
		return err
	}
	if last, ok := w.cur.hashAt(w.cur.Height); ok && hs[0].ParentHash != last {
		return w.rewind(ctx, r, w.cur.Height)
	}
	for i := 1; i < len(hs); i++ {
		if hs[i].ParentHash != hs[i-1].Hash {
			return fmt.Errorf("%w: block %d does not follow block %d", errMoved, hs[i].Number, hs[i-1].Number)
		}
	}

	var ts []Transfer
	if len(w.tokens) > 0 {
		got, err := w.tokenTransfers(ctx, r, hs)
		if err != nil {
			return err
		}
		ts = append(ts, got...)
	}
	var end *big.Int
	if w.native != "" {
		got, bal, err := w.nativeTransfers(ctx, r, hs)
		if err != nil {
			return err
		}
		ts, end = append(ts, got...), bal
	}
	slices.SortFunc(ts, func(a, b Transfer) int {
		if a.Block != b.Block {
			return cmpU(a.Block, b.Block)
		}
		if a.Gap != b.Gap {
			if a.Gap {
				return 1
			}
			return -1
		}
		return cmpU(uint64(a.Index), uint64(b.Index))
	})

	next := Cursor{Height: to, Hashes: slices.Clone(w.cur.Hashes)}
	for _, h := range hs {
		next.Hashes = append(next.Hashes, h.Hash)
	}
	if n := uint64(len(next.Hashes)); n > w.o.FinalDepth {
		next.Hashes = next.Hashes[n-w.o.FinalDepth:]
	}
	if err := w.o.Ledger.RecordRange(ctx, next, ts); err != nil {
		return fmt.Errorf("watch: record blocks %d..%d: %w", from, to, err)
	}
	w.cur = next
	w.bal, w.balAt = end, hs[len(hs)-1].Hash
	r.Blocks, r.Transfers = len(hs), len(ts)
	for _, t := range ts {
		if t.Gap {
			r.Gaps++
		}
		w.log.Info("watch: transfer to the merchant", "block", t.Block, "tx", t.TxHash.Hex(), "asset", t.Asset,
			"amount", t.Amount.String(), "from", t.From.Hex(), "gap", t.Gap)
	}
	if len(ts) > 0 {
		w.unfinal, w.recorded = true, to
	}
	w.observe(hs[len(hs)-1])
	return w.settle(ctx, head.Number)
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// headers returns the headers from..to, head's included as known.
func (w *Watcher) headers(ctx context.Context, r *Report, from, to uint64, head chain.Header) ([]*chain.Header, error) {
	var nums []uint64
	for n := from; n <= to; n++ {
		if n != head.Number {
			nums = append(nums, n)
		}
	}
	var hs []*chain.Header
	if len(nums) > 0 {
		got, err := w.o.Chain.Headers(ctx, nums)
		r.Calls += len(nums)
		if err != nil {
			return nil, fmt.Errorf("watch: headers %d..%d: %w", from, to, err)
		}
		for i, h := range got {
			if h == nil {
				return nil, fmt.Errorf("%w: no block %d", errMoved, nums[i])
			}
		}
		hs = got
	}
	if to == head.Number {
		hs = append(hs, &head)
	}
	return hs, nil
}

// observe updates the block time estimate with the newest block processed.
func (w *Watcher) observe(h *chain.Header) {
	if w.lastNumber != 0 && h.Number > w.lastNumber && h.Time >= w.lastTime {
		bt := time.Duration(h.Time-w.lastTime) * time.Second / time.Duration(h.Number-w.lastNumber)
		if w.blockTime == 0 {
			w.blockTime = bt
		} else {
			w.blockTime += (bt - w.blockTime) / 8
		}
	}
	w.lastNumber, w.lastTime = h.Number, h.Time
}

// rewind finds where the node's chain and the kept hashes part, at or
// below height, and takes back what was recorded above.
func (w *Watcher) rewind(ctx context.Context, r *Report, height uint64) error {
	oldest := w.cur.Height + 1 - uint64(len(w.cur.Hashes))
	var nums []uint64
	for n := oldest; n <= min(height, w.cur.Height); n++ {
		nums = append(nums, n)
	}
	hs, err := w.o.Chain.Headers(ctx, nums)
	r.Calls += len(nums)
	if err != nil {
		return fmt.Errorf("watch: headers to find a fork: %w", err)
	}
	c := Cursor{}
	found := false
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i] != nil && hs[i].Hash == w.cur.Hashes[i] {
			c = Cursor{Height: nums[i], Hashes: slices.Clone(w.cur.Hashes[:i+1])}
			found = true
			break
		}
	}
	if !found {
		// Deeper than the kept hashes (the final depth): not expected.
		// Go back below them all and follow whatever the node has.
		if oldest > 0 {
			c.Height = oldest - 1
		}
		w.log.Error("watch: a reorg deeper than the kept block hashes; going back below them", "from", w.cur.Height, "to", c.Height)
	}
	if err := w.o.Ledger.Rewind(ctx, c); err != nil {
		return fmt.Errorf("watch: rewind to %d: %w", c.Height, err)
	}
	w.log.Warn("watch: blocks reorganised away; what they held is taken back", "from", w.cur.Height, "to", c.Height)
	w.cur, w.bal = c, nil
	w.unfinal, w.settledC, w.settledF = true, 0, 0
	w.lastNumber, w.lastTime = 0, 0
	r.Reorg = true
	r.More = true // go on at once
	return nil
}

// skip moves the cursor to block n without processing the blocks before
// it: further behind the head than MaxLookback.
func (w *Watcher) skip(ctx context.Context, r *Report, n uint64) error {
	hs, err := w.o.Chain.Headers(ctx, []uint64{n})
	r.Calls++
	if err != nil {
		return fmt.Errorf("watch: header %d: %w", n, err)
	}
	if hs[0] == nil {
		return fmt.Errorf("%w: no block %d", errMoved, n)
	}
	c := Cursor{Height: n, Hashes: []common.Hash{hs[0].Hash}}
	if err := w.o.Ledger.RecordRange(ctx, c, nil); err != nil {
		return fmt.Errorf("watch: skip to %d: %w", n, err)
	}
	w.log.Warn("watch: offline longer than watch.max_lookback; blocks skipped: payments in them are not seen",
		"from", w.cur.Height+1, "to", n, "max_lookback", w.o.MaxLookback)
	r.Skipped, r.SkippedTo = n-w.cur.Height, n
	w.cur, w.bal = c, nil
	w.lastNumber, w.lastTime = 0, 0
	return nil
}

// settle tells the ledger how far payments are confirmed and final, while
// a recorded transfer may not be final yet. The rule is the
// broadcaster's: a block is confirmed with Confirmations-1 blocks on top
// of it, final once the node's finalized block is at or above it (or,
// without that tag, FinalDepth deep), never before it is confirmed.
func (w *Watcher) settle(ctx context.Context, head uint64) error {
	if !w.unfinal {
		return nil
	}
	var confirmed, final uint64
	if head+1 >= w.o.Confirmations {
		confirmed = head + 1 - w.o.Confirmations
	}
	switch {
	case !w.askedOnce:
		// Whether the node has a finalized block is not known yet: the
		// depth rule is only for nodes without one. Final waits a round.
		final = w.settledF
	case w.tagged:
		final = w.finalTag
	case head+1 >= w.o.FinalDepth:
		final = head + 1 - w.o.FinalDepth
	}
	confirmed = min(confirmed, w.cur.Height)
	final = min(final, confirmed)
	if confirmed == w.settledC && final == w.settledF {
		return nil
	}
	if err := w.o.Ledger.Settle(ctx, confirmed, final); err != nil {
		return fmt.Errorf("watch: settle %d, %d: %w", confirmed, final, err)
	}
	w.settledC, w.settledF = confirmed, final
	if final >= w.recorded {
		w.unfinal = false
	}
	return nil
}
