package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/uplink"
	"showpos/terminal/fleet"
	"showpos/terminal/store"
	"showpos/tools/mosquitto"
)

// fleetGroup is the group every benchmark terminal is in; its bundle is
// published on P/config/fleetGroup.
const fleetGroup = "shops"

// fleetRows runs o.fleetN terminals' MQTT side (sync/uplink's Link, the
// code posd runs) in this process against one Mosquitto, each beside a
// floor: the same number of bare paho clients doing the same MQTT work
// with nothing of ours, against the same broker in the same run. What the
// Links read from is an in-memory event log (the MQTT side is measured,
// not a thousand bbolt files); the bundle each takes is checked as a
// terminal checks it (ed25519 signature, payload, targets).
func fleetRows(ctx context.Context, o options, dir string) []row {
	n, k := o.fleetN, o.fleetEvents
	what := func(s string) string { return fmt.Sprintf(s, thousands(int64(n))) }
	rowsFailed := func(err error) []row {
		return []row{failed(what("fleet: %s terminals connect and publish a retained status"), err),
			failed("fleet: events fan-in at one subscriber", err),
			failed(what("fleet: a retained bundle reaches all %s terminals"), err)}
	}
	// One back-office subscriber takes every terminal's events at QoS 1:
	// with many terminals publishing at once its queue at the broker
	// grows past Mosquitto's default 1,000 and would be dropped.
	b, err := mosquitto.Launch(filepath.Join(dir, "mosquitto"), mosquitto.Options{
		Extra: []string{"max_queued_messages 0", "max_connections -1"}})
	if err != nil {
		return rowsFailed(err)
	}
	defer b.Stop()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return rowsFailed(err)
	}
	bundle, err := fleet.Sign(priv, fleet.Payload{Version: 7, Issued: time.Now(), Expires: time.Now().Add(24 * time.Hour),
		Targets: fleet.Targets{Groups: []string{fleetGroup}}, Config: "[terminal]\nlocale = \"de\"\n"})
	if err != nil {
		return rowsFailed(err)
	}
	bodies, err := eventBodies(k)
	if err != nil {
		return rowsFailed(err)
	}

	progress("fleet: %d bare MQTT clients (the floor)", n)
	floor, err := fleetFloor(ctx, b.URL(), n, k, bodies, bundle)
	if err != nil {
		return rowsFailed(fmt.Errorf("floor: %w", err))
	}
	progress("fleet: %d terminals' uplinks", n)
	ours, err := fleetLinks(ctx, b.URL(), n, k, bodies, bundle, pub)
	if err != nil {
		return rowsFailed(err)
	}
	perSec := func(d time.Duration) float64 { return float64(n*k) / d.Seconds() }
	return []row{
		{What: what("fleet: %s terminals connect and publish a retained status"), Value: ms(ours.status),
			Peer: ms(floor.status) + " (bare paho clients)", Ratio: ratio(ours.status.Seconds(), floor.status.Seconds()),
			How: fmt.Sprintf("from starting the uplinks until one subscriber on P/+/status has each one's connected status; the floor connects as many paho clients that each publish a retained status of the same size; one Mosquitto %s on loopback",
				mosquittoVersion(b))},
		{What: "fleet: events fan-in at one subscriber", Value: rate(perSec(ours.events), "events"),
			Peer: rate(perSec(floor.events), "events") + " (bare paho QoS 1)", Ratio: ratio(perSec(ours.events), perSec(floor.events)),
			How: fmt.Sprintf("%s terminals × %d events (%d-byte payment events) published at QoS 1 from each one's log, from starting the uplinks (connections included) until a subscriber on P/+/events (QoS 1) has every (terminal, seq) and every log is marked delivered on PUBACK; the floor connects bare clients that publish the same bodies at QoS 1",
				thousands(int64(n)), k, len(bodies[0]))},
		{What: what("fleet: a retained bundle reaches all %s terminals"), Value: ms(ours.bundle),
			Peer: ms(floor.bundle) + " (bare paho subscribers)", Ratio: ratio(ours.bundle.Seconds(), floor.bundle.Seconds()),
			How: fmt.Sprintf("from publishing a signed %d-byte bundle retained on P/config/%s until every terminal has checked it (signature, payload, targets); the floor: as many bare subscribers receiving it",
				len(bundle), fleetGroup)},
	}
}

