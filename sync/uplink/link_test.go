package uplink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"showpos/sync/uplink"
	"showpos/terminal/store"
	"showpos/tools/mosquitto"
)

const wait = 20 * time.Second

var bg = context.Background()

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "pos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// addEvents makes n events in s (a request made and cancelled: one
// request.cancelled each) and returns the last seq.
func addEvents(t *testing.T, s *store.Store, n int) uint64 {
	t.Helper()
	now := time.Now()
	st, err := s.EventLog()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("r%d-%d", st.Last, i)
		r := store.Request{ID: id, Asset: "ETH", Amount: big.NewInt(int64(st.Last)*1000 + int64(i) + 1),
			CreatedAt: now, ExpiresAt: now.Add(time.Hour), Doc: []byte(`{}`)}
		if err := s.PutRequest(bg, r); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CancelRequest(bg, id, now); err != nil {
			t.Fatal(err)
		}
	}
	st, err = s.EventLog()
	if err != nil {
		t.Fatal(err)
	}
	return st.Last
}

func status(t *testing.T, m mosquitto.Message) uplink.Status {
	t.Helper()
	var s uplink.Status
	if err := json.Unmarshal(m.Payload, &s); err != nil {
		t.Fatalf("status %s: %v", m.Payload, err)
	}
	return s
}

// run runs a Link until the test ends (or until the returned stop is
// called, which waits for Run to return).
func run(t *testing.T, o uplink.Options) (*uplink.Link, func()) {
	t.Helper()
	if o.Terminal == "" {
		o.Terminal = "t1"
	}
	if o.Status == nil {
		o.Status = func() uplink.Status { return uplink.Status{Online: true} }
	}
	o.MinBackoff, o.MaxBackoff = 50*time.Millisecond, 500*time.Millisecond
	l, err := uplink.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return l, stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The status is retained with connected true from the moment the terminal
// connects (a screen that subscribes later sees it), and a terminal that
// stops publishes connected false, retained, before it disconnects.
func TestStatusIsRetainedWhileConnectedAndOfflineAfterAStop(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	s := openStore(t)
	l, stop := run(t, uplink.Options{Broker: b.URL(), Terminal: "t1", Log: s,
		Status: func() uplink.Status { return uplink.Status{Online: true, ConfigVersion: 7} }})
	eventually(t, "connected", func() bool { return l.Status().Connected })

	got := status(t, mosquitto.Next(t, mosquitto.Subscribe(t, b, "screen1", "showpos/+/status", false), "retained status"))
	if !got.Connected || got.Terminal != "t1" || got.V != 1 || !got.Online || got.ConfigVersion != 7 || got.At.IsZero() {
		t.Fatalf("retained status %+v; want v1, t1, connected, online, config 7, at set", got)
	}
	stop()
	m := mosquitto.Next(t, mosquitto.Subscribe(t, b, "screen2", "showpos/t1/status", false), "status after the stop")
	if want := `{"v":1,"terminal":"t1","connected":false,"configVersion":0,"online":false,"oldestQueuedAgeSeconds":0,"lastEvent":0}`; !m.Retained || string(m.Payload) != want {
		t.Fatalf("after a stop: %s (retained %v); want %s retained", m.Payload, m.Retained, want)
	}
}

// proxy forwards TCP connections to a broker. Hold makes it swallow what
// it is given (a network that went silent); Cut closes the connections it
// forwards and Close its listener too, as a dead network would: no
// DISCONNECT reaches the broker.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	hold  bool
}

func newProxy(t *testing.T, to string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go p.pipe(u, c)
			go p.pipe(c, u)
		}
	}()
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		hold := p.hold
		p.mu.Unlock()
		if hold {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *proxy) URL() string { return "mqtt://" + p.ln.Addr().String() }

func (p *proxy) Hold(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = on
}

func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) Close() {
	p.ln.Close()
	p.Cut()
}

