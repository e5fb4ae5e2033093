package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"showpos/device/clock/clocktest"
	"showpos/sync/webhook"
	"showpos/terminal/store"
)

var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

const testSecret = "whsec_test-secret-0123456789abcdefghijklmnop"

// delivery is one POST the receiver got.
type delivery struct {
	seq       uint64
	kind      string
	body      []byte
	header    http.Header
	answered  int
	terminalH string
}

// receiver is a real HTTP server on loopback that records every POST and
// answers with what fail says for it (0: 204).
type receiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   []delivery
	fail  func(seq uint64, attempt int, w http.ResponseWriter) (status int, handled bool)
	tries map[uint64]int
}

func newReceiver(t *testing.T, fail func(seq uint64, attempt int, w http.ResponseWriter) (int, bool)) *receiver {
	rc := &receiver{fail: fail, tries: map[uint64]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seq, _ := strconv.ParseUint(r.Header.Get(webhook.HeaderSeq), 10, 64)
		rc.mu.Lock()
		n := rc.tries[seq]
		rc.tries[seq]++
		rc.mu.Unlock()
		status := http.StatusNoContent
		if rc.fail != nil {
			if s, handled := rc.fail(seq, n, w); handled {
				return // hijacked or hung: no answer
			} else if s != 0 {
				status = s
			}
		}
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{seq: seq, kind: r.Header.Get(webhook.HeaderKind), body: body,
			header: r.Header.Clone(), answered: status, terminalH: r.Header.Get(webhook.HeaderTerminal)})
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// delivered returns the seqs answered 2xx, in arrival order.
func (rc *receiver) delivered() []uint64 {
	var out []uint64
	for _, d := range rc.deliveries() {
		if d.answered/100 == 2 {
			out = append(out, d.seq)
		}
	}
	return out
}

// fixture is a real store with one register client and its webhook.
type fixture struct {
	st    *store.Store
	clock *clocktest.Fake
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "pos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{st: st, clock: clocktest.NewFake(t0)}
}

func (f *fixture) addHook(t *testing.T, number, url string) {
	t.Helper()
	c := store.Client{Number: number, Name: "till", Role: store.RoleRegister, Created: t0,
		Keys: []store.ClientKey{{Secret: []byte("sk_" + number + "-0123456789abcdef")}}}
	if err := f.st.PutClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.SetWebhook(context.Background(), number, url, []byte(testSecret), false, t0); err != nil {
		t.Fatal(err)
	}
}

// events appends n events (a request made and cancelled: request.cancelled
// each) and returns them.
func (f *fixture) events(t *testing.T, n int) []store.Event {
	t.Helper()
	before, _ := f.st.EventLog()
	for i := range n {
		id := fmt.Sprintf("r-%d-%d", before.Last, i)
		r := store.Request{ID: id, Asset: "ETH", Amount: big.NewInt(int64(1000 + int(before.Last)*100 + i)),
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Doc: []byte(`{}`)}
		if err := f.st.PutRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.CancelRequest(context.Background(), id, t0); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := f.st.Events(before.Last, 0)
	if err != nil || len(evs) != n {
		t.Fatalf("Events = %d, %v; want %d", len(evs), err, n)
	}
	return evs
}

// sleepAdvancing is a Sleep that moves the fake clock instead of waiting.
func (f *fixture) sleepAdvancing(slept *[]time.Duration, mu *sync.Mutex) func(ctx context.Context, d time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		mu.Lock()
		*slept = append(*slept, d)
		mu.Unlock()
		f.clock.Advance(d)
		return nil
	}
}

func start(t *testing.T, o webhook.Options) *webhook.Deliverer {
	t.Helper()
	d, err := webhook.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return d
}

// waitFor waits until cond holds; the deadline only ends a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEachEventIsPostedAloneSignedAndInOrder(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, nil)
	f.addHook(t, "sn_a", rc.srv.URL+"/hook")
	start(t, webhook.Options{Store: f.st, Terminal: "till-7", Clock: f.clock})
	evs := f.events(t, 3)

	waitFor(t, "three deliveries", func() bool { return len(rc.delivered()) == 3 })
	got := rc.deliveries()
	for i, e := range evs {
		d := got[i]
		if d.seq != e.Seq || d.kind != string(e.Kind) || !bytes.Equal(d.body, e.Body) {
			t.Errorf("delivery %d: seq %d kind %q body %s; want seq %d kind %q and the event's body byte for byte %s", i, d.seq, d.kind, d.body, e.Seq, e.Kind, e.Body)
		}
		if ct := d.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if d.terminalH != "till-7" {
			t.Errorf("%s %q, want till-7", webhook.HeaderTerminal, d.terminalH)
		}
		sig := d.header.Get(webhook.HeaderSignature)
		if err := webhook.Verify([]byte(testSecret), sig, d.body, t0, 5*time.Minute); err != nil {
			t.Errorf("delivery %d: Verify: %v", i, err)
		}
		if want := fmt.Sprintf("t=%d,", t0.Unix()); !strings.HasPrefix(sig, want) {
			t.Errorf("signature %q, want it to start %q (the clock's time)", sig, want)
		}
		// The README's receiver check, run as it is written there.
		ts, v1 := parseSig(t, sig)
		cmd := exec.Command("sh", "-c", `printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret"`)
		cmd.Env = append(cmd.Environ(), "t="+ts, "body="+string(d.body), "secret="+testSecret)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl: %v", err)
		}
		if fields := strings.Fields(string(out)); len(fields) == 0 || fields[len(fields)-1] != v1 {
			t.Errorf("openssl computes %q, the header says v1=%s", out, v1)
		}
	}
	waitFor(t, "the sink at the last seq", func() bool {
		sk, err := f.st.Sink(store.WebhookSink("sn_a"))
		return err == nil && sk.Delivered == evs[2].Seq
	})
}

