package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"

	"showpos/terminal/asset"
)

// The event log (schema 10). Every change of a payment's or a request's
// state appends one event, in the same bbolt transaction as the change, so
// no crash can keep one without the other. Each event has the next seq of
// the terminal's log (the events bucket's sequence: monotonic, never
// reused, durable with the commit that took it) and is stored as the JSON
// that is delivered, so a redelivery is the same bytes. Sinks (the MQTT
// publisher, a webhook client) each have a durable cursor: the highest
// seq they have delivered. See doc.go for the kinds and payloads.

// EventVersion is the payload version, the "v" of every event. A change
// that a consumer of version 1 would misread takes a new version; new
// optional fields do not.
const EventVersion = 1

// EventKind names what happened. The names are stable: consumers match on
// them.
type EventKind string

const (
	// EventPaymentAccepted: a handed-over transaction or an EIP-3009
	// authorization was accepted (state queued). request.paid follows.
	EventPaymentAccepted EventKind = "payment.accepted"
	// EventPaymentBroadcast: a queued payment was taken by a node (or its
	// authorization's settlement sent).
	EventPaymentBroadcast EventKind = "payment.broadcast"
	// EventPaymentSeen: the chain watcher saw a transfer paying a request
	// (source chain, state seen). request.paid follows.
	EventPaymentSeen EventKind = "payment.seen"
	// EventPaymentConfirmed: mined at the configured depth.
	EventPaymentConfirmed EventKind = "payment.confirmed"
	// EventPaymentUnconfirmed: a confirmed payment's block was lost; it is
	// broadcast again (state broadcast, previous confirmed).
	EventPaymentUnconfirmed EventKind = "payment.unconfirmed"
	// EventPaymentFinal: its block is final. Terminal.
	EventPaymentFinal EventKind = "payment.final"
	// EventPaymentFailed: it will not be mined; reason says why. Terminal.
	EventPaymentFailed EventKind = "payment.failed"
	// EventPaymentUnmatched: money reached the merchant on chain and paid
	// no request (reason says why: wrong amount, too late, ...).
	EventPaymentUnmatched EventKind = "payment.unmatched"
	// EventPaymentRewound: a chain payment or an unmatched receipt was
	// taken back because its block was reorganised away (state is what it
	// had). A chain payment's request.reopened follows.
	EventPaymentRewound EventKind = "payment.rewound"
	// EventRequestPaid: a payment was accepted or seen for the request.
	EventRequestPaid EventKind = "request.paid"
	// EventRequestCancelled: cancelled before it was paid.
	EventRequestCancelled EventKind = "request.cancelled"
	// EventRequestExpired: written by ExpireRequests once the request can
	// no longer be matched (ExpiresAt + MatchGrace has passed, unpaid).
	EventRequestExpired EventKind = "request.expired"
	// EventRequestReopened: the chain payment that paid it was rewound;
	// it is pending again (or expired, if its time has passed).
	EventRequestReopened EventKind = "request.reopened"
)

// EventKinds lists every kind.
var EventKinds = []EventKind{EventPaymentAccepted, EventPaymentBroadcast, EventPaymentSeen,
	EventPaymentConfirmed, EventPaymentUnconfirmed, EventPaymentFinal, EventPaymentFailed,
	EventPaymentUnmatched, EventPaymentRewound, EventRequestPaid, EventRequestCancelled,
	EventRequestExpired, EventRequestReopened}

// Event is one entry of the log. Body is its JSON exactly as stored, what
// a publisher sends; the other fields are Body decoded.
type Event struct {
	V       int           `json:"v"`
	Seq     uint64        `json:"seq"`
	Kind    EventKind     `json:"kind"`
	At      time.Time     `json:"at"` // when the store recorded the change (the write's now)
	Payment *EventPayment `json:"payment,omitempty"`
	Request *EventRequest `json:"request,omitempty"`

	Body []byte `json:"-"`
}