// When the terminal's connection dies without a goodbye, the broker
// publishes its last will: the status, retained, connected false.
func TestTheLastWillMarksTheTerminalOfflineWhenItsConnectionDies(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	p := newProxy(t, b.Addr())
	l, _ := run(t, uplink.Options{Broker: p.URL(), Terminal: "t9", Log: openStore(t)})
	eventually(t, "connected", func() bool { return l.Status().Connected })
	screen := mosquitto.Subscribe(t, b, "screen", "showpos/t9/status", false)
	if s := status(t, mosquitto.Next(t, screen, "status")); !s.Connected {
		t.Fatalf("status before the cut: %+v", s)
	}
	p.Close()
	s := status(t, mosquitto.Next(t, screen, "the last will"))
	if s.Connected || s.Terminal != "t9" {
		t.Fatalf("after the connection died: %+v; want t9 not connected", s)
	}
	eventually(t, "the link to see it is not connected", func() bool { return !l.Status().Connected })
}

// eventsBySeq reads events from ch until every seq first..last has arrived
// and checks each against the store's bytes and that they arrived in seq
// order (first arrivals; a repeat of one already seen is allowed).
func eventsBySeq(t *testing.T, ch <-chan mosquitto.Message, s *store.Store, first, last uint64) {
	t.Helper()
	want, err := s.Events(0, int(last))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	highest := first - 1
	for uint64(len(seen)) < last-first+1 {
		m := mosquitto.Next(t, ch, fmt.Sprintf("event (have %d of %d)", len(seen), last))
		var e struct{ Seq uint64 }
		if err := json.Unmarshal(m.Payload, &e); err != nil || e.Seq < first || e.Seq > last {
			t.Fatalf("event %s: %v", m.Payload, err)
		}
		if !bytes.Equal(m.Payload, want[e.Seq-1].Body) {
			t.Fatalf("event %d is %s; the store has %s", e.Seq, m.Payload, want[e.Seq-1].Body)
		}
		if !seen[e.Seq] {
			if e.Seq != highest+1 {
				t.Fatalf("event %d arrived first after %d: out of order", e.Seq, highest)
			}
			highest = e.Seq
		}
		seen[e.Seq] = true
	}
}

// Events taken while the broker is down are published once it is back,
// in seq order, as the store keeps them; the sink's cursor reaches the
// last only once the broker acknowledged everything.
func TestEventsArriveInOrderAcrossABrokerRestart(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{Persist: true})
	s := openStore(t)
	backOffice := mosquitto.Subscribe(t, b, "backoffice", "showpos/+/events", true)
	l, _ := run(t, uplink.Options{Broker: b.URL(), Log: s, Window: 4})
	addEvents(t, s, 10)
	eventually(t, "10 delivered", func() bool { return l.Status().Delivered == 10 })

	b.Stop()
	eventually(t, "the link to see the broker gone", func() bool { return !l.Status().Connected })
	last := addEvents(t, s, 15)
	if sk, err := s.Sink(uplink.SinkName); err != nil || sk.Delivered > 10 {
		t.Fatalf("sink with the broker down: %+v, %v; want nothing past 10 marked", sk, err)
	}
	b.Restart()
	eventsBySeq(t, backOffice, s, 1, last)
	eventually(t, "the sink's cursor at the last event", func() bool {
		sk, err := s.Sink(uplink.SinkName)
		return err == nil && sk.Delivered == last && sk.Pending == 0
	})
	if st := l.Status(); st.Backlog != 0 || st.Delivered != last || st.LastError == "" {
		t.Fatalf("link status %+v; want all delivered, the broker's loss as the last error", st)
	}
}

// Events the broker has not acknowledged when the connection dies are
// not marked delivered, and are published again on the next connection.
func TestEventsNotAcknowledgedArePublishedAgain(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	p := newProxy(t, b.Addr())
	s := openStore(t)
	backOffice := mosquitto.Subscribe(t, b, "backoffice", "showpos/+/events", false)
	l, _ := run(t, uplink.Options{Broker: p.URL(), Log: s})
	eventsBySeq(t, backOffice, s, 1, addEvents(t, s, 3))
	eventually(t, "3 marked delivered", func() bool {
		sk, err := s.Sink(uplink.SinkName)
		return err == nil && sk.Delivered == 3
	})

	p.Hold(true) // published into silence: no PUBACK comes back
	last := addEvents(t, s, 5)
	time.Sleep(200 * time.Millisecond) // let the link publish them
	p.Cut()
	if sk, err := s.Sink(uplink.SinkName); err != nil || sk.Delivered != 3 || l.Status().Delivered != 3 {
		t.Fatalf("sink %+v (%v), link %+v; want 3, nothing unacknowledged marked", sk, err, l.Status())
	}
	p.Hold(false)
	eventsBySeq(t, backOffice, s, 4, last)
	eventually(t, "all marked delivered", func() bool {
		sk, err := s.Sink(uplink.SinkName)
		return err == nil && sk.Delivered == last
	})
}