func parseSig(t *testing.T, sig string) (ts, v1 string) {
	t.Helper()
	for _, part := range strings.Split(sig, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	if ts == "" || v1 == "" {
		t.Fatalf("signature %q", sig)
	}
	return ts, v1
}

func TestAFailingEventHoldsTheLaterOnesThenAllArriveInOrder(t *testing.T) {
	const failures = 3
	cases := []struct {
		name string
		fail func(w http.ResponseWriter)
	}{
		{"503", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }},
		{"a redirect is not followed", func(w http.ResponseWriter) {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusFound)
		}},
		{"no answer within the timeout", func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond) }},
		{"the connection dropped", func(w http.ResponseWriter) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			var failSeq uint64
			rc := newReceiver(t, func(seq uint64, n int, w http.ResponseWriter) (int, bool) {
				if seq != failSeq || n >= failures {
					return 0, false
				}
				c.fail(w)
				return 0, true
			})
			f.addHook(t, "sn_a", rc.srv.URL)
			// The first event fails three times; the four after it were
			// all appended before its first retry.
			failSeq = mustLast(t, f.st) + 1
			var slept []time.Duration
			var mu sync.Mutex
			d := start(t, webhook.Options{Store: f.st, Clock: f.clock, Timeout: 100 * time.Millisecond,
				Sleep: f.sleepAdvancing(&slept, &mu)})
			evs := f.events(t, 5)
			waitFor(t, "five deliveries", func() bool { return len(rc.delivered()) == 5 })
			var want []uint64
			for _, e := range evs {
				want = append(want, e.Seq)
			}
			if got := rc.delivered(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("delivered %v, want %v: in seq order, each once", got, want)
			}
			rc.mu.Lock()
			tries := rc.tries[failSeq]
			rc.mu.Unlock()
			if tries != failures+1 {
				t.Errorf("the failing event was tried %d times, want %d", tries, failures+1)
			}
			log := d.Log("sn_a")
			failed := 0
			for _, a := range log {
				if a.Result == webhook.ResultFailed {
					failed++
					if a.Seq != failSeq || a.Error == "" {
						t.Errorf("failed attempt %+v: want seq %d with its error", a, failSeq)
					}
				}
			}
			if failed != failures {
				t.Errorf("the log holds %d failed attempts, want %d: %+v", failed, failures, log)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, s := range slept {
				if s < webhook.DefaultMinBackoff || s > webhook.DefaultMinBackoff<<i {
					t.Errorf("pause %d: %s, want within [1s, %s]", i, s, webhook.DefaultMinBackoff<<i)
				}
			}
		})
	}
}

