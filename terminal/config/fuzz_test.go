package config

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ethereum/go-ethereum/common"
)

// exampleConfigs are the files in configs/, for seeds.
func exampleConfigs(f *testing.F) []string {
	files, err := filepath.Glob("../../configs/*.toml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no example configs: %v", err)
	}
	var out []string
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, string(b))
	}
	return append(out, good, twoNetworks)
}

// checkAccepted holds a config Parse or Overlay took to the rules of the
// package doc and configs/posd.toml, checked apart from the code.
func checkAccepted(t *testing.T, c *Config) {
	t.Helper()
	switch {
	case c.Terminal.ID == "" || len(c.Terminal.ID) > 64:
		t.Fatalf("terminal.id %q", c.Terminal.ID)
	case c.Terminal.RequestTTL < 10*time.Second || c.Terminal.RequestTTL > 24*time.Hour:
		t.Fatalf("request_ttl %s", c.Terminal.RequestTTL)
	case c.ChainID == 0 || c.Merchant == (common.Address{}):
		t.Fatalf("chain %d merchant %s", c.ChainID, c.Merchant)
	case len(c.Assets) == 0 || len(c.Texts.Welcome) > maxDisplayText:
		t.Fatalf("%d assets, welcome of %d bytes", len(c.Assets), len(c.Texts.Welcome))
	case c.Chain.Confirmations < 1 || c.Chain.FinalDepth < c.Chain.Confirmations || c.Broadcast.BatchSize < 1 || c.Broadcast.MaxAge < time.Minute:
		t.Fatalf("chain %+v broadcast %+v", c.Chain, c.Broadcast)
	}
	checkAssetRules(t, c.Assets)
	// Networks: at least one, names and chain ids unique, the first the
	// one the one-chain views show.
	if len(c.Networks) == 0 || c.Networks[0].ChainID != c.ChainID || !reflect.DeepEqual(c.Networks[0].Assets, c.Assets) ||
		!reflect.DeepEqual(c.Networks[0].Chain, c.Chain) || !reflect.DeepEqual(c.Networks[0].Relay, c.Relay) {
		t.Fatalf("networks %+v: want the first to be the default views", c.Networks)
	}
	names, ids := map[string]bool{}, map[uint64]bool{}
	for _, n := range c.Networks {
		if !validNetworkName(n.Name) || names[n.Name] || ids[n.ChainID] || n.ChainID == 0 || len(n.Assets) == 0 ||
			n.Chain.Confirmations < 1 || n.Chain.FinalDepth < n.Chain.Confirmations {
			t.Fatalf("network %+v", n)
		}
		names[n.Name], ids[n.ChainID] = true, true
		checkAssetRules(t, n.Assets)
	}
	if len(c.Fleet.PublicKey) != 0 && len(c.Fleet.PublicKey) != 32 {
		t.Fatalf("fleet key of %d bytes", len(c.Fleet.PublicKey))
	}
}

// checkAssetRules holds one network's assets to the documented rules.
func checkAssetRules(t *testing.T, assets []Asset) {
	t.Helper()
	natives, symbols := 0, map[string]bool{}
	for _, a := range assets {
		if symbols[strings.ToLower(a.Symbol)] || a.MinGas < 21_000 || a.Decimals > 36 {
			t.Fatalf("asset %+v", a)
		}
		symbols[strings.ToLower(a.Symbol)] = true
		if a.Native() {
			natives++
		}
		for _, v := range []*big.Int{a.MaxPayment, a.MaxUnsettled} {
			if v != nil && (v.Sign() < 0 || v.BitLen() > 256) {
				t.Fatalf("asset %s: limit %s", a.Symbol, v)
			}
		}
	}
	if natives > 1 {
		t.Fatalf("%d native assets", natives)
	}
}

// FuzzParse parses arbitrary TOML as a terminal's file. Parse must never
// panic and its errors wrap ErrInvalid; a config it takes obeys the
// documented rules, and re-validates: laid under a bundle that sets only
// texts.welcome, through the TOML round trip Overlay does, it comes back
// the same config but for that text.
func FuzzParse(f *testing.F) {
	for _, s := range exampleConfigs(f) {
		f.Add(s)
	}
	for _, s := range []string{
		"", "[terminal]\nid = \"x\"\n", strings.Replace(good, "1337", "0", 1), strings.Replace(good, "90s", "1ns", 1),
		strings.Replace(good, "\"90s\"", "90", 1), good + "\nunknown = 1\n", good + "\n[texts]\nwelcome = \"\u00e9\\u0000\"\n",
		strings.Replace(good, "\"ETH\"", "\"TUSD\"", 1), good + "\n[fleet]\npublic_key = \"" + strings.Repeat("ab", 32) + "\"\n",
		strings.Replace(good, "[chain]", "[chain]\nrpc = [\"http://[::1]:8545\"]", 1),
		strings.Replace(good, "request_ttl = \"90s\"", "request_ttl = 1979-05-27T07:32:00Z", 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse([]byte(s))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		checkAccepted(t, c)
		const welcome = "fuzz welcome"
		got, err := Overlay([]byte(s), []byte("[texts]\nwelcome = \""+welcome+"\"\n"))
		if err != nil {
			t.Fatalf("Parse takes the file but Overlay refuses it under a welcome text: %v", err)
		}
		c.Texts.Welcome = welcome
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("the TOML round trip changes the config:\n got %+v\nwant %+v", got, c)
		}
	})
}

