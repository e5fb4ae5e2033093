package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestOverlayReplacesAssetsWhole(t *testing.T) {
	c, err := Overlay([]byte(good), []byte(`
[[assets]]
symbol = "USDC"
token = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
decimals = 6
max_payment = "100"
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Assets) != 1 || c.Assets[0].Symbol != "USDC" || c.Assets[0].MaxPayment.Int64() != 100_000_000 {
		t.Fatalf("assets = %+v, want USDC alone", c.Assets)
	}
}

func TestOverlayMergesTables(t *testing.T) {
	c, err := Overlay([]byte(good), []byte(`
[terminal]
merchant_name = "Night Owl"
[texts]
welcome = "Tap to pay"
[merchant]
address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
[payments]
allow_overpay = true
[chain]
rpc = ["https://rpc.example.net"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Terminal.MerchantName != "Night Owl" || c.Texts.Welcome != "Tap to pay" {
		t.Errorf("texts: name %q welcome %q", c.Terminal.MerchantName, c.Texts.Welcome)
	}
	if c.Merchant != common.HexToAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") {
		t.Errorf("merchant %s", c.Merchant)
	}
	if !slices.Equal(c.Chain.RPC, []string{"https://rpc.example.net"}) {
		t.Errorf("chain.rpc %v", c.Chain.RPC)
	}
	// The file's other keys of the same tables stay.
	if c.Terminal.ID != "till-7" || c.Terminal.RequestTTL != 90*time.Second || c.ChainID != 1337 {
		t.Errorf("terminal %+v chain %d", c.Terminal, c.ChainID)
	}
	if !c.Payments.AllowOverpay || c.Payments.MinFeeCap == nil || c.Payments.MinFeeCap.Int64() != 1e9 {
		t.Errorf("payments %+v", c.Payments)
	}
	if len(c.Assets) != 2 {
		t.Errorf("assets %+v: the file's should stay", c.Assets)
	}
}

func TestOverlayWithoutBundleIsTheFile(t *testing.T) {
	want, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{nil, {}, []byte("\n  \n")} {
		got, err := Overlay([]byte(good), b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Overlay(good, %q) = %+v, want %+v", b, got, want)
		}
	}
}

func TestOverlayRefusesForbiddenKeys(t *testing.T) {
	tests := []struct{ bundle, key string }{
		{"[terminal]\nid = \"till-9\"", "terminal.id"},
		{"[terminal]\ndata_dir = \"/\"", "terminal.data_dir"},
		{"[terminal]\nseal_key = \"/tmp/k\"", "terminal.seal_key"},
		{"[terminal]\npublic_url = \"http://x\"", "terminal.public_url"},
		{"[api]\nlisten = \"0.0.0.0:80\"", "api.listen"},
		{"[chain]\nid = 1", "chain.id"},
		{"[chain]\nconfirmations = 3", "chain.confirmations"},
		{"[chain]\nfinal_depth = 3", "chain.final_depth"},
		{"[broadcast]\npoll = \"1s\"", "broadcast.poll"},
		{"[board.display]\ndriver = \"none\"", "board.display.driver"},
		{"[fleet]\npublic_key = \"00\"", "fleet.public_key"},
		{"[fleet]\ngroups = [\"all\"]", "fleet.groups"},
		{"terminal = \"x\"", "terminal"},
		{"whatever = 1", "whatever"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := Overlay([]byte(good), []byte(tt.bundle))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "may not set "+tt.key) {
				t.Errorf("Overlay = %v, want ErrInvalid naming %s", err, tt.key)
			}
			if err := CheckBundleKeys([]byte(tt.bundle)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("CheckBundleKeys = %v, want ErrInvalid naming %s", err, tt.key)
			}
		})
	}
}

func TestOverlayNamesEveryForbiddenKey(t *testing.T) {
	err := CheckBundleKeys([]byte("[terminal]\nid = \"x\"\nmerchant_name = \"ok\"\n[api]\nlisten = \"a:1\""))
	if err == nil || !strings.Contains(err.Error(), "api.listen, terminal.id") {
		t.Errorf("err = %v, want both keys named", err)
	}
}

