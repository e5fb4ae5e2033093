package config

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

const good = `
[terminal]
id = "till-7"
data_dir = "/tmp/x"
request_ttl = "90s"

[chain]
id = 1337

[merchant]
address = "0x000000000000000000000000000000000000dEaD"

[payments]
min_fee_cap_wei = "1000000000"

[[assets]]
symbol = "ETH"
max_payment = "0.5"

[[assets]]
symbol = "TUSD"
token = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
max_unsettled = "2000.25"
`

func TestParseGoodConfig(t *testing.T) {
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Terminal.ID != "till-7" || c.ChainID != 1337 || c.Terminal.RequestTTL != 90*time.Second {
		t.Errorf("terminal/chain = %+v %d", c.Terminal, c.ChainID)
	}
	if c.API.Listen != DefaultListen || c.Terminal.PublicURL != "http://"+DefaultListen {
		t.Errorf("defaults: listen %q public %q", c.API.Listen, c.Terminal.PublicURL)
	}
	if c.API.RegistrationTTL != DefaultRegistrationTTL {
		t.Errorf("defaults: registration_ttl %s, want %s", c.API.RegistrationTTL, DefaultRegistrationTTL)
	}
	if c.API.MaxConns != DefaultMaxConns {
		t.Errorf("defaults: max_conns %d, want %d", c.API.MaxConns, DefaultMaxConns)
	}
	if c.Merchant != common.HexToAddress("0x000000000000000000000000000000000000dEaD") {
		t.Errorf("merchant %s", c.Merchant)
	}
	if c.Payments.MinFeeCap.Cmp(big.NewInt(1e9)) != 0 {
		t.Errorf("min fee cap %s", c.Payments.MinFeeCap)
	}
	eth, ok := c.Asset("eth")
	if !ok || !eth.Native() || eth.Decimals != 18 || eth.MinGas != 21000 {
		t.Fatalf("ETH = %+v", eth)
	}
	if want, _ := new(big.Int).SetString("500000000000000000", 10); eth.MaxPayment.Cmp(want) != 0 || eth.MaxUnsettled != nil {
		t.Errorf("ETH limits %v %v", eth.MaxPayment, eth.MaxUnsettled)
	}
	tusd, ok := c.Asset("TUSD")
	if !ok || tusd.Native() || tusd.Decimals != 6 || tusd.MinGas != DefaultTokenMinGas {
		t.Fatalf("TUSD = %+v", tusd)
	}
	if tusd.MaxUnsettled.Cmp(big.NewInt(2_000_250_000)) != 0 {
		t.Errorf("TUSD max_unsettled %s", tusd.MaxUnsettled)
	}
	if tusd.Authorizes() || c.Payments.SettleWindow != DefaultSettleWindow {
		t.Errorf("TUSD authorization %q, settle window %s: want none and the default", tusd.Authorization, c.Payments.SettleWindow)
	}
	c2, err := Parse([]byte(strings.Replace(good, `max_unsettled = "2000.25"`, `max_unsettled = "2000.25"`+"\nauthorization = \"eip3009\"\ndomain_name = \"USD Coin\"\ndomain_version = \"2\"", 1) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c2.Asset("TUSD"); !a.Authorizes() || a.DomainName != "USD Coin" || a.DomainVersion != "2" {
		t.Errorf("TUSD with authorization = %+v", a)
	}
	if c.Chain.Confirmations != 1 || c.Chain.FinalDepth != DefaultFinalDepth {
		t.Errorf("confirmations %d, final depth %d: want the defaults 1 and %d", c.Chain.Confirmations, c.Chain.FinalDepth, DefaultFinalDepth)
	}
	if c.StorePath() != "/tmp/x/showpos.db" || c.SocketPath() != "/tmp/x/posd.sock" || c.KeyPath() != "/tmp/x/terminal.key" || c.SealKeyPath() != "/tmp/x/seal.key" {
		t.Errorf("paths %s %s %s %s", c.StorePath(), c.SocketPath(), c.KeyPath(), c.SealKeyPath())
	}
	c, err = Parse([]byte(strings.Replace(good, `data_dir = "/tmp/x"`, `data_dir = "/tmp/x"`+"\nseal_key = \"/media/key/seal.key\"", 1)))
	if err != nil || c.SealKeyPath() != "/media/key/seal.key" {
		t.Errorf("terminal.seal_key: %v, %v", c, err)
	}
}

func TestParseRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name      string
		from, to  string // replace in good
		wantInErr string
	}{
		{"unknown key", `request_ttl = "90s"`, `request_ttl = "90s"` + "\nrequest_tll = 3", "terminal.request_tll"},
		{"no terminal id", `id = "till-7"`, ``, "terminal.id is required"},
		{"relative seal key", `data_dir = "/tmp/x"`, `data_dir = "/tmp/x"` + "\nseal_key = \"seal.key\"", "terminal.seal_key"},
		{"seal key is the store", `data_dir = "/tmp/x"`, `data_dir = "/tmp/x"` + "\nseal_key = \"/tmp/x/showpos.db\"", "a file of its own"},
		{"seal key is terminal.key", `data_dir = "/tmp/x"`, `data_dir = "/tmp/x"` + "\nseal_key = \"/tmp/x/terminal.key\"", "a file of its own"},
		{"ttl too short", `request_ttl = "90s"`, `request_ttl = "1s"`, "request_ttl"},
		{"no chain", "[chain]\nid = 1337", "", "chain.id"},
		{"bad merchant", `0x000000000000000000000000000000000000dEaD`, `0x1234`, "merchant.address"},
		{"zero merchant", `0x000000000000000000000000000000000000dEaD`, `0x0000000000000000000000000000000000000000`, "zero address"},
		{"bad fee floor", `min_fee_cap_wei = "1000000000"`, `min_fee_cap_wei = "1.5"`, "min_fee_cap_wei"},
		{"too precise limit", `max_unsettled = "2000.25"`, `max_unsettled = "2000.0000001"`, "max_unsettled"},
		{"negative limit", `max_payment = "0.5"`, `max_payment = "-1"`, "max_payment"},
		{"token without decimals", "decimals = 6\n", "", "decimals is required"},
		{"native with other decimals", "symbol = \"ETH\"\n", "symbol = \"ETH\"\ndecimals = 6\n", "18 decimals"},
		{"bad token", `0x5FbDB2315678afecb367f032d93F642f64180aa3`, `tusd`, "not an address"},
		{"duplicate symbol", `symbol = "TUSD"`, `symbol = "eth"`, "appears twice"},
		{"two natives", "token = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\ndecimals = 6\n", "", "more than one native"},
		{"bad listen", "[chain]", "[api]\nlisten = \"nonsense\"\n[chain]", "api.listen"},
		{"no connections", "[chain]", "[api]\nmax_conns = -1\n[chain]", "api.max_conns"},
		{"too many connections", "[chain]", "[api]\nmax_conns = 1025\n[chain]", "api.max_conns"},
		{"registrations expire at once", "[chain]", "[api]\nregistration_ttl = \"1m\"\n[chain]", "api.registration_ttl"},
		{"registrations wait too long", "[chain]", "[api]\nregistration_ttl = \"2161h\"\n[chain]", "api.registration_ttl"},
		{"not toml", "[chain]", "[chain", ""},
		{"chain id past JavaScript's exact range", "id = 1337", "id = 9007199254740992", "chain.id"},
		{"final depth below confirmations", "id = 1337", "id = 1337\nconfirmations = 5\nfinal_depth = 4", "chain.final_depth 4 is below chain.confirmations 5"},
		{"final depth too deep", "id = 1337", "id = 1337\nfinal_depth = 10001", "chain.final_depth 10001 is more than 10000"},
		{"symbol with a space", `symbol = "TUSD"`, `symbol = "T USD"`, "assets[1]"},
		{"empty symbol", `symbol = "TUSD"`, `symbol = ""`, "assets[1]"},
		{"watch poll too short", "[merchant]", "[watch]\npoll = \"10ms\"\n[merchant]", "watch.poll"},
		{"watch range too long", "[merchant]", "[watch]\nmax_range = 10001\n[merchant]", "watch.max_range"},
		{"watch lookback below the range", "[merchant]", "[watch]\nmax_range = 100\nmax_lookback = 99\n[merchant]", "watch.max_lookback"},
		{"authorization on the native coin", `max_payment = "0.5"`, `max_payment = "0.5"` + "\nauthorization = \"eip3009\"\ndomain_name = \"Ether\"\ndomain_version = \"1\"", "the native coin has no EIP-3009"},
		{"authorization without a domain", `max_unsettled = "2000.25"`, `max_unsettled = "2000.25"` + "\nauthorization = \"eip3009\"\ndomain_name = \"USD Coin\"", "domain_version"},
		{"unknown authorization", `max_unsettled = "2000.25"`, `max_unsettled = "2000.25"` + "\nauthorization = \"permit2\"", "the one kind taken is"},
		{"domain without authorization", `max_unsettled = "2000.25"`, `max_unsettled = "2000.25"` + "\ndomain_name = \"USD Coin\"", "are for authorization"},
		{"settle window too short", `min_fee_cap_wei = "1000000000"`, `min_fee_cap_wei = "1000000000"` + "\nsettle_window = \"30s\"", "payments.settle_window"},
		{"settle window too long", `min_fee_cap_wei = "1000000000"`, `min_fee_cap_wei = "1000000000"` + "\nsettle_window = \"721h\"", "payments.settle_window"},
		{"relay fee cap absurd", "[merchant]", "[relay]\nmax_fee_gwei = 1000001\n[merchant]", "relay.max_fee_gwei"},
		{"relay stuck delay too short", "[merchant]", "[relay]\nstuck_after = \"5s\"\n[merchant]", "relay.stuck_after"},
		{"relay follow-up too short", "[merchant]", "[relay]\nfollow_up = \"10ms\"\n[merchant]", "relay.follow_up 10ms is under 100ms"},
		{"relay follow-up past the poll", "[merchant]", "[relay]\npoll = \"2s\"\nfollow_up = \"3s\"\n[merchant]", "relay.follow_up 3s is more than relay.poll 2s"},
		{"unknown currency", `id = "till-7"`, `id = "till-7"` + "\ncurrency = \"EURO\"", "terminal.currency"},
		{"currency in lower case", `id = "till-7"`, `id = "till-7"` + "\ncurrency = \"eur\"", "terminal.currency"},
		{"four tips", "[merchant]", "[tips]\nenabled = true\npercentages = [5, 10, 15, 20]\n[merchant]", "at most 3"},
		{"a tip of nothing", "[merchant]", "[tips]\nenabled = true\npercentages = [0, 10]\n[merchant]", "tips.percentages"},
		{"a tip above the whole", "[merchant]", "[tips]\nenabled = true\npercentages = [101]\n[merchant]", "tips.percentages"},
		{"public url too long", `id = "till-7"`, `id = "till-7"` + "\npublic_url = \"http://" + strings.Repeat("a", 250) + "\"", "public_url is too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.from, tc.to, 1)
			if src == good {
				t.Fatalf("replacement %q did not apply", tc.from)
			}
			_, err := Parse([]byte(src))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantInErr)
			}
		})
	}
}

