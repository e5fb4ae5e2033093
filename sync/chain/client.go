package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"showpos/device/clock"
)

// Defaults for zero Options fields.
const (
	DefaultCallTimeout = 5 * time.Second
	DefaultProbeEvery  = 5 * time.Second
)

const (
	// chainRecheck is how long an eth_chainId answer is trusted (or
	// ProbeEvery when that is longer).
	chainRecheck = time.Minute
	// maxBatch is the most items put in one batch request; longer calls
	// are split. Public providers commonly allow 100 or more, geth 1000.
	maxBatch = 100
	// maxResponse caps the bytes read from one HTTP response.
	maxResponse = 32 << 20
)

// Errors wrapped in the errors this package returns.
var (
	ErrBadOptions       = errors.New("chain: bad options")
	ErrWrongChain       = errors.New("wrong chain id")
	ErrBatchUnsupported = errors.New("batch not supported")
	ErrBadAnswer        = errors.New("chain: malformed answer")
	ErrHashMismatch     = errors.New("chain: node returned another tx hash")
	errResponseTooLarge = errors.New("response too large")
)

// Options configure New.
type Options struct {
	// Endpoints are http(s) URLs of JSON-RPC endpoints, tried in order
	// (starting from the last one that worked). None leaves the Client
	// offline until SetEndpoints gives it some. They may
	// carry credentials (userinfo, an API key in the path or query); those
	// never appear in Status, errors or logs.
	Endpoints []string
	// ChainID is the chain the terminal takes payments on; an endpoint is
	// used only when its eth_chainId equals it. Required.
	ChainID uint64
	// CallTimeout bounds each JSON-RPC request to one endpoint; 0 means
	// DefaultCallTimeout. A call that fails over may take one CallTimeout
	// per endpoint.
	CallTimeout time.Duration
	// ProbeEvery is Run's probe interval while online; 0 means
	// DefaultProbeEvery. After a failed probe Run retries sooner: 1 s,
	// doubling, jittered, never longer than ProbeEvery.
	ProbeEvery time.Duration
	// Clock gives Status times and how long a chain id check is trusted,
	// never waits: timers and timeouts use real time.
	Clock clock.Clock // nil: clock.System
	// Logger receives online/offline flips (Info/Warn; a client offline
	// from the start says so once) and failovers (Debug); nil discards.
	Logger *slog.Logger
}

// Client is a connection to the network through a set of endpoints. Its
// methods are safe for concurrent use.
type Client struct {
	opts    Options
	clock   clock.Clock
	log     *slog.Logger
	hc      *http.Client
	recheck time.Duration
	changes chan Status
	running atomic.Bool

	mu       sync.Mutex // guards eps, st, lastGood, offlineTold and the mutable endpoint fields
	eps      []*endpoint
	st       Status
	lastGood int
	// offlineTold: the log has been told the client is offline since it
	// was last online (or since New): a client that never reaches an
	// endpoint says so once too.
	offlineTold bool
}

// endpoint is one configured URL.
type endpoint struct {
	idx  int
	raw  string // as configured, to tell a new list from the same one
	name string // redacted, for Status, errors and logs
	rpc  *rpc.Client

	// Guarded by Client.mu.
	checkedAt time.Time // when eth_chainId last answered; zero: check before use
	chainID   uint64    // its answer then
	noBatch   bool      // refused a batch as a whole: send one call at a time
}