func mustLast(t *testing.T, st *store.Store) uint64 {
	t.Helper()
	l, err := st.EventLog()
	if err != nil {
		t.Fatal(err)
	}
	return l.Last
}

func TestAnEventFailingLongerThanGiveUpIsGivenUpAndDeliveryMovesOn(t *testing.T) {
	f := newFixture(t)
	var failSeq uint64
	rc := newReceiver(t, func(seq uint64, n int, w http.ResponseWriter) (int, bool) {
		if seq == failSeq {
			return http.StatusInternalServerError, false
		}
		return 0, false
	})
	f.addHook(t, "sn_a", rc.srv.URL)
	var slept []time.Duration
	var mu sync.Mutex
	const giveUp = 3 * time.Hour
	var results []string
	var rmu sync.Mutex
	failSeq = mustLast(t, f.st) + 1
	d := start(t, webhook.Options{Store: f.st, Clock: f.clock, GiveUp: giveUp, Sleep: f.sleepAdvancing(&slept, &mu),
		OnAttempt: func(r string) { rmu.Lock(); results = append(results, r); rmu.Unlock() }})
	evs := f.events(t, 2)

	waitFor(t, "the second event delivered and logged", func() bool {
		log := d.Log("sn_a")
		return len(log) > 0 && log[len(log)-1].Result == webhook.ResultDelivered
	})
	if got := rc.delivered(); len(got) != 1 || got[0] != evs[1].Seq {
		t.Fatalf("delivered %v, want only the second event %d", got, evs[1].Seq)
	}
	h, err := f.st.Webhook("sn_a")
	if err != nil || h.GivenUp != 1 || h.LastGivenUp != evs[0].Seq || h.FailingSeq != 0 {
		t.Fatalf("webhook after the give-up: %+v, %v; want one given up (%d), none failing", h, err, evs[0].Seq)
	}
	log := d.Log("sn_a")
	last := log[len(log)-2] // then the second event's delivery
	if last.Result != webhook.ResultGivenUp || last.Seq != evs[0].Seq || last.Status != http.StatusInternalServerError {
		t.Errorf("the give-up's log entry: %+v", last)
	}
	if !last.At.Equal(t0.Add(giveUp)) {
		t.Errorf("given up by an attempt at %s, want exactly the end of the period %s", last.At, t0.Add(giveUp))
	}
	mu.Lock()
	for _, s := range slept {
		if s > webhook.DefaultMaxBackoff {
			t.Errorf("a pause of %s: above the cap %s", s, webhook.DefaultMaxBackoff)
		}
	}
	n := len(slept)
	mu.Unlock()
	// 3 h of 1 s doubling to 10 min: a few dozen attempts, not thousands.
	if n < 15 || n > 60 {
		t.Errorf("%d pauses over %s", n, giveUp)
	}
	rmu.Lock()
	defer rmu.Unlock()
	if results[len(results)-2] != webhook.ResultGivenUp || results[len(results)-1] != webhook.ResultDelivered {
		t.Errorf("results end %v", results[len(results)-2:])
	}
	st, err := d.Status()
	if err != nil || len(st) != 1 || st[0].GivenUp != 1 || st[0].Backlog != 0 || st[0].Delivered != evs[1].Seq || st[0].LastError == "" {
		t.Errorf("Status = %+v, %v", st, err)
	}
}