// EventPayment is a payment (or unmatched receipt) as an event reports it.
type EventPayment struct {
	ID            common.Hash    `json:"id,omitzero"` // tx hash; an authorization's ID; zero for a balance gap
	Source        PaymentSource  `json:"source"`
	RequestID     string         `json:"request_id,omitempty"`
	From          common.Address `json:"from,omitzero"`
	Asset         string         `json:"asset"`
	Amount        string         `json:"amount"`                   // base units, decimal
	AmountDisplay string         `json:"amount_display,omitempty"` // whole units (asset.FormatAmount), when the asset's decimals are known
	State         PaymentState   `json:"state"`
	Previous      PaymentState   `json:"previous,omitempty"` // the state it left (none for accepted, seen, unmatched)
	Reason        string         `json:"reason,omitempty"`
	AcceptedAt    time.Time      `json:"accepted_at"` // for chain payments and receipts, the block's time
	Block         uint64         `json:"block,omitempty"`
	BlockHash     common.Hash    `json:"block_hash,omitzero"`
	Settlement    common.Hash    `json:"settlement,omitzero"` // an authorization's settling transaction
	Receipt       uint64         `json:"receipt,omitempty"`   // an unmatched receipt's number
	ChainID       uint64         `json:"chain_id,omitempty"`  // the chain it is on (schema 13; events written before have none)
}

// EventRequest is a request as an event reports it.
type EventRequest struct {
	ID            string        `json:"id"`
	Asset         string        `json:"asset"`
	Amount        string        `json:"amount"`
	AmountDisplay string        `json:"amount_display,omitempty"`
	Status        RequestStatus `json:"status"` // paid, cancelled, expired, pending (reopened)
	PaidBy        common.Hash   `json:"paid_by,omitzero"`
	CreatedAt     time.Time     `json:"created_at"`
	ExpiresAt     time.Time     `json:"expires_at"`
}

// Decimals tells the store an asset's decimals, for the events'
// amount_display (Options.Decimals). ok false: unknown, none is written.
type Decimals func(asset string) (decimals uint8, ok bool)

func (w *wtx) display(assetName string, amount *big.Int) string {
	if w.decimals == nil || amount == nil {
		return ""
	}
	d, ok := w.decimals(assetName)
	if !ok {
		return ""
	}
	return asset.FormatAmount(amount, d)
}

// nextEvent takes the log's next seq. It is a write: call it after the
// op's checks. The seq is used by putEvent in the same op (or the batch
// aborts, and the seq is not taken).
func (w *wtx) nextEvent() (uint64, error) {
	seq, err := w.nextSeq(bucketEvents)
	if err != nil {
		return 0, fmt.Errorf("next event seq: %w", err)
	}
	return seq, nil
}

// putEvent stores e under seq (from nextEvent).
func (w *wtx) putEvent(seq uint64, e Event) error {
	e.V, e.Seq, e.At = EventVersion, seq, storeTime(e.At)
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("event %d: %w", seq, err)
	}
	b := w.bucket(bucketEvents)
	// Keys only grow: fill pages instead of splitting them in half.
	b.FillPercent = 0.95
	if err := w.putChecked(bucketEvents, seqKey(seq), body); err != nil {
		return fmt.Errorf("event %d: %w", seq, err)
	}
	w.events++
	return trimEvents(w, 2)
}

// DefaultEventRetention is Options.EventRetention's default: about 3.5 MB
// of events (a handed-over payment's life is five, 1.7 KB).
const DefaultEventRetention = 10_000

