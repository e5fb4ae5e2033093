package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

var bg = context.Background()

// eventsAfter returns every event after seq.
func eventsAfter(t testing.TB, s *Store, after uint64) []Event {
	t.Helper()
	es, err := s.Events(after, 0)
	if err != nil {
		t.Fatalf("Events(%d): %v", after, err)
	}
	return es
}

func lastSeq(t testing.TB, s *Store) uint64 {
	t.Helper()
	st, err := s.EventLog()
	if err != nil {
		t.Fatal(err)
	}
	return st.Last
}

func kinds(es []Event) []EventKind {
	out := make([]EventKind, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

// subject names what an event reports: a payment's ID or a request's.
type subject struct {
	payment common.Hash
	request string
}

func (sub subject) of(e Event) bool {
	if e.Payment != nil {
		return e.Payment.ID == sub.payment
	}
	return e.Request != nil && e.Request.ID == sub.request
}

// TestEveryStateChangeWritesExactlyItsEventsInItsOwnCommit: each way the
// store changes a payment's or a request's state appends exactly the events
// that report it, numbered on from the log's last seq, in the one commit
// that makes the change; the record names its last event (LastEvent); a
// refusal, a repeat or a change of delivery bookkeeping alone writes none.
func TestEveryStateChangeWritesExactlyItsEventsInItsOwnCommit(t *testing.T) {
	type fixture struct {
		p   Payment
		r   Request
		req string
	}
	accepted := func(t *testing.T, s *Store) fixture {
		putRequest(t, s, "r1")
		return fixture{p: mustAccept(t, s, newPayment("r1")), req: "r1"}
	}
	moved := func(states ...PaymentState) func(*testing.T, *Store) fixture {
		return func(t *testing.T, s *Store) fixture {
			f := accepted(t, s)
			for _, st := range states {
				var err error
				if f.p, err = s.SetPaymentState(bg, f.p.TxHash, st, "", t0); err != nil {
					t.Fatal(err)
				}
			}
			return f
		}
	}
	authAccepted := func(t *testing.T, s *Store) fixture {
		return fixture{p: acceptedAuth(t, s, "ra"), req: "ra"}
	}
	chainPending := func(t *testing.T, s *Store) fixture {
		return fixture{r: chainReq(t, s, "rc", 5000), req: "rc"}
	}
	chainSeen := func(t *testing.T, s *Store) fixture {
		f := chainPending(t, s)
		f.p = record(t, s, 10, transfer(10, t0.Add(time.Minute), "ETH", 5000)).Payments[0]
		return f
	}
	pending := func(t *testing.T, s *Store) fixture {
		return fixture{r: putRequest(t, s, "rp"), req: "rp"}
	}

	cases := []struct {
		name  string
		setup func(*testing.T, *Store) fixture
		act   func(*Store, *fixture) error
		want  []EventKind
		// payment: the events name the fixture's payment (else its request,
		// or, for unmatched, a receipt of no request)
		payment bool
	}{
		{"Accept reports the payment accepted, then its request paid", pending,
			func(s *Store, f *fixture) error {
				p := newPayment(f.req)
				f.p = p
				_, _, err := s.Accept(bg, p, t0, nil)
				return err
			}, []EventKind{EventPaymentAccepted, EventRequestPaid}, false},
		{"Accept repeated writes nothing", accepted,
			func(s *Store, f *fixture) error { _, _, err := s.Accept(bg, f.p, t0, nil); return err }, nil, true},
		{"Accept refused writes nothing", pending,
			func(s *Store, f *fixture) error {
				_, _, err := s.Accept(bg, newPayment(f.req), t0.Add(2*time.Hour), nil)
				if errors.Is(err, ErrExpired) {
					return nil
				}
				return err
			}, nil, false},
		{"AcceptAuthorization reports accepted and paid", pending,
			func(s *Store, f *fixture) error {
				p := newAuthorization(f.req)
				f.p = p
				_, _, err := s.AcceptAuthorization(bg, p, t0, Limits{})
				return err
			}, []EventKind{EventPaymentAccepted, EventRequestPaid}, false},
		{"SetPaymentState broadcast", accepted,
			func(s *Store, f *fixture) error {
				_, err := s.SetPaymentState(bg, f.p.TxHash, PaymentBroadcast, "", t0)
				return err
			}, []EventKind{EventPaymentBroadcast}, true},
		{"SetPaymentState to the state it has writes nothing", moved(PaymentBroadcast),
			func(s *Store, f *fixture) error {
				_, err := s.SetPaymentState(bg, f.p.TxHash, PaymentBroadcast, "", t0)
				return err
			}, nil, true},
		{"Apply confirmed", moved(PaymentBroadcast),
			func(s *Store, f *fixture) error {
				_, err := s.Apply(bg, t0, []Change{{Hash: f.p.TxHash, State: PaymentConfirmed, Delivery: Delivery{Block: 9}}})
				return err
			}, []EventKind{EventPaymentConfirmed}, true},
		{"Apply of delivery bookkeeping alone writes nothing", moved(PaymentBroadcast),
			func(s *Store, f *fixture) error {
				_, err := s.Apply(bg, t0, []Change{{Hash: f.p.TxHash, Delivery: Delivery{Attempts: 3}}})
				return err
			}, nil, true},
		{"a lost block is payment.unconfirmed", moved(PaymentBroadcast, PaymentConfirmed),
			func(s *Store, f *fixture) error {
				_, err := s.SetPaymentState(bg, f.p.TxHash, PaymentBroadcast, "", t0)
				return err
			}, []EventKind{EventPaymentUnconfirmed}, true},
		{"final", moved(PaymentBroadcast, PaymentConfirmed),
			func(s *Store, f *fixture) error {
				_, err := s.SetPaymentState(bg, f.p.TxHash, PaymentFinal, "", t0)
				return err
			}, []EventKind{EventPaymentFinal}, true},
		{"failed", moved(PaymentBroadcast),
			func(s *Store, f *fixture) error {
				_, err := s.SetPaymentState(bg, f.p.TxHash, PaymentFailed, "dropped", t0)
				return err
			}, []EventKind{EventPaymentFailed}, true},
		{"two changes in one Apply, two events in order", accepted,
			func(s *Store, f *fixture) error {
				_, err := s.Apply(bg, t0, []Change{{Hash: f.p.TxHash, State: PaymentBroadcast}, {Hash: f.p.TxHash, State: PaymentConfirmed}})
				return err
			}, []EventKind{EventPaymentBroadcast, EventPaymentConfirmed}, true},
		{"a state change then bookkeeping in one Apply: the record still names the event", accepted,
			func(s *Store, f *fixture) error {
				_, err := s.Apply(bg, t0, []Change{{Hash: f.p.TxHash, State: PaymentBroadcast}, {Hash: f.p.TxHash, Delivery: Delivery{Attempts: 2}}})
				return err
			}, []EventKind{EventPaymentBroadcast}, true},
		{"the relayer's first send is broadcast", authAccepted,
			func(s *Store, f *fixture) error {
				return s.RecordRelayTx(bg, relayTx(f.p, randAddr(), 0, RelayTxSent, randHash()), t0)
			}, []EventKind{EventPaymentBroadcast}, true},
		{"the relayer's outcome failed", authAccepted,
			func(s *Store, f *fixture) error {
				_, err := s.ReportRelayOutcome(bg, RelayOutcome{AuthID: f.p.TxHash, State: RelayFailed, Reason: "expired"}, t0)
				return err
			}, []EventKind{EventPaymentFailed}, true},
		{"the relayer's outcome confirmed", authAccepted,
			func(s *Store, f *fixture) error {
				_, err := s.ReportRelayOutcome(bg, RelayOutcome{AuthID: f.p.TxHash, State: RelayConfirmed, Tx: randHash(), Block: 4, BlockHash: randHash()}, t0)
				return err
			}, []EventKind{EventPaymentConfirmed}, true},
		{"CancelRequest", pending,
			func(s *Store, f *fixture) error { _, err := s.CancelRequest(bg, f.req, t0); return err },
			[]EventKind{EventRequestCancelled}, false},
		{"CancelRequest repeated writes nothing", func(t *testing.T, s *Store) fixture {
			f := pending(t, s)
			if _, err := s.CancelRequest(bg, f.req, t0); err != nil {
				t.Fatal(err)
			}
			return f
		}, func(s *Store, f *fixture) error { _, err := s.CancelRequest(bg, f.req, t0); return err }, nil, false},
		{"a transfer paying a request is payment.seen, then request.paid", chainPending,
			func(s *Store, f *fixture) error {
				tr := transfer(10, t0.Add(time.Minute), "ETH", 5000)
				f.p.TxHash = tr.TxHash
				return s.Chain(testChain).RecordRange(bg, WatchCursor{Height: 10, Hashes: []common.Hash{randHash()}}, []Transfer{tr})
			}, []EventKind{EventPaymentSeen, EventRequestPaid}, false},
		{"a transfer paying nothing is payment.unmatched", chainPending,
			func(s *Store, f *fixture) error {
				tr := transfer(10, t0.Add(time.Minute), "ETH", 4999)
				f.p.TxHash = tr.TxHash
				return s.Chain(testChain).RecordRange(bg, WatchCursor{Height: 10, Hashes: []common.Hash{randHash()}}, []Transfer{tr})
			}, []EventKind{EventPaymentUnmatched}, true},
		{"Settle confirmed", chainSeen,
			func(s *Store, f *fixture) error { return s.Chain(testChain).Settle(bg, 10, 0) }, []EventKind{EventPaymentConfirmed}, true},
		{"Settle straight to final", chainSeen,
			func(s *Store, f *fixture) error { return s.Chain(testChain).Settle(bg, 10, 10) }, []EventKind{EventPaymentFinal}, true},
		{"Rewind of a chain payment reports it rewound, its request reopened", chainSeen,
			func(s *Store, f *fixture) error {
				return s.Chain(testChain).Rewind(bg, WatchCursor{Height: 9, Hashes: []common.Hash{randHash()}})
			},
			[]EventKind{EventPaymentRewound, EventRequestReopened}, false},
		{"Rewind of an unmatched receipt", func(t *testing.T, s *Store) fixture {
			f := chainPending(t, s)
			f.p = record(t, s, 10, transfer(10, t0.Add(time.Minute), "ETH", 4999)).Unmatched[0]
			return f
		}, func(s *Store, f *fixture) error {
			return s.Chain(testChain).Rewind(bg, WatchCursor{Height: 9, Hashes: []common.Hash{randHash()}})
		},
			[]EventKind{EventPaymentRewound}, true},
		{"ExpireRequests before the grace has passed writes nothing", pending,
			func(s *Store, f *fixture) error {
				_, err := s.ExpireRequests(bg, f.r.ExpiresAt.Add(MatchGrace-time.Second), 0)
				return err
			}, nil, false},
		{"ExpireRequests after it reports request.expired", pending,
			func(s *Store, f *fixture) error {
				_, err := s.ExpireRequests(bg, f.r.ExpiresAt.Add(MatchGrace), 0)
				return err
			}, []EventKind{EventRequestExpired}, false},
		{"ExpireRequests never reports a paid request", accepted,
			func(s *Store, f *fixture) error {
				_, err := s.ExpireRequests(bg, t0.Add(48*time.Hour), 0)
				return err
			}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openTemp(t)
			f := c.setup(t, s)
			before, commits := lastSeq(t, s), s.c.commits.Load()
			if err := c.act(s, &f); err != nil {
				t.Fatalf("act: %v", err)
			}
			got := eventsAfter(t, s, before)
			if !slices.Equal(kinds(got), c.want) {
				t.Fatalf("events %v, want %v", kinds(got), c.want)
			}
			// One commit holds the change and all its events (a change of
			// bookkeeping alone commits too, with none).
			if n := s.c.commits.Load() - commits; n > 1 || (len(c.want) > 0 && n != 1) {
				t.Fatalf("%d commits for %d events: the change and its events are one commit", n, len(c.want))
			}
			for i, e := range got {
				if e.Seq != before+1+uint64(i) || e.V != EventVersion {
					t.Errorf("event %d: seq %d v %d, want seq %d v %d", i, e.Seq, e.V, before+1+uint64(i), EventVersion)
				}
				var again Event
				if err := json.Unmarshal(e.Body, &again); err != nil || again.Seq != e.Seq || again.Kind != e.Kind {
					t.Errorf("event %d: Body %s does not decode to it: %v", i, e.Body, err)
				}
				sub := subject{payment: f.p.TxHash, request: f.req}
				if !sub.of(e) {
					t.Errorf("event %d %s names %+v %+v, not %s / %s", i, e.Kind, e.Payment, e.Request, f.p.TxHash, f.req)
				}
			}
			if len(got) == 0 {
				return
			}
			last := got[len(got)-1]
			if last.Payment != nil && last.Kind != EventPaymentRewound {
				p, err := s.Payment(last.Payment.ID)
				if last.Kind == EventPaymentUnmatched {
					us := unmatchedList(t, s)
					p, err = us[len(us)-1], nil
				}
				if err != nil || p.LastEvent != last.Seq || p.State != last.Payment.State {
					t.Errorf("payment as stored: state %s last event %d (%v); the event: state %s seq %d", p.State, p.LastEvent, err, last.Payment.State, last.Seq)
				}
			}
			if last.Request != nil {
				r, err := s.Request(last.Request.ID)
				if err != nil || r.LastEvent != last.Seq {
					t.Errorf("request as stored: last event %d (%v); the event's seq %d", r.LastEvent, err, last.Seq)
				}
			}
		})
	}
}

// TestEventPayloads pins the JSON a consumer reads: ids, amounts in base
// units and in whole units, state and the state left, reason, times.
func TestEventPayloads(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir+"/pos.db", &Options{Decimals: func(a string) (uint8, bool) { return 18, a == "ETH" }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRequest("r1")
	r.Amount = big.NewInt(1_500_000_000_000_000_000)
	if err := s.PutRequest(bg, r); err != nil {
		t.Fatal(err)
	}
	p := newPayment("r1")
	p.Amount = r.Amount
	mustAccept(t, s, p)
	if _, err := s.SetPaymentState(bg, p.TxHash, PaymentFailed, "nonce too low", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	es := eventsAfter(t, s, 0)
	if len(es) != 3 {
		t.Fatalf("%d events, want 3", len(es))
	}
	var acc map[string]any
	if err := json.Unmarshal(es[0].Body, &acc); err != nil {
		t.Fatal(err)
	}
	pay := acc["payment"].(map[string]any)
	for k, want := range map[string]any{"v": 1.0, "seq": 1.0, "kind": "payment.accepted", "at": "2025-03-01T12:00:00Z"} {
		if acc[k] != want {
			t.Errorf("accepted %s = %v, want %v", k, acc[k], want)
		}
	}
	for k, want := range map[string]any{
		"id": p.TxHash.Hex(), "source": "handover", "request_id": "r1", "from": strings.ToLower(p.From.Hex()), "asset": "ETH",
		"amount": "1500000000000000000", "amount_display": "1.5", "state": "queued", "accepted_at": "2025-03-01T12:00:00Z",
	} {
		if pay[k] != want {
			t.Errorf("accepted payment.%s = %v, want %v", k, pay[k], want)
		}
	}
	if _, ok := pay["previous"]; ok {
		t.Errorf("accepted has a previous state: %s", es[0].Body)
	}
	if q := es[1].Request; q == nil || q.ID != "r1" || q.Status != RequestPaid || q.PaidBy != p.TxHash || q.AmountDisplay != "1.5" || !q.ExpiresAt.Equal(r.ExpiresAt) {
		t.Errorf("request.paid: %s", es[1].Body)
	}
	if f := es[2].Payment; es[2].Kind != EventPaymentFailed || f.State != PaymentFailed || f.Previous != PaymentQueued || f.Reason != "nonce too low" || !es[2].At.Equal(t0.Add(time.Minute)) {
		t.Errorf("payment.failed: %s", es[2].Body)
	}
}

func TestEventSeqIsMonotonicAndNeverReusedAcrossRestartAndPruning(t *testing.T) {
	s := openTemp(t)
	for i := range 3 {
		putRequest(t, s, reqID(i))
		mustAccept(t, s, newPayment(reqID(i)))
	}
	if n, err := s.PruneEvents(bg, 0, 0); err != nil || n != 6 {
		t.Fatalf("PruneEvents = %d, %v; want 6 (no sink, keep 0)", n, err)
	}
	s = reopenStore(t, s)
	putRequest(t, s, "after")
	mustAccept(t, s, newPayment("after"))
	es := eventsAfter(t, s, 0)
	if len(es) != 2 || es[0].Seq != 7 || es[1].Seq != 8 {
		t.Fatalf("events after restart and prune: %v", es)
	}
	st, err := s.EventLog()
	if err != nil || st.First != 7 || st.Last != 8 || st.Sinks {
		t.Fatalf("EventLog = %+v, %v", st, err)
	}
}

func TestSinkCursorsAreDurableAndHoldBackPruning(t *testing.T) {
	s := openTemp(t)
	for i := range 3 {
		putRequest(t, s, reqID(i))
		mustAccept(t, s, newPayment(reqID(i))) // 6 events
	}
	mq, err := s.RegisterSink(bg, "mqtt", SinkFromOldest, t0)
	if err != nil || mq.Delivered != 0 || mq.Pending != 6 || mq.OldestSeq != 1 || !mq.OldestAt.Equal(t0) {
		t.Fatalf("RegisterSink(mqtt, oldest) = %+v, %v", mq, err)
	}
	wh, err := s.RegisterSink(bg, "webhook:S-1", SinkFromEnd, t0)
	if err != nil || wh.Delivered != 6 || wh.Pending != 0 {
		t.Fatalf("RegisterSink(webhook, end) = %+v, %v", wh, err)
	}
	wantErr(t, "MarkDelivered beyond the log", s.MarkDelivered(bg, "mqtt", 7), ErrBadSink)
	wantErr(t, "MarkDelivered of an unknown sink", s.MarkDelivered(bg, "nobody", 1), ErrUnknownSink)
	_, err = s.RegisterSink(bg, "has space", SinkFromEnd, t0)
	wantErr(t, "a bad sink name", err, ErrBadSink)
	if err := s.MarkDelivered(bg, "mqtt", 4); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(bg, "mqtt", 2); err != nil { // late: never moves back
		t.Fatal(err)
	}
	s = reopenStore(t, s)
	mq, err = s.Sink("mqtt")
	if err != nil || mq.Delivered != 4 || mq.Pending != 2 || mq.OldestSeq != 5 {
		t.Fatalf("mqtt after restart: %+v, %v", mq, err)
	}
	// Registering again changes nothing.
	if again, err := s.RegisterSink(bg, "mqtt", SinkFromEnd, t0.Add(time.Hour)); err != nil || again.Delivered != 4 || !again.RegisteredAt.Equal(t0) {
		t.Fatalf("RegisterSink again = %+v, %v", again, err)
	}
	st, err := s.EventLog()
	if err != nil || st.LowestDelivered != 4 || !st.Sinks {
		t.Fatalf("EventLog = %+v, %v", st, err)
	}
	if n, err := s.PruneEvents(bg, 0, 3); err != nil || n != 3 {
		t.Fatalf("PruneEvents(limit 3) = %d, %v; want 3", n, err)
	}
	if n, err := s.PruneEvents(bg, 0, 0); err != nil || n != 1 {
		t.Fatalf("PruneEvents = %d, %v; want 1 (the mqtt sink has delivered up to 4)", n, err)
	}
	if es := eventsAfter(t, s, 0); len(es) != 2 || es[0].Seq != 5 {
		t.Fatalf("kept %v, want 5 and 6", kinds(es))
	}
	if err := s.RemoveSink(bg, "mqtt"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneEvents(bg, 1, 0); err != nil || n != 1 {
		t.Fatalf("PruneEvents(keep 1) after removing mqtt = %d, %v; want 1", n, err)
	}
	sinks, err := s.Sinks()
	if err != nil || len(sinks) != 1 || sinks[0].Name != "webhook:S-1" {
		t.Fatalf("Sinks = %+v, %v", sinks, err)
	}
}

func TestAReopenedRequestIsReportedExpiredAgainOnlyOnce(t *testing.T) {
	s := openTemp(t)
	r := chainReq(t, s, "rc", 5000)
	record(t, s, 10, transfer(10, t0.Add(time.Minute), "ETH", 5000))
	if err := s.Chain(testChain).Rewind(bg, WatchCursor{Height: 9, Hashes: []common.Hash{randHash()}}); err != nil {
		t.Fatal(err)
	}
	late := r.ExpiresAt.Add(MatchGrace)
	if n, err := s.ExpireRequests(bg, late, 0); err != nil || n != 1 {
		t.Fatalf("ExpireRequests = %d, %v; want 1", n, err)
	}
	if n, err := s.ExpireRequests(bg, late.Add(time.Hour), 0); err != nil || n != 0 {
		t.Fatalf("ExpireRequests again = %d, %v; want 0", n, err)
	}
	if got := kinds(eventsAfter(t, s, 0)); !slices.Equal(got, []EventKind{EventPaymentSeen, EventRequestPaid, EventPaymentRewound, EventRequestReopened, EventRequestExpired}) {
		t.Fatalf("events %v", got)
	}
}

func TestOpenMigratesSchema9ToAnEmptyLogAndIndexesOnlyLiveRequests(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	putRequest(t, s, "live") // expires at t0+1h
	old := newRequest("old")
	old.CreatedAt, old.ExpiresAt = t0.Add(-3*time.Hour), t0.Add(-2*time.Hour)
	if err := s.PutRequest(bg, old); err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "paid")
	mustAccept(t, s, newPayment("paid"))
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketEvents, bucketEventSinks, bucketRequestExpiry} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV9)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, &Options{HomeChainID: testChain, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatalf("Open of a schema 9 file: %v", err)
	}
	defer s.Close()
	var schema string
	_ = s.db.View(func(tx *bbolt.Tx) error { schema, _ = readSchema(tx); return nil })
	if schema != schemaVersion {
		t.Fatalf("schema %q after migration", schema)
	}
	if st, err := s.EventLog(); err != nil || st != (EventLogState{}) {
		t.Fatalf("EventLog after migration = %+v, %v; want empty", st, err)
	}
	if n, err := s.ExpireRequests(bg, t0.Add(48*time.Hour), 0); err != nil || n != 1 {
		t.Fatalf("ExpireRequests = %d, %v; want 1 (live only: old expired before the log, paid is paid)", n, err)
	}
	if es := eventsAfter(t, s, 0); len(es) != 1 || es[0].Request.ID != "live" || es[0].Seq != 1 {
		t.Fatalf("events %v", kinds(es))
	}
}

func TestOpenRefusesAnEventCounterBelowTheLog(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(tx *bbolt.Tx) error
	}{
		{"counter below the last event", func(tx *bbolt.Tx) error { return tx.Bucket(bucketEvents).SetSequence(1) }},
		{"a sink beyond the log", func(tx *bbolt.Tx) error {
			k := []byte("mqtt")
			return tx.Bucket(bucketEventSinks).Put(k, seal(bucketEventSinks, k, []byte(`{"delivered":99}`)))
		}},
		{"a sink whose events were pruned", func(tx *bbolt.Tx) error {
			if err := tx.Bucket(bucketEvents).Delete(seqKey(1)); err != nil {
				return err
			}
			k := []byte("mqtt")
			return tx.Bucket(bucketEventSinks).Put(k, seal(bucketEventSinks, k, []byte(`{"delivered":0}`)))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openTemp(t)
			path := s.Path()
			putRequest(t, s, "r1")
			mustAccept(t, s, newPayment("r1"))
			s.Close()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(c.damage); err != nil {
				t.Fatal(err)
			}
			db.Close()
			wantCorrupt(t, path)
		})
	}
}