func TestAHungReceiverHoldsUpNeitherAnotherClientNorShutdown(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	defer close(release)
	hung := newReceiver(t, func(uint64, int, http.ResponseWriter) (int, bool) {
		<-release
		return 0, true
	})
	good := newReceiver(t, nil)
	f.addHook(t, "sn_hung", hung.srv.URL)
	f.addHook(t, "sn_good", good.srv.URL)
	d, err := webhook.New(webhook.Options{Store: f.st, Clock: f.clock, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	evs := f.events(t, 2)
	waitFor(t, "the good receiver's deliveries", func() bool { return len(good.delivered()) == 2 })
	if got := good.delivered(); got[0] != evs[0].Seq || got[1] != evs[1].Seq {
		t.Errorf("good receiver got %v", got)
	}
	cancel()
	<-done // Run returns with a POST still hanging: its context ends it
	if sk, _ := f.st.Sink(store.WebhookSink("sn_hung")); sk.Delivered >= evs[0].Seq {
		t.Errorf("the hung receiver's sink moved to %d without an answer", sk.Delivered)
	}
}

func TestRemovingAWebhookStopsItsDeliveriesAndSettingItAgainRetriesAtOnce(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, nil)
	// A URL nothing listens on: connection refused.
	f.addHook(t, "sn_a", "http://127.0.0.1:1/hook")
	d := start(t, webhook.Options{Store: f.st, Clock: f.clock, MinBackoff: time.Hour, MaxBackoff: time.Hour})
	evs := f.events(t, 1)
	waitFor(t, "a refused attempt", func() bool { return len(d.Log("sn_a")) > 0 })
	if a := d.Log("sn_a")[0]; a.Result != webhook.ResultFailed || !strings.Contains(a.Error, "refused") {
		t.Errorf("attempt %+v: want a refused connection", a)
	}
	// The register fixes its URL: the hour's backoff is cut short.
	if _, _, err := f.st.SetWebhook(context.Background(), "sn_a", rc.srv.URL, []byte("whsec_unused-0123456789abcdef0123456789"), false, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	d.Changed()
	waitFor(t, "delivery to the fixed URL", func() bool { return len(rc.delivered()) == 1 })
	if got := rc.deliveries()[0]; got.seq != evs[0].Seq || webhook.Verify([]byte(testSecret), got.header.Get(webhook.HeaderSignature), got.body, t0, time.Minute) != nil {
		t.Errorf("delivery %+v: want seq %d signed with the secret kept", got.seq, evs[0].Seq)
	}
	if _, err := f.st.RemoveWebhook(context.Background(), "sn_a"); err != nil {
		t.Fatal(err)
	}
	d.Changed()
	waitFor(t, "the log dropped with the webhook", func() bool { return len(d.Log("sn_a")) == 0 })
	f.events(t, 1)
	if st, err := d.Status(); err != nil || len(st) != 0 {
		t.Errorf("Status after removal = %+v, %v", st, err)
	}
	if n := len(rc.deliveries()); n != 1 {
		t.Errorf("%d deliveries after removal, want the one before", n)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"v":1,"seq":1}`)
	secret := []byte(testSecret)
	good := webhook.Signature(secret, t0, body)
	cases := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"the signature as sent", secret, good, body, t0, true},
		{"within the tolerance", secret, good, body, t0.Add(4 * time.Minute), true},
		{"a second v1 among others", secret, "t=" + strconv.FormatInt(t0.Unix(), 10) + ",v1=00," + strings.Split(good, ",")[1], body, t0, true},
		{"another secret", []byte("whsec_other"), good, body, t0, false},
		{"a changed body", secret, good, []byte(`{"v":1,"seq":2}`), t0, false},
		{"a stale timestamp", secret, good, body, t0.Add(6 * time.Minute), false},
		{"a timestamp from the future", secret, good, body, t0.Add(-6 * time.Minute), false},
		{"no v1", secret, "t=" + strconv.FormatInt(t0.Unix(), 10), body, t0, false},
		{"garbage", secret, "v1", body, t0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := webhook.Verify(c.secret, c.header, c.body, c.now, 5*time.Minute)
			if (err == nil) != c.ok {
				t.Errorf("Verify = %v, want ok %v", err, c.ok)
			}
		})
	}
}

// A webhook removed and set again before the deliverer hears of the
// removal keeps being delivered to: its goroutine outlives a sink that
// went away and comes back.
func TestAWebhookRemovedAndSetAgainIsStillDelivered(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, nil)
	f.addHook(t, "sn_a", rc.srv.URL)
	d := start(t, webhook.Options{Store: f.st, Clock: f.clock})
	f.events(t, 1)
	waitFor(t, "the first delivery", func() bool { return len(rc.delivered()) == 1 })
	if _, err := f.st.RemoveWebhook(context.Background(), "sn_a"); err != nil {
		t.Fatal(err)
	}
	f.events(t, 1) // wakes the goroutine while its sink is gone
	// Not a timing condition: a pause that lets the goroutine see the
	// sink gone before it comes back, the case this test is about.
	time.Sleep(50 * time.Millisecond)
	if _, _, err := f.st.SetWebhook(context.Background(), "sn_a", rc.srv.URL+"/again", []byte(testSecret), false, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	d.Changed()
	evs := f.events(t, 1)
	waitFor(t, "a delivery after setting it again", func() bool {
		got := rc.delivered()
		return len(got) == 2 && got[1] == evs[0].Seq
	})
}

func TestAReceiverDeadForGiveUpLetsTheBacklogDrainUntilItAnswersAgain(t *testing.T) {
	f := newFixture(t)
	var down atomic.Bool
	down.Store(true)
	var failAgain atomic.Uint64 // an event failed twice after the receiver came back
	rc := newReceiver(t, func(seq uint64, n int, w http.ResponseWriter) (int, bool) {
		if down.Load() || (seq == failAgain.Load() && n < 2) {
			return http.StatusServiceUnavailable, false
		}
		return 0, false
	})
	f.addHook(t, "sn_a", rc.srv.URL+"/hook")
	const giveUp = 3 * time.Hour
	var slept []time.Duration
	var mu sync.Mutex
	var givenUp atomic.Int64
	d := start(t, webhook.Options{Store: f.st, Clock: f.clock, GiveUp: giveUp, Sleep: f.sleepAdvancing(&slept, &mu),
		OnAttempt: func(r string) {
			if r == webhook.ResultGivenUp {
				givenUp.Add(1)
			}
		}})
	tries := func() int {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		n := 0
		for _, k := range rc.tries {
			n += k
		}
		return n
	}
	sink := func() store.Sink {
		sk, err := f.st.Sink(store.WebhookSink("sn_a"))
		if err != nil {
			t.Fatal(err)
		}
		return sk
	}

	// The first event is retried for the whole give-up period; then the
	// receiver counts as gone, and 300 events made meanwhile drain, each
	// tried once, with no further pause.
	first := f.events(t, 1)[0]
	waitFor(t, "the first event given up", func() bool { return sink().Delivered == first.Seq })
	retries := tries()
	mu.Lock()
	pauses := len(slept)
	mu.Unlock()
	const backlog = 300
	f.events(t, backlog)
	last := mustLast(t, f.st)
	waitFor(t, "the backlog drained (or too many attempts)", func() bool {
		return sink().Delivered == last || tries() > retries+2*backlog
	})
	if got := sink().Delivered; got != last {
		t.Fatalf("sink at %d after %d attempts; want the log's end %d: a receiver gone for %s must not hold each event for another %s",
			got, tries()-retries, last, giveUp, giveUp)
	}
	if n := tries() - retries; n > backlog {
		t.Errorf("%d attempts for %d events after the give-up period: want at most one each", n, backlog)
	}
	mu.Lock()
	if len(slept) != pauses {
		t.Errorf("%d pauses while draining: want none, each event given up at once", len(slept)-pauses)
	}
	mu.Unlock()
	h, err := f.st.Webhook("sn_a")
	if err != nil || h.GivenUp != backlog+1 || h.LastGivenUp != last || !h.FailingSince.Equal(t0) {
		t.Errorf("webhook after draining: %+v, %v; want %d given up, the last %d, failing since %v", h, err, backlog+1, last, t0)
	}
	// The store's write comes before the attempt is recorded and counted.
	waitFor(t, "the last give-up counted", func() bool { return givenUp.Load() >= backlog+1 })
	if n := givenUp.Load(); n != backlog+1 {
		t.Errorf("the metric counted %d given up, want %d", n, backlog+1)
	}
	st, err := d.Status()
	if err != nil || len(st) != 1 || st[0].GivenUp != backlog+1 || !st[0].GivingUp || st[0].Backlog != 0 {
		t.Errorf("Status = %+v, %v; want %d given up, givingUp, no backlog", st, err, backlog+1)
	}

	// The receiver answers again: the next event is delivered, the failing
	// period ends, and a later failure is retried as before, not given up.
	down.Store(false)
	back := f.events(t, 1)[0]
	waitFor(t, "the event after the receiver came back delivered", func() bool { return sink().Delivered == back.Seq })
	if got := rc.delivered(); len(got) != 1 || got[0] != back.Seq {
		t.Fatalf("delivered %v, want %d", got, back.Seq)
	}
	failAgain.Store(mustLast(t, f.st) + 1)
	again := f.events(t, 2)
	waitFor(t, "both later events delivered", func() bool { return sink().Delivered == again[1].Seq })
	if got := rc.delivered(); fmt.Sprint(got) != fmt.Sprint([]uint64{back.Seq, again[0].Seq, again[1].Seq}) {
		t.Errorf("delivered %v after the receiver came back; want %d %d %d in order", got, back.Seq, again[0].Seq, again[1].Seq)
	}
	rc.mu.Lock()
	n := rc.tries[again[0].Seq]
	rc.mu.Unlock()
	if n != 3 {
		t.Errorf("the event failing after the receiver came back was tried %d times, want 3 (retried, not given up)", n)
	}
	if h, _ := f.st.Webhook("sn_a"); h.GivenUp != backlog+1 || !h.FailingSince.IsZero() {
		t.Errorf("after the receiver came back: %+v; want nothing more given up, not failing", h)
	}
}

func TestRedactURLKeepsSchemeAndHostOnly(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://pos.example", "https://pos.example"},
		{"https://pos.example/", "https://pos.example/"},
		{"https://pos.example:8443/hooks/tok_123", "https://pos.example:8443/…"},
		{"https://pos.example?token=abc", "https://pos.example/…"},
		{"http://127.0.0.1:9000/a%2Fb?x=1", "http://127.0.0.1:9000/…"},
		{"https://user:pw@pos.example/x", "https://pos.example/…"},
		{"https://[::1]:443/x", "https://[::1]:443/…"},
		{"not a url", ""},
		{"https://pos.example/%zz", ""},
	} {
		if got := webhook.RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A receiver's token in the URL's path or query shows in neither the
// recorded errors nor the log: a failed connection's error (Go's
// *url.Error names the whole URL) is kept with the URL redacted.
func TestAFailedAttemptsErrorAndLogNameTheURLRedacted(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, func(seq uint64, n int, w http.ResponseWriter) (int, bool) {
		if n == 0 {
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close() // no answer: the client's error names the URL
			}
			return 0, true
		}
		return 0, false
	})
	f.addHook(t, "sn_a", rc.srv.URL+"/s3cr3t-path/in?token=t0ken-value")
	var logged bytes.Buffer
	var lmu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&lmu, &logged}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var slept []time.Duration
	var mu sync.Mutex
	d := start(t, webhook.Options{Store: f.st, Clock: f.clock, Sleep: f.sleepAdvancing(&slept, &mu), Logger: logger})
	ev := f.events(t, 1)[0]
	waitFor(t, "the event delivered after a failure", func() bool { return len(rc.delivered()) == 1 })
	waitFor(t, "the delivery logged", func() bool {
		log := d.Log("sn_a")
		return len(log) == 2 && log[1].Result == webhook.ResultDelivered
	})
	failed := d.Log("sn_a")[0]
	st, err := d.Status()
	if err != nil || len(st) != 1 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	lmu.Lock()
	text := logged.String()
	lmu.Unlock()
	redacted := webhook.RedactURL(rc.srv.URL + "/x")
	for what, s := range map[string]string{"the attempt's error": failed.Error, "status' lastError": st[0].LastError, "the log": text} {
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, "t0ken") || strings.Contains(s, "token=") {
			t.Errorf("%s shows the URL's path or query: %s", what, s)
		}
		if !strings.Contains(s, redacted) {
			t.Errorf("%s does not name the receiver as %s: %s", what, redacted, s)
		}
	}
	if failed.Seq != ev.Seq || failed.Result != webhook.ResultFailed {
		t.Errorf("first attempt %+v, want a failure of %d", failed, ev.Seq)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// The deliverer does not connect to the terminal itself through a name
// that resolves to it (set before the rule, or rebound after the URL was
// checked): the attempt fails, the receiver gets nothing. Written as
// 127.0.0.1 or localhost (the operator's to set), or with AllowLoopback,
// it is delivered.
func TestANameResolvingToTheTerminalItselfIsNotConnected(t *testing.T) {
	// A name of this machine's that resolves to it: its hostname, which
	// /etc/hosts maps to a loopback or an interface address (no DNS here).
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 || !webhook.SelfHost(ips[0].String()) {
		t.Skipf("the hostname %q resolves to %v (%v), not to this machine: no name to test with", host, ips, err)
	}
	rc := newReceiver(t, nil)
	_, port, _ := strings.Cut(strings.TrimPrefix(rc.srv.URL, "http://"), ":")
	byName := "http://" + host + ":" + port + "/hook" // resolves to the terminal, not written as it
	for _, c := range []struct {
		name, url     string
		allowLoopback bool
		delivered     bool
	}{
		{"a name resolving to loopback", byName, false, false},
		{"the same with webhooks.allow_loopback", byName, true, true},
		{"127.0.0.1 as written", rc.srv.URL + "/hook", false, true},
		{"localhost as written", "http://localhost:" + port + "/hook", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.addHook(t, "sn_a", c.url)
			var slept []time.Duration
			var mu sync.Mutex
			d := start(t, webhook.Options{Store: f.st, Clock: f.clock, AllowLoopback: c.allowLoopback, Sleep: f.sleepAdvancing(&slept, &mu)})
			before := len(rc.delivered())
			ev := f.events(t, 1)[0]
			waitFor(t, "an attempt", func() bool { return len(d.Log("sn_a")) > 0 })
			a := d.Log("sn_a")[0]
			if c.delivered {
				// The hostname may resolve to a loopback address other
				// than the receiver's 127.0.0.1: then not refused is all.
				if strings.Contains(a.Error, "the terminal itself") ||
					(ips[0].Equal(net.IPv4(127, 0, 0, 1)) || c.url != byName) && (a.Result != webhook.ResultDelivered || len(rc.delivered()) != before+1) {
					t.Errorf("attempt %+v; want %d delivered", a, ev.Seq)
				}
				return
			}
			if a.Result != webhook.ResultFailed || !strings.Contains(a.Error, "the terminal itself") {
				t.Errorf("attempt %+v; want a failure saying the name is the terminal itself", a)
			}
			if n := len(rc.delivered()); n != before {
				t.Errorf("the receiver got %d deliveries", n-before)
			}
		})
	}
}
