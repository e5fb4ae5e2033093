// Package broadcast sends accepted payments to the Ethereum network
// whenever it can be reached, and follows them until they are final.
//
// The outbox holds every accepted payment durably. While the chain is
// online the broadcaster works in rounds whose cost does not grow with the
// backlog: no round reads more than Options.Window payments. There are two
// kinds of round.
//
// A sweep round reads the next window of the open index (the queued and
// broadcast payments, by sender, then nonce), after a cursor, and
//
//  1. follows the payments it has sent, and the next window of the
//     confirmed ones not yet final (the unfinal index, its own cursor): a
//     receipt whose block is the canonical one at its height (follow.go)
//     with enough confirmations makes a payment confirmed, and final once
//     that block is final (the node's finalized block, or FinalDepth); a
//     reverted receipt makes it failed with the revert reason; a stale
//     receipt confirms nothing; a sent transaction the node no longer
//     knows, or whose block was lost, is sent again (a confirmed one goes
//     back to broadcast, reported);
//  2. fails what is past its maximum age, with a reason (nothing is
//     retried forever);
//  3. sends what is due, per sender strictly in nonce order, the stored
//     raw bytes unchanged, many senders in one batched JSON-RPC request;
//  4. classifies every answer (see Classify) and records the whole round's
//     changes in one durable store transaction.
//
// The confirmed payments of step 1 are looked up after the window's sends
// (and sent again, if their block was lost, after that), unless the link
// failed under the window: following them until final, every round, must
// never stand between a queued payment and the network. Lookups go
// BatchSize payments at a time (receipts, then the canonical headers at
// their heights); when the link fails under one batch, what the earlier
// ones found is recorded, so a link that carries only a few requests at a
// time still moves payments on.
//
// The cursor then moves past the window's last key; successive sweeps make
// a pass over the whole index and wrap around to its start, so every
// sender is reached once a pass, whatever its place in the index. When a
// window's sends were cut short (the link failed under a batch) the
// cursor moves only up to the first payment never tried, and the sweep
// goes on from there after a Poll; a window that gets no further three
// times in a row is passed over (its payments wait out backoffs; the next
// pass reads them again), so one batch that always fails holds up no
// other sender. The windows of a pass follow each other at once; the
// next pass starts a Poll after this one began. Sync and the chain coming
// online run the next window at once. So each payment is looked up at
// most once per Poll, and a backlog of N payments is passed over in
// N/Window rounds.
//
// A kick round (Kick: a payment was accepted) reads only the payments
// accepted since the last one it saw, from the acceptance-order index
// (Seq), and sends those never tried whose turn it is; it follows no
// receipts (it looks a payment up only when the node answers "nonce too
// low" or "underpriced"). What it holds back the next pass sends. Kick
// rounds and due sweeps take turns.
//
// Nonce order holds across windows and kinds of round. A sender's payment
// is not sent while an earlier nonce of the sender waits out a backoff:
// the broadcaster remembers, per sender, the nonce of a payment it found
// waiting or made wait (in any round), holds that sender's later nonces in
// later windows and in kick rounds, and forgets it when a sweep reads that
// key again (and finds it waiting still, sent, or gone). A kick round also
// holds a payment whose sender's previous open payment is queued, unless
// that one goes ahead of it in the same round, and a payment whose sender
// the current pass has read only in part (the cursor is inside its run:
// a wait further on is not known yet). Kick rounds begin only after
// a whole pass since Run began, when the remembered waits are complete.
// (Within one batch the node may refuse nonce n and take n+1, as before:
// it keeps n+1 until n arrives.)
//
// Report.Open is the count of queued and broadcast payments before the
// round (Store.Counts). Report.OldestQueued is the AcceptedAt of the first
// payment in acceptance order still queued after the round, read every
// round from the store's queued index (Store.OldestQueued: one seek).
//
// While offline, a round (on each kick, on Sync, and each minute) reads
// the counts and the oldest queued payment, nothing else: its cost does
// not grow with the queue.
//
// A restart at any point resumes from the store: a payment sent but not
// yet recorded as sent is sent again, and the node's answer ("already
// known", or "nonce too low" for one already mined) leads to the same
// state, so nothing is lost or counted twice.
package broadcast

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/device/clock"
	"showpos/sync/chain"
	"showpos/terminal/store"
)

// Store is what the broadcaster needs from the outbox. Every read is
// windowed (OpenPaymentsAfter, Payments after a Seq, OpenBefore, LastSeq)
// or one seek (OldestQueued, Counts), or reads the failures alone
// (RecentFailures): no round holds more than Window payments (see the
// package comment).
type Store interface {
	OpenPaymentsAfter(after *store.OpenKey, limit int) ([]store.Payment, error)
	UnfinalAfter(after *store.OpenKey, limit int) ([]store.Payment, error)
	OpenBefore(from common.Address, nonce uint64) (store.Payment, bool, error)
	LastSeq() (uint64, error)
	Counts() (map[store.PaymentState]int, error)
	OldestQueued() (store.Payment, bool, error)
	RecentFailures(limit int) ([]store.Payment, error)
	Payments(f store.PaymentFilter) ([]store.Payment, error)
	Apply(ctx context.Context, now time.Time, changes []store.Change) ([]store.Payment, error)
}

