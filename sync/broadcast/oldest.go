package broadcast

import (
	"fmt"
	"time"

	"showpos/terminal/store"
)

// The oldest queued payment (Report.OldestQueued) is found from a mark in
// acceptance order (Seq): every payment at or below the mark has left the
// queued state. A payment never returns to queued, so the mark only moves
// up, and each round finds the oldest queued payment as the first queued
// one after the mark, moving the mark over those sent or settled since:
// each payment is passed over once in the broadcaster's life, and a
// round usually decodes one.
//
// The mark is set by the first whole pass over the open index (warmup),
// or at once by an offline round, which reads the open index whole, a
// window at a time. Until then an online round reports the oldest of the
// payments its pass has read so far: that errs low (or is zero) while the
// pass has yet to reach older ones. Acceptance order is taken for the
// order of AcceptedAt: were the clock stepped back, the first queued in
// Seq order could be younger than the oldest by AcceptedAt.

// warmup gathers the mark during a pass over the open index.
type warmup struct {
	mark   uint64    // LastSeq at the pass's start, lowered below each payment still queued
	oldest time.Time // the oldest payment the pass left queued
}

// note takes in a window whose round is recorded: what it left queued.
func (w *warmup) note(window []store.Payment, rd *roundState) {
	for _, p := range window {
		state := p.State
		if c, ok := rd.changes[p.TxHash]; ok {
			state = c.State
		}
		if state != store.PaymentQueued {
			continue
		}
		if p.Seq <= w.mark && p.Seq > 0 {
			w.mark = p.Seq - 1
		}
		if w.oldest.IsZero() || p.AcceptedAt.Before(w.oldest) {
			w.oldest = p.AcceptedAt
		}
	}
}

// done sets the mark at the end of a pass, unless it is known already.
func (w *warmup) done(l *loop) {
	if !l.markOK {
		l.mark, l.markOK = w.mark, true
	}
}

// oldestQueued fills r.OldestQueued after a round; queued is the count of
// queued payments before it.
func (b *Broadcaster) oldestQueued(r *Report, queued int) error {
	l := &b.loop
	if !l.markOK {
		if r.Online {
			if queued > 0 {
				r.OldestQueued = l.warm.oldest
			}
			return nil
		}
		if err := b.markFromOpen(); err != nil {
			return err
		}
	}
	budget, n := b.o.Window, 1
	var last store.Payment
	for budget > 0 {
		n = min(n, budget)
		ps, err := b.o.Store.Payments(store.PaymentFilter{AfterSeq: l.mark, Limit: n})
		if err != nil {
			return fmt.Errorf("oldest queued: %w", err)
		}
		for _, p := range ps {
			if p.State == store.PaymentQueued {
				r.OldestQueued = p.AcceptedAt
				return nil
			}
			l.mark, last = p.Seq, p
		}
		if len(ps) < n {
			return nil // none queued
		}
		budget -= n
		n = min(2*n, 256)
	}
	// The budget is spent: the oldest queued payment, if any is left, was
	// accepted after the last one passed over. Its age errs high until a
	// later round gets there; with none queued (the round sent the last)
	// there is no age to report.
	counts, err := b.o.Store.Counts()
	if err != nil {
		return fmt.Errorf("oldest queued: %w", err)
	}
	if counts[store.PaymentQueued] > 0 {
		r.OldestQueued = last.AcceptedAt
	}
	return nil
}

// markFromOpen sets the mark from a read of every open payment, a window
// at a time: with 100,000 payments queued, reading them at once held
// ~130 MiB of decoded payments on a board whose store is itself that big.
func (b *Broadcaster) markFromOpen() error {
	seq, err := b.o.Store.LastSeq()
	if err != nil {
		return fmt.Errorf("oldest queued: %w", err)
	}
	var after *store.OpenKey
	for {
		window, err := b.o.Store.OpenPaymentsAfter(after, b.o.Window)
		if err != nil {
			return fmt.Errorf("oldest queued: %w", err)
		}
		for _, p := range window {
			if p.State == store.PaymentQueued && p.Seq <= seq && p.Seq > 0 {
				seq = p.Seq - 1
			}
		}
		if len(window) < b.o.Window {
			break
		}
		k := window[len(window)-1].OpenKey()
		after = &k
	}
	b.loop.mark, b.loop.markOK = seq, true
	return nil
}
