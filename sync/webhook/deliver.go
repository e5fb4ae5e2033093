package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"showpos/device/clock"
	"showpos/terminal/store"
)

// Store is what the deliverer reads and writes; *store.Store has it.
type Store interface {
	Webhooks() ([]store.Webhook, error)
	Webhook(number string) (store.Webhook, error)
	Sink(name string) (store.Sink, error)
	Events(after uint64, limit int) ([]store.Event, error)
	EventsAppended() <-chan struct{}
	WebhookFailing(ctx context.Context, number string, seq uint64, since time.Time) error
	WebhookDelivered(ctx context.Context, number string, seq uint64, gaveUp bool) error
}

var _ Store = (*store.Store)(nil)

// Defaults of Options.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultGiveUp     = 24 * time.Hour
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 10 * time.Minute
	DefaultLogSize    = 100
)

// Results of an attempt, as the log and the metric name them.
const (
	ResultDelivered = "delivered"
	ResultFailed    = "failed"
	ResultGivenUp   = "given_up"
)

// Options configure a Deliverer. Store is required.
type Options struct {
	Store    Store
	Terminal string // the Showpos-Terminal header
	// Timeout bounds one attempt, connection to the end of the answer's
	// headers; 0: DefaultTimeout.
	Timeout time.Duration
	// GiveUp is how long a receiver may fail, with no 2xx, before events
	// are given up (webhooks.give_up): the event it is failing on is
	// retried until then, and after it each event is tried once and
	// given up if that fails, until a 2xx; 0: DefaultGiveUp.
	GiveUp time.Duration
	// MinBackoff and MaxBackoff: the pause after the nth failure of an
	// event is drawn uniformly from [MinBackoff, min(MaxBackoff,
	// MinBackoff·2ⁿ)] (capped exponential backoff with full jitter above
	// the floor, so receivers coming back are not hit by every terminal at
	// once); 0: the defaults, 1s and 10m.
	MinBackoff, MaxBackoff time.Duration
	// LogSize is how many attempts are kept per client; 0: DefaultLogSize.
	LogSize int
	// Client sends the requests; nil: one with Timeout that follows no
	// redirect (a 3xx is a failure: the URL is the one the client set)
	// and does not connect to the terminal itself through a name that
	// resolves to it (self.go), unless AllowLoopback
	// (webhooks.allow_loopback).
	Client        *http.Client
	AllowLoopback bool
	// Clock gives the signature's t and the give-up period's times; nil:
	// clock.System. Sleep waits out a backoff; nil: clock.Sleep. Tests
	// pass a fake clock and a Sleep that advances it.
	Clock clock.Clock
	Sleep func(ctx context.Context, d time.Duration) error
	// OnAttempt is told each attempt's result (ResultDelivered, ...), for
	// the metrics; OnBacklog the events not yet delivered, summed over
	// the webhooks, when it changes. Either may be nil.
	OnAttempt func(result string)
	OnBacklog func(n uint64)
	Logger    *slog.Logger // nil: discard
}