// Chain is what the broadcaster needs from the network.
type Chain interface {
	Status() chain.Status
	Changes() <-chan chain.Status
	Probe(ctx context.Context) chain.Status
	SendBatch(ctx context.Context, raws [][]byte) ([]error, error)
	Receipts(ctx context.Context, hashes []common.Hash) ([]*types.Receipt, error)
	Transactions(ctx context.Context, hashes []common.Hash) ([]chain.TxInfo, error)
	Canonical(ctx context.Context, numbers []uint64) (chain.Canonical, error)
	Call(ctx context.Context, msg chain.CallMsg, block string) ([]byte, error)
}

// Options configure a Broadcaster. Store and Chain are required.
type Options struct {
	Store  Store
	Chain  Chain
	Clock  clock.Clock // nil: clock.System
	Logger *slog.Logger

	// Confirmations a receipt needs before the payment is confirmed: its
	// block must be the canonical one at its height, with Confirmations-1
	// blocks on top (the block that includes it counts as one). Default 1.
	Confirmations uint64
	// FinalDepth is how deep a confirmed payment's block must be to be
	// final on a node that has no "finalized" block tag (counted as
	// Confirmations). Where the node names a finalized block, that is used
	// instead. Default 64 (two epochs of Ethereum's beacon chain, about
	// 13 minutes: finality there takes 2–3 epochs, and reorganisations on
	// chains without it rarely reach that deep); never below Confirmations.
	FinalDepth uint64
	// MaxAge ends every effort: a payment not mined this long after it was
	// accepted is failed. Default 72h.
	MaxAge time.Duration
	// FundsWindow is how long "insufficient funds" is retried before the
	// payment fails. Default 10m.
	FundsWindow time.Duration
	// BatchSize caps the transactions (and lookups) in one JSON-RPC batch.
	// Default 100.
	BatchSize int
	// OneAtATime sends each transaction in its own call, for endpoints that
	// refuse batches (and to measure what batching saves).
	OneAtATime bool
	// Window caps the open payments one sweep round reads (and follows,
	// and sends), and the new payments one kick round reads: a round's
	// cost follows Window, not the backlog. Larger windows pass over a
	// backlog in fewer rounds, each holding more in memory and taking
	// longer. Default 1000 (ten lookup batches of the default BatchSize).
	Window int
	// Poll is the least time from the start of one pass over the open
	// payments to the start of the next, while some are in flight: each is
	// looked up at most once per Poll (kick rounds send new payments in
	// between). Default 1s.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the jittered, doubling wait before a
	// payment whose send failed is tried again. Defaults 1s and 1m.
	MinBackoff, MaxBackoff time.Duration
	// OnRound, if set, is called with each round's report (metrics). It
	// must not block.
	OnRound func(Report)
	// ChainID is the chain this broadcaster's network is (0: not
	// checked). A stored transaction signed for another chain is never
	// sent to this one: it stays queued, retried with backoff, with a
	// LastError naming both chains (a store whose records were filed
	// under the wrong network; a node would refuse the transaction and
	// the payment would fail for good).
	ChainID uint64
}

// Event tells that a payment changed state in a way its watchers must
// hear: confirmed, final, failed (with Reason), or back to broadcast from
// confirmed because its block was lost (Delivery.Reorgs, ReorgNote): the
// cashier showed it paid, and it is being sent again.
type Event struct {
	Payment store.Payment
}

// Report sums up a round.
type Report struct {
	At        time.Time
	Online    bool
	Open      int // queued or broadcast before the round (all, not the window's)
	Unfinal   int // confirmed, followed until final, before the round
	Sent      int
	Confirmed int // payments that became confirmed
	Final     int // payments that became final
	Failed    int
	Retrying  int
	// Reorged counts payments whose block was lost (the canonical chain
	// has another block at its height and the transaction is no longer
	// in it): sent again, or found in another block.
	Reorged int
	// OldestQueued is the AcceptedAt of the first payment in acceptance
	// order still queued after the round (zero: none).
	OldestQueued time.Time
	Err          string // why the round stopped short, if it did
}

// Broadcaster drains the outbox into the network. Run owns its loop.
type Broadcaster struct {
	o    Options
	log  *slog.Logger
	kick chan struct{}
	sync chan chan Report

	mu       sync.Mutex
	last     Report
	lastSync Report // the last round made while online
	subs     map[chan Event]struct{}

	loop loop // Run's own
}