// fleetResult is one side's three figures.
type fleetResult struct {
	status, events, bundle time.Duration
}

// eventBodies are k payment events as the store writes them, with seqs
// 1..k, of a real event's size.
func eventBodies(k int) ([][]byte, error) {
	bodies := make([][]byte, k)
	for i := range bodies {
		e := store.Event{V: 1, Seq: uint64(i + 1), Kind: store.EventPaymentAccepted, At: time.Now().UTC(),
			Payment: &store.EventPayment{ID: common.BigToHash(big.NewInt(int64(i + 1))), Source: store.SourceHandover,
				RequestID: fmt.Sprintf("r-%d", i+1), From: common.BigToAddress(big.NewInt(int64(i + 7))), Asset: "TUSD",
				Amount: "12500000", AmountDisplay: "12.5", State: store.PaymentQueued, AcceptedAt: time.Now().UTC()}}
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	return bodies, nil
}

// collector is a back-office subscriber: it counts what arrives until
// want distinct keys have come, then closes done.
type collector struct {
	mu   sync.Mutex
	seen map[string]bool
	want int
	done chan struct{}
}

func newCollector(want int) *collector {
	return &collector{seen: make(map[string]bool, want), want: want, done: make(chan struct{})}
}

func (c *collector) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[key] || len(c.seen) >= c.want {
		return
	}
	c.seen[key] = true
	if len(c.seen) == c.want {
		close(c.done)
	}
}

func (c *collector) wait(ctx context.Context, within time.Duration) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(within):
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%d of %d after %s", len(c.seen), c.want, within)
	}
}

// fleetWithin bounds each measurement.
const fleetWithin = 5 * time.Minute

func mqttClient(url, id string, configure func(*paho.ClientOptions)) (paho.Client, error) {
	po := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(30 * time.Second).SetKeepAlive(60 * time.Second)
	if configure != nil {
		configure(po)
	}
	c := paho.NewClient(po)
	if tok := c.Connect(); !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
		return nil, fmt.Errorf("connect %s: %v", id, tok.Error())
	}
	return c, nil
}

// subscribe connects a back-office client subscribed to filter at QoS 1,
// handing each message to f.
func subscribe(url, id, filter string, f func(topic string, payload []byte)) (paho.Client, error) {
	c, err := mqttClient(url, id, nil)
	if err != nil {
		return nil, err
	}
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { f(m.Topic(), m.Payload()) })
	if !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
		c.Disconnect(0)
		return nil, fmt.Errorf("subscribe %s: %v", filter, tok.Error())
	}
	return c, nil
}