// The kill -9 test: a child process (this test binary) writes payments and
// requests from several goroutines until the parent kills it with SIGKILL
// at a moment of its own; the parent then opens the file and requires the
// log to match the records exactly, in both directions. Three rounds on the
// one file, each going on from the last.
const killChildEnv = "STORE_EVENTS_KILL_CHILD"

func TestEventsAndStateChangesSurviveKill9Together(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		killChild(path, os.Getenv(killChildEnv+"_ROUND"))
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "pos.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEventsAndStateChangesSurviveKill9Together$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+path, fmt.Sprintf("%s_ROUND=%d", killChildEnv, round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "writing\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child: %q, %v", line, err)
		}
		time.Sleep(time.Duration(20+round*15) * time.Millisecond) // mid-stream, between or inside commits
		if err := cmd.Process.Kill(); err != nil {                // SIGKILL
			t.Fatal(err)
		}
		_ = cmd.Wait()

		s, err := Open(path, nil)
		if err != nil {
			t.Fatalf("round %d: Open after kill -9: %v", round, err)
		}
		n := checkLogMatchesRecords(t, s)
		t.Logf("round %d: %d events, all matching their records", round, n)
		if n == 0 {
			t.Fatalf("round %d: the child wrote nothing before it was killed", round)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func killChild(path, round string) {
	s, err := Open(path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	var started sync.Once
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("k%s-%d-%d", round, g, i)
				if err := s.PutRequest(bg, newRequest(id)); err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(2)
				}
				p := newPayment(id)
				if _, _, err := s.Accept(bg, p, t0, nil); err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(2)
				}
				if i%2 == 0 {
					if _, err := s.SetPaymentState(bg, p.TxHash, PaymentBroadcast, "", t0); err != nil {
						os.Exit(2)
					}
				}
				if i%3 == 0 {
					c := id + "-c"
					if err := s.PutRequest(bg, newRequest(c)); err != nil {
						os.Exit(2)
					}
					if _, err := s.CancelRequest(bg, c, t0); err != nil {
						os.Exit(2)
					}
				}
				if i == 5 {
					started.Do(func() { fmt.Println("writing") })
				}
			}
		}()
	}
	wg.Wait()
}