func TestCurrencyAndTips(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(good, `id = "till-7"`, `id = "till-7"`+"\ncurrency = \"CHF\"", 1) + "\n[tips]\nenabled = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Terminal.Currency != "CHF" || !c.Tips.Enabled || len(c.Tips.Percentages) != 3 || c.Tips.Percentages[1] != 15 {
		t.Errorf("currency %q tips %+v; want CHF and 10, 15, 20 by default", c.Terminal.Currency, c.Tips)
	}
	c, err = Parse([]byte(good))
	if err != nil || c.Terminal.Currency != "" || c.Tips.Enabled {
		t.Errorf("by default: currency %q tips %+v (%v); want none and off", c.Terminal.Currency, c.Tips, err)
	}
}

// [watch]: on by default (it runs once chain.rpc names endpoints);
// enabled = false turns it off; the other keys have sync/watch's defaults.
func TestWatchTable(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		want           Watch
	}{
		{"default", "", "", Watch{Enabled: true, Poll: 2 * time.Second, MaxRange: 500, MaxLookback: 50_000}},
		{"turned off", "[merchant]", "[watch]\nenabled = false\n[merchant]", Watch{Enabled: false, Poll: 2 * time.Second, MaxRange: 500, MaxLookback: 50_000}},
		{"set", "[merchant]", "[watch]\nenabled = true\npoll = \"12s\"\nmax_range = 100\nmax_lookback = 7200\n[merchant]", Watch{Enabled: true, Poll: 12 * time.Second, MaxRange: 100, MaxLookback: 7200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(strings.Replace(good, tc.from, tc.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if c.Watch != tc.want {
				t.Errorf("watch %+v, want %+v", c.Watch, tc.want)
			}
		})
	}
}

// [relay]: on by default, with a fee cap of DefaultRelayMaxFeeGwei; the
// other keys have sync/relay's defaults.
func TestRelayTable(t *testing.T) {
	gwei := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e9)) }
	for _, tc := range []struct {
		name, from, to string
		want           Relay
	}{
		{"default", "", "", Relay{Enabled: true, MaxFeePerGas: gwei(DefaultRelayMaxFeeGwei), LowCovers: 20, StuckAfter: 3 * time.Minute, Poll: 15 * time.Second, FollowUp: time.Second}},
		{"turned off", "[merchant]", "[relay]\nenabled = false\n[merchant]", Relay{Enabled: false, MaxFeePerGas: gwei(DefaultRelayMaxFeeGwei), LowCovers: 20, StuckAfter: 3 * time.Minute, Poll: 15 * time.Second, FollowUp: time.Second}},
		{"set", "[merchant]", "[relay]\nmax_fee_gwei = 7\nlow_covers = 5\nstuck_after = \"45s\"\npoll = \"1s\"\nfollow_up = \"250ms\"\n[merchant]", Relay{Enabled: true, MaxFeePerGas: gwei(7), LowCovers: 5, StuckAfter: 45 * time.Second, Poll: time.Second, FollowUp: 250 * time.Millisecond}},
		{"a poll under a second: the follow-up defaults to it", "[merchant]", "[relay]\npoll = \"400ms\"\n[merchant]", Relay{Enabled: true, MaxFeePerGas: gwei(DefaultRelayMaxFeeGwei), LowCovers: 20, StuckAfter: 3 * time.Minute, Poll: 400 * time.Millisecond, FollowUp: 400 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(strings.Replace(good, tc.from, tc.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Relay, tc.want) {
				t.Errorf("relay %+v, want %+v", c.Relay, tc.want)
			}
		})
	}
}

