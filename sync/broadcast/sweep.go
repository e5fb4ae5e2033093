package broadcast

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
	"showpos/sync/outbox"
)

// roundKind is what an online round reads and does.
type roundKind int

const (
	// sweepRound reads the next window of the open index and follows,
	// expires and sends what is in it.
	sweepRound roundKind = iota
	// kickRound reads the payments accepted since the last one seen and
	// sends those never tried whose turn it is; it looks nothing up.
	kickRound
)

// loop is Run's own state; only Run's goroutine touches it.
type loop struct {
	// The pass over the open index, a window per sweep round.
	cursor    *outbox.OpenKey // the last key the pass has done; nil: start at the first
	passing   bool            // a pass is under way
	passStart time.Time
	swept     bool          // a whole pass has ended since Run began
	sweepIn   time.Duration // set by a sweep round: when the next one is due
	idle      bool          // the next sweep was put off because nothing was open
	last      roundKind

	// blocked holds, per sender, the nonce of a payment known to be
	// waiting out a backoff: the sender's later nonces are not sent until
	// a sweep has read that key again (see unblock).
	blocked map[common.Address]uint64

	// Kick rounds read by_seq after lastSeq (set at the first pass's start).
	lastSeq  uint64
	seqOK    bool
	kickMore bool // the last kick round stopped at Window payments

	// The oldest queued payment; see oldest.go.
	mark   uint64 // every payment with Seq <= mark has left the queued state
	markOK bool
	warm   warmup
}

// next chooses the round to run, if any: while offline, one on every
// wake; online, a forced sweep first (Sync, the chain coming online, the
// start), then kick rounds and due sweeps taking turns. Kick rounds wait
// for a first whole pass: until then blocked is not known.
func (b *Broadcaster) next(force, due, kicked bool) (roundKind, bool) {
	l := &b.loop
	switch {
	case !b.o.Chain.Status().Online:
		return sweepRound, force || due || kicked
	case force:
		return sweepRound, true
	case kicked && l.swept && (!due || l.last == sweepRound):
		return kickRound, true
	case due:
		return sweepRound, true
	}
	return 0, false
}

// sweepWindow reads the next window of the open index and does a round's
// work on it. The cursor moves on only when the window's sends all ran: a
// window cut short by the link is read again, so a sender's later nonces,
// in the next window, never go before its earlier ones.
func (b *Broadcaster) sweepWindow(ctx context.Context, now time.Time, r *Report) {
	l := &b.loop
	l.sweepIn, l.idle = b.o.Poll, false // unless the window is done
	if !l.passing {
		seq, err := b.o.Store.LastSeq()
		if err != nil {
			b.readFailed(r, "read outbox", err)
			return
		}
		l.passing, l.passStart, l.cursor = true, now, nil
		l.warm = warmup{mark: seq}
		if !l.seqOK {
			l.lastSeq, l.seqOK = seq, true
		}
	}
	window, err := b.o.Store.OpenPaymentsAfter(l.cursor, b.o.Window)
	if err != nil {
		b.readFailed(r, "read outbox", err)
		return
	}
	end := len(window) < b.o.Window
	var hi *outbox.OpenKey // the last key the window covers; nil: all to the end
	if !end {
		k := window[len(window)-1].OpenKey()
		hi = &k
	}
	rd := b.newRound(now)
	send := func() error {
		// The walk in send finds again the waits in the window it forgets.
		l.unblock(l.cursor, hi)
		return rd.send(ctx, window)
	}
	done := false
	if err := rd.follow(ctx, window); err != nil {
		r.Err = err.Error()
		// Without the lookups nothing can be expired, but sending is still
		// safe (a node answers a known transaction without harm) unless
		// the link itself is down. A node still indexing answers lookups
		// with an error for a while; sends must not wait for it.
		if !chain.IsTransport(err) {
			if err := send(); err != nil {
				r.Err += "; " + err.Error()
			} else {
				done = true
			}
		}
	} else {
		rd.expire(window)
		if err := send(); err != nil {
			r.Err = err.Error()
		} else {
			done = true
		}
	}
	if !b.record(ctx, rd, r) || !done {
		return
	}
	if !l.markOK {
		l.warm.note(window, rd)
	}
	if !end {
		l.cursor, l.sweepIn = hi, 0
		return
	}
	// The pass is over; the next starts a Poll after this one began.
	l.passing, l.cursor, l.swept = false, nil, true
	l.warm.done(l)
	l.sweepIn = max(0, b.o.Poll-now.Sub(l.passStart))
	if r.Open == r.Confirmed+r.Failed {
		l.sweepIn, l.idle = time.Minute, true // nothing open: kicks wake it
	}
}