// trimEvents deletes the oldest events, in the write that just appended
// one, while the log holds more than the retention and the oldest is
// delivered by every sink (any, with none registered). So the log stays
// bounded with no pruner running. It lets the log run trimSlack events
// past the retention (a sixteenth of it, if less) and then deletes down
// to it, up to n plus that many in the one write: the oldest events'
// leaf and its branch are then rewritten once in about 30 accepts, not by
// each (they were two of an accept's ~33 pages). Deleting n more than the
// appends brings a log that grew while a sink lagged back to the retention
// once the sink catches up.
func trimEvents(w *wtx, n int) error {
	retain := w.retention
	if retain == 0 {
		retain = DefaultEventRetention
	}
	slack := min(trimSlack, retain/16)
	b := w.bucket(bucketEvents)
	k, _ := b.Cursor().First()
	if k == nil || b.Sequence()-binary.BigEndian.Uint64(k)+1 <= retain+slack {
		return nil // within the retention and its slack: no need to read the sinks
	}
	st, err := logState(w.tx)
	if err != nil {
		return err
	}
	for budget := uint64(n) + slack; budget > 0 && st.First > 0 && st.Last-st.First+1 > retain && st.First <= st.LowestDelivered; budget-- {
		if err := w.del(bucketEvents, seqKey(st.First)); err != nil {
			return err
		}
		st.First++
	}
	return nil
}

// trimSlack is how far past the retention the log may run before an
// append trims it (trimEvents).
const trimSlack = 64

// EventsAppended returns a channel that is closed once a commit appends
// events after this call, so a sink waits for new events without polling:
// take the channel, read Events, and wait on it only if there were none
// (taken before the read, it cannot miss an append after it).
func (s *Store) EventsAppended() <-chan struct{} { return s.c.appendedChan() }

// paymentEvent is p (as stored after the change) reported as kind.
func (w *wtx) paymentEvent(kind EventKind, p Payment, prev PaymentState, at time.Time) Event {
	ep := &EventPayment{
		ID: p.TxHash, Source: p.Source, RequestID: p.RequestID, From: p.From, Asset: p.Asset,
		Amount: p.Amount.String(), AmountDisplay: w.display(p.Asset, p.Amount),
		State: p.State, Previous: prev, Reason: p.Reason, AcceptedAt: p.AcceptedAt,
		Block: p.Delivery.Block, BlockHash: p.Delivery.BlockHash, ChainID: p.ChainID,
	}
	if p.Authorization != nil {
		ep.Settlement = p.Authorization.Settlement
	}
	if p.State == PaymentUnmatched {
		ep.Receipt = p.Seq
	}
	if ep.Previous == p.State {
		ep.Previous = ""
	}
	return Event{Kind: kind, At: at, Payment: ep}
}

// requestEvent is r reported as kind, with the status it is reported in.
func (w *wtx) requestEvent(kind EventKind, r Request, status RequestStatus, at time.Time) Event {
	return Event{Kind: kind, At: at, Request: &EventRequest{
		ID: r.ID, Asset: r.Asset, Amount: r.Amount.String(), AmountDisplay: w.display(r.Asset, r.Amount),
		Status: status, PaidBy: r.PaidTx, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
	}}
}

// transitionKind is the event a handed-over payment's (or an
// authorization's) move from one state to another reports.
func transitionKind(from, to PaymentState) EventKind {
	switch to {
	case PaymentBroadcast:
		if from == PaymentConfirmed {
			return EventPaymentUnconfirmed
		}
		return EventPaymentBroadcast
	case PaymentConfirmed:
		return EventPaymentConfirmed
	case PaymentFinal:
		return EventPaymentFinal
	case PaymentFailed:
		return EventPaymentFailed
	}
	return ""
}

func decodeEvent(k, v []byte) (Event, error) {
	body, err := checkValue(bucketEvents, k, v)
	if err != nil {
		return Event{}, err
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("event 0x%x: %v: %w", k, err, ErrCorrupt)
	}
	if len(k) != 8 || e.Seq != binary.BigEndian.Uint64(k) {
		return Event{}, fmt.Errorf("event 0x%x holds seq %d: %w", k, e.Seq, ErrCorrupt)
	}
	e.Body = bytes.Clone(body)
	return e, nil
}

// maxEventsRead caps one Events call.
const maxEventsRead = 1000

