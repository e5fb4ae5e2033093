package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Gauges are the callbacks the gauges read at scrape time. A nil callback
// leaves its gauge out. They should answer quickly (a read transaction, not
// a network call); a scrape waits for them only a couple of seconds.
type Gauges struct {
	// Networks returns each running network's health: its series carry
	// the label network="<name>", and a network that is no longer
	// returned (a bundle removed it) has its series removed.
	Networks func() []Network
	// ConfigVersion returns the version of the running config.
	ConfigVersion func() uint64
	// MQTTConnected reports whether the MQTT uplink (sync/uplink) is
	// connected to its broker; nil when mqtt.enabled is false.
	MQTTConnected func() bool
}

// Network is one network's health as the gauges export it.
type Network struct {
	Name string // the config's network name: the label's value
	// Queue is the number of the network's payments per state.
	// showpos_queue_depth is exported for queued, broadcast, confirmed,
	// final and failed (0 when missing from the map); other keys are
	// ignored.
	Queue map[string]int
	// OldestQueuedAge is how long the network's oldest queued payment has
	// waited; zero when nothing is queued.
	OldestQueuedAge time.Duration
	// Online: a chain endpoint on the network's chain answers.
	Online bool
	// Relayer is the network's relayer's health (sync/relay.Status); nil
	// when no relayer runs.
	Relayer *Relayer
}

// queueStates are the states showpos_queue_depth is exported for.
var queueStates = []string{"queued", "broadcast", "confirmed", "final", "failed"}

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
	timeout  time.Duration
	slow     *metrics.Counter
	set      *metrics.Set
	networks *labelCap

	mu      sync.Mutex
	funcs   Gauges
	last    snapshot
	running chan struct{} // non-nil while a collection runs; closed when it ends
}

// snapshot is what one collection read.
type snapshot struct {
	version uint64
	mqtt    bool
	series  map[string]float64 // the networks' series, by full name
}

func (c *collector) register(set *metrics.Set, g Gauges) {
	c.mu.Lock()
	c.funcs = g
	c.mu.Unlock()
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
}

// networkSeries is every series of the networks' health, by full name.
func (c *collector) networkSeries(ns []Network) map[string]float64 {
	out := map[string]float64{}
	b01 := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, n := range ns {
		l := c.networks.admit(n.Name)
		for _, state := range queueStates {
			out[fmt.Sprintf(`showpos_queue_depth{network="%s",state="%s"}`, l, state)] = float64(n.Queue[state])
		}
		out[fmt.Sprintf(`showpos_queue_oldest_age_seconds{network="%s"}`, l)] = n.OldestQueuedAge.Seconds()
		out[fmt.Sprintf(`showpos_online{network="%s"}`, l)] = b01(n.Online)
		if r := n.Relayer; r != nil {
			out[fmt.Sprintf(`showpos_relay_balance_wei{network="%s"}`, l)] = r.BalanceWei
			out[fmt.Sprintf(`showpos_relay_covers{network="%s"}`, l)] = float64(r.Covers)
			out[fmt.Sprintf(`showpos_relay_in_flight{network="%s"}`, l)] = float64(r.InFlight)
			out[fmt.Sprintf(`showpos_relay_low{network="%s"}`, l)] = b01(r.Low)
		}
	}
	return out
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
	if g.Networks != nil {
		s.series = c.networkSeries(g.Networks())
	}
	if g.ConfigVersion != nil {
		s.version = g.ConfigVersion()
	}
	if g.MQTTConnected != nil {
		s.mqtt = g.MQTTConnected()
	}
	c.mu.Lock()
	// The networks' series are plain gauges set from the snapshot; those
	// of a network gone since the last collection go with it.
	for name := range c.last.series {
		if _, ok := s.series[name]; !ok {
			c.set.UnregisterMetric(name)
		}
	}
	for name, v := range s.series {
		c.set.GetOrCreateGauge(name, nil).Set(v)
	}
	c.last = s
	c.running = nil
	c.mu.Unlock()
	close(done)
}
