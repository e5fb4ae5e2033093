package config

import (
	"errors"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// twoNetworks is a file with USDC on two networks, Base the default.
const twoNetworks = `
[terminal]
id = "till-7"
data_dir = "/tmp/x"

[merchant]
address = "0x000000000000000000000000000000000000dEaD"

[relay]
max_fee_gwei = 50
poll = "10s"

[[networks]]
name = "base"
chain_id = 8453
rpc = ["https://mainnet.base.org"]
confirmations = 2
fee_floor = "1000000"

[[networks.assets]]
symbol = "USDC"
token = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
decimals = 6
max_payment = "500"
authorization = "eip3009"
domain_name = "USD Coin"
domain_version = "2"

[[networks.assets]]
symbol = "ETH"

[[networks]]
name = "arbitrum"
chain_id = 42161
rpc = ["https://arb1.arbitrum.io/rpc", "https://arbitrum.example.net"]
final_depth = 100

[networks.relay]
max_fee_gwei = 1
stuck_after = "30s"

[[networks.assets]]
symbol = "USDC"
token = "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"
decimals = 6
max_unsettled = "1000"
authorization = "eip3009"
domain_name = "USD Coin"
domain_version = "2"
`

// A file with [chain] and [[assets]] and no [[networks]] reads as one
// network with exactly today's values, and the default network's views
// are those values.
func TestOneChainFileIsOneNetwork(t *testing.T) {
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Networks) != 1 {
		t.Fatalf("%d networks, want 1", len(c.Networks))
	}
	n := c.Networks[0]
	want := Network{Name: "chain-1337", ChainID: 1337, Chain: c.Chain, FeeFloor: big.NewInt(1e9), Relay: c.Relay, Assets: c.Assets, oneChain: true}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("network = %+v\nwant      %+v", n, want)
	}
	if len(n.Assets) != 2 || n.Assets[0].Symbol != "ETH" || n.Assets[1].Token != common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3") {
		t.Errorf("assets %+v: want ETH and TUSD in file order", n.Assets)
	}
	if got, ok := c.Network("chain-1337"); !ok || got.Name != n.Name {
		t.Errorf("Network(chain-1337) = %v, %v", got.Name, ok)
	}
}

// [[networks]] with the same symbol on two networks, each its own contract,
// limits, endpoints, finality, fee floor and relayer fees; the first is
// the default and the one-chain views show it.
func TestTwoNetworks(t *testing.T) {
	c, err := Parse([]byte(twoNetworks))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Networks) != 2 || c.Networks[0].Name != "base" || c.Networks[1].Name != "arbitrum" {
		t.Fatalf("networks %+v", c.Networks)
	}
	base, arb := c.Networks[0], c.Networks[1]
	bu, ok1 := base.Asset("usdc")
	au, ok2 := arb.Asset("USDC")
	if !ok1 || !ok2 || bu.Token == au.Token || bu.Token != common.HexToAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913") ||
		au.Token != common.HexToAddress("0xaf88d065e77c8cC2239327C5EDb3A432268e5831") {
		t.Fatalf("USDC on base %+v, on arbitrum %+v: want each its own contract", bu, au)
	}
	if bu.MaxPayment.Cmp(big.NewInt(500_000_000)) != 0 || bu.MaxUnsettled != nil || au.MaxPayment != nil || au.MaxUnsettled.Cmp(big.NewInt(1_000_000_000)) != 0 {
		t.Errorf("limits: base %v/%v arbitrum %v/%v", bu.MaxPayment, bu.MaxUnsettled, au.MaxPayment, au.MaxUnsettled)
	}
	if !bu.Authorizes() || bu.DomainName != "USD Coin" || !au.Authorizes() {
		t.Errorf("authorizations: %+v %+v", bu, au)
	}
	if _, ok := arb.Asset("ETH"); ok {
		t.Error("arbitrum has ETH: assets are per network")
	}
	if base.Chain.Confirmations != 2 || base.Chain.FinalDepth != DefaultFinalDepth || arb.Chain.Confirmations != 1 || arb.Chain.FinalDepth != 100 {
		t.Errorf("finality: base %+v arbitrum %+v", base.Chain, arb.Chain)
	}
	if len(arb.Chain.RPC) != 2 || arb.Chain.CallTimeout != 5*time.Second || arb.Chain.PreflightBudget != DefaultPreflightBudget {
		t.Errorf("arbitrum chain %+v: want its endpoints and [chain]'s defaults", arb.Chain)
	}
	if base.FeeFloor.Cmp(big.NewInt(1e6)) != 0 || arb.FeeFloor != nil {
		t.Errorf("fee floors %v %v", base.FeeFloor, arb.FeeFloor)
	}
	gwei := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e9)) }
	if base.Relay.MaxFeePerGas.Cmp(gwei(50)) != 0 || base.Relay.StuckAfter != 3*time.Minute || base.Relay.Poll != 10*time.Second {
		t.Errorf("base relay %+v: want [relay]'s values", base.Relay)
	}
	if arb.Relay.MaxFeePerGas.Cmp(gwei(1)) != 0 || arb.Relay.StuckAfter != 30*time.Second || arb.Relay.LowCovers != 20 || arb.Relay.Poll != 10*time.Second || !arb.Relay.Enabled {
		t.Errorf("arbitrum relay %+v: want its own fee cap and stuck_after, the rest [relay]'s", arb.Relay)
	}
	// The default network's views.
	if c.ChainID != 8453 || !reflect.DeepEqual(c.Chain, base.Chain) || !reflect.DeepEqual(c.Assets, base.Assets) ||
		!reflect.DeepEqual(c.Relay, base.Relay) || c.Payments.MinFeeCap.Cmp(big.NewInt(1e6)) != 0 {
		t.Errorf("default views: chain %d %+v assets %+v relay %+v fee floor %v", c.ChainID, c.Chain, c.Assets, c.Relay, c.Payments.MinFeeCap)
	}
	if a, ok := c.Asset("ETH"); !ok || !a.Native() {
		t.Errorf("Config.Asset(ETH) = %+v, %v: want the default network's", a, ok)
	}
	if _, ok := c.Network("optimism"); ok {
		t.Error("Network(optimism) found")
	}
}

