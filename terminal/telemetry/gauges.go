package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Gauges are the callbacks the gauges read at scrape time. A nil callback
// leaves its gauge out. They should answer quickly (a read transaction, not
// a network call); a scrape waits for them only a couple of seconds.
type Gauges struct {
	// Queue returns the number of payments per state. showpos_queue_depth
	// is exported for queued, broadcast, confirmed, final and failed (0 when
	// missing from the map); other keys are ignored.
	Queue func() map[string]int
	// OldestQueuedAge returns how long the oldest queued payment has
	// waited; zero when nothing is queued.
	OldestQueuedAge func() time.Duration
	// Online reports whether a chain endpoint on the right chain answers.
	Online func() bool
	// ConfigVersion returns the version of the running config.
	ConfigVersion func() uint64
	// Relayer returns the relayer's health (sync/relay.Status); nil when
	// no relayer runs.
	Relayer func() Relayer
	// MQTTConnected reports whether the MQTT uplink (sync/uplink) is
	// connected to its broker; nil when mqtt.enabled is false.
	MQTTConnected func() bool
}

// Relayer is the relayer's health as the gauges export it.
type Relayer struct {
	BalanceWei float64 // its account's balance (0 before the node answered)
	Covers     uint64  // settlements the balance pays for at the current fee
	Low        bool    // Covers below relay.low_covers
	InFlight   int     // settlements sent and not final
}

// Gauges registers the callback gauges. Only the first call has an effect:
// a series, once exported, keeps reading the same callback.
func (t *Telemetry) Gauges(g Gauges) {
	t.once.Do(func() {
		t.gauges.register(t.set, g)
	})
}

// collector runs the gauge callbacks once per scrape and keeps what they
// returned; the gauges themselves only read that snapshot.
type collector struct {
	timeout time.Duration
	slow    *metrics.Counter

	mu      sync.Mutex
	funcs   Gauges
	last    snapshot
	running chan struct{} // non-nil while a collection runs; closed when it ends
}

// snapshot is what one collection read.
type snapshot struct {
	queue   map[string]int
	oldest  time.Duration
	online  bool
	version uint64
	relayer Relayer
	mqtt    bool
}

func (c *collector) register(set *metrics.Set, g Gauges) {
	c.mu.Lock()
	c.funcs = g
	c.mu.Unlock()
	if g.Queue != nil {
		for _, state := range []string{"queued", "broadcast", "confirmed", "final", "failed"} {
			set.NewGauge(`showpos_queue_depth{state="`+state+`"}`, func() float64 {
				return float64(c.read().queue[state])
			})
		}
	}
	if g.OldestQueuedAge != nil {
		set.NewGauge("showpos_queue_oldest_age_seconds", func() float64 {
			return c.read().oldest.Seconds()
		})
	}
	if g.Online != nil {
		set.NewGauge("showpos_online", func() float64 {
			if c.read().online {
				return 1
			}
			return 0
		})
	}
	if g.ConfigVersion != nil {
		set.NewGauge("showpos_config_version", func() float64 {
			return float64(c.read().version)
		})
	}
	if g.MQTTConnected != nil {
		set.NewGauge("showpos_mqtt_connected", func() float64 {
			if c.read().mqtt {
				return 1
			}
			return 0
		})
	}
	if g.Relayer != nil {
		set.NewGauge("showpos_relay_balance_wei", func() float64 { return c.read().relayer.BalanceWei })
		set.NewGauge("showpos_relay_covers", func() float64 { return float64(c.read().relayer.Covers) })
		set.NewGauge("showpos_relay_in_flight", func() float64 { return float64(c.read().relayer.InFlight) })
		set.NewGauge("showpos_relay_low", func() float64 {
			if c.read().relayer.Low {
				return 1
			}
			return 0
		})
	}
}

func (c *collector) read() snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// refresh collects new values, or joins the collection already running,
// and waits for it until it ends, the timeout passes or ctx is done. A
// collection that outlives its scrape still updates the snapshot for the
// next one; there is never more than one.
func (c *collector) refresh(ctx context.Context) {
	c.mu.Lock()
	done := c.running
	if done == nil {
		done = make(chan struct{})
		c.running = done
		go c.collect(c.funcs, done)
	}
	c.mu.Unlock()

	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		c.slow.Inc()
	case <-ctx.Done():
	}
}

// collect calls the callbacks, stores their answers and closes done. It
// cannot be cancelled (the callbacks take no context); refresh bounds how
// long anyone waits for it, and starts no second one while it runs.
func (c *collector) collect(g Gauges, done chan struct{}) {
	var s snapshot
	if g.Queue != nil {
		s.queue = g.Queue()
	}
	if g.OldestQueuedAge != nil {
		s.oldest = g.OldestQueuedAge()
	}
	if g.Online != nil {
		s.online = g.Online()
	}
	if g.ConfigVersion != nil {
		s.version = g.ConfigVersion()
	}
	if g.Relayer != nil {
		s.relayer = g.Relayer()
	}
	if g.MQTTConnected != nil {
		s.mqtt = g.MQTTConnected()
	}
	c.mu.Lock()
	c.last = s
	c.running = nil
	c.mu.Unlock()
	close(done)
}