// Every example config in configs/ must load: they are what people copy.
func TestExampleConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs found: %v", err)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "posd.toml")
	if err := os.WriteFile(p, []byte("[terminal]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want it to name %s", err, p)
	}
}

func TestBoardRefusals(t *testing.T) {
	tests := []struct {
		board, wantInErr string
	}{
		{"[board.display]\ndriver = \"crt\"", "board.display.driver"},
		{"[board.display]\ndriver = \"st7789\"", "board.display.dc_pin"},
		{"[board.display]\ndriver = \"virtual\"\nrotation = 45", "rotation"},
		{"[board.keypad]\ndriver = \"matrix\"", "row_pins"},
		{"[board.keypad]\ndriver = \"matrix\"\nrow_pins = [\"GPIO1\"]\ncol_pins = [\"GPIO2\"]\nkeymap = [[\"1\", \"2\"]]", "keymap row 0"},
		{"[board.keypad]\ndriver = \"evdev\"", "board.keypad.device"},
		{"[board.scanner]\ndriver = \"serial\"", "usb_vid"},
		{"[board.nfc]\ndriver = \"pn532\"", "board.nfc.path"},
		{"[board.indicator]\ndriver = \"gpio\"", "buzzer_pin"},
		{"[board.scanner]\ndriver = \"virtual\"\nspeed = 3", "board.scanner.speed"},
		{"[board.nfc]\ndriver = \"none\"\nreader_window = \"10ms\"", "board.nfc.reader_window"},
		{"[board.nfc]\ndriver = \"none\"\ntag_window = \"1m\"", "board.nfc.tag_window"},
		{"[board.nfc]\ndriver = \"none\"\ntag_rest = \"2h\"", "board.nfc.tag_rest"},
		{"[board.printer]\ndriver = \"parallel\"", "board.printer.driver"},
		{"[board.printer]\ndriver = \"serial\"", "board.printer.path"},
		{"[board.printer]\ndriver = \"usb\"\ncolumns = 12", "board.printer.columns"},
		{"[board.printer]\ndriver = \"serial\"\npath = \"/dev/ttyS1\"\nbaud = -1", "board.printer.baud"},
		{"[board.printer]\ndriver = \"usb\"\ncode_table = 300", "board.printer.code_table"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(good + "\n" + tc.board + "\n"))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("%q: err = %v, want it to mention %q", tc.board, err, tc.wantInErr)
		}
	}
	c, err := Parse([]byte(good))
	if err != nil || c.Board.Display.Driver != "none" || c.Board.Printer.Driver != "none" || c.Board.UsesVirtual() {
		t.Errorf("no [board]: %+v, %v", c.Board, err)
	}
}

