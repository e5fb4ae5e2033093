// Package broadcast sends accepted payments to the Ethereum network
// whenever it can be reached, and follows them until they are final.
//
// The outbox holds every accepted payment durably. While the chain is
// online, each round of the broadcaster:
//
//  1. follows the payments it has sent: a receipt with enough
//     confirmations makes a payment confirmed, a reverted receipt makes it
//     failed with the revert reason, and a sent transaction the node no
//     longer knows is sent again;
//  2. fails what is past its maximum age, with a reason (nothing is
//     retried forever);
//  3. sends what is due, per sender strictly in nonce order, the stored
//     raw bytes unchanged, many senders in one batched JSON-RPC request;
//  4. classifies every answer (see Classify) and records the whole round's
//     changes in one durable store transaction.
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
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/chain"
	"showpos/sync/outbox"
)

// Store is what the broadcaster needs from the outbox.
type Store interface {
	OpenPayments() ([]outbox.Payment, error)
	Counts() (map[outbox.PaymentState]int, error)
	Payments(f outbox.PaymentFilter) ([]outbox.Payment, error)
	Apply(ctx context.Context, now time.Time, changes []outbox.Change) ([]outbox.Payment, error)
}

// Chain is what the broadcaster needs from the network.
type Chain interface {
	Status() chain.Status
	Changes() <-chan chain.Status
	Probe(ctx context.Context) chain.Status
	SendBatch(ctx context.Context, raws [][]byte) ([]error, error)
	Receipts(ctx context.Context, hashes []common.Hash) ([]*types.Receipt, error)
	Transactions(ctx context.Context, hashes []common.Hash) ([]chain.TxInfo, error)
	BlockNumber(ctx context.Context) (uint64, error)
	Call(ctx context.Context, msg chain.CallMsg, block string) ([]byte, error)
}

// Clock tells the time; tests pass a fake.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configure a Broadcaster. Store and Chain are required.
type Options struct {
	Store  Store
	Chain  Chain
	Clock  Clock // nil: the system clock
	Logger *slog.Logger

	// Confirmations a receipt needs before the payment is confirmed; the
	// block that includes it counts as one. Default 1.
	Confirmations uint64
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
	// Poll is the pause between rounds while payments are in flight.
	// Default 1s.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the jittered, doubling wait before a
	// payment whose send failed is tried again. Defaults 1s and 1m.
	MinBackoff, MaxBackoff time.Duration
	// OnRound, if set, is called with each round's report (metrics). It
	// must not block.
	OnRound func(Report)
}

// Event tells that a payment reached a final state.
type Event struct {
	Payment outbox.Payment // confirmed, or failed with Reason
}

// Report sums up a round.
type Report struct {
	At           time.Time
	Online       bool
	Open         int // queued or broadcast before the round
	Sent         int
	Confirmed    int
	Failed       int
	Retrying     int
	OldestQueued time.Time // AcceptedAt of the oldest queued payment (zero: none)
	Err          string    // why the round stopped short, if it did
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

	// Run's own: the oldest queued payment as read while offline. Offline,
	// nothing changes a payment's state, so while it is valid an offline
	// round (one per accepted payment, from the kicks) reads the counts,
	// not the whole outbox. An online round invalidates it.
	offOldest   time.Time
	offOldestOK bool
}

