package fleet

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/config"
)

// wantLive checks that c runs liveBundle and the file's restart-only values.
func wantLive(t *testing.T, c *config.Config) {
	t.Helper()
	if c.Merchant != common.HexToAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") {
		t.Errorf("merchant %s", c.Merchant)
	}
	if len(c.Assets) != 1 || c.Assets[0].Symbol != "TUSD" {
		t.Errorf("assets %+v, want TUSD alone", c.Assets)
	}
	if !slices.Equal(c.Chain.RPC, []string{"https://rpc.example.net/v1"}) {
		t.Errorf("chain.rpc %v", c.Chain.RPC)
	}
	if c.Texts.Welcome != "Tap to pay" || c.Terminal.MerchantName != "Night Owl" {
		t.Errorf("texts %q, merchant name %q", c.Texts.Welcome, c.Terminal.MerchantName)
	}
	if c.Terminal.ID != "till-7" || c.ChainID != 1337 || c.Terminal.RequestTTL != 90*time.Second {
		t.Errorf("file values lost: %+v chain %d", c.Terminal, c.ChainID)
	}
}

func TestPushAppliesBundle(t *testing.T) {
	f := newFixture(t, "")
	if got := f.m.Status(); got.Version != 0 || got.LastRefusal != nil {
		t.Fatalf("fresh Status = %+v", got)
	}
	a := f.mustPush(f.bundle(1, liveBundle))
	if a != (Applied{Version: 1, Changed: true}) {
		t.Errorf("Applied = %+v", a)
	}
	wantLive(t, f.m.Current())
	applied := f.applies()
	if len(applied) != 1 || applied[0] != f.m.Current() {
		t.Fatalf("Apply called %d times, want once with Current()", len(applied))
	}
	st := f.m.Status()
	if st.Version != 1 || st.Source != SourcePush || !st.AppliedAt.Equal(t0) || st.LastRefusal != nil {
		t.Errorf("Status = %+v", st)
	}
	if v, _, err := f.store.FleetBundle(); v != 1 || err != nil {
		t.Errorf("stored v%d, %v", v, err)
	}
}

