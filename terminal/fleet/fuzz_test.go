package fleet

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"showpos/device/clock/clocktest"
	"showpos/terminal/config"
)

// refusalStatus is the package doc's table: every code with its status.
var refusalStatus = map[string]int{
	CodeBadBundle: 400, CodeNoFleetKey: 501, CodeBadSignature: 403, CodeWrongTarget: 422,
	CodeNotNewer: 409, CodeExpired: 422, CodeNotYetValid: 422, CodeBadConfig: 422,
}

// asRefusal checks err is a *Refusal with a documented code, its status
// and a message, and returns it.
func asRefusal(t *testing.T, err error) *Refusal {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("error %v is a %T, not a *Refusal", err, err)
	}
	if st, ok := refusalStatus[r.Code]; !ok || st != r.HTTPStatus() || r.Message == "" {
		t.Fatalf("refusal %q: unknown code, wrong status %d or no message", r, r.HTTPStatus())
	}
	return r
}

// envelopeOf is the wire form of payload signed by priv, built apart from
// Sign (which would refuse a bad payload).
func envelopeOf(t testing.TB, priv ed25519.PrivateKey, payload []byte) []byte {
	raw, err := json.Marshal(map[string][]byte{"payload": payload, "signature": ed25519.Sign(priv, payload)})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// FuzzOpen opens arbitrary bytes against a pinned key, three ways chosen
// by mode: the bytes as the bundle; the bytes as a payload correctly
// signed by the pinned key (so the payload decoding is reached); and the
// bytes as a payload signed by another key. Open must never panic; a
// refusal is bad_bundle or bad_bundle_signature with its status; a
// bundle signed by another key is never taken; and what is taken carries
// a signature by the pinned key over its payload, a version, an expiry
// after its issue, no empty target, and re-signs to the same payload.
func FuzzOpen(f *testing.F) {
	pub, priv := testKey(1)
	_, other := testKey(2)
	good := Payload{Version: 7, Issued: t0, Expires: t0.Add(time.Hour),
		Targets: Targets{Terminals: []string{"till-7"}, Groups: []string{"cafes"}}, Config: liveBundle}
	raw, err := Sign(priv, good)
	if err != nil {
		f.Fatal(err)
	}
	payload, _ := json.Marshal(good)
	f.Add(raw, uint8(0))
	f.Add(payload, uint8(1))
	f.Add(payload, uint8(2))
	for _, s := range []string{
		``, `{}`, `null`, `{"payload":"","signature":""}`, `{"payload":"e30=","signature":"AA=="}`,
		string(raw) + ` `, string(raw) + `{}`, strings.Replace(string(raw), `"payload"`, `"Payload"`, 1),
		strings.Replace(string(raw), `{`, `{"extra":1,`, 1),
	} {
		f.Add([]byte(s), uint8(0))
	}
	for _, s := range []string{
		`{"version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-01T12:00:01Z","config":""}`,
		`{"version":0,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-02T12:00:00Z"}`,
		`{"version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-01T12:00:00Z"}`,
		`{"version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-02T12:00:00Z","targets":{"groups":[""]}}`,
		`{"version":-1}`, `{"version":18446744073709551616}`, `{"version":1,"unknown":true}`,
		`{"version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-02T12:00:00Z"} {}`,
		`{"version":1,"issued":"2025-13-01T12:00:00Z","expires":"2025-03-02T12:00:00Z"}`, `[]`, `"x"`,
		`{"version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-02T12:00:00Z","verſion":31}`,
		`{"Version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-02T12:00:00Z"}`,
		`{"version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-02T12:00:00Z","version":2}`,
		`{"version":1,"issued":"2025-03-01T12:00:00Z","expires":"2025-03-02T12:00:00Z","targets":{"groups":["a"],"groups":["b"]}}`,
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		in := b
		switch mode % 3 {
		case 1:
			in = envelopeOf(t, priv, b)
		case 2:
			in = envelopeOf(t, other, b)
		}
		if _, err := Open(in, nil); asRefusal(t, err).Code != CodeNoFleetKey {
			t.Fatalf("opened without a key: %v", err)
		}
		p, err := Open(in, pub)
		// Inspect reads what Open reads, the signature aside: whatever
		// Open takes, Inspect gives the same; what it refuses is bad_bundle.
		ip, ierr := Inspect(in)
		if ierr != nil && asRefusal(t, ierr).Code != CodeBadBundle {
			t.Fatalf("Inspect refused with %v", ierr)
		}
		if err == nil && (ierr != nil || !reflect.DeepEqual(ip, p)) {
			t.Fatalf("Open took %+v; Inspect = %+v, %v", p, ip, ierr)
		}
		if err != nil {
			r := asRefusal(t, err)
			if r.Code != CodeBadBundle && r.Code != CodeBadSignature {
				t.Fatalf("Open refused with %s, a Manager's code", r.Code)
			}
			if mode%3 == 1 && r.Code == CodeBadSignature {
				t.Fatalf("a bundle signed by the pinned key refused: %v", r)
			}
			return
		}
		if mode%3 == 2 {
			t.Fatalf("a bundle signed by another key was taken: %+v", p)
		}
		var env struct{ Payload, Signature []byte }
		if err := json.Unmarshal(in, &env); err != nil || !ed25519.Verify(pub, env.Payload, env.Signature) {
			t.Fatalf("taken without a signature by the pinned key: %v", err)
		}
		if p.Version == 0 || p.Issued.IsZero() || !p.Expires.After(p.Issued) ||
			slices.Contains(p.Targets.Terminals, "") || slices.Contains(p.Targets.Groups, "") {
			t.Fatalf("taken payload %+v", p)
		}
		again, err := Sign(priv, p)
		if err != nil {
			return // the payload does not fit MaxBundle once re-encoded
		}
		if p2, err := Open(again, pub); err != nil || !reflect.DeepEqual(p2, p) {
			t.Fatalf("re-signed payload opens as %+v, %v; was %+v", p2, err, p)
		}
	})
}