func TestOverlayRefusesAConfigTheTerminalCannotRun(t *testing.T) {
	tests := []struct{ name, bundle, want string }{
		{"zero merchant", "[merchant]\naddress = \"0x0000000000000000000000000000000000000000\"", "zero address"},
		{"no assets", "assets = []", "at least one"},
		{"short ttl", "[terminal]\nrequest_ttl = \"1s\"", "request_ttl"},
		{"bad fee cap", "[payments]\nmin_fee_cap_wei = \"lots\"", "min_fee_cap_wei"},
		{"misspelt live key", "[payments]\nallow_overpai = true", "allow_overpai"},
		{"bad rpc", "[chain]\nrpc = [\"ftp://x\"]", "chain.rpc"},
		{"not TOML", "[merchant\naddress", "bundle config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Overlay([]byte(good), []byte(tt.bundle))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Overlay = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestCheckBundleKeysTakesLiveKeys(t *testing.T) {
	frag := `
[terminal]
merchant_name = "A"
request_ttl = "2m"
[texts]
welcome = "hi"
[merchant]
address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
[payments]
allow_overpay = true
min_fee_cap_wei = "1"
[chain]
rpc = []
[[assets]]
symbol = "ETH"
`
	if err := CheckBundleKeys([]byte(frag)); err != nil {
		t.Fatal(err)
	}
}

func TestKeepRestartOnly(t *testing.T) {
	running, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer(
		`id = "till-7"`, `id = "till-8"`,
		`data_dir = "/tmp/x"`, "data_dir = \"/tmp/y\"\nmerchant_name = \"Renamed\"",
		"[chain]\nid = 1337", "[api]\nlisten = \"0.0.0.0:9000\"\n[chain]\nid = 1\nconfirmations = 4\nrpc = [\"http://node:8545\"]",
	).Replace(good)
	c, err := Parse([]byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	changed := c.KeepRestartOnly(running)
	want := []string{"terminal.id", "terminal.data_dir", "terminal.public_url", "api.listen", "chain.id", "chain.confirmations"}
	if !slices.Equal(changed, want) {
		t.Errorf("changed = %v, want %v", changed, want)
	}
	if c.Terminal.ID != "till-7" || c.Terminal.DataDir != "/tmp/x" || c.API.Listen != DefaultListen ||
		c.Terminal.PublicURL != running.Terminal.PublicURL || c.ChainID != 1337 || c.Chain.Confirmations != 1 {
		t.Errorf("restart-only values not kept: %+v %+v chain %d %+v", c.Terminal, c.API, c.ChainID, c.Chain)
	}
	if c.Terminal.MerchantName != "Renamed" || !slices.Equal(c.Chain.RPC, []string{"http://node:8545"}) {
		t.Errorf("live values lost: name %q rpc %v", c.Terminal.MerchantName, c.Chain.RPC)
	}
	if again := c.KeepRestartOnly(running); len(again) != 0 {
		t.Errorf("second KeepRestartOnly reports %v", again)
	}
}

// TestFieldsCoverConfig keeps KeepRestartOnly honest: a field added to
// Config must be added to fields, or a reload would change it silently.
func TestFieldsCoverConfig(t *testing.T) {
	type slot struct {
		addr uintptr
		typ  reflect.Type
	}
	c := new(Config)
	var want []slot
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			if f.Kind() == reflect.Struct && f.Type().PkgPath() == v.Type().PkgPath() && f.Type() != reflect.TypeFor[Board]() {
				walk(f)
				continue
			}
			want = append(want, slot{f.Addr().Pointer(), f.Type()})
		}
	}
	walk(reflect.ValueOf(c).Elem())
	var got []slot
	for _, f := range fields {
		p := reflect.ValueOf(f.ptr(c))
		got = append(got, slot{p.Pointer(), p.Elem().Type()})
	}
	cmp := func(a, b slot) int { return int(a.addr) - int(b.addr) }
	slices.SortFunc(want, cmp)
	slices.SortFunc(got, cmp)
	if !slices.Equal(got, want) {
		t.Errorf("fields covers %d values of Config, which has %d: add the new one to fields", len(got), len(want))
	}
}

// Laying a bundle over a file goes through a TOML round trip; every example
// config must come out of it unchanged but for what the bundle sets.
func TestOverlayRoundTripsExampleConfigs(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs found: %v", err)
	}
	for _, f := range files {
		local, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(local)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got, err := Overlay(local, []byte("[texts]\nwelcome = \"Hello\""))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want.Texts.Welcome = "Hello"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: overlay changed more than texts.welcome:\n got %+v\nwant %+v", f, got, want)
		}
	}
}

// A bundle's fragment is held to the file's rule: keys exactly as the
// format spells them. A key in another case, or folding to a live key
// ("ſymbol", "Merchant_name"), is refused naming it, by Overlay on the
// terminal and by CheckBundleKeys when signing; the TOML decoder alone
// would have matched it to the field.
func TestOverlayRefusesBundleKeysInAnotherCase(t *testing.T) {
	for _, tc := range []struct{ bundle, key string }{
		{"[Payments]\nmax_unsettled = \"1\"", "Payments"},
		{"[terminal]\nMerchant_name = \"Night Owl\"", "terminal.Merchant_name"},
		{"[texts]\nWELCOME = \"hi\"", "texts.WELCOME"},
		{"[[assets]]\n\"\u017fymbol\" = \"ETH\"", "assets.\"\u017fymbol\""},
		{"[[Assets]]\nsymbol = \"ETH\"", "Assets"},
		{"[chain]\nRPC = [\"http://127.0.0.1:8545\"]", "chain.RPC"},
	} {
		_, err := Overlay([]byte(good), []byte(tc.bundle))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "unknown key(s) "+tc.key) {
			t.Errorf("%q: Overlay = %v; want ErrInvalid naming %s", tc.bundle, err, tc.key)
		}
		if err := CheckBundleKeys([]byte(tc.bundle)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "unknown key(s) "+tc.key) {
			t.Errorf("%q: CheckBundleKeys = %v; want ErrInvalid naming %s", tc.bundle, err, tc.key)
		}
	}
}