// A Link started on a store whose sink has delivered some events goes on
// from its cursor; one started fresh takes every event kept.
func TestALinkResumesFromTheDurableCursor(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	s := openStore(t)
	addEvents(t, s, 6)
	if _, err := s.RegisterSink(bg, uplink.SinkName, store.SinkFromOldest, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(bg, uplink.SinkName, 4); err != nil {
		t.Fatal(err)
	}
	ch := mosquitto.Subscribe(t, b, "backoffice", "showpos/t1/events", false)
	run(t, uplink.Options{Broker: b.URL(), Log: s})
	for _, want := range []uint64{5, 6} {
		var e struct{ Seq uint64 }
		if err := json.Unmarshal(mosquitto.Next(t, ch, "event").Payload, &e); err != nil || e.Seq != want {
			t.Fatalf("event seq %d (%v), want %d", e.Seq, err, want)
		}
	}
}

// Bundles on the terminal's config topic and its groups' are handed over,
// retained ones published before the terminal connected included; an
// empty message (a cleared topic) is not; an oversize one is cut one byte
// past the cap, for the fleet manager to refuse.
func TestConfigMessagesAreHandedOver(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	mosquitto.Publish(t, b, "publisher", "fleet/config/g2", true, []byte("group bundle"))
	mosquitto.Publish(t, b, "publisher", "fleet/config/g3", true, []byte("another group's"))
	got := make(chan string, 10)
	l, _ := run(t, uplink.Options{Broker: b.URL(), Prefix: "fleet", Terminal: "t1", Groups: []string{"g1", "g2"},
		Log: openStore(t), MaxConfig: 100,
		Config: func(_ context.Context, raw []byte) error { got <- string(raw); return errors.New("refused") }})
	if m := <-got; m != "group bundle" {
		t.Fatalf("handed %q first, want the retained group bundle", m)
	}
	eventually(t, "connected", func() bool { return l.Status().Connected })
	mosquitto.Publish(t, b, "publisher", "fleet/t1/config", true, []byte("terminal bundle"))
	mosquitto.Publish(t, b, "publisher", "fleet/t1/config", true, nil) // cleared
	mosquitto.Publish(t, b, "publisher", "fleet/config/g1", false, bytes.Repeat([]byte("x"), 500))
	for _, want := range []string{"terminal bundle", strings.Repeat("x", 101)} {
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("handed %.20q (%d bytes), want %.20q (%d bytes)", m, len(m), want, len(want))
			}
		case <-time.After(wait):
			t.Fatalf("%.20q not handed over", want)
		}
	}
	select {
	case m := <-got:
		t.Fatalf("also handed %.20q", m)
	case <-time.After(300 * time.Millisecond):
	}
}

// A broker that refuses the terminal leaves it unconnected, saying why,
// and trying again; with the right password it connects.
func TestABrokerThatRefusesTheTerminalIsReported(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{Users: map[string]string{"t1": "right"}})
	s := openStore(t)
	addEvents(t, s, 2)
	l, _ := run(t, uplink.Options{Broker: b.URL(), Username: "t1", Password: "wrong", Log: s})
	eventually(t, "a refusal reported", func() bool { return strings.Contains(l.Status().LastError, "not Authorized") })
	if st := l.Status(); st.Connected || st.Delivered != 0 || st.Backlog != 2 {
		t.Fatalf("status %+v; want not connected, nothing delivered, a backlog of 2", st)
	}
	l2, _ := run(t, uplink.Options{Broker: b.URL(), Terminal: "t2", Username: "t1", Password: "right", Log: openStore(t)})
	eventually(t, "connected with the right password", func() bool { return l2.Status().Connected })
}