// checkLogMatchesRecords requires every event to report a stored record in
// the state it names, and every record to have exactly the events its
// state implies (accepted [, broadcast] for a payment; paid or cancelled for
// a request), with LastEvent naming the last; it returns the number of
// events. Nothing is pruned in this test, so seqs run 1..Last.
func checkLogMatchesRecords(t *testing.T, s *Store) int {
	t.Helper()
	all := []Event{}
	for after := uint64(0); ; {
		es := eventsAfter(t, s, after)
		if len(es) == 0 {
			break
		}
		all = append(all, es...)
		after = es[len(es)-1].Seq
	}
	st, err := s.EventLog()
	if err != nil {
		t.Fatal(err)
	}
	if st.Last != uint64(len(all)) {
		t.Fatalf("log's last seq %d, %d events kept: a seq was taken without its event", st.Last, len(all))
	}
	byPayment, byRequest := map[common.Hash][]Event{}, map[string][]Event{}
	for i, e := range all {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		if e.Payment != nil {
			byPayment[e.Payment.ID] = append(byPayment[e.Payment.ID], e)
		} else {
			byRequest[e.Request.ID] = append(byRequest[e.Request.ID], e)
		}
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		payments := 0
		if err := tx.Bucket(bucketPayments).ForEach(func(k, v []byte) error {
			payments++
			body, err := checkValue(bucketPayments, k, v)
			if err != nil {
				return err
			}
			p, err := decodePayment(k, body)
			if err != nil {
				return err
			}
			want := []EventKind{EventPaymentAccepted}
			if p.State == PaymentBroadcast {
				want = append(want, EventPaymentBroadcast)
			}
			es := byPayment[p.TxHash]
			if !slices.Equal(kinds(es), want) || es[len(es)-1].Seq != p.LastEvent || es[len(es)-1].Payment.State != p.State {
				return fmt.Errorf("payment %s (%s, last event %d): events %v", p.TxHash, p.State, p.LastEvent, kinds(es))
			}
			return nil
		}); err != nil {
			return err
		}
		if payments != len(byPayment) {
			return fmt.Errorf("%d payments, events name %d: an event without its payment", payments, len(byPayment))
		}
		requests := 0
		if err := tx.Bucket(bucketRequests).ForEach(func(k, v []byte) error {
			body, err := checkValue(bucketRequests, k, v)
			if err != nil {
				return err
			}
			r, err := decodeRequest(k, body)
			if err != nil {
				return err
			}
			var want []EventKind
			switch r.Status {
			case RequestPaid:
				want = []EventKind{EventRequestPaid}
			case RequestCancelled:
				want = []EventKind{EventRequestCancelled}
			}
			es := byRequest[r.ID]
			if !slices.Equal(kinds(es), want) || (len(es) > 0 && es[0].Seq != r.LastEvent) {
				return fmt.Errorf("request %s (%s, last event %d): events %v", r.ID, r.Status, r.LastEvent, kinds(es))
			}
			if len(want) > 0 {
				requests++
			}
			return nil
		}); err != nil {
			return err
		}
		if requests != len(byRequest) {
			return fmt.Errorf("%d requests paid or cancelled, events name %d: an event without its request", requests, len(byRequest))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

func TestEventsAppendedWakesAReaderAfterTheCommitOnly(t *testing.T) {
	s := openTemp(t)
	ch := s.EventsAppended()
	putRequest(t, s, "r1") // a commit with no event
	select {
	case <-ch:
		t.Fatal("woken by a commit that appended no event")
	default:
	}
	mustAccept(t, s, newPayment("r1"))
	select {
	case <-ch:
		t.Fatal("woken before the commit: payment.accepted waits in the journal")
	default:
	}
	// The commit that holds it (the committer idle a moment) wakes it.
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by the commit that appended payment.accepted")
	}
	if es := eventsAfter(t, s, 0); len(es) != 2 {
		t.Fatalf("woken, and %d events to read", len(es))
	}
	select {
	case <-s.EventsAppended():
		t.Fatal("a channel taken after the append is closed already")
	default:
	}
}

func TestExpireRequestsReportsInExpiryOrderALimitAtATime(t *testing.T) {
	s := openTemp(t)
	for i, id := range []string{"c", "a", "b"} {
		r := newRequest(id)
		r.ExpiresAt = t0.Add(time.Duration(10-i) * time.Minute) // c last, b first
		if err := s.PutRequest(bg, r); err != nil {
			t.Fatal(err)
		}
	}
	if at, ok, err := s.NextExpiry(); err != nil || !ok || !at.Equal(t0.Add(8*time.Minute+MatchGrace)) {
		t.Fatalf("NextExpiry = %v, %v, %v; want b's expiry plus the grace", at, ok, err)
	}
	late := t0.Add(time.Hour)
	for _, want := range []int{2, 1, 0} {
		if n, err := s.ExpireRequests(bg, late, 2); err != nil || n != want {
			t.Fatalf("ExpireRequests(limit 2) = %d, %v; want %d", n, err, want)
		}
	}
	if _, ok, err := s.NextExpiry(); err != nil || ok {
		t.Fatalf("NextExpiry after every request was reported = %v, %v; want none", ok, err)
	}
	var ids []string
	for _, e := range eventsAfter(t, s, 0) {
		if e.Kind != EventRequestExpired || e.Request.Status != RequestExpired {
			t.Fatalf("event %s %+v", e.Kind, e.Request)
		}
		ids = append(ids, e.Request.ID)
	}
	if !slices.Equal(ids, []string{"b", "a", "c"}) {
		t.Fatalf("expired in order %v, want b a c (by expiry)", ids)
	}
	if r, err := s.Request("a"); err != nil || r.Status != RequestPending || r.StatusAt(late) != RequestExpired || r.LastEvent != 2 {
		t.Fatalf("request a after the sweep: %+v, %v (its status is still derived; it names its event)", r, err)
	}
}

// TestTheLogStaysBoundedWithNoPruner: beyond Options.EventRetention each
// append drops the oldest events, but never one a sink has not delivered;
// once the sink catches up, the log shrinks back to the retention.
func TestTheLogStaysBoundedWithNoPruner(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "pos.db"), &Options{EventRetention: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pay := func(from, to int) {
		for i := from; i < to; i++ {
			putRequest(t, s, reqID(i))
			mustAccept(t, s, newPayment(reqID(i))) // two events
		}
	}
	wantLog := func(first, last uint64) {
		t.Helper()
		st, err := s.EventLog()
		if err != nil || st.First != first || st.Last != last {
			t.Fatalf("EventLog = %+v, %v; want %d..%d", st, err, first, last)
		}
	}
	pay(0, 5)
	wantLog(7, 10) // no sink: the newest 4
	if _, err := s.RegisterSink(bg, "mqtt", SinkFromEnd, t0); err != nil {
		t.Fatal(err)
	}
	pay(5, 8)
	wantLog(11, 16) // 7..10 were delivered (the sink began at 10) and go; 11..16 are not, and stay
	if err := s.MarkDelivered(bg, "mqtt", 16); err != nil {
		t.Fatal(err)
	}
	pay(8, 10) // four appends, each dropping up to two delivered events
	wantLog(17, 20)
}

// Past the retention the log trims in batches: it runs up to a sixteenth
// (at most 64) events over, then one append drops the oldest down to the
// retention, so most appends leave the oldest events' pages alone.
func TestTheLogTrimsInBatchesPastItsRetention(t *testing.T) {
	const retain, slack = 160, 10
	s, err := Open(filepath.Join(t.TempDir(), "pos.db"), &Options{EventRetention: retain})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	trims, prevFirst := 0, uint64(0)
	for i := range 200 {
		putRequest(t, s, reqID(i))
		mustAccept(t, s, newPayment(reqID(i))) // two events
		st, err := s.EventLog()
		if err != nil {
			t.Fatal(err)
		}
		held := st.Last - st.First + 1
		if held > retain+slack+2 {
			t.Fatalf("after payment %d the log holds %d events, want at most %d", i, held, retain+slack+2)
		}
		if st.First != prevFirst && prevFirst != 0 {
			trims++
			if held > retain+2 { // the trim, then perhaps the accept's other event
				t.Fatalf("payment %d trimmed the log to %d events, want the retention, %d, and its own events", i, held, retain)
			}
		}
		prevFirst = st.First
	}
	// 400 events, 160 kept: 240 dropped, in batches of about 12.
	if trims == 0 || trims > 240/slack {
		t.Errorf("%d appends trimmed the log, want 1 to %d (a batch at least every %d events)", trims, 240/slack, slack)
	}
}