// terminalOf is the terminal level of P/T/...
func terminalOf(topic string) string {
	parts := strings.Split(topic, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[len(parts)-2]
}

// fleetFloor does the three jobs with bare paho clients under the prefix
// "floor": connect and publish a retained status; publish k events each
// at QoS 1; receive a retained bundle.
func fleetFloor(ctx context.Context, url string, n, k int, bodies [][]byte, bundle []byte) (fleetResult, error) {
	const prefix = "floor"
	var r fleetResult
	statusBody, _ := json.Marshal(uplink.Status{V: 1, Terminal: "t-00000", Connected: true, At: time.Now(), Version: "dev",
		ConfigVersion: 7, Online: true, Queue: map[string]int{"queued": 3}, LastPayment: time.Now(), LastEvent: uint64(k)})

	statuses := newCollector(n)
	sub, err := subscribe(url, "floor-status", uplink.StatusFilter(prefix), func(topic string, _ []byte) { statuses.add(topic) })
	if err != nil {
		return r, err
	}
	defer sub.Disconnect(0)
	events := newCollector(n * k)
	esub, err := subscribe(url, "floor-events", uplink.EventsFilter(prefix), func(topic string, p []byte) {
		events.add(topic + "#" + seqOf(p))
	})
	if err != nil {
		return r, err
	}
	defer esub.Disconnect(0)

	clients := make([]paho.Client, n)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Disconnect(0)
			}
		}
	}()
	var got atomic.Int64
	bundles := make(chan struct{}, n)
	// As a terminal does: connect, publish the status, then the events.
	began := time.Now()
	var first firstError
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("t-%05d", i)
			t := uplink.Topics{Prefix: prefix, Terminal: id}
			c, err := mqttClient(url, "floor-"+id, func(po *paho.ClientOptions) {
				po.SetBinaryWill(t.Status(), []byte(`{"v":1,"connected":false}`), 1, true)
			})
			if err != nil {
				first.set(err)
				return
			}
			clients[i] = c
			c.Publish(t.Status(), 1, true, statusBody)
			toks := make([]paho.Token, 0, k)
			for _, body := range bodies {
				toks = append(toks, c.Publish(t.Events(), 1, false, body))
			}
			for _, tok := range toks {
				if tok.Wait(); tok.Error() != nil {
					first.set(tok.Error())
				}
			}
		})
	}
	if err := statuses.wait(ctx, fleetWithin); err != nil {
		wg.Wait()
		return r, fmt.Errorf("statuses: %w (%v)", err, first.get())
	}
	r.status = time.Since(began)
	wg.Wait()
	if err := first.get(); err != nil {
		return r, err
	}
	if err := events.wait(ctx, fleetWithin); err != nil {
		return r, fmt.Errorf("events: %w", err)
	}
	r.events = time.Since(began)

	for i, c := range clients {
		tok := c.Subscribe(uplink.GroupConfig(prefix, fleetGroup), 1, func(_ paho.Client, m paho.Message) {
			if len(m.Payload()) == len(bundle) {
				got.Add(1)
				bundles <- struct{}{}
			}
		})
		if !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
			return r, fmt.Errorf("subscribe %d: %v", i, tok.Error())
		}
	}
	d, err := publishBundle(ctx, url, uplink.GroupConfig(prefix, fleetGroup), bundle, n, bundles)
	r.bundle = d
	return r, err
}

// publishBundle publishes bundle retained on topic and times it until n
// receipts have come on got.
func publishBundle(ctx context.Context, url, topic string, bundle []byte, n int, got <-chan struct{}) (time.Duration, error) {
	c, err := mqttClient(url, "publisher-"+strings.ReplaceAll(topic, "/", "-"), nil)
	if err != nil {
		return 0, err
	}
	defer c.Disconnect(100)
	began := time.Now()
	if tok := c.Publish(topic, 1, true, bundle); !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
		return 0, fmt.Errorf("publish the bundle: %v", tok.Error())
	}
	deadline := time.After(fleetWithin)
	for i := range n {
		select {
		case <-got:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-deadline:
			return 0, fmt.Errorf("the bundle reached %d of %d", i, n)
		}
	}
	return time.Since(began), nil
}

// seqOf reads an event's seq without decoding the rest.
func seqOf(p []byte) string {
	var e struct {
		Seq uint64 `json:"seq"`
	}
	if json.Unmarshal(p, &e) != nil {
		return "bad"
	}
	return fmt.Sprint(e.Seq)
}