// The status is published again when it changes and not while it does
// not (until StatusEvery).
func TestStatusIsPublishedOnChange(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	var mu sync.Mutex
	online := false
	screen := mosquitto.Subscribe(t, b, "screen", "showpos/t1/status", false)
	run(t, uplink.Options{Broker: b.URL(), Log: openStore(t), CheckEvery: 20 * time.Millisecond,
		Status: func() uplink.Status {
			mu.Lock()
			defer mu.Unlock()
			return uplink.Status{Online: online}
		}})
	if s := status(t, mosquitto.Next(t, screen, "status")); s.Online {
		t.Fatalf("first status %+v", s)
	}
	select {
	case m := <-screen:
		t.Fatalf("published again with nothing changed: %s", m.Payload)
	case <-time.After(300 * time.Millisecond):
	}
	mu.Lock()
	online = true
	mu.Unlock()
	if s := status(t, mosquitto.Next(t, screen, "status after the change")); !s.Online || !s.Connected {
		t.Fatalf("status after going online %+v", s)
	}
}

func TestNewRefusesWhatCannotBeATopicOrABroker(t *testing.T) {
	s := openStore(t)
	st := func() uplink.Status { return uplink.Status{} }
	for _, tc := range []struct {
		name string
		o    uplink.Options
		want string
	}{
		{"http broker", uplink.Options{Broker: "http://x:1883", Terminal: "t1"}, "mqtt:// or mqtts://"},
		{"no host", uplink.Options{Broker: "mqtt://", Terminal: "t1"}, "no host"},
		{"terminal with a slash", uplink.Options{Broker: "mqtt://x:1883", Terminal: "a/b"}, "terminal id"},
		{"wildcard group", uplink.Options{Broker: "mqtt://x:1883", Terminal: "t1", Groups: []string{"#"}}, "group"},
		{"empty prefix level", uplink.Options{Broker: "mqtt://x:1883", Terminal: "t1", Prefix: "a//b"}, "topic prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Log, tc.o.Status = s, st
			if _, err := uplink.New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v; want an error naming %q", err, tc.want)
			}
		})
	}
	if got := uplink.Redact("mqtts://u:secret@broker:8883"); got != "mqtts://broker:8883" {
		t.Fatalf("Redact = %s", got)
	}
}

// counting is the store's log with its reads and cursor writes counted.
type counting struct {
	*store.Store
	mu            sync.Mutex
	reads, writes int
}

func (c *counting) Events(after uint64, limit int) ([]store.Event, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Store.Events(after, limit)
}

func (c *counting) MarkDelivered(ctx context.Context, name string, seq uint64) error {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Store.MarkDelivered(ctx, name, seq)
}

func (c *counting) counts() (reads, writes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads, c.writes
}

// A caught-up Link waits for the store to say events were appended: it
// does not read the log while nothing is. The cursor is written at most
// once per MarkEvery however many events are acknowledged.
func TestTheLinkWaitsForAppendsAndBatchesItsCursor(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	s := &counting{Store: openStore(t)}
	ch := mosquitto.Subscribe(t, b, "backoffice", "showpos/t1/events", false)
	l, _ := run(t, uplink.Options{Broker: b.URL(), Log: s, MarkEvery: 100 * time.Millisecond})
	eventually(t, "connected", func() bool { return l.Status().Connected })

	reads, _ := s.counts()
	time.Sleep(300 * time.Millisecond)
	if again, _ := s.counts(); again != reads {
		t.Fatalf("the log was read %d times with nothing appended", again-reads)
	}

	start := time.Now()
	last := addEvents(t, s.Store, 300)
	eventsBySeq(t, ch, s.Store, 1, last)
	eventually(t, "the cursor at the last event", func() bool {
		sk, err := s.Sink(uplink.SinkName)
		return err == nil && sk.Delivered == last
	})
	_, writes := s.counts()
	if most := int(time.Since(start)/(100*time.Millisecond)) + 1; writes > most {
		t.Fatalf("%d cursor writes in %s for %d events; want at most one per 100 ms (%d)", writes, time.Since(start), last, most)
	}
	t.Logf("%d events, %d cursor writes", last, writes)
}
