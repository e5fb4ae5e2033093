package telemetry

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// MaxLabelValues is the most distinct values one label of one metric family
// takes, "other" included; later values are counted as "other".
const MaxLabelValues = 64

// collectTimeout is how long a scrape waits for the gauge callbacks before
// it serves their previous values.
const collectTimeout = 2 * time.Second

// Telemetry holds the terminal's metrics. Its methods are safe for
// concurrent use; the zero value is not usable, call [New].
type Telemetry struct {
	set       *metrics.Set
	accepted  *metrics.Counter
	slow      *metrics.Counter
	networks  *labelCap
	refused   *labelCap
	unmatched *labelCap
	outcomes  *labelCap
	flights   *labelCap
	settled   *labelCap
	printed   *labelCap
	gauges    *collector
	once      sync.Once // guards the registration of the gauges
}

// New returns a Telemetry with its own registry and every counter at zero.
func New() *Telemetry {
	set := metrics.NewSet()
	t := &Telemetry{
		set:       set,
		accepted:  set.NewCounter("showpos_payments_accepted_total"),
		slow:      set.NewCounter("showpos_telemetry_slow_collections_total"),
		networks:  newLabelCap(MaxLabelValues),
		refused:   newLabelCap(MaxLabelValues),
		unmatched: newLabelCap(MaxLabelValues),
		outcomes:  newLabelCap(MaxLabelValues),
		flights:   newLabelCap(MaxLabelValues),
		settled:   newLabelCap(MaxLabelValues),
		printed:   newLabelCap(MaxLabelValues),
	}
	t.gauges = &collector{timeout: collectTimeout, slow: t.slow, set: set, networks: t.networks}
	return t
}

// Accepted counts a handed-over payment the terminal stored and answered
// as accepted.
func (t *Telemetry) Accepted() { t.accepted.Inc() }

// ChainPayment counts a payment seen on chain on the network: a transfer
// the wallet sent itself that paid a request (a handed-over payment counts
// in Accepted).
func (t *Telemetry) ChainPayment(network string) {
	network = t.networks.admit(network)
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_chain_payments_total{network="%s"}`, network)).Inc()
}

// Unmatched counts money received on chain on the network that paid no
// request, by its reason ("no_request", "expired", "balance_gap", …),
// capped like [Telemetry.Refused].
func (t *Telemetry) Unmatched(network, reason string) {
	network, reason = t.networks.admit(network), t.unmatched.admit(reason)
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_unmatched_receipts_total{network="%s",reason="%s"}`, network, reason)).Inc()
}

// Refused counts a refused payment by its stable refusal code ("underpaid",
// "expired", …). A code that is not a plain identifier, or one past the
// first [MaxLabelValues], counts as "other".
func (t *Telemetry) Refused(code string) {
	code = t.refused.admit(code)
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_payments_refused_total{code="%s"}`, code)).Inc()
}

// Broadcast counts one outcome of the network's broadcaster ("broadcast",
// "confirmed", "failed", …), capped like [Telemetry.Refused].
func (t *Telemetry) Broadcast(network, outcome string) {
	network, outcome = t.networks.admit(network), t.outcomes.admit(outcome)
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_broadcast_outcomes_total{network="%s",outcome="%s"}`, network, outcome)).Inc()
}

// Preflight counts one outcome of the till's online pre-flight on the
// network ("ok",
// "refused", "skipped": the chain did not answer within the budget, and
// the payment was judged offline), capped like [Telemetry.Refused].
func (t *Telemetry) Preflight(network, outcome string) {
	network, outcome = t.networks.admit(network), t.flights.admit(outcome)
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_preflight_total{network="%s",outcome="%s"}`, network, outcome)).Inc()
}

// Settlement counts one outcome the network's relayer reported for an
// EIP-3009 authorization ("confirmed", "unconfirmed", "final", "failed"),
// capped like [Telemetry.Refused].
func (t *Telemetry) Settlement(network, outcome string) {
	network, outcome = t.networks.admit(network), t.settled.admit(outcome)
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_relay_settlements_total{network="%s",outcome="%s"}`, network, outcome)).Inc()
}

// Print counts one outcome of the print queue (terminal/printq):
// "printed", "paper_out", "cover_open", "gone" (each a try that waits for
// the printer), "failed" (a job that could never print) or "dropped"
// (pushed out of a full queue), capped like [Telemetry.Refused].
func (t *Telemetry) Print(outcome string) {
	outcome = t.printed.admit(outcome)
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_printer_jobs_total{outcome="%s"}`, outcome)).Inc()
}

// WatchRound counts one round of the network's chain watcher
// (sync/watch): the JSON-RPC calls it asked, the blocks it processed and
// the transfers to the merchant it recorded; lag is how many blocks its
// cursor is behind the node's head after the round.
func (t *Telemetry) WatchRound(network string, calls, blocks, transfers int, lag uint64) {
	l := fmt.Sprintf(`{network="%s"}`, t.networks.admit(network))
	t.set.GetOrCreateCounter("showpos_watch_rpc_calls_total" + l).Add(calls)
	t.set.GetOrCreateCounter("showpos_watch_blocks_total" + l).Add(blocks)
	t.set.GetOrCreateCounter("showpos_watch_transfers_total" + l).Add(transfers)
	t.set.GetOrCreateGauge("showpos_watch_lag_blocks"+l, nil).Set(float64(lag))
}

// MQTTPublished counts n events the MQTT uplink's broker acknowledged
// (sync/uplink; a redelivered event counts again).
func (t *Telemetry) MQTTPublished(n int) {
	t.set.GetOrCreateCounter("showpos_mqtt_events_published_total").Add(n)
}

// Handler serves the metrics as Prometheus text to GET and HEAD, wherever it
// is mounted (by convention /metrics). Each request first reads the gauge
// callbacks, waiting for them at most a short while.
func (t *Telemetry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		t.gauges.refresh(r.Context())
		var buf bytes.Buffer
		t.set.WritePrometheus(&buf)
		metrics.WriteProcessMetrics(&buf)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(buf.Bytes()) // a scraper that went away is not our error
	})
}