// New returns a broadcaster; Run starts it.
func New(o Options) *Broadcaster {
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Confirmations == 0 {
		o.Confirmations = 1
	}
	if o.FinalDepth == 0 {
		o.FinalDepth = 64
	}
	o.FinalDepth = max(o.FinalDepth, o.Confirmations)
	if o.MaxAge <= 0 {
		o.MaxAge = 72 * time.Hour
	}
	if o.FundsWindow <= 0 {
		o.FundsWindow = 10 * time.Minute
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Window <= 0 {
		o.Window = 1000
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broadcaster{
		o:    o,
		log:  log,
		kick: make(chan struct{}, 1),
		sync: make(chan chan Report),
		subs: make(map[chan Event]struct{}),
	}
}

// Kick asks for a round soon (a payment was just accepted). It never blocks.
func (b *Broadcaster) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Sync probes the chain, runs a sweep round now (the next window of open
// payments: with more than Options.Window open, not all of them) and
// returns the queue after it. It needs Run to be running.
func (b *Broadcaster) Sync(ctx context.Context) (Queue, error) {
	b.o.Chain.Probe(ctx)
	reply := make(chan Report, 1)
	select {
	case b.sync <- reply:
	case <-ctx.Done():
		return Queue{}, ctx.Err()
	}
	select {
	case <-reply:
		return b.Queue()
	case <-ctx.Done():
		return Queue{}, ctx.Err()
	}
}

// Last returns the report of the latest round.
func (b *Broadcaster) Last() Report {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// LastSync returns the report of the last round made while online: when
// the terminal last synced with the chain (zero: never since start).
func (b *Broadcaster) LastSync() Report {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastSync
}

// Subscribe returns a channel of payment events (see Event), and a
// function that ends the subscription. Events are a nudge for the screen;
// the store is the record: a subscriber that falls 64 events behind misses
// some (it is logged), and reads the store instead.
func (b *Broadcaster) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

func (b *Broadcaster) publish(p store.Payment) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- Event{Payment: p}:
		default:
			b.log.Warn("event subscriber is behind; event dropped", "tx", p.TxHash.Hex(), "state", p.State)
		}
	}
}

// Run drains the outbox until ctx ends: a sweep round at once, then the
// rounds the package comment describes, when kicked, when the chain comes
// online, when Sync asks, and when a sweep is due.
func (b *Broadcaster) Run(ctx context.Context) error {
	changes := b.o.Chain.Changes()
	sweeps := time.NewTimer(time.Minute) // the next sweep is due when it fires
	defer sweeps.Stop()
	var reply chan Report
	force, due, kicked := true, false, false
	for {
		kind, ok := b.next(force, due, kicked)
		if ok {
			r := b.round(ctx, kind)
			b.mu.Lock()
			b.last = r
			if r.Online {
				b.lastSync = r
			}
			b.mu.Unlock()
			if b.o.OnRound != nil {
				b.o.OnRound(r)
			}
			if reply != nil {
				reply <- r
				reply = nil
			}
			switch {
			case !r.Online:
				// Offline: a round on each kick, on the chain coming back,
				// and every minute.
				force, due, kicked = false, false, false
				sweeps.Reset(time.Minute)
			case kind == kickRound:
				kicked = b.loop.kickMore
				if b.loop.idle && r.Open > 0 {
					// Payments were sent: follow them within a Poll.
					b.loop.idle = false
					sweeps.Reset(b.o.Poll)
				}
			default:
				force, due = false, false
				sweeps.Reset(b.loop.sweepIn)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		_, more := b.next(force, due, kicked)
		if more {
			// More to do at once: only take in what came meanwhile.
			select {
			case <-b.kick:
				kicked = true
			case reply = <-b.sync:
				force = true
			case <-changes:
				force = true
			case <-sweeps.C:
				due = true
			default:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.kick:
			kicked = true
		case reply = <-b.sync:
			force = true
		case <-changes:
			force = true
		case <-sweeps.C:
			due = true
		}
	}
}

// backoff is the jittered wait before try number attempts+1: it doubles
// from MinBackoff up to MaxBackoff, and is drawn from its upper half so
// payments that failed together do not retry together.
func (b *Broadcaster) backoff(attempts int) time.Duration {
	d := b.o.MinBackoff
	for i := 1; i < attempts && d < b.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, b.o.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Queue is the outbox as an operator sees it.
type Queue struct {
	Counts       map[store.PaymentState]int `json:"counts"`
	OldestQueued *time.Time                 `json:"oldestQueued,omitempty"`
	OldestAge    string                     `json:"oldestQueuedAge,omitempty"`
	Chain        ChainView                  `json:"chain"`
	LastRound    RoundView                  `json:"lastRound"`
	// RecentFailures are the latest payments that failed after they were
	// accepted, newest first, with the reason: what the cashier and the
	// fleet must hear about.
	RecentFailures []Failure `json:"recentFailures"`
	// Network and ChainID name the network of one broadcaster's queue;
	// Networks holds each network's own queue in a merged one (Merge).
	Network  string  `json:"network,omitempty"`
	ChainID  uint64  `json:"chainId,omitempty"`
	Networks []Queue `json:"networks,omitempty"`
}

// Merge is the queues of several networks' broadcasters as one: counts
// summed, the oldest queued payment of all, online only when every
// network is (Chain is the first offline network's otherwise), the
// default network's (the first) last round, the latest failures of all,
// and each network's own queue in Networks. One queue is returned as it
// is.
func Merge(qs []Queue) Queue {
	switch len(qs) {
	case 0:
		return Queue{Counts: map[store.PaymentState]int{}, RecentFailures: []Failure{}}
	case 1:
		return qs[0]
	}
	out := Queue{Counts: map[store.PaymentState]int{}, Chain: qs[0].Chain, LastRound: qs[0].LastRound, Networks: qs}
	seen := map[string]bool{}
	for _, q := range qs {
		for s, n := range q.Counts {
			out.Counts[s] += n
		}
		if q.OldestQueued != nil && (out.OldestQueued == nil || q.OldestQueued.Before(*out.OldestQueued)) {
			out.OldestQueued, out.OldestAge = q.OldestQueued, q.OldestAge
		}
		if !q.Chain.Online && out.Chain.Online {
			out.Chain = q.Chain
		}
		for _, f := range q.RecentFailures {
			if !seen[f.TxHash] {
				seen[f.TxHash] = true
				out.RecentFailures = append(out.RecentFailures, f)
			}
		}
	}
	slices.SortStableFunc(out.RecentFailures, func(a, b Failure) int { return b.At.Compare(a.At) })
	if len(out.RecentFailures) > recentFailures {
		out.RecentFailures = out.RecentFailures[:recentFailures]
	}
	if out.RecentFailures == nil {
		out.RecentFailures = []Failure{}
	}
	return out
}

// Failure is a payment that failed after acceptance.
type Failure struct {
	TxHash    string    `json:"txHash"`
	RequestID string    `json:"requestId"`
	From      string    `json:"from"`
	Nonce     uint64    `json:"nonce"`
	Asset     string    `json:"asset"`
	Amount    string    `json:"amount"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// recentFailures is how many failures Queue lists.
const recentFailures = 5

// ChainView is the connectivity part of Queue.
type ChainView struct {
	Online      bool       `json:"online"`
	Endpoint    string     `json:"endpoint,omitempty"`
	LastContact *time.Time `json:"lastContact,omitempty"`
	Since       *time.Time `json:"since,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// RoundView is a Report as JSON.
type RoundView struct {
	At        *time.Time `json:"at,omitempty"`
	Sent      int        `json:"sent"`
	Confirmed int        `json:"confirmed"`
	Final     int        `json:"final"`
	Reorged   int        `json:"reorged"`
	Failed    int        `json:"failed"`
	Retrying  int        `json:"retrying"`
	Err       string     `json:"error,omitempty"`
}

// Queue reports the outbox: payments per state, the oldest queued one,
// connectivity and the latest round.
func (b *Broadcaster) Queue() (Queue, error) {
	counts, err := b.o.Store.Counts()
	if err != nil {
		return Queue{}, fmt.Errorf("queue: %w", err)
	}
	st := b.o.Chain.Status()
	last := b.Last()
	q := Queue{
		Counts: counts,
		Chain:  ChainView{Online: st.Online, Endpoint: st.Endpoint, LastContact: timePtr(st.LastContact), Since: timePtr(st.Since), Reason: st.Err},
		LastRound: RoundView{At: timePtr(last.At), Sent: last.Sent, Confirmed: last.Confirmed, Final: last.Final,
			Reorged: last.Reorged, Failed: last.Failed, Retrying: last.Retrying, Err: last.Err},
	}
	failed, err := b.o.Store.RecentFailures(recentFailures)
	if err != nil {
		return Queue{}, fmt.Errorf("queue: %w", err)
	}
	q.RecentFailures = make([]Failure, len(failed))
	for i, p := range failed {
		q.RecentFailures[i] = Failure{TxHash: p.TxHash.Hex(), RequestID: p.RequestID, From: p.From.Hex(), Nonce: p.Nonce,
			Asset: p.Asset, Amount: p.Amount.String(), Reason: p.Reason, At: p.UpdatedAt}
	}
	if !last.OldestQueued.IsZero() && counts[store.PaymentQueued] > 0 {
		q.OldestQueued = timePtr(last.OldestQueued)
		q.OldestAge = b.o.Clock.Now().Sub(last.OldestQueued).Round(time.Second).String()
	}
	return q, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
