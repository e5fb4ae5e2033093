package telemetry

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scrape serves tel over a real loopback server, GETs its metrics and
// returns the samples by series ("name{labels}") after checking that every
// line is well-formed text exposition.
func scrape(t *testing.T, tel *Telemetry) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(tel.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("scrape: Content-Type %q", ct)
	}
	return parse(t, resp.Body)
}

// sampleLine is one sample of the text format: a name, optional labels with
// escaped values (a space may follow a comma), a value.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?: ?[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})?) (\S+)$`)

func parse(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	samples := make(map[string]float64)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("malformed exposition line: %q", line)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("line %q: value: %v", line, err)
		}
		if _, dup := samples[m[1]]; dup {
			t.Fatalf("series %s appears twice", m[1])
		}
		samples[m[1]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	return samples
}

// family returns the samples of one metric name, by their label text.
func family(samples map[string]float64, name string) map[string]float64 {
	out := make(map[string]float64)
	for series, v := range samples {
		if series == name {
			out[""] = v
		} else if labels, ok := strings.CutPrefix(series, name+"{"); ok {
			out["{"+labels] = v
		}
	}
	return out
}

func want(t *testing.T, samples map[string]float64, series string, v float64) {
	t.Helper()
	got, ok := samples[series]
	if !ok {
		t.Errorf("%s missing from the scrape", series)
		return
	}
	if got != v {
		t.Errorf("%s = %v, want %v", series, got, v)
	}
}

func TestCountersStartAtZeroAndCount(t *testing.T) {
	tel := New()
	want(t, scrape(t, tel), "showpos_payments_accepted_total", 0)

	tel.Accepted()
	tel.Accepted()
	tel.Refused("underpaid")
	tel.Refused("underpaid")
	tel.Refused("expired")
	tel.Broadcast("base", "broadcast")
	tel.Broadcast("base", "confirmed")
	tel.Broadcast("base", "confirmed")
	tel.Broadcast("arbitrum", "confirmed")
	tel.Preflight("base", "skipped")
	tel.ChainPayment("base")
	tel.Unmatched("base", "no_request")
	tel.Unmatched("base", "no_request")
	tel.Unmatched("arbitrum", "balance_gap")

	s := scrape(t, tel)
	want(t, s, `showpos_preflight_total{network="base",outcome="skipped"}`, 1)
	want(t, s, `showpos_chain_payments_total{network="base"}`, 1)
	want(t, s, `showpos_unmatched_receipts_total{network="base",reason="no_request"}`, 2)
	want(t, s, `showpos_unmatched_receipts_total{network="arbitrum",reason="balance_gap"}`, 1)
	want(t, s, "showpos_payments_accepted_total", 2)
	want(t, s, `showpos_payments_refused_total{code="underpaid"}`, 2)
	want(t, s, `showpos_payments_refused_total{code="expired"}`, 1)
	want(t, s, `showpos_broadcast_outcomes_total{network="base",outcome="broadcast"}`, 1)
	want(t, s, `showpos_broadcast_outcomes_total{network="base",outcome="confirmed"}`, 2)
	want(t, s, `showpos_broadcast_outcomes_total{network="arbitrum",outcome="confirmed"}`, 1)
	if n := len(family(s, "showpos_payments_refused_total")); n != 2 {
		t.Errorf("%d refusal series, want 2", n)
	}
	// The process's own metrics come along.
	if _, ok := s["go_goroutines"]; !ok {
		t.Errorf("go_goroutines missing")
	}
}

func TestEachTelemetryHasItsOwnRegistry(t *testing.T) {
	a, b := New(), New()
	a.Accepted()
	want(t, scrape(t, b), "showpos_payments_accepted_total", 0)
}

func TestLabelValuesAreCapped(t *testing.T) {
	tel := New()
	const distinct = 3 * MaxLabelValues
	for i := range distinct {
		tel.Refused(fmt.Sprintf("code_%d", i))
	}
	tel.Refused("code_0") // admitted before the cap: still its own series

	refused := family(scrape(t, tel), "showpos_payments_refused_total")
	if len(refused) != MaxLabelValues {
		t.Errorf("%d refusal series, want the cap %d", len(refused), MaxLabelValues)
	}
	var total float64
	for _, v := range refused {
		total += v
	}
	if total != distinct+1 {
		t.Errorf("refusals add up to %v, want %d: folding must not lose counts", total, distinct+1)
	}
	if got := refused[`{code="code_0"}`]; got != 2 {
		t.Errorf(`code_0 = %v, want 2`, got)
	}
	if got, want := refused[`{code="other"}`], float64(distinct-(MaxLabelValues-1)); got != want {
		t.Errorf("other = %v, want %v", got, want)
	}
}