func TestPrinterDefaults(t *testing.T) {
	for _, tc := range []struct {
		board string
		want  Printer
	}{
		{"[board.printer]\ndriver = \"usb\"", Printer{Driver: "usb", Path: "/dev/usb/lp0", Columns: 48, CodeTable: 19}},
		{"[board.printer]\ndriver = \"serial\"\npath = \"/dev/ttyS1\"\ncolumns = 32",
			Printer{Driver: "serial", Path: "/dev/ttyS1", Baud: 9600, Columns: 32, CodeTable: 19}},
		{"[board.printer]\ndriver = \"virtual\"", Printer{Driver: "virtual", Columns: 48, CodeTable: 19}},
	} {
		c, err := Parse([]byte(good + "\n" + tc.board + "\n"))
		if err != nil || c.Board.Printer != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.board, c.Board.Printer, err, tc.want)
		}
		if tc.want.Driver == "virtual" && !c.Board.UsesVirtual() {
			t.Errorf("a virtual printer does not start the simulator")
		}
	}
}

func TestBoardNFCTagRole(t *testing.T) {
	for _, tc := range []struct {
		board  string
		on     bool
		reader time.Duration
	}{
		{"", true, 0},
		{"[board.nfc]\ndriver = \"none\"\ntag = false", false, 0},
		{"[board.nfc]\ndriver = \"none\"\ntag = true\nreader_window = \"800ms\"", true, 800 * time.Millisecond},
	} {
		c, err := Parse([]byte(good + "\n" + tc.board + "\n"))
		if err != nil {
			t.Fatalf("%q: %v", tc.board, err)
		}
		if c.Board.NFC.TagOn() != tc.on || c.Board.NFC.ReaderWindow != tc.reader {
			t.Errorf("%q: tag %v, reader window %v; want %v, %v", tc.board, c.Board.NFC.TagOn(), c.Board.NFC.ReaderWindow, tc.on, tc.reader)
		}
	}
}

