package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"showpos/terminal/store"
)

// inflight is an event published and not yet acknowledged.
type inflight struct {
	seq uint64
	tok paho.Token
}

func done(t paho.Token) bool {
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

// session runs one connection until it is lost or ctx ends: it subscribes
// to the config topics, publishes the status, then the events from
// cur.acked on, at most Window unacknowledged, moving cur.acked over each
// contiguous run of PUBACKs and writing it to the store at most every
// MarkEvery. Nothing is marked that the broker has not acknowledged.
func (l *Link) session(ctx context.Context, c *conn, cur *cursor) error {
	stop := make(chan struct{})
	defer close(stop)
	configs := make(chan []byte)
	if l.o.Config != nil {
		filters := map[string]byte{l.topics.Config(): 1}
		for _, g := range l.o.Groups {
			filters[GroupConfig(l.o.Prefix, g)] = 1
		}
		tok := c.SubscribeMultiple(filters, func(_ paho.Client, m paho.Message) {
			select {
			case configs <- m.Payload():
			case <-stop:
			}
		})
		if err := l.await(ctx, c, tok); err != nil {
			return fmt.Errorf("subscribe to the config topics: %w", err)
		}
		for topic, qos := range tok.(*paho.SubscribeToken).Result() {
			if qos == 0x80 {
				l.setError(fmt.Errorf("the broker refused the subscription to %s", topic))
				l.log.Warn("mqtt: the broker refused a config topic", "topic", topic)
			}
		}
	}

	var lastStatus []byte
	var lastStatusAt time.Time
	status := func(force bool) {
		s := l.o.Status()
		s.V, s.Terminal, s.Connected = 1, l.o.Terminal, true
		if st, err := l.o.Log.EventLog(); err == nil {
			s.LastEvent = st.Last
		}
		if s.LastPayment.IsZero() {
			s.LastPayment = l.lastPayment
		}
		// A change is a change of anything but the time and the oldest
		// payment's age, which grows every second something is queued.
		key := s
		key.At, key.OldestQueuedAgeSeconds = time.Time{}, 0
		k, err := json.Marshal(key)
		if err != nil {
			l.log.Error("mqtt: status", "err", err)
			return
		}
		now := l.o.Now()
		if !force && bytes.Equal(k, lastStatus) && now.Sub(lastStatusAt) < l.o.StatusEvery {
			return
		}
		s.At = now.UTC()
		body, _ := json.Marshal(s)
		// Its acknowledgement is not awaited: a connection that cannot
		// carry it is lost, and the next one publishes the status again.
		c.Publish(l.topics.Status(), 1, true, body)
		lastStatus, lastStatusAt = k, now
	}

	var win []inflight
	next := cur.acked        // the highest seq published
	var more <-chan struct{} // set when caught up: closed when events are appended
	stalled := false         // the store failed a read: try again at the next tick
	fill := func() {
		more, stalled = nil, false
		for len(win) < l.o.Window {
			ch := l.o.Log.EventsAppended() // before the read: it cannot miss an append after it
			want := l.o.Window - len(win)
			evs, err := l.o.Log.Events(next, want)
			if err != nil {
				l.log.Error("mqtt: read events", "after", next, "err", err)
				stalled = true
				return
			}
			for _, e := range evs {
				if e.Kind == store.EventPaymentAccepted || e.Kind == store.EventPaymentSeen {
					l.lastPayment = e.At
				}
				win = append(win, inflight{seq: e.Seq, tok: c.Publish(l.topics.Events(), 1, false, e.Body)})
				next = e.Seq
			}
			if len(evs) < want {
				more = ch
				return
			}
		}
	}

	var markC <-chan time.Time
	var mark *time.Timer
	defer func() {
		if mark != nil {
			mark.Stop()
		}
	}()
	tick := time.NewTicker(l.o.CheckEvery)
	defer tick.Stop()

	status(true)
	fill()
	for {
		var oldest <-chan struct{}
		if len(win) > 0 {
			oldest = win[0].tok.Done()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-c.lost:
			return fmt.Errorf("connection lost: %w", err)
		case <-oldest:
			n := 0
			for len(win) > 0 && done(win[0].tok) {
				if err := win[0].tok.Error(); err != nil {
					return fmt.Errorf("publish event %d: %w", win[0].seq, err)
				}
				cur.acked = win[0].seq
				win = win[1:]
				n++
			}
			l.setDelivered(cur.acked)
			if l.o.OnAcked != nil {
				l.o.OnAcked(n)
			}
			if mark == nil {
				mark = time.NewTimer(l.o.MarkEvery)
				markC = mark.C
			}
			fill()
		case <-more:
			fill()
		case <-markC:
			mark, markC = nil, nil
			l.flush(ctx, cur)
		case <-tick.C:
			status(false)
			if stalled {
				fill()
			}
		case raw := <-configs:
			l.takeConfig(ctx, raw)
		}
	}
}

// await waits for tok, the connection's loss or ctx.
func (l *Link) await(ctx context.Context, c *conn, tok paho.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case err := <-c.lost:
		return fmt.Errorf("connection lost: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// takeConfig hands a config message over, capped at MaxConfig (one byte
// more, so that its owner refuses it as oversize). An empty message is a
// cleared retained topic: nothing to take.
func (l *Link) takeConfig(ctx context.Context, raw []byte) {
	if len(raw) == 0 {
		l.log.Debug("mqtt: empty config message ignored")
		return
	}
	if len(raw) > l.o.MaxConfig {
		raw = raw[:l.o.MaxConfig+1]
	}
	if err := l.o.Config(ctx, raw); err != nil {
		// Its owner records and logs refusals.
		l.log.Debug("mqtt: config message not taken", "err", err)
	}
}
