package broadcast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
	"showpos/terminal/store"
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
	cursor *store.OpenKey // the last key the pass has done; nil: start at the first
	// ucursor is the last key of the unfinal index followed; each sweep
	// round follows the next window of it, wrapping around at its end.
	ucursor   *store.OpenKey
	passing   bool // a pass is under way
	passStart time.Time
	swept     bool          // a whole pass has ended since Run began
	stuck     int           // sweeps in a row that read the window at cursor again
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

// maxStuck is how many sweeps in a row may read the same window again, its
// sends cut short, before the pass moves on anyway: a batch that fails
// every time (a proxy refusing its body, a node that never answers it)
// must not hold up the senders after it, nor the end of the pass that kick
// rounds wait for.
const maxStuck = 3

// sweepWindow reads the next window of the open index and does a round's
// work on it. The cursor moves on when the window's sends all ran; when a
// send was cut short by the link, it moves up to the first payment never
// tried (the ones in the failed batch wait out a backoff, which holds
// their senders' later nonces), so a sender's later nonces never go before
// its earlier ones. A window read maxStuck times in a row without getting
// further is passed over (logged): its payments wait out backoffs and the
// next pass reads them again.
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
		// The pass reads every payment accepted up to seq; kick rounds
		// need only look after it.
		l.lastSeq, l.seqOK = max(l.lastSeq, seq), true
	}
	window, err := b.o.Store.OpenPaymentsAfter(l.cursor, b.o.Window)
	if err != nil {
		b.readFailed(r, "read outbox", err)
		return
	}
	end := len(window) < b.o.Window
	var hi *store.OpenKey // the last key the window covers; nil: all to the end
	if !end {
		k := window[len(window)-1].OpenKey()
		hi = &k
	}
	unfinal, err := b.o.Store.UnfinalAfter(l.ucursor, b.o.Window)
	if err != nil {
		b.readFailed(r, "read outbox", err)
		return
	}
	rd := b.newRound(now)
	send := func() bool {
		// The walk in send finds again the waits in the window it forgets.
		l.unblock(l.cursor, hi)
		err := rd.send(ctx, window)
		if err != nil {
			r.Err = joinErr(r.Err, err.Error())
		}
		// A failed lookup comes after every send was made.
		return err == nil || errors.Is(err, errLookUp)
	}
	done := false
	if err := rd.follow(ctx, window); err != nil {
		r.Err = err.Error()
		// Without the lookups nothing can be expired, but sending is still
		// safe (a node answers a known transaction without harm) unless
		// the link itself is down. A node still indexing answers lookups
		// with an error for a while; sends must not wait for it.
		if !chain.IsTransport(err) {
			done = send()
		}
	} else {
		rd.expire(window)
		done = send()
	}
	// Then the confirmed payments, until final: after the window's sends,
	// so that following them (a window of lookups of its own, every round
	// until final, some 13 minutes on Ethereum) never holds up a payment
	// waiting to be sent, on a link that fails every few requests. Not
	// when the link failed under the window (done is false): the round
	// is over.
	followed := false // the unfinal window was looked at: its cursor moves on
	if len(unfinal) > 0 && done {
		err := rd.follow(ctx, unfinal)
		followed = err == nil || !chain.IsTransport(err)
		if err != nil {
			r.Err = joinErr(r.Err, err.Error())
		} else if len(rd.resend) > 0 {
			// Confirmed payments whose block was lost (or whose receipt
			// is stale) are sent again; their window is not the pass's.
			untried := rd.untried
			if err := rd.send(ctx, unfinal); err != nil {
				r.Err = joinErr(r.Err, err.Error())
			}
			rd.untried = untried
		}
	}
	if !b.record(ctx, rd, r) {
		return
	}
	if followed || len(unfinal) == 0 {
		l.ucursor = nil
		if len(unfinal) == b.o.Window {
			k := unfinal[len(unfinal)-1].OpenKey()
			l.ucursor = &k
		}
	}
	if !done && rd.untried != nil {
		// Cut short after some sends: go on from the first untried
		// payment, a Poll from now.
		i := slices.IndexFunc(window, func(p store.Payment) bool { return p.OpenKey() == *rd.untried })
		if i > 0 {
			k := window[i-1].OpenKey()
			l.cursor, l.stuck = &k, 0
			return
		}
	}
	if !done {
		if l.stuck++; l.stuck < maxStuck {
			return // read again a Poll from now
		}
		b.log.Warn("broadcast: a window of the outbox failed again and again; passing over it to the next",
			"after", cursorString(l.cursor), "payments", len(window), "err", r.Err)
	}
	l.stuck = 0
	if !end {
		l.cursor, l.sweepIn = hi, 0
		if !done {
			l.sweepIn = b.o.Poll
		}
		return
	}
	// The pass is over; the next starts a Poll after this one began.
	l.passing, l.cursor, l.swept = false, nil, true
	l.sweepIn = min(b.o.Poll, max(0, b.o.Poll-now.Sub(l.passStart)))
	if counts, err := b.o.Store.Counts(); err == nil &&
		counts[store.PaymentQueued]+counts[store.PaymentBroadcast]+counts[store.PaymentConfirmed] == 0 {
		l.sweepIn, l.idle = time.Minute, true // nothing open or to follow: kicks wake it
	}
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func cursorString(k *store.OpenKey) string {
	if k == nil {
		return "start"
	}
	return fmt.Sprintf("%s nonce %d", k.From.Hex(), k.Nonce)
}