// Attempt is one delivery attempt of the log.
type Attempt struct {
	Seq      uint64        `json:"seq"`
	Kind     string        `json:"kind"`
	At       time.Time     `json:"at"`
	Result   string        `json:"result"`           // delivered, failed, given_up
	Status   int           `json:"status,omitempty"` // the HTTP status, when one came
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"durationNs"`
}

// Status is one webhook's delivery state: never its secret.
type Status struct {
	Client      string    `json:"client"`
	URL         string    `json:"url"`
	Delivered   uint64    `json:"delivered"` // every seq up to here is delivered (or given up)
	Backlog     uint64    `json:"backlog"`   // events after it
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	// FailingSince is when the receiver began failing, with no 2xx since;
	// FailingSeq the event being retried, next at NextRetry. GivingUp: it
	// has been failing for over webhooks.give_up, so each event is tried
	// once and given up if that fails, until the receiver answers 2xx.
	FailingSeq   uint64    `json:"failingSeq,omitempty"`
	FailingSince time.Time `json:"failingSince,omitzero"`
	NextRetry    time.Time `json:"nextRetry,omitzero"`
	GivingUp     bool      `json:"givingUp,omitempty"`
	GivenUp      uint64    `json:"givenUp"`
	LastGivenUp  uint64    `json:"lastGivenUp,omitempty"`
}

// Deliverer delivers the event log to every webhook. Run it once; its
// other methods are safe for concurrent use.
type Deliverer struct {
	o       Options
	log     *slog.Logger
	changed chan struct{}

	mu    sync.Mutex
	state map[string]*clientState // by service number, while its webhook is set
}

// clientState is what the deliverer remembers of one webhook between
// attempts: never durable.
type clientState struct {
	attempts    []Attempt // a ring of o.LogSize, oldest first once full
	next        int
	lastSuccess time.Time
	lastError   string
	lastErrorAt time.Time
	nextRetry   time.Time
	backlog     uint64
	kick        chan struct{} // the webhook was set again: retry now
}

// New checks o and returns a Deliverer.
func New(o Options) (*Deliverer, error) {
	if o.Store == nil {
		return nil, errors.New("webhook: Options.Store is required")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.GiveUp <= 0 {
		o.GiveUp = DefaultGiveUp
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		return nil, fmt.Errorf("webhook: MaxBackoff %s below MinBackoff %s", o.MaxBackoff, o.MinBackoff)
	}
	if o.LogSize <= 0 {
		o.LogSize = DefaultLogSize
	}
	if o.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = dialer(o.Timeout, o.AllowLoopback)
		o.Client = &http.Client{Timeout: o.Timeout, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Sleep == nil {
		o.Sleep = clock.Sleep
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{o: o, log: log, changed: make(chan struct{}, 1), state: map[string]*clientState{}}, nil
}

// Changed tells the deliverer a webhook was set, changed or removed (the
// API calls it after the store's write): it starts or stops that client's
// goroutine, and one waiting out a backoff tries again at once. It never
// blocks.
func (d *Deliverer) Changed() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for every goroutine it started.
func (d *Deliverer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	running := map[string]context.CancelFunc{}
	updated := map[string]string{} // each running webhook's URL and when it was set
	defer func() {
		for _, cancel := range running {
			cancel()
		}
		wg.Wait()
	}()
	for {
		hooks, err := d.o.Store.Webhooks()
		if err != nil {
			// A damaged record is skipped (logged each pass); the others
			// are delivered.
			d.log.Error("webhooks: read", "err", err)
		}
		want := map[string]bool{}
		for _, h := range hooks {
			want[h.Client] = true
			if _, ok := running[h.Client]; ok {
				if set := h.URL + " " + h.Updated.String(); set != updated[h.Client] {
					d.kick(h.Client) // set again: a fixed URL is tried at once
					updated[h.Client] = set
				}
				continue
			}
			updated[h.Client] = h.URL + " " + h.Updated.String()
			cctx, cancel := context.WithCancel(ctx)
			running[h.Client] = cancel
			cs := d.stateOf(h.Client)
			wg.Go(func() { d.deliverTo(cctx, h.Client, cs) })
		}
		for number, cancel := range running {
			if !want[number] {
				cancel()
				delete(running, number)
				delete(updated, number)
				d.mu.Lock()
				delete(d.state, number)
				d.mu.Unlock()
			}
		}
		d.reportBacklog()
		select {
		case <-ctx.Done():
			return
		case <-d.changed:
		}
	}
}

func (d *Deliverer) stateOf(number string) *clientState {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs, ok := d.state[number]
	if !ok {
		cs = &clientState{kick: make(chan struct{}, 1)}
		d.state[number] = cs
	}
	return cs
}

func (d *Deliverer) kick(number string) {
	d.mu.Lock()
	cs := d.state[number]
	d.mu.Unlock()
	if cs != nil {
		select {
		case cs.kick <- struct{}{}:
		default:
		}
	}
}

// deliverTo is one webhook's goroutine: it reads the events after the
// sink's cursor and delivers them one by one, in order, and waits for the
// next append when there are none.
func (d *Deliverer) deliverTo(ctx context.Context, number string, cs *clientState) {
	name := store.WebhookSink(number)
	log := d.log.With("client", number)
	for ctx.Err() == nil {
		// Taken before the read: an append after it closes this channel.
		appended := d.o.Store.EventsAppended()
		sk, err := d.o.Store.Sink(name)
		var evs []store.Event
		switch {
		case errors.Is(err, store.ErrUnknownSink):
			// Removed: Run stops this goroutine on its next pass, unless
			// the webhook was set again meanwhile (a new sink, found on
			// the next append or kick).
			err = nil
		case err == nil:
			d.setBacklog(cs, sk.Pending)
			evs, err = d.o.Store.Events(sk.Delivered, 100)
		}
		if err != nil {
			log.Error("webhook: read the event log", "err", err)
			if d.o.Sleep(ctx, d.o.MinBackoff) != nil {
				return
			}
			continue
		}
		if len(evs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-appended:
			case <-cs.kick:
			}
			continue
		}
		for _, e := range evs {
			if !d.deliverEvent(ctx, number, cs, e, log) {
				break
			}
		}
	}
}

// deliverEvent delivers e until a 2xx, or gives it up once the receiver
// has been failing for GiveUp (retrying until then); it returns false when delivery to this client must stop or start over
// (ctx ended, the webhook is gone, the store refused a write).
func (d *Deliverer) deliverEvent(ctx context.Context, number string, cs *clientState, e store.Event, log *slog.Logger) bool {
	for n := 0; ; n++ {
		h, err := d.o.Store.Webhook(number)
		if err != nil {
			if !errors.Is(err, store.ErrNoWebhook) {
				log.Error("webhook: read", "err", err)
			}
			return false
		}
		at := d.o.Clock.Now()
		status, err := d.post(ctx, h, e, at)
		if ctx.Err() != nil {
			return false // shutting down: not the receiver's failure
		}
		took := d.o.Clock.Now().Sub(at)
		if err == nil {
			if err := d.o.Store.WebhookDelivered(ctx, number, e.Seq, false); err != nil {
				if !removed(err) {
					log.Error("webhook: record a delivery", "seq", e.Seq, "err", err)
				}
				return false
			}
			d.record(cs, Attempt{Seq: e.Seq, Kind: string(e.Kind), At: at, Result: ResultDelivered, Status: status, Duration: took})
			return true
		}
		a := Attempt{Seq: e.Seq, Kind: string(e.Kind), At: at, Result: ResultFailed, Status: status, Error: err.Error(), Duration: took}
		// The failing period is the receiver's: it started with its first
		// failure after its last 2xx, whichever event that was, and giving
		// events up does not end it. Once it is longer than GiveUp, each
		// event gets this one attempt and is given up at once, so a
		// receiver gone for good lets the backlog drain (and the log be
		// trimmed) instead of holding each event for a full GiveUp.
		since, now := h.FailingSince, d.o.Clock.Now()
		if since.IsZero() {
			since = at
		}
		gone := !now.Before(since.Add(d.o.GiveUp))
		if h.FailingSince.IsZero() || (h.FailingSeq != e.Seq && !gone) {
			if err := d.o.Store.WebhookFailing(ctx, number, e.Seq, since); err != nil {
				if !removed(err) {
					log.Error("webhook: record a failure", "seq", e.Seq, "err", err)
				}
				return false
			}
		}
		if gone {
			if err := d.o.Store.WebhookDelivered(ctx, number, e.Seq, true); err != nil {
				if !removed(err) {
					log.Error("webhook: record a given-up event", "seq", e.Seq, "err", err)
				}
				return false
			}
			a.Result = ResultGivenUp
			d.record(cs, a)
			if n > 0 || h.FailingSeq == e.Seq {
				log.Warn("webhook: gave up an event; each event is now tried once until the receiver answers", "seq", e.Seq, "kind", e.Kind, "failing_since", since, "err", a.Error)
			} else {
				log.Info("webhook: receiver failing for over give_up; event given up after one attempt", "seq", e.Seq, "kind", e.Kind, "failing_since", since, "err", a.Error)
			}
			return true
		}
		// The last retry falls on the give-up deadline, not after it.
		wait := min(d.backoff(n), since.Add(d.o.GiveUp).Sub(now))
		d.recordRetry(cs, a, now.Add(wait))
		log.Info("webhook: delivery failed; retrying", "seq", e.Seq, "in", wait.Round(time.Millisecond), "err", a.Error)
		if !d.pause(ctx, cs, wait) {
			return false
		}
	}
}

// removed reports whether err says the webhook was removed (or its client
// revoked) while it was being delivered to: no failure of delivery.
func removed(err error) bool {
	return errors.Is(err, store.ErrNoWebhook) || errors.Is(err, store.ErrUnknownSink)
}

// pause waits out a backoff, or less when the webhook is set again.
func (d *Deliverer) pause(ctx context.Context, cs *clientState, wait time.Duration) bool {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-cs.kick:
			cancel()
		case <-stop:
		}
	}()
	_ = d.o.Sleep(pctx, wait)
	return ctx.Err() == nil
}

// backoff is the pause after the nth failure (n from 0) of one event.
func (d *Deliverer) backoff(n int) time.Duration {
	ceil := d.o.MaxBackoff
	if n < 40 {
		ceil = min(ceil, d.o.MinBackoff<<n)
	}
	if ceil <= d.o.MinBackoff {
		return d.o.MinBackoff
	}
	return d.o.MinBackoff + rand.N(ceil-d.o.MinBackoff+1)
}

// maxAnswer is how much of a receiver's answer is read (and dropped), so
// the connection can be reused.
const maxAnswer = 4 << 10

// post sends e to h once. A 2xx is nil; anything else an error saying
// what came back, naming the URL only as RedactURL shows it.
func (d *Deliverer) post(ctx context.Context, h store.Webhook, e store.Event, at time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(e.Body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", redactErr(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "showpos-webhook/1")
	req.Header.Set(HeaderSignature, Signature(h.Secret, at, e.Body))
	req.Header.Set(HeaderSeq, strconv.FormatUint(e.Seq, 10))
	req.Header.Set(HeaderKind, string(e.Kind))
	if d.o.Terminal != "" {
		req.Header.Set(HeaderTerminal, d.o.Terminal)
	}
	resp, err := d.o.Client.Do(req)
	if err != nil {
		// Its text names the URL, whose path or query may hold the
		// receiver's token: the log and status show it redacted.
		return 0, redactErr(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

func (d *Deliverer) record(cs *clientState, a Attempt) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.appendAttempt(cs, a)
	switch a.Result {
	case ResultDelivered:
		cs.lastSuccess = a.At
	default:
		cs.lastError, cs.lastErrorAt = a.Error, a.At
	}
	cs.nextRetry = time.Time{}
	if d.o.OnAttempt != nil {
		d.o.OnAttempt(a.Result)
	}
}

func (d *Deliverer) recordRetry(cs *clientState, a Attempt, next time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.appendAttempt(cs, a)
	cs.lastError, cs.lastErrorAt, cs.nextRetry = a.Error, a.At, next
	if d.o.OnAttempt != nil {
		d.o.OnAttempt(a.Result)
	}
}

func (d *Deliverer) appendAttempt(cs *clientState, a Attempt) {
	if len(cs.attempts) < d.o.LogSize {
		cs.attempts = append(cs.attempts, a)
		return
	}
	cs.attempts[cs.next] = a
	cs.next = (cs.next + 1) % d.o.LogSize
}

func (d *Deliverer) setBacklog(cs *clientState, n uint64) {
	d.mu.Lock()
	changed := cs.backlog != n
	cs.backlog = n
	d.mu.Unlock()
	if changed {
		d.reportBacklog()
	}
}

func (d *Deliverer) reportBacklog() {
	if d.o.OnBacklog == nil {
		return
	}
	d.mu.Lock()
	var n uint64
	for _, cs := range d.state {
		n += cs.backlog
	}
	d.mu.Unlock()
	d.o.OnBacklog(n)
}

// Log returns the client's attempts, oldest first (at most LogSize; none
// for a client without a webhook, or none since the start).
func (d *Deliverer) Log(number string) []Attempt {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs := d.state[number]
	if cs == nil {
		return []Attempt{}
	}
	out := make([]Attempt, 0, len(cs.attempts))
	out = append(out, cs.attempts[cs.next:]...)
	return append(out, cs.attempts[:cs.next]...)
}

// Status returns every webhook's delivery state, in service number order:
// the store's (URL, cursor, backlog, failing period, given up) with what
// this process saw (last success and error, next retry).
func (d *Deliverer) Status() ([]Status, error) {
	hooks, err := d.o.Store.Webhooks()
	out := make([]Status, 0, len(hooks))
	for _, h := range hooks {
		s := Status{Client: h.Client, URL: h.URL, FailingSeq: h.FailingSeq, FailingSince: h.FailingSince,
			GivenUp: h.GivenUp, LastGivenUp: h.LastGivenUp,
			GivingUp: !h.FailingSince.IsZero() && !d.o.Clock.Now().Before(h.FailingSince.Add(d.o.GiveUp))}
		if sk, serr := d.o.Store.Sink(h.SinkName()); serr == nil {
			s.Delivered, s.Backlog = sk.Delivered, sk.Pending
		} else {
			err = errors.Join(err, serr)
		}
		d.mu.Lock()
		if cs := d.state[h.Client]; cs != nil {
			s.LastSuccess, s.LastError, s.LastErrorAt, s.NextRetry = cs.lastSuccess, cs.lastError, cs.lastErrorAt, cs.nextRetry
		}
		d.mu.Unlock()
		out = append(out, s)
	}
	return out, err
}