// memStore is the Manager's Store in memory: the fuzzer pushes thousands
// of bundles, and what a store must do durably is the store's to test.
type memStore struct {
	version uint64
	raw     []byte
	puts    int
}

func (s *memStore) FleetBundle() (uint64, []byte, error) { return s.version, s.raw, nil }

func (s *memStore) PutFleetBundle(_ context.Context, v uint64, raw []byte) error {
	if v <= s.version {
		return errors.New("memstore: version not above the highest")
	}
	s.version, s.raw = v, append([]byte(nil), raw...)
	s.puts++
	return nil
}

// liveKeys is the package doc's list of what a bundle may set: a key is
// live if it is one of these or lies inside one.
var liveKeys = []string{"merchant.address", "terminal.merchant_name", "terminal.request_ttl", "texts", "payments", "assets", "chain.rpc"}

// leafKeys lists the dotted path of every value m sets, tables descended.
func leafKeys(prefix string, m map[string]any, out *[]string) {
	for k, v := range m {
		if t, ok := v.(map[string]any); ok {
			leafKeys(prefix+k+".", t, out)
			continue
		}
		*out = append(*out, prefix+k)
	}
}

func allLive(frag string) bool {
	var m map[string]any
	if _, err := toml.Decode(frag, &m); err != nil {
		return false
	}
	var keys []string
	leafKeys("", m, &keys)
	for _, k := range keys {
		if !slices.ContainsFunc(liveKeys, func(l string) bool { return k == l || strings.HasPrefix(k, l+".") }) {
			return false
		}
	}
	return true
}