func TestOddLabelValuesFoldIntoOther(t *testing.T) {
	tel := New()
	for _, code := range []string{
		"",
		`quo"te`,
		"new\nline",
		`back\slash`,
		"some error message: with spaces",
		strings.Repeat("x", maxIdentLen+1),
		"\xff",
	} {
		tel.Refused(code)
		tel.Broadcast(code, code)
	}
	s := scrape(t, tel) // scrape also checks every line is well-formed
	want(t, s, `showpos_payments_refused_total{code="other"}`, 7)
	want(t, s, `showpos_broadcast_outcomes_total{network="other",outcome="other"}`, 7)
}

func TestCountersAreSafeForConcurrentUse(t *testing.T) {
	tel := New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				tel.Refused(fmt.Sprintf("c%d", (g*100+i)%(2*MaxLabelValues)))
				tel.Accepted()
			}
		})
	}
	wg.Wait()
	s := scrape(t, tel)
	want(t, s, "showpos_payments_accepted_total", 800)
	var total float64
	for _, v := range family(s, "showpos_payments_refused_total") {
		total += v
	}
	if total != 800 {
		t.Errorf("refusals add up to %v, want 800", total)
	}
}

func TestHandlerAnswersOnlyReads(t *testing.T) {
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: status %d, want 405", resp.StatusCode)
	}
	resp, err = http.Head(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /metrics: status %d, want 200", resp.StatusCode)
	}
}

func TestGaugesReadTheirCallbacksAtScrapeTime(t *testing.T) {
	tel := New()
	var (
		queued  atomic.Int64
		online  atomic.Bool
		version atomic.Uint64
		calls   atomic.Int64
		two     atomic.Bool
	)
	tel.Gauges(Gauges{
		Networks: func() []Network {
			calls.Add(1)
			ns := []Network{{Name: "base", Queue: map[string]int{"queued": int(queued.Load()), "confirmed": 7, "final": 5, "mystery": 3},
				OldestQueuedAge: 90 * time.Second, Online: online.Load(), Relayer: &Relayer{Covers: 12, Low: true}}}
			if two.Load() {
				ns = append(ns, Network{Name: "arbitrum", Queue: map[string]int{"queued": 1}, Online: true})
			}
			return ns
		},
		ConfigVersion: version.Load,
		MQTTConnected: online.Load,
	})

	queued.Store(2)
	version.Store(41)
	two.Store(true)
	s := scrape(t, tel)
	want(t, s, `showpos_queue_depth{network="base",state="queued"}`, 2)
	want(t, s, `showpos_queue_depth{network="base",state="broadcast"}`, 0)
	want(t, s, `showpos_queue_depth{network="base",state="confirmed"}`, 7)
	want(t, s, `showpos_queue_depth{network="base",state="final"}`, 5)
	want(t, s, `showpos_queue_depth{network="base",state="failed"}`, 0)
	want(t, s, `showpos_queue_depth{network="arbitrum",state="queued"}`, 1)
	want(t, s, `showpos_queue_oldest_age_seconds{network="base"}`, 90)
	want(t, s, `showpos_online{network="base"}`, 0)
	want(t, s, `showpos_online{network="arbitrum"}`, 1)
	want(t, s, `showpos_relay_covers{network="base"}`, 12)
	want(t, s, `showpos_relay_low{network="base"}`, 1)
	want(t, s, "showpos_config_version", 41)
	if n := len(family(s, "showpos_queue_depth")); n != 10 {
		t.Errorf("%d queue depth series, want the 5 known states of 2 networks", n)
	}
	if n := len(family(s, "showpos_relay_covers")); n != 1 {
		t.Errorf("%d relay series, want base's alone (arbitrum runs no relayer)", n)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Networks called %d times for one scrape, want 1", n)
	}

	// arbitrum removed: its series go.
	queued.Store(5)
	online.Store(true)
	version.Store(42)
	two.Store(false)
	s = scrape(t, tel)
	want(t, s, `showpos_queue_depth{network="base",state="queued"}`, 5)
	want(t, s, `showpos_online{network="base"}`, 1)
	want(t, s, "showpos_config_version", 42)
	want(t, s, "showpos_mqtt_connected", 1)
	if f := family(s, "showpos_online"); len(f) != 1 {
		t.Errorf("online series %v: want base's alone once arbitrum is gone", f)
	}
}