// Port 0 becomes the port the system gave, in api.listen and in a default
// public URL; a public URL the file sets, and a port of its own, stay.
func TestListenBound(t *testing.T) {
	base := "[terminal]\nid = \"t\"\nPUBLIC\n[api]\nlisten = \"LISTEN\"\nTLS\n[chain]\nid = 1\n[merchant]\naddress = \"0x000000000000000000000000000000000000dEaD\"\n[[assets]]\nsymbol = \"ETH\"\n"
	for _, tc := range []struct {
		name, listen, public, tls string
		wantListen, wantPublic    string
	}{
		{"loopback port 0", "127.0.0.1:0", "", "", "127.0.0.1:41234", "http://127.0.0.1:41234"},
		{"every interface, port 0", ":0", "", "", ":41234", "http://:41234"},
		{"port 0 over TLS", "[::1]:0", "", "tls_cert = \"c.pem\"\ntls_key = \"k.pem\"", "[::1]:41234", "https://[::1]:41234"},
		{"a public URL of the file's own", "127.0.0.1:0", "public_url = \"https://till.example\"", "", "127.0.0.1:41234", "https://till.example"},
		{"a port of its own", "127.0.0.1:8080", "", "", "127.0.0.1:8080", "http://127.0.0.1:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(strings.NewReplacer("PUBLIC", tc.public, "LISTEN", tc.listen, "TLS", tc.tls).Replace(base)))
			if err != nil {
				t.Fatal(err)
			}
			c.ListenBound(41234)
			if c.API.Listen != tc.wantListen || c.Terminal.PublicURL != tc.wantPublic {
				t.Errorf("listen %s, public URL %s; want %s, %s", c.API.Listen, c.Terminal.PublicURL, tc.wantListen, tc.wantPublic)
			}
		})
	}
}

// -listen moves the default public URL with it; a public URL the file
// sets stays.
func TestOverrideListen(t *testing.T) {
	base := "[terminal]\nid = \"t\"\n[chain]\nid = 1\n[merchant]\naddress = \"0x000000000000000000000000000000000000dEaD\"\n[[assets]]\nsymbol = \"ETH\"\n"
	c, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	c.OverrideListen("10.0.0.7:9000")
	if c.API.Listen != "10.0.0.7:9000" || c.Terminal.PublicURL != "http://10.0.0.7:9000" {
		t.Errorf("default public URL: listen %s, public %s", c.API.Listen, c.Terminal.PublicURL)
	}
	c, err = Parse([]byte(strings.Replace(base, "id = \"t\"", "id = \"t\"\npublic_url = \"https://till.example\"", 1)))
	if err != nil {
		t.Fatal(err)
	}
	c.OverrideListen("10.0.0.7:9000")
	if c.Terminal.PublicURL != "https://till.example" {
		t.Errorf("configured public URL changed to %s", c.Terminal.PublicURL)
	}
}

