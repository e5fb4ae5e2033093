package uplink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"showpos/terminal/store"
)

// SinkName is the Link's cursor in the store's event log.
const SinkName = "mqtt"

// EventLog is what a Link reads from the store's event log; *store.Store
// is one. A Link registers its sink (SinkName, from the oldest event kept)
// as it starts.
type EventLog interface {
	RegisterSink(ctx context.Context, name string, start store.SinkStart, now time.Time) (store.Sink, error)
	Events(after uint64, limit int) ([]store.Event, error)
	MarkDelivered(ctx context.Context, name string, seq uint64) error
	EventsAppended() <-chan struct{}
	EventLog() (store.EventLogState, error)
}

// Defaults for the zero Options fields.
const (
	DefaultKeepalive   = 30 * time.Second
	DefaultStatusEvery = 60 * time.Second
	DefaultWindow      = 32
	// DefaultMaxBackoff caps the wait between connection attempts.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxConfig caps a config message (fleet.MaxBundle is 256 KiB);
	// a longer one is handed over cut one byte past it, to be refused.
	DefaultMaxConfig = 256 << 10
)

// Options configure New. Broker, Terminal, Log and Status are required.
type Options struct {
	// Broker is mqtt://host:port or mqtts://host:port (TLS).
	Broker string
	// TLS is the TLS config for mqtts (LoadTLS builds one from files);
	// nil: the system's roots.
	TLS                *tls.Config
	Username, Password string
	// Prefix is the topics' prefix (DefaultPrefix when empty); Terminal
	// the terminal id, also the MQTT client id; Groups the fleet groups
	// whose config topics the Link subscribes to.
	Prefix   string
	Terminal string
	Groups   []string

	Keepalive   time.Duration // the MQTT keepalive
	StatusEvery time.Duration // the status is published at least this often
	// CheckEvery is how often the status is read and published if it
	// changed (default 1 s).
	CheckEvery time.Duration
	// Window bounds the events published and not yet acknowledged.
	Window int
	// MarkEvery is the least time between two MarkDelivered writes (each
	// fsyncs; default 250 ms).
	MarkEvery time.Duration
	// MinBackoff and MaxBackoff bound the wait between connection
	// attempts (defaults 500 ms and DefaultMaxBackoff), doubled on each
	// failure and jittered.
	MinBackoff, MaxBackoff time.Duration
	// MaxConfig caps a config message (DefaultMaxConfig).
	MaxConfig int

	Log EventLog
	// Status reads the terminal's status. The Link sets V, Terminal,
	// Connected, At and LastEvent, and LastPayment if left zero (the last
	// payment.accepted or payment.seen it has published). Called every CheckEvery from the Link's
	// goroutine: it must answer quickly.
	Status func() Status
	// Config takes a bundle that arrived on a config topic (verified and
	// applied, or refused and recorded, by its owner). An empty message
	// (a cleared topic) is never handed over. Nil: config topics are not
	// subscribed.
	Config func(ctx context.Context, raw []byte) error
	// OnAcked is told how many events the broker has just acknowledged
	// (a metric); it must not block.
	OnAcked func(n int)
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default: discard
}