// The MQTT uplink's acknowledged events add up.
func TestMQTTPublishedCounts(t *testing.T) {
	tel := New()
	tel.MQTTPublished(3)
	tel.MQTTPublished(2)
	want(t, scrape(t, tel), "showpos_mqtt_events_published_total", 5)
}

func TestNilGaugeCallbacksAreLeftOut(t *testing.T) {
	tel := New()
	tel.Gauges(Gauges{Networks: func() []Network { return []Network{{Name: "base", Online: true}} }})
	s := scrape(t, tel)
	want(t, s, `showpos_online{network="base"}`, 1)
	for _, name := range []string{"showpos_relay_covers", "showpos_config_version", "showpos_mqtt_connected"} {
		if f := family(s, name); len(f) > 0 {
			t.Errorf("%s exported without a callback: %v", name, f)
		}
	}
}

func TestOnlyTheFirstGaugesCallCounts(t *testing.T) {
	tel := New()
	tel.Gauges(Gauges{ConfigVersion: func() uint64 { return 1 }})
	tel.Gauges(Gauges{ConfigVersion: func() uint64 { return 2 }}) // must not panic on a second registration
	want(t, scrape(t, tel), "showpos_config_version", 1)
}

func TestSlowGaugesDoNotHoldTheScrape(t *testing.T) {
	tel := New()
	tel.gauges.timeout = 50 * time.Millisecond
	var (
		version atomic.Uint64
		calls   atomic.Int64
	)
	release := make(chan struct{})
	tel.Gauges(Gauges{ConfigVersion: func() uint64 {
		if calls.Add(1) == 2 {
			<-release // the second collection hangs, like a store stuck behind a writer
		}
		return version.Load()
	}})

	version.Store(1)
	want(t, scrape(t, tel), "showpos_config_version", 1)

	version.Store(2)
	start := time.Now()
	s := scrape(t, tel)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("scrape took %v with a hung callback", d)
	}
	want(t, s, "showpos_config_version", 1) // the previous value
	want(t, s, "showpos_telemetry_slow_collections_total", 1)

	// While it hangs, scrapes start no second collection.
	scrape(t, tel)
	if n := calls.Load(); n != 2 {
		t.Errorf("%d collections started, want 2 (one hung, none piled up)", n)
	}

	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for scrape(t, tel)["showpos_config_version"] != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the gauge never caught up after the callback returned")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The chain watcher's rounds add up: calls, blocks and transfers are
// counters, the lag is the last round's.
func TestWatchRoundsAddUp(t *testing.T) {
	tel := New()
	tel.WatchRound("base", 2, 1, 0, 0)
	tel.WatchRound("base", 5, 4, 2, 7)
	tel.WatchRound("arbitrum", 1, 1, 0, 3)
	got := scrape(t, tel)
	for series, want := range map[string]float64{
		`showpos_watch_rpc_calls_total{network="base"}`: 7, `showpos_watch_blocks_total{network="base"}`: 5,
		`showpos_watch_transfers_total{network="base"}`: 2, `showpos_watch_lag_blocks{network="base"}`: 7,
		`showpos_watch_lag_blocks{network="arbitrum"}`: 3,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
}

func TestPrintOutcomesCount(t *testing.T) {
	tel := New()
	tel.Print("printed")
	tel.Print("printed")
	tel.Print("paper_out")
	tel.Print("failed")
	s := scrape(t, tel)
	want(t, s, `showpos_printer_jobs_total{outcome="printed"}`, 2)
	want(t, s, `showpos_printer_jobs_total{outcome="paper_out"}`, 1)
	want(t, s, `showpos_printer_jobs_total{outcome="failed"}`, 1)
	if n := len(family(s, "showpos_printer_jobs_total")); n != 3 {
		t.Errorf("%d printer series, want 3", n)
	}
}