// liveBundleKeys is the package doc's (and configs/posd.toml's) list of
// what a bundle may set; a key is live if it is one or lies inside one.
var liveBundleKeys = []string{"merchant.address", "terminal.merchant_name", "terminal.request_ttl", "texts", "payments", "assets", "chain.rpc"}

// onlyLiveKeys decodes frag on its own and reports whether every value it
// sets has a live key.
func onlyLiveKeys(frag string) bool {
	var m map[string]any
	if _, err := toml.Decode(frag, &m); err != nil {
		return false
	}
	var walk func(prefix string, m map[string]any) bool
	walk = func(prefix string, m map[string]any) bool {
		for k, v := range m {
			if t, ok := v.(map[string]any); ok {
				if !walk(prefix+k+".", t) {
					return false
				}
				continue
			}
			key := prefix + k
			if !slices.ContainsFunc(liveBundleKeys, func(l string) bool { return key == l || strings.HasPrefix(key, l+".") }) {
				return false
			}
		}
		return true
	}
	return walk("", m)
}

// FuzzOverlay lays an arbitrary bundle fragment over an arbitrary local
// file. Overlay must never panic and its errors wrap ErrInvalid; what it
// takes obeys the rules, sets only live keys (checked apart from the
// code), passes CheckBundleKeys, leaves every restart-only value as the
// file alone has it, and comes out the same when laid again.
func FuzzOverlay(f *testing.F) {
	frags := []string{
		"", "[texts]\nwelcome = \"Tap to pay\"\n", "[terminal]\nmerchant_name = \"Night Owl\"\nrequest_ttl = \"10m\"\n",
		"[merchant]\naddress = \"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"\n",
		"[payments]\nallow_overpay = true\nmin_fee_cap_wei = \"7\"\n", "chain.rpc = [\"https://rpc.example.net\"]\n",
		"[[assets]]\nsymbol = \"USDC\"\ntoken = \"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48\"\ndecimals = 6\nmax_payment = \"100\"\n",
		"[terminal]\nid = \"till-9\"\n", "[api]\nlisten = \"0.0.0.0:80\"\n", "[board.display]\ndriver = \"none\"\n",
		"[fleet]\ngroups = [\"all\"]\n", "terminal = \"x\"\n", "\"terminal.merchant_name\" = \"x\"\n",
		"[terminal]\n\"merchant_name.x\" = \"y\"\n", "[payments]\nextra = 1\n", "[chain]\nrpc = \"not a list\"\n",
		"assets = []\n", "[[assets]]\nsymbol = \"ETH\"\n[[assets]]\nsymbol = \"eth\"\n", "[texts\n",
	}
	locals := exampleConfigs(f)
	for i, fr := range frags {
		f.Add(locals[i%len(locals)], fr)
	}
	f.Fuzz(func(t *testing.T, local, frag string) {
		c, err := Overlay([]byte(local), []byte(frag))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		checkAccepted(t, c)
		if err := CheckBundleKeys([]byte(frag)); err != nil && strings.TrimSpace(frag) != "" {
			t.Fatalf("Overlay took a fragment CheckBundleKeys refuses: %v", err)
		}
		if strings.TrimSpace(frag) != "" && !onlyLiveKeys(frag) {
			t.Fatalf("Overlay took a fragment setting a key outside the live set:\n%s", frag)
		}
		again, err := Overlay([]byte(local), []byte(frag))
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("laid again: %v", err)
		}
		if base, err := Parse([]byte(local)); err == nil {
			if changed := c.KeepRestartOnly(base); len(changed) > 0 {
				t.Fatalf("the bundle changed restart-only keys %v:\n%s", changed, frag)
			}
		}
	})
}

// The TOML decoder matches keys ignoring case; the format's keys are
// lowercase, and anything else is an unknown key. FuzzParse found a file
// with both [[assets]] and [[assetS]] that Parse took, keeping one of the
// two lists at random (testdata/fuzz/FuzzParse/25a96f7416eec8d4).
func TestParseRefusesKeysInAnotherCase(t *testing.T) {
	for _, tc := range []struct{ from, to, key string }{
		{"[terminal]", "[Terminal]", "Terminal"},
		{"id = \"till-7\"", "ID = \"till-7\"", "terminal.ID"},
		{"[[assets]]\nsymbol = \"TUSD\"", "[[assetS]]\nsymbol = \"TUSD\"", "assetS"},
		{"symbol = \"ETH\"", "\"\u017fymbol\" = \"ETH\"", "\u017fymbol"},
		{"[chain]\nid = 1337", "[chain]\nid = 1337\nRPC = []", "chain.RPC"},
	} {
		s := strings.Replace(good, tc.from, tc.to, 1)
		if s == good {
			t.Fatalf("%q is not in the file", tc.from)
		}
		_, err := Parse([]byte(s))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "unknown key") || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: Parse = %v; want an unknown key %s", tc.to, err, tc.key)
		}
	}
}