// Offers lists, for a symbol, each network that takes it in config order.
func TestOffers(t *testing.T) {
	c, err := Parse([]byte(twoNetworks))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range c.Offers("usdc") {
		got = append(got, o.Network.Name+":"+o.Asset.Token.Hex())
	}
	want := []string{"base:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "arbitrum:0xaf88d065e77c8cC2239327C5EDb3A432268e5831"}
	if !slices.Equal(got, want) {
		t.Errorf("Offers(usdc) = %v, want %v", got, want)
	}
	if o := c.Offers("ETH"); len(o) != 1 || o[0].Network.Name != "base" || !o[0].Asset.Native() {
		t.Errorf("Offers(ETH) = %+v, want base's native coin only", o)
	}
	if o := c.Offers("DAI"); len(o) != 0 {
		t.Errorf("Offers(DAI) = %+v", o)
	}
}

// A network without endpoints is taken, as [chain] without rpc is today:
// the terminal takes its payments and broadcasts none.
func TestNetworkWithoutRPC(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(twoNetworks, `rpc = ["https://arb1.arbitrum.io/rpc", "https://arbitrum.example.net"]`, "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Network("arbitrum"); len(n.Chain.RPC) != 0 {
		t.Errorf("arbitrum rpc %v", n.Chain.RPC)
	}
}

func TestNetworksRefused(t *testing.T) {
	tests := []struct {
		name      string
		from, to  string // replace in twoNetworks
		wantInErr string
	}{
		{"duplicate name", `name = "arbitrum"`, `name = "base"`, `networks[1].name "base" is networks[0]'s too`},
		{"duplicate chain id", `chain_id = 42161`, `chain_id = 8453`, `networks[1].chain_id 8453 is networks[0]'s (base) too`},
		{"duplicate symbol within a network", `symbol = "ETH"`, `symbol = "usdc"`, `networks[0].assets[1]: symbol "usdc" appears twice`},
		{"name with capitals", `name = "arbitrum"`, `name = "Arbitrum"`, `networks[1].name "Arbitrum"`},
		{"name with a topic separator", `name = "arbitrum"`, `name = "arb/one"`, `networks[1].name "arb/one"`},
		{"empty name", `name = "arbitrum"`, `name = ""`, `networks[1].name ""`},
		{"name too long", `name = "arbitrum"`, `name = "` + strings.Repeat("a", 33) + `"`, `networks[1].name`},
		{"no chain id", "chain_id = 42161\n", "", "networks[1].chain_id is required"},
		{"chain id past JavaScript's range", `chain_id = 42161`, `chain_id = 9007199254740992`, "networks[1].chain_id 9007199254740992 is above"},
		{"rpc not a URL", `"https://arbitrum.example.net"`, `"arbitrum.example.net"`, "networks[1].rpc[1] is not an http(s) URL"},
		{"final depth below confirmations", `final_depth = 100`, "final_depth = 3\nconfirmations = 4", "networks[1].final_depth 3 is below networks[1].confirmations 4"},
		{"bad fee floor", `fee_floor = "1000000"`, `fee_floor = "1.5"`, "networks[0].fee_floor"},
		{"bad contract", `token = "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"`, `token = "0xaf88"`, "networks[1].assets[0].token"},
		{"contract without decimals", "decimals = 6\nmax_unsettled", "max_unsettled", "networks[1].assets[0].decimals"},
		{"authorization without a domain", "domain_name = \"USD Coin\"\ndomain_version = \"2\"\n", "", "networks[0].assets[0].authorization"},
		{"two natives in a network", "[[networks.assets]]\nsymbol = \"ETH\"", "[[networks.assets]]\nsymbol = \"ETH\"\n[[networks.assets]]\nsymbol = \"XDAI\"", "networks[0].assets: more than one native asset"},
		{"stray table among the networks", "[[networks.assets]]\nsymbol = \"USDC\"\ntoken = \"0xaf88", "[x]\nsymbol = \"USDC\"\ntoken = \"0xaf88", "unknown key"},
		{"relay fee cap absurd", `max_fee_gwei = 1`, `max_fee_gwei = 1000001`, "networks[1].relay.max_fee_gwei"},
		{"relay follow-up past [relay]'s poll", `stuck_after = "30s"`, "stuck_after = \"30s\"\nfollow_up = \"11s\"", "networks[1].relay.follow_up 11s is more than relay.poll 10s"},
		{"relay poll is not per network", `stuck_after = "30s"`, "stuck_after = \"30s\"\npoll = \"1s\"", "networks.relay.poll"},
		{"networks and [chain]", "[relay]", "[chain]\nid = 1\n[relay]", "chain and [[networks]]"},
		{"networks and [[assets]]", "[relay]", "[[assets]]\nsymbol = \"ETH\"\n[relay]", "assets and [[networks]]"},
		{"networks and payments.min_fee_cap_wei", "[relay]", "[payments]\nmin_fee_cap_wei = \"1\"\n[relay]", "payments.min_fee_cap_wei and [[networks]]"},
		{"one symbol, two spellings", "symbol = \"USDC\"\ntoken = \"0xaf88", "symbol = \"Usdc\"\ntoken = \"0xaf88", `networks[1] (arbitrum): asset "Usdc" is spelled "USDC" on an earlier network`},
		{"one symbol, two decimals", "decimals = 6\nmax_unsettled", "decimals = 18\nmax_unsettled", "networks[1] (arbitrum): USDC has 18 decimals here and 6 on an earlier network"},
		{"asset key misspelt", `decimals = 6`, `decimal = 6`, "networks.assets.decimal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(twoNetworks, tc.from, tc.to, 1)
			if src == twoNetworks {
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

// A network whose every asset is gone is refused naming it.
func TestNetworkWithoutAssetsRefused(t *testing.T) {
	i := strings.LastIndex(twoNetworks, "[[networks.assets]]")
	_, err := Parse([]byte(twoNetworks[:i]))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "networks[1].assets: at least one") {
		t.Fatalf("err = %v, want networks[1].assets named", err)
	}
}

// Networks are live: a changed [[networks]] file (endpoints, limits, a
// network added or removed) is taken on reload, with the default
// network's views following; [relay]'s enabled and poll stay restart-only
// in every network. A one-chain file's network follows its live assets
// and endpoints, and its chain id stays restart-only.
func TestNetworksLive(t *testing.T) {
	running, err := Parse([]byte(twoNetworks))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer(`max_payment = "500"`, `max_payment = "5"`, `"https://mainnet.base.org"`, `"https://base.example.net"`,
		`poll = "10s"`, `poll = "20s"`).Replace(twoNetworks)
	c, err := Parse([]byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	if changed := c.KeepRestartOnly(running); !reflect.DeepEqual(changed, []string{"relay.poll"}) {
		t.Errorf("restart needed for %v, want [relay.poll]", changed)
	}
	base, _ := c.Network("base")
	usdc, _ := base.Asset("USDC")
	if !slices.Equal(base.Chain.RPC, []string{"https://base.example.net"}) || usdc.MaxPayment.Cmp(big.NewInt(5_000_000)) != 0 {
		t.Errorf("base %+v, USDC max_payment %v: want the edited endpoint and limit", base.Chain, usdc.MaxPayment)
	}
	for _, n := range c.Networks {
		if n.Relay.Poll != 10*time.Second {
			t.Errorf("%s relay poll %s, want the running 10s", n.Name, n.Relay.Poll)
		}
	}
	if !reflect.DeepEqual(c.Chain, base.Chain) || !reflect.DeepEqual(c.Assets, base.Assets) || c.ChainID != 8453 {
		t.Errorf("default views %d %+v %+v: want base's as edited", c.ChainID, c.Chain, c.Assets)
	}

	// Removing a network and adding another.
	i := strings.Index(twoNetworks, "[[networks]]\nname = \"arbitrum\"")
	op := twoNetworks[:i] + "[[networks]]\nname = \"optimism\"\nchain_id = 10\n[[networks.assets]]\nsymbol = \"ETH\"\n"
	c, err = Parse([]byte(op))
	if err != nil {
		t.Fatal(err)
	}
	if changed := c.KeepRestartOnly(running); len(changed) != 0 {
		t.Errorf("restart needed for %v", changed)
	}
	if len(c.Networks) != 2 || c.Networks[1].Name != "optimism" {
		t.Errorf("networks %+v: want base and optimism", c.Networks)
	}

	running, err = Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	c, err = Parse([]byte(strings.Replace(good, `max_payment = "0.5"`, `max_payment = "0.25"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if changed := c.KeepRestartOnly(running); len(changed) != 0 {
		t.Errorf("one-chain assets changed live: restart for %v", changed)
	}
	if eth, _ := c.Networks[0].Asset("ETH"); eth.MaxPayment.Cmp(big.NewInt(25e16)) != 0 || !reflect.DeepEqual(c.Networks[0].Assets, c.Assets) {
		t.Errorf("one-chain network's ETH max_payment %v: want the live 0.25", eth.MaxPayment)
	}
}

// A fleet bundle's [[networks]] replaces the file's networks, whether the
// file has [[networks]] or one chain ([chain], [[assets]]); a bundle's
// [[assets]] over a file with networks is refused, not merged as a second
// chain.
func TestNetworksOverlay(t *testing.T) {
	opBundle := "[[networks]]\nname = \"op\"\nchain_id = 10\nrpc = [\"https://op.example.net\"]\n[[networks.assets]]\nsymbol = \"ETH\"\n"
	for _, file := range []struct{ name, src string }{{"over networks", twoNetworks}, {"over one chain", good}} {
		t.Run(file.name, func(t *testing.T) {
			c, err := Overlay([]byte(file.src), []byte(opBundle))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Networks) != 1 || c.Networks[0].Name != "op" || c.ChainID != 10 || c.Chain.RPC[0] != "https://op.example.net" {
				t.Errorf("networks %+v: want op alone", c.Networks)
			}
		})
	}
	for _, tc := range []struct{ name, bundle, want string }{
		{"network without assets", "[[networks]]\nname = \"op\"\nchain_id = 10\n", "networks[0].assets: at least one"},
		{"assets over networks", "[[assets]]\nsymbol = \"ETH\"\n", "assets and [[networks]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Overlay([]byte(twoNetworks), []byte(tc.bundle))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// The commented [[networks]] example in configs/posd.toml is a working
// config once uncommented.
func TestExampleNetworksParse(t *testing.T) {
	b, err := os.ReadFile("../../configs/posd.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	start := slices.Index(lines, "# [[networks]]")
	if start < 0 {
		t.Fatal("no commented [[networks]] example in configs/posd.toml")
	}
	var example strings.Builder
	for _, l := range lines[start:] {
		if !strings.HasPrefix(l, "#") {
			break
		}
		example.WriteString(strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ") + "\n")
	}
	head, _, _ := strings.Cut(twoNetworks, "[relay]")
	// The example pegs USDC, which prices it in terminal.currency.
	head = strings.Replace(head, `data_dir = "/tmp/x"`, `data_dir = "/tmp/x"`+"\ncurrency = \"USD\"", 1)
	c, err := Parse([]byte(head + example.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Networks) != 2 || c.Networks[0].Name != "base" || c.Networks[1].ChainID != 42161 {
		t.Fatalf("networks %+v", c.Networks)
	}
	for _, n := range c.Networks {
		if u, ok := n.Asset("USDC"); !ok || !u.Authorizes() || u.DomainName != "USD Coin" || u.DomainVersion != "2" {
			t.Errorf("%s USDC %+v", n.Name, u)
		}
	}
}

// Config.Asset finds an asset a later network takes alone (the amounts
// of its unmatched receipts and payments are shown by it).
func TestAssetOfALaterNetwork(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(twoNetworks, "[[networks.assets]]\nsymbol = \"USDC\"\ntoken = \"0xaf88",
		"[[networks.assets]]\nsymbol = \"DAI\"\ntoken = \"0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1\"\ndecimals = 18\n\n[[networks.assets]]\nsymbol = \"USDC\"\ntoken = \"0xaf88", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := c.Asset("dai"); !ok || a.Decimals != 18 {
		t.Errorf("Asset(dai) = %+v, %v: want arbitrum's DAI", a, ok)
	}
	if a, ok := c.Asset("USDC"); !ok || a.Token != common.HexToAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913") {
		t.Errorf("Asset(USDC) = %+v: want the default network's", a)
	}
}