// FuzzPush pushes bundles signed by the pinned key to a Manager over the
// fixture's local file: the config fragment, version, times and targets
// are the fuzzer's. Push must never panic; a refusal has a documented code
// and changes nothing (config, Apply, store); a bundle setting a key
// outside the live set is never taken; and a taken bundle is stored, is
// what Current and Apply give, re-validates (config.Overlay of the file
// and fragment gives the same config, but for restart-only values, which
// stay the file's), targets this terminal, is within its validity, and is
// what a restart on the same store comes back to.
func FuzzPush(f *testing.F) {
	pub, priv := testKey(1)
	local := localFile(pub, "")
	path := filepath.Join(f.TempDir(), "posd.toml")
	if err := os.WriteFile(path, []byte(local), 0o600); err != nil {
		f.Fatal(err)
	}
	base, err := config.Parse([]byte(local))
	if err != nil {
		f.Fatal(err)
	}
	day := int64(24 * 3600)
	for _, frag := range []string{
		liveBundle, "", "[texts]\nwelcome = \"Tap to pay\"\n", "terminal.request_ttl = \"2m\"\n",
		"[payments]\nallow_overpay = true\nmin_fee_cap_wei = \"1000000000\"\n",
		"[[assets]]\nsymbol = \"ETH\"\nmax_payment = \"0.25\"\nmax_unsettled = \"1\"\n",
		"chain.rpc = []\n", "merchant.address = \"0x0000000000000000000000000000000000000000\"\n",
		"[terminal]\nid = \"till-8\"\n", "[chain]\nid = 1\n", "[fleet]\npublic_key = \"00\"\n",
		"[board.display]\ndriver = \"virtual\"\n", "[texts]\nwelcome = 5\n", "[[assets]]\nsymbol = \"ETH\"\ndecimals = 6\n",
		"\"terminal.merchant_name\" = \"x\"\n", "[terminal]\n\"merchant_name.x\" = 1\n", "[texts\n",
	} {
		f.Add(frag, uint64(1), int64(-60), 7*day, "", "")
	}
	f.Add(liveBundle, uint64(3), int64(0), day, "till-7", "")
	f.Add(liveBundle, uint64(3), int64(0), day, "till-9", "bakeries")
	f.Add(liveBundle, uint64(3), int64(0), day, "", "cafes,eu-north")
	f.Add(liveBundle, uint64(0), int64(0), day, "", "")
	f.Add(liveBundle, uint64(1), int64(600), day, "", "")
	f.Add(liveBundle, uint64(1), int64(-2*day), day, "", "")
	f.Add(liveBundle, uint64(1), int64(0), int64(0), "", ",")
	f.Fuzz(func(t *testing.T, frag string, version uint64, issuedOff, ttl int64, terminals, groups string) {
		const span = 100 * 365 * 24 * 3600 // keep times JSON can carry
		if issuedOff < -span || issuedOff > span || ttl < -span || ttl > span {
			return
		}
		p := Payload{Version: version, Issued: t0.Add(time.Duration(issuedOff) * time.Second),
			Config: frag, Targets: Targets{Terminals: split(terminals), Groups: split(groups)}}
		p.Expires = p.Issued.Add(time.Duration(ttl) * time.Second)
		payload, err := json.Marshal(p)
		if err != nil {
			return
		}
		// What is signed and sent: json.Marshal turns invalid UTF-8 in the
		// fragment into U+FFFD, so judge the fragment as it travels.
		var sent Payload
		if err := json.Unmarshal(payload, &sent); err != nil {
			t.Fatal(err)
		}
		frag = sent.Config
		raw := envelopeOf(t, priv, payload)

		store := &memStore{version: 0}
		var applied []*config.Config
		o := Options{LocalPath: path, Store: store, Clock: clocktest.NewFake(t0),
			Apply: func(c *config.Config) { applied = append(applied, c) }}
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		before := m.Current()
		a, err := m.Push(context.Background(), raw)
		if err != nil {
			asRefusal(t, err)
			if m.Current() != before || len(applied) != 0 || store.puts != 0 || m.Status().LastRefusal == nil {
				t.Fatalf("refused bundle changed something: %v", err)
			}
			return
		}
		if !allLive(frag) {
			t.Fatalf("took a bundle setting a key outside the live set:\n%s", frag)
		}
		if !a.Changed || a.Version != version || store.version != version || store.puts != 1 {
			t.Fatalf("Push = %+v; store has v%d after %d puts", a, store.version, store.puts)
		}
		cur := m.Current()
		if len(applied) != 1 || applied[0] != cur {
			t.Fatalf("Apply got %d configs, not Current", len(applied))
		}
		if !p.Targets.Match(base.Terminal.ID, base.Fleet.Groups) || !t0.Before(p.Expires) || p.Issued.After(t0.Add(ClockSkew)) {
			t.Fatalf("took a bundle for %+v valid %s..%s at %s", p.Targets, p.Issued, p.Expires, t0)
		}
		want, err := config.Overlay([]byte(local), []byte(frag))
		if err != nil {
			t.Fatalf("taken, but Overlay refuses it now: %v", err)
		}
		if changed := want.KeepRestartOnly(base); len(changed) > 0 {
			t.Fatalf("a bundle changed restart-only keys %v:\n%s", changed, frag)
		}
		if !reflect.DeepEqual(cur, want) {
			t.Fatalf("Current is\n%+v\nOverlay gives\n%+v", cur, want)
		}
		m2, err := New(o)
		if err != nil || !reflect.DeepEqual(m2.Current(), cur) || m2.Status().Version != version {
			t.Fatalf("after a restart: %v, status %+v", err, m2.Status())
		}
	})
}

// split is a comma-separated list; "" is none.
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
