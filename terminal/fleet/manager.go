package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"showpos/device/clock"
	"showpos/terminal/config"
)

// Store keeps the accepted bundle durably; *store.Store is one.
type Store interface {
	// FleetBundle returns the last bundle stored and its version, which is
	// the highest ever stored; (0, nil, nil) if none.
	FleetBundle() (uint64, []byte, error)
	// PutFleetBundle stores raw and raises the highest version to version
	// in one durable transaction, refusing a version not above it.
	PutFleetBundle(ctx context.Context, version uint64, raw []byte) error
}

// Options configure New.
type Options struct {
	LocalPath string // the local TOML config file
	Store     Store
	// Apply is called with each new effective config, after the bundle
	// that makes it is durable. It runs with the Manager's lock held: it
	// must not block long, nor call the Manager back.
	Apply func(*config.Config)
	// Override, if set, adjusts the local file's config each time it is
	// read (command-line flags that override the file). What it changes
	// should be restart-only keys: they then hold for every bundle too.
	Override func(*config.Config)
	// Retire, if set, is asked before a config that drops networks the
	// running one has is taken, by a bundle or a reload: an error keeps
	// the running config; one wrapping ErrNetworkOpen refuses a bundle
	// network_open. posd says no while a network has payments to settle.
	Retire func(gone []config.Network) error
	Client *http.Client // for pulls; nil: a client with a 30 s timeout
	Clock  clock.Clock  // nil: clock.System
	Logger *slog.Logger // nil: discard
}

// ClockSkew is how far a bundle's issued time may be ahead of the
// terminal's clock.
const ClockSkew = 5 * time.Minute

// Sources of a bundle in effect.
const (
	SourcePush  = "push"
	SourcePull  = "pull"
	SourceMQTT  = "mqtt"  // a retained config topic (sync/uplink)
	SourceStore = "store" // read from the store at start
)

// Applied is the outcome of a bundle taken.
type Applied struct {
	Version uint64 `json:"version"`
	// Changed is false when the bundle was the one already running.
	Changed bool `json:"changed"`
}

// Status is what the Manager reports.
type Status struct {
	// Version of the bundle in effect; 0: none, the local file alone.
	Version     uint64       `json:"version"`
	AppliedAt   time.Time    `json:"appliedAt,omitzero"`
	Source      string       `json:"source,omitempty"`
	LastRefusal *RefusalInfo `json:"lastRefusal,omitempty"`
}

// RefusalInfo is the last refusal, with where and when it happened.
type RefusalInfo struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Version uint64    `json:"version"`
	Source  string    `json:"source"`
	At      time.Time `json:"at"`
}

// Manager holds the terminal's effective config and takes bundles. Its
// methods are safe for concurrent use; Push, Reload and pulls run one at a
// time.
type Manager struct {
	o   Options
	log *slog.Logger
	cur atomic.Pointer[config.Config]

	mu     sync.Mutex // serialises changes; guards local and bundle
	local  []byte     // the local file as last read
	bundle *accepted  // the bundle in effect; nil: none

	smu    sync.Mutex // guards status
	status Status
}

type accepted struct {
	raw []byte
	p   Payload
}