// Events returns up to limit events with seq above after, in seq order
// (limit <= 0 or above 1000 means 1000). It seeks to after+1: its cost is
// that of the events returned, whatever the log's length. Events below the
// oldest kept (PruneEvents) are gone; EventLog says where the log starts.
func (s *Store) Events(after uint64, limit int) ([]Event, error) {
	if limit <= 0 || limit > maxEventsRead {
		limit = maxEventsRead
	}
	if after == math.MaxUint64 {
		return nil, nil // after+1 would wrap to the start
	}
	var out []Event
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			e, err := decodeEvent(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	return out, nil
}

// EventLogState is where the log stands.
type EventLogState struct {
	// First is the oldest event kept (0: the log is empty); Last the
	// highest seq ever issued (0: none yet). Events First..Last are all
	// kept: seqs are issued one per event, with no gaps, and pruned from
	// the oldest end only.
	First, Last uint64
	// LowestDelivered is the lowest cursor of all sinks (the bounded
	// store's bar: a payment whose LastEvent is at or below it has been
	// delivered everywhere); Sinks false when none is registered, then
	// LowestDelivered is Last (nothing waits on delivery).
	LowestDelivered uint64
	Sinks           bool
}

// EventLog reports the log's ends and its lowest cursor. It reads two keys
// and the sinks, never the log.
func (s *Store) EventLog() (EventLogState, error) {
	var st EventLogState
	err := s.viewAny(func(tx *bbolt.Tx) error {
		var err error
		st, err = logState(tx)
		return err
	})
	if err != nil {
		return EventLogState{}, fmt.Errorf("event log: %w", err)
	}
	return st, nil
}

func logState(tx *bbolt.Tx) (EventLogState, error) {
	b := tx.Bucket(bucketEvents)
	st := EventLogState{Last: b.Sequence()}
	if k, _ := b.Cursor().First(); k != nil {
		st.First = binary.BigEndian.Uint64(k)
	}
	sinks, err := readSinks(tx)
	if err != nil {
		return EventLogState{}, err
	}
	st.LowestDelivered, st.Sinks = st.Last, len(sinks) > 0
	for _, sk := range sinks {
		st.LowestDelivered = min(st.LowestDelivered, sk.Delivered)
	}
	return st, nil
}

// SinkStart is where a newly registered sink begins.
type SinkStart int

const (
	// SinkFromEnd: only events appended after registration are its.
	SinkFromEnd SinkStart = iota
	// SinkFromOldest: every event still kept is its too.
	SinkFromOldest
)

// Sink is a named consumer of the log and how far it has delivered.
type Sink struct {
	Name         string
	Delivered    uint64    // every event with seq <= Delivered is delivered
	RegisteredAt time.Time // when RegisterSink made it
	// Pending counts the events after Delivered (Last - Delivered);
	// OldestSeq and OldestAt are the first of them (0 and zero: none).
	Pending   uint64
	OldestSeq uint64
	OldestAt  time.Time
}

type sinkRecord struct {
	Delivered    uint64    `json:"delivered"`
	RegisteredAt time.Time `json:"registered_at"`
}

// maxSinkName bounds a sink's name (a bbolt key; "webhook:" and a client's
// service number fit).
const maxSinkName = 128

func validSinkName(name string) error {
	if name == "" || len(name) > maxSinkName || strings.ContainsFunc(name, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return fmt.Errorf("sink name %q: want 1 to %d printable bytes, no spaces: %w", name, maxSinkName, ErrBadSink)
	}
	return nil
}

// RegisterSink makes the sink name (e.g. "mqtt", "webhook:<client>") with
// its cursor at start: SinkFromEnd, the log's last seq; SinkFromOldest,
// just before the oldest event kept. A sink that exists is returned as it
// is (its cursor is never moved back): registering at every start is safe.
// From its registration, PruneEvents keeps every event it has not
// delivered.
func (s *Store) RegisterSink(ctx context.Context, name string, start SinkStart, now time.Time) (Sink, error) {
	if err := validSinkName(name); err != nil {
		return Sink{}, fmt.Errorf("register sink: %w", err)
	}
	if start != SinkFromEnd && start != SinkFromOldest {
		return Sink{}, fmt.Errorf("register sink %q: start %d: %w", name, start, ErrBadSink)
	}
	err := s.write(ctx, func(w *wtx) error {
		if v, err := w.getChecked(bucketEventSinks, []byte(name)); err != nil || v != nil {
			return err
		}
		st, err := logState(w.tx)
		if err != nil {
			return err
		}
		rec := sinkRecord{Delivered: st.Last, RegisteredAt: storeTime(now)}
		if start == SinkFromOldest && st.First > 0 {
			rec.Delivered = st.First - 1
		}
		enc, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return w.putChecked(bucketEventSinks, []byte(name), enc)
	})
	if err != nil {
		return Sink{}, fmt.Errorf("register sink %q: %w", name, err)
	}
	return s.Sink(name)
}

// RemoveSink forgets the sink name: its undelivered events no longer hold
// back PruneEvents. Removing one that does not exist is a no-op.
func (s *Store) RemoveSink(ctx context.Context, name string) error {
	err := s.write(ctx, func(w *wtx) error {
		if v, err := w.getChecked(bucketEventSinks, []byte(name)); err != nil || v == nil {
			return err
		}
		return w.del(bucketEventSinks, []byte(name))
	})
	if err != nil {
		return fmt.Errorf("remove sink %q: %w", name, err)
	}
	return nil
}

// MarkDelivered records, durably on return, that the sink has delivered
// every event up to and including seq (for MQTT: the broker's PUBACK for
// seq and every one before it). A seq at or below the cursor is a no-op
// (a late acknowledgement never moves it back); one above the log's last
// seq is ErrBadSink, as is an unknown sink (ErrUnknownSink).
func (s *Store) MarkDelivered(ctx context.Context, name string, seq uint64) error {
	err := s.write(ctx, func(w *wtx) error {
		rec, err := sinkAt(w.tx, name)
		if err != nil {
			return err
		}
		if seq <= rec.Delivered {
			return nil
		}
		if last := w.bucket(bucketEvents).Sequence(); seq > last {
			return fmt.Errorf("seq %d beyond the log's last %d: %w", seq, last, ErrBadSink)
		}
		rec.Delivered = seq
		enc, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return w.putChecked(bucketEventSinks, []byte(name), enc)
	})
	if err != nil {
		return fmt.Errorf("mark delivered %q %d: %w", name, seq, err)
	}
	return nil
}

func sinkAt(tx *bbolt.Tx, name string) (sinkRecord, error) {
	v, err := getChecked(tx, bucketEventSinks, []byte(name))
	if err != nil {
		return sinkRecord{}, err
	}
	if v == nil {
		return sinkRecord{}, ErrUnknownSink
	}
	var rec sinkRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return sinkRecord{}, fmt.Errorf("sink %q: %v: %w", name, err, ErrCorrupt)
	}
	return rec, nil
}