// New returns a broadcaster; Run starts it.
func New(o Options) *Broadcaster {
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Confirmations == 0 {
		o.Confirmations = 1
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 72 * time.Hour
	}
	if o.FundsWindow <= 0 {
		o.FundsWindow = 10 * time.Minute
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
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

// Sync probes the chain, runs a round now and returns the queue after it.
// It needs Run to be running.
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

// Subscribe returns a channel of payments reaching a final state, and a
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

func (b *Broadcaster) publish(p outbox.Payment) {
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

// Run drains the outbox until ctx ends: a round at once, then a round every
// Poll while payments are in flight, and otherwise when kicked, when the
// chain comes online, or when Sync asks.
func (b *Broadcaster) Run(ctx context.Context) error {
	changes := b.o.Chain.Changes()
	var reply chan Report
	for {
		r := b.round(ctx)
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
		if ctx.Err() != nil {
			return nil
		}
		wait := b.o.Poll
		if r.Open == r.Confirmed+r.Failed || !r.Online {
			wait = time.Minute // idle: kicks and online flips wake it sooner
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-b.kick:
		case reply = <-b.sync:
		case <-changes:
		case <-t.C:
		}
		t.Stop()
	}
}

// offlineRound fills r from the counts and the oldest queued payment known
// from an earlier offline round, and reports whether it could: not when
// payments arrived in an empty queue since (their oldest is unknown).
func (b *Broadcaster) offlineRound(r *Report, st chain.Status) bool {
	if !b.offOldestOK {
		return false
	}
	counts, err := b.o.Store.Counts()
	if err != nil {
		return false // the full read reports it
	}
	queued := counts[outbox.PaymentQueued]
	if queued > 0 && b.offOldest.IsZero() {
		return false
	}
	r.Open = queued + counts[outbox.PaymentBroadcast]
	if queued > 0 {
		r.OldestQueued = b.offOldest
	}
	if r.Open > 0 {
		r.Err = "offline: " + st.Err
	}
	return true
}

// round is one pass over the outbox; see the package comment.
func (b *Broadcaster) round(ctx context.Context) Report {
	now := b.o.Clock.Now()
	st := b.o.Chain.Status()
	r := Report{At: now, Online: st.Online}
	if !st.Online && b.offlineRound(&r, st) {
		return r
	}
	open, err := b.o.Store.OpenPayments()
	if err != nil {
		r.Err = fmt.Sprintf("read outbox: %v", err)
		b.log.Error("read outbox", "err", err)
		return r
	}
	r.Open = len(open)
	for _, p := range open {
		if p.State == outbox.PaymentQueued && (r.OldestQueued.IsZero() || p.AcceptedAt.Before(r.OldestQueued)) {
			r.OldestQueued = p.AcceptedAt
		}
	}
	b.offOldest, b.offOldestOK = r.OldestQueued, !st.Online
	if len(open) == 0 {
		return r
	}
	if !st.Online {
		r.Err = "offline: " + st.Err
		return r
	}
	rd := &roundState{b: b, now: now, changes: make(map[common.Hash]*outbox.Change)}
	if err := rd.follow(ctx, open); err != nil {
		r.Err = err.Error()
		// Without the lookups nothing can be expired, but sending is still
		// safe (a node answers a known transaction without harm) unless
		// the link itself is down. A node still indexing answers lookups
		// with an error for a while; sends must not wait for it.
		if !chain.IsTransport(err) {
			if err := rd.send(ctx, open); err != nil {
				r.Err += "; " + err.Error()
			}
		}
	} else {
		rd.expire(open)
		if err := rd.send(ctx, open); err != nil {
			r.Err = err.Error()
		}
	}
	stored, err := rd.commit(ctx)
	if err != nil {
		r.Err = fmt.Sprintf("record round: %v", err)
		b.log.Error("record broadcast round", "err", err)
		return r
	}
	for _, p := range stored {
		switch {
		case p.State == outbox.PaymentConfirmed:
			r.Confirmed++
			b.publish(p)
		case p.State == outbox.PaymentFailed:
			r.Failed++
			b.log.Warn("payment failed after acceptance", "tx", p.TxHash.Hex(), "request", p.RequestID, "reason", p.Reason)
			b.publish(p)
		case p.Delivery.LastError != "":
			r.Retrying++
		}
	}
	r.Sent = rd.sent
	return r
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
	Counts       map[outbox.PaymentState]int `json:"counts"`
	OldestQueued *time.Time                  `json:"oldestQueued,omitempty"`
	OldestAge    string                      `json:"oldestQueuedAge,omitempty"`
	Chain        ChainView                   `json:"chain"`
	LastRound    RoundView                   `json:"lastRound"`
	// RecentFailures are the latest payments that failed after they were
	// accepted, newest first, with the reason: what the cashier and the
	// fleet must hear about.
	RecentFailures []Failure `json:"recentFailures"`
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
		LastRound: RoundView{At: timePtr(last.At), Sent: last.Sent, Confirmed: last.Confirmed,
			Failed: last.Failed, Retrying: last.Retrying, Err: last.Err},
	}
	failed, err := b.o.Store.Payments(outbox.PaymentFilter{State: outbox.PaymentFailed, Newest: true, Limit: recentFailures})
	if err != nil {
		return Queue{}, fmt.Errorf("queue: %w", err)
	}
	q.RecentFailures = make([]Failure, len(failed))
	for i, p := range failed {
		q.RecentFailures[i] = Failure{TxHash: p.TxHash.Hex(), RequestID: p.RequestID, From: p.From.Hex(), Nonce: p.Nonce,
			Asset: p.Asset, Amount: p.Amount.String(), Reason: p.Reason, At: p.UpdatedAt}
	}
	if !last.OldestQueued.IsZero() && counts[outbox.PaymentQueued] > 0 {
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