// New reads the local file and the stored bundle; Current is then the
// effective config. A local file that does not load is an error. A stored
// bundle that no longer applies (the file changed, or the fleet key or
// targets did) is logged and left out: the terminal starts on its file.
// New does not call Apply.
func New(o Options) (*Manager, error) {
	if o.LocalPath == "" || o.Store == nil {
		return nil, errors.New("fleet: LocalPath and Store are required")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	m := &Manager{o: o, log: o.Logger}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	local, base, err := m.readLocal()
	if err != nil {
		return nil, err
	}
	m.local = local
	m.cur.Store(base)
	v, raw, err := o.Store.FleetBundle()
	if err != nil {
		return nil, fmt.Errorf("fleet: read stored bundle: %w", err)
	}
	if raw == nil {
		return m, nil
	}
	a, c, err := m.restore(base, v, raw)
	if err != nil {
		m.log.Error("fleet: the stored bundle does not apply; running the local file alone", "version", v, "err", err)
		return m, nil
	}
	m.install(c, a, SourceStore)
	m.log.Info("fleet: running the stored bundle", "version", v)
	return m, nil
}

// restore opens the stored bundle as the local file base would accept it.
// Expiry is not checked: a bundle stays in effect after it expires.
func (m *Manager) restore(base *config.Config, v uint64, raw []byte) (*accepted, *config.Config, error) {
	p, err := Open(raw, base.Fleet.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	if p.Version != v {
		return nil, nil, fmt.Errorf("stored as v%d, says v%d", v, p.Version)
	}
	if !p.Targets.Match(base.Terminal.ID, base.Fleet.Groups) {
		return nil, nil, errors.New("no longer targets this terminal")
	}
	c, err := config.Overlay(m.local, []byte(p.Config))
	if err != nil {
		return nil, nil, err
	}
	c.KeepRestartOnly(base) // base has the overrides
	return &accepted{raw: raw, p: p}, c, nil
}

// Current is the effective config. It is never modified; a change
// replaces it.
func (m *Manager) Current() *config.Config { return m.cur.Load() }

// Status reports the bundle in effect and the last refusal.
func (m *Manager) Status() Status {
	m.smu.Lock()
	defer m.smu.Unlock()
	return m.status
}

// Push takes a bundle: checked (see the package doc), stored durably, then
// applied. A refusal is a *Refusal, logged and kept as Status().LastRefusal;
// any other error (the store failed) is wrapped, and nothing changed.
func (m *Manager) Push(ctx context.Context, raw []byte) (Applied, error) {
	return m.take(ctx, raw, SourcePush)
}

// TakeMQTT takes a bundle that came on an MQTT config topic, as Push
// does. A retained bundle comes again at every reconnect: the one running
// is taken quietly, and a refusal repeated logs as a repeated pull's does.
func (m *Manager) TakeMQTT(ctx context.Context, raw []byte) (Applied, error) {
	return m.take(ctx, raw, SourceMQTT)
}

func (m *Manager) take(ctx context.Context, raw []byte, source string) (Applied, error) {
	// Whitespace around the JSON is not part of the bundle: a file with a
	// final newline pushed is the same bundle as the one pulled without.
	raw = bytes.TrimSpace(raw)
	m.mu.Lock()
	defer m.mu.Unlock()
	p, next, err := m.vet(raw)
	var r *Refusal
	switch {
	case errors.As(err, &r):
		m.refused(r, source)
		return Applied{}, r
	case err != nil:
		return Applied{}, err
	case next == nil:
		m.log.Debug("fleet: bundle already running", "version", p.Version, "source", source)
		return Applied{Version: p.Version}, nil
	}
	if err := m.o.Store.PutFleetBundle(ctx, p.Version, raw); err != nil {
		// Retire may have taken networks out of service for this bundle:
		// the running config, applied again, puts them back.
		m.apply(m.Current())
		return Applied{}, fmt.Errorf("store bundle v%d: %w", p.Version, err)
	}
	m.install(next, &accepted{raw: raw, p: p}, source)
	m.apply(next)
	m.log.Info("fleet: bundle applied", "version", p.Version, "source", source, "expires", p.Expires)
	return Applied{Version: p.Version, Changed: true}, nil
}

// vet checks raw in the package doc's order and returns the config it
// makes; a nil config means raw is the bundle already running.
func (m *Manager) vet(raw []byte) (Payload, *config.Config, error) {
	cur := m.Current()
	p, err := Open(raw, cur.Fleet.PublicKey)
	if err != nil {
		return p, nil, err
	}
	if !p.Targets.Match(cur.Terminal.ID, cur.Fleet.Groups) {
		return p, nil, refuse(CodeWrongTarget, p.Version, "bundle v%d is for terminals [%s] and groups [%s]; this is %q in groups [%s]",
			p.Version, strings.Join(p.Targets.Terminals, " "), strings.Join(p.Targets.Groups, " "),
			cur.Terminal.ID, strings.Join(cur.Fleet.Groups, " "))
	}
	if m.bundle != nil && bytes.Equal(raw, m.bundle.raw) {
		return p, nil, nil
	}
	now := m.o.Clock.Now()
	if !now.Before(p.Expires) {
		return p, nil, refuse(CodeExpired, p.Version, "bundle v%d expired at %s (terminal clock %s)",
			p.Version, p.Expires.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	// A board without a real-time clock boots in 1970, when every bundle
	// would look unexpired: a bundle issued after the terminal's clock waits
	// for the clock to be set.
	if p.Issued.After(now.Add(ClockSkew)) {
		return p, nil, refuse(CodeNotYetValid, p.Version, "bundle v%d was issued at %s, after the terminal's clock (%s): the clock is not set yet, or the bundle's is wrong",
			p.Version, p.Issued.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	highest, _, err := m.o.Store.FleetBundle()
	if err != nil {
		return p, nil, fmt.Errorf("check bundle v%d: %w", p.Version, err)
	}
	if p.Version <= highest {
		return p, nil, refuse(CodeNotNewer, p.Version, "bundle v%d is not above v%d, the highest accepted", p.Version, highest)
	}
	next, err := config.Overlay(m.local, []byte(p.Config))
	if err != nil {
		return p, nil, refuse(CodeBadConfig, p.Version, "bundle v%d: %v", p.Version, err)
	}
	// The file's restart-only values as running, not as last read: a
	// change to them waits for a restart (Reload logged it).
	next.KeepRestartOnly(cur)
	if err := m.retire(cur, next); errors.Is(err, ErrNetworkOpen) {
		return p, nil, refuse(CodeNetworkOpen, p.Version, "bundle v%d: %v", p.Version, err)
	} else if err != nil {
		return p, nil, fmt.Errorf("check bundle v%d: %w", p.Version, err)
	}
	return p, next, nil
}

// retire asks Options.Retire whether the networks of cur that next has no
// more (by chain id) may go.
func (m *Manager) retire(cur, next *config.Config) error {
	if m.o.Retire == nil {
		return nil
	}
	var gone []config.Network
	for _, n := range cur.Networks {
		if !slices.ContainsFunc(next.Networks, func(o config.Network) bool { return o.ChainID == n.ChainID }) {
			gone = append(gone, n)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	return m.o.Retire(gone)
}

// install makes c the effective config and a the bundle in effect (nil:
// none), recording when a changes. Called with mu held, or from New.
func (m *Manager) install(c *config.Config, a *accepted, source string) {
	changed := a != m.bundle
	m.bundle = a
	m.cur.Store(c)
	if !changed {
		return
	}
	m.smu.Lock()
	defer m.smu.Unlock()
	if a == nil {
		m.status.Version, m.status.AppliedAt, m.status.Source = 0, time.Time{}, ""
		return
	}
	m.status.Version, m.status.AppliedAt, m.status.Source = a.p.Version, m.o.Clock.Now(), source
}

func (m *Manager) apply(c *config.Config) {
	if m.o.Apply != nil {
		m.o.Apply(c)
	}
}

// refused records and logs r. A pull or an MQTT bundle refused again for
// the same reason (the same code for the same version) logs at debug
// level: the server offers the same bundle every interval, the broker its
// retained one at every reconnect, and some reasons name the clock.
func (m *Manager) refused(r *Refusal, source string) {
	info := &RefusalInfo{Code: r.Code, Message: r.Message, Version: r.Version, Source: source, At: m.o.Clock.Now()}
	m.smu.Lock()
	last := m.status.LastRefusal
	m.status.LastRefusal = info
	m.smu.Unlock()
	level := slog.LevelWarn
	if last != nil && (source == SourcePull || source == SourceMQTT) && last.Source == source && last.Code == r.Code && last.Version == r.Version {
		level = slog.LevelDebug
	}
	m.log.Log(context.Background(), level, "fleet: bundle refused", "code", r.Code, "version", r.Version, "source", source, "reason", r.Message)
}

// Reload re-reads the local file (SIGHUP) and lays the bundle in effect
// over it. Values that need a restart keep their running values and are
// logged by key. A file that cannot be read or is invalid is logged and
// returned, and the running config kept. If the bundle no longer applies
// to the edited file the file alone is used, as a restart would.
func (m *Manager) Reload(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	local, base, err := m.readLocal()
	if err != nil {
		m.log.Error("config: reload failed; keeping the running config", "err", err)
		return err
	}
	next, a := base, m.bundle
	if a != nil {
		c, err := config.Overlay(local, []byte(a.p.Config))
		if err != nil {
			m.log.Error("fleet: the bundle does not apply to the edited file; running the file alone", "version", a.p.Version, "err", err)
			a = nil
		} else {
			next = m.override(c)
		}
	}
	restart := next.KeepRestartOnly(m.Current())
	if err := m.retire(m.Current(), next); err != nil {
		m.log.Error("config: reload refused; keeping the running config", "err", err)
		return fmt.Errorf("reload: %w", err)
	}
	m.local = local
	if len(restart) > 0 {
		m.log.Warn("config: changed in the file; needs a restart", "keys", restart)
	}
	m.install(next, a, "")
	m.apply(next)
	m.log.Info("config: reloaded", "bundle", bundleVersion(a))
	return nil
}

func bundleVersion(a *accepted) uint64 {
	if a == nil {
		return 0
	}
	return a.p.Version
}

// readLocal reads and checks the local file.
func (m *Manager) readLocal() ([]byte, *config.Config, error) {
	b, err := os.ReadFile(m.o.LocalPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	c, err := config.Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", m.o.LocalPath, err)
	}
	return b, m.override(c), nil
}

// override applies the command-line overrides to c, a config made from the
// local file, and returns it.
func (m *Manager) override(c *config.Config) *config.Config {
	if m.o.Override != nil {
		m.o.Override(c)
	}
	return c
}