// [mqtt]: off by default with the documented defaults; a broker URL that
// is not mqtt(s), credentials in the URL, a password without a user, TLS
// files on a plain broker, and a terminal id or group that cannot be a
// topic level are refused at load, naming the key.
func TestMQTTTable(t *testing.T) {
	def := MQTT{TopicPrefix: "showpos", StatusEvery: time.Minute, Keepalive: 30 * time.Second}
	on := "[mqtt]\nenabled = true\nbroker = \"mqtts://broker.example.net:8883\"\n"
	for _, tc := range []struct {
		name, from, to string
		want           MQTT
		wantErr        string
	}{
		{name: "off by default", want: def},
		{name: "set", from: "[merchant]", to: on + "username = \"till-7\"\npassword_file = \"/etc/showpos/mqtt.pw\"\nca_file = \"/etc/showpos/ca.pem\"\ntopic_prefix = \"acme/shops\"\nstatus_every = \"30s\"\nkeepalive = \"10s\"\n[merchant]",
			want: MQTT{Enabled: true, Broker: "mqtts://broker.example.net:8883", Username: "till-7", PasswordFile: "/etc/showpos/mqtt.pw",
				CAFile: "/etc/showpos/ca.pem", TopicPrefix: "acme/shops", StatusEvery: 30 * time.Second, Keepalive: 10 * time.Second}},
		{name: "enabled without a broker", from: "[merchant]", to: "[mqtt]\nenabled = true\n[merchant]", wantErr: "mqtt.broker is required"},
		{name: "an http broker", from: "[merchant]", to: "[mqtt]\nbroker = \"http://b:1883\"\n[merchant]", wantErr: "mqtt.broker"},
		{name: "credentials in the URL", from: "[merchant]", to: "[mqtt]\nbroker = \"mqtt://u:p@b:1883\"\n[merchant]", wantErr: "mqtt.username"},
		{name: "a password without a user", from: "[merchant]", to: on + "password = \"x\"\n[merchant]", wantErr: "needs mqtt.username"},
		{name: "password and password_file", from: "[merchant]", to: on + "username = \"u\"\npassword = \"x\"\npassword_file = \"/f\"\n[merchant]", wantErr: "set one"},
		{name: "a certificate without its key", from: "[merchant]", to: on + "cert_file = \"/c.pem\"\n[merchant]", wantErr: "go together"},
		{name: "TLS files on a plain broker", from: "[merchant]", to: "[mqtt]\nbroker = \"mqtt://b:1883\"\nca_file = \"/ca.pem\"\n[merchant]", wantErr: "mqtts://"},
		{name: "a wildcard in the prefix", from: "[merchant]", to: "[mqtt]\ntopic_prefix = \"shops/#\"\n[merchant]", wantErr: "mqtt.topic_prefix"},
		{name: "an empty prefix level", from: "[merchant]", to: "[mqtt]\ntopic_prefix = \"shops/\"\n[merchant]", wantErr: "mqtt.topic_prefix"},
		{name: "a keepalive in milliseconds", from: "[merchant]", to: "[mqtt]\nkeepalive = \"1500ms\"\n[merchant]", wantErr: "mqtt.keepalive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(strings.Replace(good, tc.from, tc.to, 1)))
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse: %v; want an invalid config naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.MQTT, tc.want) {
				t.Errorf("mqtt %+v, want %+v", c.MQTT, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, from, to, wantErr string }{
		{"a terminal id with a slash", `id = "till-7"`, `id = "till/7"`, "terminal.id cannot be the MQTT client id"},
		{"a group with a plus", "[merchant]", "[fleet]\npublic_key = \"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\"\ngroups = [\"eu+north\"]\n[merchant]", "fleet.groups[0] cannot be an MQTT topic level"},
	} {
		t.Run(tc.name+" with mqtt on", func(t *testing.T) {
			cfg := strings.Replace(good, tc.from, tc.to, 1) + "\n" + on
			if _, err := Parse([]byte(cfg)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse: %v; want %q", err, tc.wantErr)
			}
			off := strings.Replace(good, tc.from, tc.to, 1)
			if _, err := Parse([]byte(off)); err != nil {
				t.Fatalf("with mqtt off: %v; the id is fine for everything else", err)
			}
		})
	}
}