// sendFresh sends the payments accepted since the last kick round that were
// never tried and whose turn it is (see inTurn). What it holds back, the
// next pass sends.
func (b *Broadcaster) sendFresh(ctx context.Context, now time.Time, r *Report) {
	l := &b.loop
	l.kickMore = false
	fresh, err := b.o.Store.Payments(store.PaymentFilter{AfterSeq: l.lastSeq, Limit: b.o.Window})
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
func (b *Broadcaster) inTurn(now time.Time, fresh []store.Payment) ([]store.Payment, error) {
	var ps []store.Payment
	for _, p := range fresh {
		// Only handed-over transactions are the broadcaster's: an EIP-3009
		// authorization (in acceptance order beside them) has no raw
		// transaction; the relayer submits it.
		if p.Source == store.SourceHandover && p.State == store.PaymentQueued && p.Delivery.Attempts == 0 && !p.Delivery.NextAttempt.After(now) &&
			now.Sub(p.AcceptedAt) <= b.o.MaxAge {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(x, y store.Payment) int { return x.OpenKey().Compare(y.OpenKey()) })
	var due []store.Payment
	going := make(map[store.OpenKey]bool)
	l := &b.loop
	for _, p := range ps {
		if l.held(p) {
			continue
		}
		// A sender whose payments the pass has read only in part: a wait
		// among the rest is not known yet (blocked keeps one per sender,
		// found again window by window). The pass's next window, due at
		// once, sends it in turn.
		if l.passing && l.cursor != nil && l.cursor.From == p.From {
			continue
		}
		prev, ok, err := b.o.Store.OpenBefore(p.From, p.Nonce)
		if err != nil {
			return nil, err
		}
		if ok && prev.State == store.PaymentQueued && !going[prev.OpenKey()] {
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
func (l *loop) unblock(lo, hi *store.OpenKey) {
	for from, nonce := range l.blocked {
		k := store.OpenKey{From: from, Nonce: nonce}
		if (lo == nil || lo.Compare(k) < 0) && (hi == nil || k.Compare(*hi) <= 0) {
			delete(l.blocked, from)
		}
	}
}

// held reports whether p must wait for an earlier nonce of its sender.
func (l *loop) held(p store.Payment) bool {
	n, ok := l.blocked[p.From]
	return ok && p.Nonce > n
}

// readFailed reports a failed store read in r.
func (b *Broadcaster) readFailed(r *Report, what string, err error) {
	r.Err = fmt.Sprintf("%s: %v", what, err)
	b.log.Error(what, "err", err)
}