// fleetLinks does the three jobs with n uplink Links under the prefix
// "showpos", each reading k events from its own in-memory log.
func fleetLinks(ctx context.Context, url string, n, k int, bodies [][]byte, bundle []byte, pub ed25519.PublicKey) (fleetResult, error) {
	prefix := uplink.DefaultPrefix
	var r fleetResult
	statuses := newCollector(n)
	sub, err := subscribe(url, "office-status", uplink.StatusFilter(prefix), func(topic string, p []byte) {
		var s uplink.Status
		if json.Unmarshal(p, &s) == nil && s.Connected {
			statuses.add(topic)
		}
	})
	if err != nil {
		return r, err
	}
	defer sub.Disconnect(0)
	events := newCollector(n * k)
	// Subscribed before the links start: their events flow from the
	// first connection, and the figure is the whole fan-in.
	esub, err := subscribe(url, "office-events", uplink.EventsFilter(prefix), func(topic string, p []byte) {
		events.add(topic + "#" + seqOf(p))
	})
	if err != nil {
		return r, err
	}
	defer esub.Disconnect(0)

	logs := make([]*memLog, n)
	bundles := make(chan struct{}, n)
	var refused atomic.Int64
	links := make([]*uplink.Link, n)
	for i := range n {
		id := fmt.Sprintf("t-%05d", i)
		logs[i] = newMemLog(bodies)
		status := uplink.Status{Version: "dev", Started: time.Now(), ConfigVersion: 6, Online: true,
			Queue: map[string]int{"queued": 3}}
		l, err := uplink.New(uplink.Options{Broker: url, Terminal: id, Groups: []string{fleetGroup}, Log: logs[i],
			Status: func() uplink.Status { return status },
			Config: func(_ context.Context, raw []byte) error {
				p, err := fleet.Open(raw, pub)
				if err != nil {
					refused.Add(1)
					return err
				}
				if !p.Targets.Match(id, []string{fleetGroup}) {
					refused.Add(1)
					return errors.New("not a target")
				}
				bundles <- struct{}{}
				return nil
			}})
		if err != nil {
			return r, err
		}
		links[i] = l
	}
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	began := time.Now()
	for _, l := range links {
		wg.Go(func() { _ = l.Run(lctx) })
	}
	if err := statuses.wait(ctx, fleetWithin); err != nil {
		return r, fmt.Errorf("statuses: %w", err)
	}
	r.status = time.Since(began)
	// The events flow from each link's first connection: the fan-in is
	// timed from the same start.
	if err := events.wait(ctx, fleetWithin); err != nil {
		return r, fmt.Errorf("events: %w", err)
	}
	for i, lg := range logs {
		select {
		case <-lg.done:
		case <-time.After(fleetWithin):
			return r, fmt.Errorf("terminal %d: events delivered to %d of %d", i, lg.deliveredSeq(), k)
		}
	}
	r.events = time.Since(began)

	d, err := publishBundle(ctx, url, uplink.GroupConfig(prefix, fleetGroup), bundle, n, bundles)
	if err == nil && refused.Load() > 0 {
		err = fmt.Errorf("%d terminals refused the bundle", refused.Load())
	}
	r.bundle = d
	return r, err
}

// memLog is one terminal's event log in memory: k events, one sink.
type memLog struct {
	events []store.Event
	done   chan struct{} // closed once every event is marked delivered

	mu        sync.Mutex
	delivered uint64
}

func newMemLog(bodies [][]byte) *memLog {
	l := &memLog{done: make(chan struct{})}
	for i, b := range bodies {
		l.events = append(l.events, store.Event{V: 1, Seq: uint64(i + 1), Body: b})
	}
	return l
}

func (l *memLog) RegisterSink(_ context.Context, name string, _ store.SinkStart, now time.Time) (store.Sink, error) {
	return store.Sink{Name: name, RegisteredAt: now, Delivered: l.deliveredSeq()}, nil
}

func (l *memLog) Events(after uint64, limit int) ([]store.Event, error) {
	if after >= uint64(len(l.events)) {
		return nil, nil
	}
	return l.events[after:min(uint64(len(l.events)), after+uint64(limit))], nil
}

func (l *memLog) MarkDelivered(_ context.Context, _ string, seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq > l.delivered {
		l.delivered = seq
		if seq == uint64(len(l.events)) {
			close(l.done)
		}
	}
	return nil
}

func (l *memLog) deliveredSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.delivered
}

// EventsAppended never fires: the log is written before the link starts.
func (l *memLog) EventsAppended() <-chan struct{} { return nil }

func (l *memLog) EventLog() (store.EventLogState, error) {
	last := uint64(len(l.events))
	return store.EventLogState{First: 1, Last: last, LowestDelivered: l.deliveredSeq(), Sinks: true}, nil
}

// mosquittoVersion is the broker's version from its log, or "".
func mosquittoVersion(b *mosquitto.Broker) string {
	for _, line := range strings.Split(b.Log(), "\n") {
		if i := strings.Index(line, "mosquitto version "); i >= 0 {
			return strings.Fields(line[i+len("mosquitto version "):])[0]
		}
	}
	return ""
}