func readSinks(tx *bbolt.Tx) (map[string]sinkRecord, error) {
	out := map[string]sinkRecord{}
	err := tx.Bucket(bucketEventSinks).ForEach(func(k, v []byte) error {
		body, err := checkValue(bucketEventSinks, k, v)
		if err != nil {
			return err
		}
		var rec sinkRecord
		if err := json.Unmarshal(body, &rec); err != nil {
			return fmt.Errorf("sink %q: %v: %w", k, err, ErrCorrupt)
		}
		out[string(k)] = rec
		return nil
	})
	return out, err
}

// Sink returns the sink name with its backlog (Pending: a count and one
// seek, not a walk). An unknown name is ErrUnknownSink.
func (s *Store) Sink(name string) (Sink, error) {
	var out Sink
	err := s.view(func(tx *bbolt.Tx) error {
		rec, err := sinkAt(tx, name)
		if err != nil {
			return err
		}
		out, err = sinkView(tx, name, rec)
		return err
	})
	if err != nil {
		return Sink{}, fmt.Errorf("sink %q: %w", name, err)
	}
	return out, nil
}

// Sinks lists every sink by name, as Sink does.
func (s *Store) Sinks() ([]Sink, error) {
	var out []Sink
	err := s.view(func(tx *bbolt.Tx) error {
		recs, err := readSinks(tx)
		if err != nil {
			return err
		}
		for name, rec := range recs {
			sk, err := sinkView(tx, name, rec)
			if err != nil {
				return err
			}
			out = append(out, sk)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sinks: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func sinkView(tx *bbolt.Tx, name string, rec sinkRecord) (Sink, error) {
	b := tx.Bucket(bucketEvents)
	sk := Sink{Name: name, Delivered: rec.Delivered, RegisteredAt: rec.RegisteredAt}
	if last := b.Sequence(); last > rec.Delivered {
		sk.Pending = last - rec.Delivered
		k, v := b.Cursor().Seek(seqKey(rec.Delivered + 1))
		if k == nil {
			return Sink{}, fmt.Errorf("sink %q: events after %d missing: %w", name, rec.Delivered, ErrCorrupt)
		}
		e, err := decodeEvent(k, v)
		if err != nil {
			return Sink{}, err
		}
		sk.OldestSeq, sk.OldestAt = e.Seq, e.At
	}
	return sk, nil
}

// PruneEvents deletes, in one durable write, up to limit of the oldest
// events that may go: those at or below every sink's cursor and, of
// those, all but the newest keep (with no sink registered, only keep
// bounds the log). It returns how many it deleted; call it again until 0.
// limit <= 0 means 1000. A small limit keeps each write short, so an
// accept waiting behind it waits little.
func (s *Store) PruneEvents(ctx context.Context, keep uint64, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	n := 0
	err := s.write(ctx, func(w *wtx) error {
		n = 0
		st, err := logState(w.tx)
		if err != nil {
			return err
		}
		upto := st.LowestDelivered
		if st.Last < keep {
			return nil
		}
		upto = min(upto, st.Last-keep)
		var gone [][]byte
		c := w.bucket(bucketEvents).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= upto && len(gone) < limit; k, _ = c.Next() {
			gone = append(gone, bytes.Clone(k))
		}
		for _, k := range gone {
			if err := w.del(bucketEvents, k); err != nil {
				return err
			}
		}
		n = len(gone)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return n, nil
}

// checkEvents is Open's check of the log (schema 10), bounded whatever its
// length: the seq counter is at or above the last key (so no seq is issued
// twice), the first key is at or above 1, and every sink's cursor is at or
// below the counter. (The whole-file walk checks every event's CRC.)
func checkEvents(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketEvents)
	if b == nil || tx.Bucket(bucketEventSinks) == nil || tx.Bucket(bucketRequestExpiry) == nil {
		return fmt.Errorf("event buckets missing: %w", ErrCorrupt)
	}
	c := b.Cursor()
	if k, _ := c.Last(); k != nil {
		if len(k) != 8 {
			return fmt.Errorf("bucket %s: key %x of %d bytes: %w", bucketEvents, k, len(k), ErrCorrupt)
		}
		if last := binary.BigEndian.Uint64(k); last > b.Sequence() {
			return fmt.Errorf("bucket %s: sequence %d below the last event %d: %w", bucketEvents, b.Sequence(), last, ErrCorrupt)
		}
	}
	if k, _ := c.First(); k != nil && (len(k) != 8 || binary.BigEndian.Uint64(k) == 0) {
		return fmt.Errorf("bucket %s: first key %x: %w", bucketEvents, k, ErrCorrupt)
	}
	sinks, err := readSinks(tx)
	if err != nil {
		return err
	}
	first := uint64(0)
	if k, _ := c.First(); k != nil {
		first = binary.BigEndian.Uint64(k)
	}
	for name, rec := range sinks {
		if rec.Delivered > b.Sequence() {
			return fmt.Errorf("sink %q delivered %d, beyond the log's last %d: %w", name, rec.Delivered, b.Sequence(), ErrCorrupt)
		}
		if first > 0 && rec.Delivered+1 < first {
			return fmt.Errorf("sink %q delivered %d, but the log starts at %d: its events are gone: %w", name, rec.Delivered, first, ErrCorrupt)
		}
	}
	return nil
}