// New checks o and builds a Client. It does not dial: the first network
// traffic is Run's first probe, Probe, or a call.
func New(o Options) (*Client, error) {
	if o.ChainID == 0 {
		return nil, fmt.Errorf("%w: ChainID is 0", ErrBadOptions)
	}
	if o.CallTimeout < 0 || o.ProbeEvery < 0 {
		return nil, fmt.Errorf("%w: negative duration", ErrBadOptions)
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ProbeEvery == 0 {
		o.ProbeEvery = DefaultProbeEvery
	}
	c := &Client{
		opts:    o,
		clock:   o.Clock,
		log:     o.Logger,
		recheck: max(chainRecheck, o.ProbeEvery),
		changes: make(chan Status, 1),
	}
	if c.clock == nil {
		c.clock = clock.System{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	c.hc = &http.Client{Transport: capTransport{tr}}

	eps, err := c.dial(o.Endpoints)
	if err != nil {
		return nil, err
	}
	c.eps = eps
	c.st = Status{Err: "not checked yet", Since: c.clock.Now()}
	if len(eps) == 0 {
		c.st.Err = errNoEndpoints.Reason
	} else {
		c.st.Endpoint = eps[0].name
	}
	return c, nil
}

// errNoEndpoints is the state of a Client given no endpoints.
var errNoEndpoints = &TransportError{Reason: "no chain.rpc endpoints configured"}

// dial checks endpoint URLs and makes their RPC clients.
func (c *Client) dial(raws []string) ([]*endpoint, error) {
	var eps []*endpoint
	seen := make(map[string]bool)
	for i, raw := range raws {
		u, err := url.Parse(raw)
		// The parse error quotes the URL, secrets and all: not wrapped.
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: endpoint %d (%s) is not an http(s) URL", ErrBadOptions, i, RedactURL(raw))
		}
		if seen[raw] {
			return nil, fmt.Errorf("%w: endpoint %d (%s) is listed twice", ErrBadOptions, i, RedactURL(raw))
		}
		seen[raw] = true
		rc, err := rpc.DialOptions(context.Background(), raw, rpc.WithHTTPClient(c.hc))
		if err != nil {
			return nil, fmt.Errorf("%w: endpoint %d (%s): cannot use", ErrBadOptions, i, RedactURL(raw))
		}
		eps = append(eps, &endpoint{idx: i, raw: raw, name: RedactURL(raw), rpc: rc})
	}
	return eps, nil
}

// SetEndpoints replaces the endpoints (a new config, without a restart).
// Calls under way finish on the endpoints they started with; the next
// call and the next probe use the new ones, from the first. The Client
// stays online until a probe or a call finds otherwise; with no endpoints
// it goes offline at once. The same list again changes nothing: a config
// change elsewhere (a welcome text) keeps the endpoint in use and what is
// known of it.
func (c *Client) SetEndpoints(raws []string) error {
	if slices.Equal(raws, c.raws()) {
		return nil
	}
	eps, err := c.dial(raws)
	if err != nil {
		return err
	}
	c.mu.Lock()
	// The old RPC clients are HTTP ones: they hold no goroutines and share
	// c.hc, so calls still using them finish normally and nothing needs
	// closing; their answers no longer count as contact (see contact).
	c.eps, c.lastGood = eps, 0
	c.st.Endpoint = ""
	if len(eps) > 0 {
		c.st.Endpoint = eps[0].name
	}
	c.mu.Unlock()
	names := make([]string, len(eps))
	for i, ep := range eps {
		names[i] = ep.name
	}
	c.log.Info("chain: endpoints changed", "endpoints", names)
	if len(eps) == 0 {
		c.offline(errNoEndpoints)
	}
	return nil
}

// raws returns the current endpoints as configured.
func (c *Client) raws() []string {
	eps := c.endpoints()
	raws := make([]string, len(eps))
	for i, ep := range eps {
		raws[i] = ep.raw
	}
	return raws
}

// endpoints returns the current endpoints in configured order.
func (c *Client) endpoints() []*endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eps
}

// ChainID is the chain id the Client was made for (Options.ChainID): the
// one every endpoint it uses has answered.
func (c *Client) ChainID() uint64 { return c.opts.ChainID }

// Close releases idle connections. Call it after Run has returned and no
// call is in flight; the Client is not usable afterwards.
func (c *Client) Close() {
	for _, ep := range c.endpoints() {
		ep.rpc.Close()
	}
	c.hc.CloseIdleConnections()
}

// RedactURL returns scheme://host[:port] of an endpoint URL, followed by
// "/…" when it had a path, query or fragment: the parts where providers
// put API keys. Userinfo is dropped. An unparsable URL gives "invalid URL".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "invalid URL"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		s += "/…"
	}
	return s
}

// capTransport caps every response body at maxResponse bytes, and marks
// every request idempotent so that net/http retries it once when a pooled
// keep-alive connection turns out to have been closed by the server (a
// node restarting, a proxy's idle timeout) instead of failing the call
// over. All our calls may be repeated: reads, and eth_sendRawTransaction
// of the same bytes (at worst the node answers "already known").
type capTransport struct{ rt http.RoundTripper }

func (t capTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header["Idempotency-Key"] = nil // nil: marks the request, not sent on the wire
	resp, err := t.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &capBody{rc: resp.Body, left: maxResponse}
	return resp, nil
}

type capBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *capBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the cap: only the end of the body may follow.
		var one [1]byte
		if n, err := b.rc.Read(one[:]); n > 0 {
			return 0, errResponseTooLarge
		} else {
			return 0, err
		}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *capBody) Close() error { return b.rc.Close() }
