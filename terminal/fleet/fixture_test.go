package fleet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"showpos/device/clock/clocktest"
	"showpos/terminal/config"
	"showpos/terminal/store"
)

// t0 is the tests' "now"; bundles expire a week after it unless a test says.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey is a fixed fleet key, so failures read the same every run.
func testKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

// localFile is a terminal "till-7" in groups cafes and eu-north trusting
// pub; fleet adds lines to [fleet]. An empty pub pins no key.
func localFile(pub ed25519.PublicKey, fleet string) string {
	s := `
[terminal]
id = "till-7"
merchant_name = "Corner Coffee"
data_dir = "/tmp/till-7"
request_ttl = "90s"

[api]
listen = "127.0.0.1:8080"

[chain]
id = 1337
rpc = ["http://127.0.0.1:8545"]

[merchant]
address = "0x000000000000000000000000000000000000dEaD"

[texts]
welcome = "Scan to pay"

[[assets]]
symbol = "ETH"
max_payment = "1"
`
	if len(pub) > 0 {
		s += fmt.Sprintf("\n[fleet]\npublic_key = \"%x\"\ngroups = [\"cafes\", \"eu-north\"]\n%s", []byte(pub), fleet)
	}
	return s
}

// liveBundle changes every kind of live key.
const liveBundle = `
[terminal]
merchant_name = "Night Owl"

[texts]
welcome = "Tap to pay"

[merchant]
address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

[chain]
rpc = ["https://rpc.example.net/v1"]

[[assets]]
symbol = "TUSD"
token = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
`

type fixture struct {
	t      *testing.T
	local  string // path of the local file
	dbPath string
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey
	clock  *clocktest.Fake
	logs   *syncBuffer

	store    *store.Store
	m        *Manager
	override func(*config.Config)

	mu      sync.Mutex
	applied []*config.Config
	// busy names the networks (by chain id) Retire says have payments
	// open; the networks Retire was asked about are in retired.
	busy    map[uint64]bool
	retired [][]string
	broken  error // what Retire answers when set: the terminal failing
}

func newFixture(t *testing.T, fleet string) *fixture {
	t.Helper()
	return newFixtureOverride(t, fleet, nil)
}

// newFixtureOverride is newFixture with command-line overrides, as posd's
// -listen and -data-dir make them.
func newFixtureOverride(t *testing.T, fleet string, override func(*config.Config)) *fixture {
	t.Helper()
	pub, priv := testKey(1)
	dir := t.TempDir()
	f := &fixture{t: t, local: filepath.Join(dir, "posd.toml"), dbPath: filepath.Join(dir, "s.db"),
		pub: pub, priv: priv, clock: clocktest.NewFake(t0), logs: &syncBuffer{}, override: override}
	f.writeLocal(localFile(pub, fleet))
	f.start()
	return f
}

func (f *fixture) writeLocal(s string) {
	f.t.Helper()
	if err := os.WriteFile(f.local, []byte(s), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// start opens the store and a Manager on it, as posd does at start.
func (f *fixture) start() {
	f.t.Helper()
	s, err := store.Open(f.dbPath, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = s.Close() })
	f.store = s
	f.m, err = New(Options{
		LocalPath: f.local,
		Store:     s,
		Apply: func(c *config.Config) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.applied = append(f.applied, c)
		},
		Override: f.override,
		Retire: func(gone []config.Network) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			var names []string
			for _, n := range gone {
				names = append(names, n.Name)
			}
			f.retired = append(f.retired, names)
			if f.broken != nil {
				return f.broken
			}
			for _, n := range gone {
				if f.busy[n.ChainID] {
					return fmt.Errorf("%w: network %s has payments to settle", ErrNetworkOpen, n.Name)
				}
			}
			return nil
		},
		Clock:  f.clock,
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// restart closes the store and starts again, as after kill -9 or reboot.
func (f *fixture) restart() {
	f.t.Helper()
	if err := f.store.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.start()
}

func (f *fixture) applies() []*config.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*config.Config(nil), f.applied...)
}

// bundle signs a bundle of version v carrying frag, expiring a week after
// the fixture's now; edits change the payload before signing.
func (f *fixture) bundle(v uint64, frag string, edits ...func(*Payload)) []byte {
	f.t.Helper()
	p := Payload{Version: v, Issued: f.clock.Now().Add(-time.Minute), Expires: f.clock.Now().Add(7 * 24 * time.Hour), Config: frag}
	for _, e := range edits {
		e(&p)
	}
	raw, err := Sign(f.priv, p)
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

func (f *fixture) mustPush(raw []byte) Applied {
	f.t.Helper()
	a, err := f.m.Push(context.Background(), raw)
	if err != nil {
		f.t.Fatalf("Push: %v", err)
	}
	return a
}

// wantRefusal pushes raw and checks it is refused with code and changes
// nothing.
func (f *fixture) wantRefusal(raw []byte, code string) {
	f.t.Helper()
	before, applied, status := f.m.Current(), len(f.applies()), f.m.Status()
	a, err := f.m.Push(context.Background(), raw)
	var r *Refusal
	if !errors.As(err, &r) || r.Code != code {
		f.t.Fatalf("Push = %+v, %v; want refusal %s", a, err, code)
	}
	f.t.Logf("refused: %v", err)
	if f.m.Current() != before {
		f.t.Errorf("refused bundle changed the config")
	}
	if n := len(f.applies()); n != applied {
		f.t.Errorf("refused bundle called Apply")
	}
	st := f.m.Status()
	if st.LastRefusal == nil || st.LastRefusal.Code != code || st.LastRefusal.Source != SourcePush ||
		st.LastRefusal.Message != r.Message || !st.LastRefusal.At.Equal(f.clock.Now()) {
		f.t.Errorf("Status().LastRefusal = %+v, want %s from push at %s", st.LastRefusal, code, f.clock.Now())
	}
	if st.Version != status.Version || st.Source != status.Source {
		f.t.Errorf("refusal changed the status: %+v, was %+v", st, status)
	}
}

// syncBuffer is a log sink safe for the pull goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