// sendFresh sends the payments accepted since the last kick round that were
// never tried and whose turn it is (see inTurn). What it holds back, the
// next pass sends.
func (b *Broadcaster) sendFresh(ctx context.Context, now time.Time, r *Report) {
	l := &b.loop
	l.kickMore = false
	fresh, err := b.o.Store.Payments(outbox.PaymentFilter{AfterSeq: l.lastSeq, Limit: b.o.Window})
	if err != nil {
		b.readFailed(r, "read new payments", err)
		return
	}
	l.kickMore = len(fresh) == b.o.Window
	if len(fresh) == 0 {
		return
	}
	l.lastSeq = fresh[len(fresh)-1].Seq
	due, err := b.inTurn(now, fresh)
	if err != nil {
		b.readFailed(r, "read new payments", err)
		return
	}
	rd := b.newRound(now)
	if err := rd.send(ctx, due); err != nil {
		r.Err = err.Error()
	}
	b.record(ctx, rd, r)
}

// inTurn picks, from payments just accepted, those a kick round sends: never
// tried, within their maximum age, and next in their sender's line: no
// earlier nonce of the sender is queued (unless it goes in this round,
// ahead) or waiting out a backoff. Sorted by sender, then nonce.
func (b *Broadcaster) inTurn(now time.Time, fresh []outbox.Payment) ([]outbox.Payment, error) {
	var ps []outbox.Payment
	for _, p := range fresh {
		if p.State == outbox.PaymentQueued && p.Delivery.Attempts == 0 && !p.Delivery.NextAttempt.After(now) &&
			now.Sub(p.AcceptedAt) <= b.o.MaxAge {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(x, y outbox.Payment) int { return x.OpenKey().Compare(y.OpenKey()) })
	var due []outbox.Payment
	going := make(map[outbox.OpenKey]bool)
	for _, p := range ps {
		if b.loop.held(p) {
			continue
		}
		prev, ok, err := b.o.Store.OpenBefore(p.From, p.Nonce)
		if err != nil {
			return nil, err
		}
		if ok && prev.State == outbox.PaymentQueued && !going[prev.OpenKey()] {
			continue
		}
		due = append(due, p)
		going[p.OpenKey()] = true
	}
	return due, nil
}

// block records that from's payment at nonce waits out a backoff.
func (l *loop) block(from common.Address, nonce uint64) {
	if l.blocked == nil {
		l.blocked = make(map[common.Address]uint64)
	}
	if n, ok := l.blocked[from]; !ok || nonce < n {
		l.blocked[from] = nonce
	}
}

// unblock forgets the blocks whose key lies in the window (lo, hi] (nil:
// unbounded) about to be read: the window's walk finds them again if they
// still hold, or finds the payment sent, settled or gone.
func (l *loop) unblock(lo, hi *outbox.OpenKey) {
	for from, nonce := range l.blocked {
		k := outbox.OpenKey{From: from, Nonce: nonce}
		if (lo == nil || lo.Compare(k) < 0) && (hi == nil || k.Compare(*hi) <= 0) {
			delete(l.blocked, from)
		}
	}
}

// held reports whether p must wait for an earlier nonce of its sender.
func (l *loop) held(p outbox.Payment) bool {
	n, ok := l.blocked[p.From]
	return ok && p.Nonce > n
}

// readFailed reports a failed store read in r.
func (b *Broadcaster) readFailed(r *Report, what string, err error) {
	r.Err = fmt.Sprintf("%s: %v", what, err)
	b.log.Error(what, "err", err)
}