// LinkStatus is how the Link stands, for /v1/status.
type LinkStatus struct {
	Connected bool   `json:"connected"`
	Broker    string `json:"broker"` // without any user information
	// LastConnect is when the Link last connected; LastError why the
	// last attempt failed or the last connection ended, at LastErrorAt.
	LastConnect time.Time `json:"lastConnect,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	// Delivered is the highest seq the broker acknowledged with every one
	// before it; Backlog counts the events after it.
	Delivered uint64 `json:"delivered"`
	Backlog   uint64 `json:"backlog"`
}

// Link is one terminal's connection to its broker. Run owns it; Status
// may be called from any goroutine. A process may run many Links (the
// fleet benchmark does): a Link keeps no global state.
type Link struct {
	o      Options
	log    *slog.Logger
	topics Topics
	broker string // redacted

	// lastPayment is the time of the last payment event published, for
	// a status whose source leaves LastPayment zero. Run's alone.
	lastPayment time.Time

	mu sync.Mutex
	st LinkStatus
}

// New checks o and returns a Link to Run.
func New(o Options) (*Link, error) {
	u, err := url.Parse(o.Broker)
	switch {
	case err != nil:
		return nil, fmt.Errorf("uplink: broker %q: %w", o.Broker, err)
	case u.Scheme != "mqtt" && u.Scheme != "mqtts":
		return nil, fmt.Errorf("uplink: broker %q: want mqtt:// or mqtts://", o.Broker)
	case u.Host == "":
		return nil, fmt.Errorf("uplink: broker %q: no host", o.Broker)
	case o.Log == nil || o.Status == nil:
		return nil, errors.New("uplink: Log and Status are required")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if err := ValidPrefix(o.Prefix); err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	if err := ValidLevel(o.Terminal); err != nil {
		return nil, fmt.Errorf("uplink: terminal id: %w", err)
	}
	for _, g := range o.Groups {
		if err := ValidLevel(g); err != nil {
			return nil, fmt.Errorf("uplink: group: %w", err)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Keepalive, DefaultKeepalive)
	def(&o.StatusEvery, DefaultStatusEvery)
	def(&o.CheckEvery, time.Second)
	def(&o.MarkEvery, 250*time.Millisecond)
	def(&o.MinBackoff, 500*time.Millisecond)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxConfig <= 0 {
		o.MaxConfig = DefaultMaxConfig
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Link{o: o, log: o.Logger, topics: Topics{Prefix: o.Prefix, Terminal: o.Terminal}, broker: Redact(o.Broker)}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.st.Broker = l.broker
	return l, nil
}

// ValidPrefix says why p cannot be a topic prefix: one or more levels
// joined by '/', each a ValidLevel.
func ValidPrefix(p string) error {
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if err := ValidLevel(p[start:i]); err != nil {
				return fmt.Errorf("topic prefix %q: %w", p, err)
			}
			start = i + 1
		}
	}
	return nil
}

// Redact is a broker URL without its user information, to show.
func Redact(broker string) string {
	u, err := url.Parse(broker)
	if err != nil {
		return "(unparsable broker URL)"
	}
	u.User = nil
	return u.String()
}

// LoadTLS makes the TLS config of an mqtts broker: caFile (PEM) the roots
// to trust (empty: the system's), certFile and keyFile the terminal's
// client certificate (both or neither).
func LoadTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt CA %s: no PEM certificate", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("mqtt client certificate: cert_file and key_file go together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Status reports the Link. Backlog is read from the store's log (two
// keys).
func (l *Link) Status() LinkStatus {
	l.mu.Lock()
	s := l.st
	l.mu.Unlock()
	if st, err := l.o.Log.EventLog(); err == nil && st.Last > s.Delivered {
		s.Backlog = st.Last - s.Delivered
	}
	return s
}

func (l *Link) setConnected(on bool, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.Connected = on
	if on {
		l.st.LastConnect = at
	}
}

func (l *Link) setError(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.LastError, l.st.LastErrorAt = err.Error(), l.o.Now()
}

func (l *Link) setDelivered(seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.Delivered = seq
}

// offline is the last will, and what the Link publishes as it stops.
func (l *Link) offline() []byte {
	b, _ := json.Marshal(Status{V: 1, Terminal: l.o.Terminal})
	return b
}

// Run registers the sink, connects and keeps connecting until ctx ends,
// then publishes the terminal offline and disconnects. It returns nil when
// ctx ends, or the error that stopped it before (the store refused to
// register the sink).
func (l *Link) Run(ctx context.Context) error {
	sink, err := l.o.Log.RegisterSink(ctx, SinkName, store.SinkFromOldest, l.o.Now())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("uplink: %w", err)
	}
	c := &cursor{acked: sink.Delivered, marked: sink.Delivered}
	l.setDelivered(c.acked)
	defer l.flush(context.WithoutCancel(ctx), c)
	wait := l.o.MinBackoff
	for {
		client, err := l.connect(ctx)
		if err == nil {
			start := l.o.Now()
			err = l.session(ctx, client, c)
			l.setConnected(false, time.Time{})
			// Stopping, or the connection may still be open (a
			// subscription refused, a write timed out): a clean
			// disconnect drops the will, so say offline first.
			l.goodbye(client)
			if l.o.Now().Sub(start) > l.o.MaxBackoff {
				wait = l.o.MinBackoff // it held a while: not a refusal loop
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		l.setError(err)
		l.log.Warn("mqtt: not connected; trying again", "broker", l.broker, "in", wait, "err", err)
		l.flush(ctx, c)
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(wait*2, l.o.MaxBackoff)
	}
}

// connect makes a new paho client (one per connection: paho warns against
// reusing one after a disconnect) and connects it, with the last will set.
func (l *Link) connect(ctx context.Context) (*conn, error) {
	po := paho.NewClientOptions().AddBroker(l.o.Broker).SetClientID(l.o.Terminal).
		SetCleanSession(true).SetKeepAlive(l.o.Keepalive).SetPingTimeout(10*time.Second).
		SetConnectTimeout(10*time.Second).SetWriteTimeout(10*time.Second).
		SetAutoReconnect(false).SetConnectRetry(false).
		// Config messages are handed to the session's loop in the order
		// they came (the loop takes them between publishes: paho's reader
		// waits at most that long).
		SetOrderMatters(true).
		SetBinaryWill(l.topics.Status(), l.offline(), 1, true)
	if l.o.Username != "" {
		po.SetUsername(l.o.Username).SetPassword(l.o.Password)
	}
	if l.o.TLS != nil {
		po.SetTLSConfig(l.o.TLS)
	}
	lost := make(chan error, 1)
	po.SetConnectionLostHandler(func(_ paho.Client, err error) {
		select {
		case lost <- err:
		default:
		}
	})
	c := paho.NewClient(po)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		c.Disconnect(0)
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect %s: %w", l.broker, err)
	}
	l.setConnected(true, l.o.Now())
	l.log.Info("mqtt: connected", "broker", l.broker, "client_id", l.o.Terminal)
	return &conn{Client: c, lost: lost}, nil
}

// conn is a connected client and the channel its loss is told on.
type conn struct {
	paho.Client
	lost chan error
}

// goodbye publishes the terminal offline (retained, as the will would)
// and disconnects cleanly: a clean disconnect does not fire the will.
func (l *Link) goodbye(c paho.Client) {
	if c.IsConnectionOpen() {
		tok := c.Publish(l.topics.Status(), 1, true, l.offline())
		if !tok.WaitTimeout(2*time.Second) || tok.Error() != nil {
			l.log.Warn("mqtt: offline status not acknowledged", "err", tok.Error())
		}
	}
	c.Disconnect(250)
	l.log.Info("mqtt: disconnected", "broker", l.broker)
}

// cursor is the events' progress: acked, the highest seq the broker
// acknowledged with all before it; marked, the highest written to the
// store (at most acked).
type cursor struct {
	acked, marked uint64
}

// flush writes acked to the store if it is ahead of marked.
func (l *Link) flush(ctx context.Context, c *cursor) {
	if c.acked <= c.marked {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := l.o.Log.MarkDelivered(ctx, SinkName, c.acked); err != nil {
		l.log.Error("mqtt: mark delivered", "seq", c.acked, "err", err)
		return
	}
	c.marked = c.acked
}