func TestPushTargets(t *testing.T) {
	tests := []struct {
		name    string
		targets Targets
		ok      bool
	}{
		{"none: every terminal", Targets{}, true},
		{"by id", Targets{Terminals: []string{"till-1", "till-7"}}, true},
		{"by group", Targets{Groups: []string{"bars", "cafes"}}, true},
		{"by id or group", Targets{Terminals: []string{"till-1"}, Groups: []string{"eu-north"}}, true},
		{"other id", Targets{Terminals: []string{"till-8"}}, false},
		{"other group", Targets{Groups: []string{"bars"}}, false},
		{"other id and group", Targets{Terminals: []string{"till-8"}, Groups: []string{"bars"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			raw := f.bundle(1, liveBundle, func(p *Payload) { p.Targets = tt.targets })
			if tt.ok {
				f.mustPush(raw)
				wantLive(t, f.m.Current())
			} else {
				f.wantRefusal(raw, CodeWrongTarget)
			}
		})
	}
}

func TestPushRefusals(t *testing.T) {
	_, otherPriv := testKey(2)
	tests := []struct {
		name string
		code string
		raw  func(f *fixture) []byte
	}{
		{"signature altered", CodeBadSignature, func(f *fixture) []byte {
			var env envelope
			_ = json.Unmarshal(f.bundle(1, liveBundle), &env)
			env.Signature[0] ^= 1
			b, _ := json.Marshal(env)
			return b
		}},
		{"payload altered", CodeBadSignature, func(f *fixture) []byte {
			var env envelope
			_ = json.Unmarshal(f.bundle(1, liveBundle), &env)
			env.Payload = []byte(strings.Replace(string(env.Payload), `"version":1`, `"version":9`, 1))
			b, _ := json.Marshal(env)
			return b
		}},
		{"signed by another key", CodeBadSignature, func(f *fixture) []byte {
			raw, _ := Sign(otherPriv, Payload{Version: 1, Issued: t0, Expires: t0.Add(time.Hour), Config: liveBundle})
			return raw
		}},
		{"wrong target", CodeWrongTarget, func(f *fixture) []byte {
			return f.bundle(1, liveBundle, func(p *Payload) { p.Targets.Terminals = []string{"till-8"} })
		}},
		{"expired", CodeExpired, func(f *fixture) []byte {
			return f.bundle(1, liveBundle, func(p *Payload) { p.Issued, p.Expires = t0.Add(-2*time.Hour), t0.Add(-time.Hour) })
		}},
		{"expires now", CodeExpired, func(f *fixture) []byte {
			return f.bundle(1, liveBundle, func(p *Payload) { p.Expires = t0 })
		}},
		{"issued after the terminal's clock", CodeNotYetValid, func(f *fixture) []byte {
			return f.bundle(1, liveBundle, func(p *Payload) { p.Issued = t0.Add(ClockSkew + time.Second) })
		}},
		{"clock never set (1970): an expired bundle is not taken", CodeNotYetValid, func(f *fixture) []byte {
			f.clock.Set(time.Unix(60, 0))
			return f.bundle(1, liveBundle, func(p *Payload) { p.Issued, p.Expires = t0.Add(-2*time.Hour), t0.Add(-time.Hour) })
		}},
		{"zero merchant", CodeBadConfig, func(f *fixture) []byte {
			return f.bundle(1, "[merchant]\naddress = \"0x0000000000000000000000000000000000000000\"")
		}},
		{"restart-only key", CodeBadConfig, func(f *fixture) []byte {
			return f.bundle(1, "[terminal]\nid = \"till-9\"")
		}},
		{"fleet key", CodeBadConfig, func(f *fixture) []byte {
			return f.bundle(1, "[fleet]\npublic_key = \""+strings.Repeat("ab", 32)+"\"")
		}},
		{"config not TOML", CodeBadConfig, func(f *fixture) []byte { return f.bundle(1, "[texts") }},
		{"not JSON", CodeBadBundle, func(f *fixture) []byte { return []byte("v1 please") }},
		{"empty", CodeBadBundle, func(f *fixture) []byte { return nil }},
		{"no signature", CodeBadBundle, func(f *fixture) []byte { return []byte(`{"payload":"e30="}`) }},
		{"unknown envelope field", CodeBadBundle, func(f *fixture) []byte {
			raw := f.bundle(1, liveBundle)
			return append(raw[:len(raw)-1], `,"note":"x"}`...)
		}},
		{"data after the bundle", CodeBadBundle, func(f *fixture) []byte { return append(f.bundle(1, liveBundle), "{}"...) }},
		{"unknown payload field", CodeBadBundle, func(f *fixture) []byte {
			return signRaw(f, `{"version":1,"issued":"2025-03-01T11:00:00Z","expires":"2025-03-08T12:00:00Z","config":"","rollout":"now"}`)
		}},
		{"version 0", CodeBadBundle, func(f *fixture) []byte {
			return signRaw(f, `{"version":0,"issued":"2025-03-01T11:00:00Z","expires":"2025-03-08T12:00:00Z","config":""}`)
		}},
		{"time not RFC 3339", CodeBadBundle, func(f *fixture) []byte {
			return signRaw(f, `{"version":1,"issued":"yesterday","expires":"2025-03-08T12:00:00Z","config":""}`)
		}},
		{"too large", CodeBadBundle, func(f *fixture) []byte {
			return signRaw(f, `{"version":1,"issued":"2025-03-01T11:00:00Z","expires":"2025-03-08T12:00:00Z","config":"# `+strings.Repeat("x", MaxBundle)+`"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			f.wantRefusal(tt.raw(f), tt.code)
			if v, _, _ := f.store.FleetBundle(); v != 0 {
				t.Errorf("refused bundle stored as v%d", v)
			}
		})
	}
}

// signRaw signs payload bytes as given, as a third party's tool would.
func signRaw(f *fixture, payload string) []byte {
	b, _ := json.Marshal(map[string]string{
		"payload":   base64.StdEncoding.EncodeToString([]byte(payload)),
		"signature": base64.StdEncoding.EncodeToString(ed25519.Sign(f.priv, []byte(payload))),
	})
	return b
}

func TestPushNeedsAFleetKey(t *testing.T) {
	f := newFixture(t, "")
	raw := f.bundle(1, liveBundle)
	f.writeLocal(localFile(nil, ""))
	f.restart()
	f.wantRefusal(raw, CodeNoFleetKey)
	var r *Refusal
	if _, err := f.m.Push(context.Background(), raw); !errors.As(err, &r) || r.HTTPStatus() != 501 {
		t.Errorf("Push = %v, want 501", err)
	}
}

func TestPushRefusesRollback(t *testing.T) {
	f := newFixture(t, "")
	f.mustPush(f.bundle(5, liveBundle))
	running := f.m.Current()
	f.wantRefusal(f.bundle(5, "[texts]\nwelcome = \"other v5\""), CodeNotNewer)
	f.wantRefusal(f.bundle(4, "[texts]\nwelcome = \"v4\""), CodeNotNewer)
	if !strings.Contains(f.m.Status().LastRefusal.Message, "v5") {
		t.Errorf("refusal %q should name the highest version", f.m.Status().LastRefusal.Message)
	}

	// After a restart, with the clock set back a year: still refused.
	f.clock.Set(t0.AddDate(-1, 0, 0))
	f.restart()
	wantLive(t, f.m.Current())
	for _, v := range []uint64{5, 4, 1} {
		f.wantRefusal(f.bundle(v, "[texts]\nwelcome = \"old\""), CodeNotNewer)
	}
	if f.m.Current().Texts.Welcome != running.Texts.Welcome {
		t.Errorf("welcome %q after rollbacks", f.m.Current().Texts.Welcome)
	}
	f.mustPush(f.bundle(6, "[texts]\nwelcome = \"v6\""))
	if c := f.m.Current(); c.Texts.Welcome != "v6" || c.Terminal.MerchantName != "Corner Coffee" {
		t.Errorf("v6 over the file: welcome %q name %q", c.Texts.Welcome, c.Terminal.MerchantName)
	}
}

func TestPushSameBundleIsQuiet(t *testing.T) {
	f := newFixture(t, "")
	raw := f.bundle(3, liveBundle)
	f.mustPush(raw)
	// Even once it has expired: it is the one running.
	f.clock.Set(t0.Add(30 * 24 * time.Hour))
	if a := f.mustPush(raw); a != (Applied{Version: 3}) {
		t.Errorf("second Push = %+v, want v3 unchanged", a)
	}
	if a := f.mustPush(append([]byte("\n "), append(raw, '\n')...)); a != (Applied{Version: 3}) {
		t.Errorf("Push with surrounding whitespace = %+v, want v3 unchanged", a)
	}
	if n := len(f.applies()); n != 1 {
		t.Errorf("Apply called %d times, want once", n)
	}
	if st := f.m.Status(); st.LastRefusal != nil || !st.AppliedAt.Equal(t0) {
		t.Errorf("Status = %+v", st)
	}
	if strings.Count(f.logs.String(), "bundle applied") != 1 {
		t.Errorf("logs:\n%s", f.logs)
	}
}

func TestNewRunsTheStoredBundle(t *testing.T) {
	f := newFixture(t, "")
	f.mustPush(f.bundle(2, liveBundle))
	f.restart()
	wantLive(t, f.m.Current())
	st := f.m.Status()
	if st.Version != 2 || st.Source != SourceStore {
		t.Errorf("Status after restart = %+v", st)
	}
	if n := len(f.applies()); n != 1 {
		t.Errorf("Apply called %d times; New must not call it", n)
	}
}

func TestNewLeavesOutABundleThatNoLongerApplies(t *testing.T) {
	tests := []struct{ name, local string }{
		{"terminal renamed", strings.Replace(localFile(testKeyPub(1), ""), `id = "till-7"`, `id = "till-8"`, 1)},
		{"fleet key replaced", localFile(testKeyPub(3), "")},
		{"fleet key removed", localFile(nil, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			f.mustPush(f.bundle(2, liveBundle, func(p *Payload) { p.Targets.Terminals = []string{"till-7"} }))
			f.writeLocal(tt.local)
			f.restart()
			c := f.m.Current()
			if c.Texts.Welcome != "Scan to pay" || c.Terminal.MerchantName != "Corner Coffee" {
				t.Errorf("runs %q %q, want the file alone", c.Texts.Welcome, c.Terminal.MerchantName)
			}
			if f.m.Status().Version != 0 || !strings.Contains(f.logs.String(), "does not apply") {
				t.Errorf("Status %+v; logs:\n%s", f.m.Status(), f.logs)
			}
		})
	}
}

func testKeyPub(seed byte) []byte {
	pub, _ := testKey(seed)
	return pub
}

func TestReload(t *testing.T) {
	f := newFixture(t, "")
	f.mustPush(f.bundle(1, liveBundle))
	running := f.m.Current()

	edited := strings.NewReplacer(
		`request_ttl = "90s"`, `request_ttl = "2m"`, // live, not set by the bundle
		`listen = "127.0.0.1:8080"`, `listen = "0.0.0.0:9090"`, // restart-only
		`welcome = "Scan to pay"`, `welcome = "Hello"`, // live, but the bundle sets it
	).Replace(localFile(f.pub, ""))
	f.writeLocal(edited)
	if err := f.m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := f.m.Current()
	wantLiveExceptTTL := *c
	wantLiveExceptTTL.Terminal.RequestTTL = 90 * time.Second
	wantLive(t, &wantLiveExceptTTL)
	if c.Terminal.RequestTTL != 2*time.Minute {
		t.Errorf("request_ttl %s, want the file's new 2m", c.Terminal.RequestTTL)
	}
	if c.API.Listen != running.API.Listen || c.Terminal.PublicURL != running.Terminal.PublicURL {
		t.Errorf("restart-only api.listen %q public_url %q changed", c.API.Listen, c.Terminal.PublicURL)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "needs a restart") || !strings.Contains(logs, "api.listen") {
		t.Errorf("restart-only change not logged:\n%s", logs)
	}
	if a := f.applies(); len(a) != 2 || a[1] != c {
		t.Errorf("Apply called %d times, want twice (push, reload)", len(a))
	}
	if st := f.m.Status(); st.Version != 1 || st.Source != SourcePush {
		t.Errorf("Status after reload = %+v", st)
	}

	// A bad file is reported and changes nothing.
	f.writeLocal("[terminal\n")
	if err := f.m.Reload(context.Background()); !errors.Is(err, config.ErrInvalid) {
		t.Errorf("Reload(bad file) = %v, want ErrInvalid", err)
	}
	if f.m.Current() != c || len(f.applies()) != 2 {
		t.Errorf("a bad file changed the running config")
	}
	// A later bundle is laid over the file as last read successfully.
	f.mustPush(f.bundle(2, "[texts]\nwelcome = \"v2\""))
	if c := f.m.Current(); c.Terminal.RequestTTL != 2*time.Minute || c.Texts.Welcome != "v2" || c.API.Listen != running.API.Listen {
		t.Errorf("v2: ttl %s welcome %q listen %q", c.Terminal.RequestTTL, c.Texts.Welcome, c.API.Listen)
	}
}

// Command-line overrides (posd -listen) are not edits to the file: a
// reload with a bundle in effect must not report them as changes that need
// a restart, and they stay in effect.
// A reload whose file drops a network with payments open keeps the
// running config, and the file as last read for later bundles; once the
// network is settled the same reload takes.
func TestReloadKeepsABusyNetwork(t *testing.T) {
	f := newFixture(t, "")
	oneChain := "[chain]\nid = 1337\nrpc = [\"http://127.0.0.1:8545\"]\n"
	file := localFile(f.pub, "")
	i, j := strings.Index(file, oneChain), strings.Index(file, "[[assets]]")
	withNetworks := func(nets string) string {
		return file[:i] + file[i+len(oneChain):j] + strings.Replace(file[j:], "[[assets]]\nsymbol = \"ETH\"\nmax_payment = \"1\"\n", "", 1) + nets
	}
	f.writeLocal(withNetworks(twoNetworksBundle))
	if err := f.m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	running := f.m.Current()
	if len(running.Networks) != 2 {
		t.Fatalf("networks %+v", running.Networks)
	}
	f.mu.Lock()
	f.busy = map[uint64]bool{1338: true}
	f.mu.Unlock()
	f.writeLocal(withNetworks(twoNetworksBundle[:strings.Index(twoNetworksBundle, "[[networks]]\nname = \"dev2\"")]))
	if err := f.m.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "dev2 has payments to settle") {
		t.Fatalf("reload dropping busy dev2: %v", err)
	}
	if f.m.Current() != running {
		t.Fatal("a refused reload changed the running config")
	}
	f.mu.Lock()
	f.busy = nil
	f.mu.Unlock()
	if err := f.m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := f.m.Current(); len(c.Networks) != 1 || c.Networks[0].Name != "dev" {
		t.Errorf("networks %+v, want dev alone", c.Networks)
	}
}

func TestReloadKeepsOverridesQuietly(t *testing.T) {
	f := newFixtureOverride(t, "", func(c *config.Config) { c.OverrideListen("127.0.0.1:9999") })
	f.mustPush(f.bundle(1, liveBundle))
	if err := f.m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if logs := f.logs.String(); strings.Contains(logs, "needs a restart") {
		t.Errorf("an unchanged file with -listen logged a restart:\n%s", logs)
	}
	if c := f.m.Current(); c.API.Listen != "127.0.0.1:9999" {
		t.Errorf("api.listen %q after the reload, want the override", c.API.Listen)
	}
}

// A pull refused again for the same bundle logs at warn once, also when the
// reason names the terminal's clock, which moves between pulls.
// So does a retained MQTT bundle, which comes again at every reconnect.
func TestRepeatedPullRefusalLogsOnce(t *testing.T) {
	for _, source := range []string{SourcePull, SourceMQTT} {
		t.Run(source, func(t *testing.T) {
			f := newFixture(t, "")
			for i := range 3 {
				f.clock.Set(t0.Add(time.Duration(i) * time.Minute))
				f.m.refused(refuse(CodeExpired, 7, "bundle v7 expired (terminal clock %s)", f.clock.Now()), source)
			}
			if got := strings.Count(f.logs.String(), "level=WARN"); got != 1 {
				t.Errorf("3 refusals of one expired bundle logged %d warnings, want 1:\n%s", got, f.logs)
			}
			f.m.refused(refuse(CodeExpired, 8, "bundle v8 expired"), source)
			if got := strings.Count(f.logs.String(), "level=WARN"); got != 2 {
				t.Errorf("a new version's refusal logged %d warnings in all, want 2", got)
			}
		})
	}
}

// A bundle taken from MQTT is applied as a pushed one, says it came by
// MQTT, and is quiet when it comes again (a retained message at every
// reconnect).
func TestTakeMQTTAppliesAndIsQuietAgain(t *testing.T) {
	f := newFixture(t, "")
	raw := f.bundle(3, liveBundle)
	for range 2 {
		if _, err := f.m.TakeMQTT(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.m.Status(); st.Version != 3 || st.Source != SourceMQTT || st.LastRefusal != nil {
		t.Errorf("Status = %+v; want v3 from mqtt, no refusal", st)
	}
	if n := len(f.applies()); n != 1 {
		t.Errorf("Apply called %d times, want once", n)
	}
}

func TestPushStoreFailure(t *testing.T) {
	f := newFixture(t, "")
	raw := f.bundle(1, liveBundle)
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	before := f.m.Current()
	_, err := f.m.Push(context.Background(), raw)
	var r *Refusal
	if err == nil || errors.As(err, &r) {
		t.Fatalf("Push on a closed store = %v, want a store error", err)
	}
	if f.m.Current() != before || len(f.applies()) != 0 || f.m.Status().LastRefusal != nil {
		t.Errorf("a store failure changed something")
	}
}

// twoNetworksBundle moves a one-chain terminal to two networks.
const twoNetworksBundle = `
[[networks]]
name = "dev"
chain_id = 1337
rpc = ["http://127.0.0.1:8545"]
[[networks.assets]]
symbol = "ETH"

[[networks]]
name = "dev2"
chain_id = 1338
rpc = ["http://127.0.0.1:8546"]
[[networks.assets]]
symbol = "ETH"
`

// A bundle may add networks, and remove one only when the terminal says
// it may go (no payments left to settle on it): otherwise it is refused
// network_open and the running config stays. A reload that drops a busy
// network is refused the same way.
func TestBundleAddsAndRemovesNetworks(t *testing.T) {
	f := newFixture(t, "")
	f.mustPush(f.bundle(1, twoNetworksBundle))
	c := f.m.Current()
	if len(c.Networks) != 2 || c.Networks[0].ChainID != 1337 || c.Networks[1].Name != "dev2" {
		t.Fatalf("networks %+v: want dev and dev2", c.Networks)
	}
	if len(f.retired) != 0 {
		t.Errorf("Retire asked %v: the file's chain-1337 is dev's chain, nothing goes", f.retired)
	}

	one := twoNetworksBundle[:strings.Index(twoNetworksBundle, "[[networks]]\nname = \"dev2\"")]
	f.mu.Lock()
	f.busy = map[uint64]bool{1338: true}
	f.mu.Unlock()
	_, err := f.m.Push(context.Background(), f.bundle(2, one))
	var r *Refusal
	if !errors.As(err, &r) || r.Code != CodeNetworkOpen || r.HTTPStatus() != 409 || !strings.Contains(r.Message, "dev2 has payments to settle") {
		t.Fatalf("push removing a busy network: %v, want network_open naming dev2", err)
	}
	if f.m.Current() != c || len(f.applies()) != 1 {
		t.Fatal("a refused bundle changed the running config")
	}
	if st := f.m.Status(); st.LastRefusal == nil || st.LastRefusal.Code != CodeNetworkOpen {
		t.Errorf("status %+v", st)
	}

	f.mu.Lock()
	f.busy = nil
	f.mu.Unlock()
	f.mustPush(f.bundle(3, one))
	if c := f.m.Current(); len(c.Networks) != 1 || c.Networks[0].Name != "dev" {
		t.Errorf("networks %+v: want dev alone", c.Networks)
	}
}

// A Retire that fails (the store, not a network with payments) is the
// terminal's error, not a refusal: no network_open, nothing recorded as
// the bundle's fault, the running config kept.
func TestRetireFailingIsNotARefusal(t *testing.T) {
	f := newFixture(t, "")
	f.mustPush(f.bundle(1, twoNetworksBundle))
	running := f.m.Current()
	f.mu.Lock()
	f.broken = errors.New("store: disk full")
	f.mu.Unlock()
	one := twoNetworksBundle[:strings.Index(twoNetworksBundle, "[[networks]]\nname = \"dev2\"")]
	_, err := f.m.Push(context.Background(), f.bundle(2, one))
	var r *Refusal
	if err == nil || errors.As(err, &r) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("push with Retire failing: %v, want the store's error, not a refusal", err)
	}
	if f.m.Current() != running || f.m.Status().LastRefusal != nil {
		t.Errorf("config changed or a refusal recorded: %+v", f.m.Status())
	}
}
