package config

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// priced is good with a shop currency, ETH priced by a feed and TUSD
// pegged.
var priced = strings.NewReplacer(
	`request_ttl = "90s"`, `request_ttl = "90s"`+"\ncurrency = \"EUR\"",
	`max_payment = "0.5"`, `max_payment = "0.5"`+"\nprice_feed = \"0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0\"\nprice_heartbeat = \"1h\"",
	`max_unsettled = "2000.25"`, `max_unsettled = "2000.25"`+"\npeg = \"0.86\"",
).Replace(good)

func TestParsePriceSources(t *testing.T) {
	c, err := Parse([]byte(priced))
	if err != nil {
		t.Fatal(err)
	}
	if c.Terminal.Currency != "EUR" {
		t.Errorf("currency %q", c.Terminal.Currency)
	}
	eth, _ := c.Asset("ETH")
	if p := eth.Price; !p.Priced() || p.Feed != common.HexToAddress("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0") ||
		p.Heartbeat != time.Hour || p.MaxRateAge != time.Hour+DefaultRateGrace || p.Peg != "" {
		t.Errorf("ETH price %+v: want the feed, 1h heartbeat, max_rate_age 1h15m by default", p)
	}
	tusd, _ := c.Asset("TUSD")
	if p := tusd.Price; !p.Priced() || p.Feed != (common.Address{}) || p.Peg != "0.86" || p.PegAnswer.Cmp(big.NewInt(86)) != 0 || p.PegDecimals != 2 {
		t.Errorf("TUSD price %+v: want the peg 86 / 10^2", p)
	}
	c, err = Parse([]byte(strings.Replace(priced, `price_heartbeat = "1h"`, `price_heartbeat = "1h"`+"\nmax_rate_age = \"3h\"", 1)))
	if a, _ := c.Asset("ETH"); err != nil || a.Price.MaxRateAge != 3*time.Hour {
		t.Errorf("max_rate_age = 3h: %v", err)
	}
	// Without the keys nothing is priced, and no currency is needed.
	c, err = Parse([]byte(good))
	if err != nil || c.Terminal.Currency != "" {
		t.Fatalf("no currency: %v", err)
	}
	for _, a := range c.Assets {
		if a.Price.Priced() {
			t.Errorf("%s priced without price keys: %+v", a.Symbol, a.Price)
		}
	}
}

func TestParseRefusesBadPriceSources(t *testing.T) {
	for _, tc := range []struct {
		name      string
		from, to  string // replace in priced
		wantInErr string
	}{
		{"peg without currency", priced, strings.Replace(good, `max_unsettled = "2000.25"`, `max_unsettled = "2000.25"`+"\npeg = \"1\"", 1),
			"assets[1] (TUSD): price_feed and peg price the asset in terminal.currency, which is not set"},
		{"currency not ISO 4217", `currency = "EUR"`, `currency = "EUX"`, `terminal.currency "EUX" is not an ISO 4217`},
		{"currency in lower case", `currency = "EUR"`, `currency = "eur"`, `terminal.currency "eur"`},
		{"currency a fund code", `currency = "EUR"`, `currency = "USN"`, `terminal.currency "USN"`},
		{"currency gold", `currency = "EUR"`, `currency = "XAU"`, `terminal.currency "XAU"`},
		{"feed without currency", `currency = "EUR"`, ``, "assets[0] (ETH): price_feed and peg price the asset in terminal.currency, which is not set"},
		{"feed and peg", `peg = "0.86"`, `peg = "0.86"` + "\nprice_feed = \"0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9\"", "price_feed and peg exclude each other"},
		{"feed not an address", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "eth-usd.data.eth", "price_feed \"eth-usd.data.eth\" is not an address"},
		{"feed the zero address", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "0x0000000000000000000000000000000000000000", "price_feed is the zero address"},
		{"feed without heartbeat", "\nprice_heartbeat = \"1h\"", "", "price_heartbeat 0s"},
		{"heartbeat too short", `price_heartbeat = "1h"`, `price_heartbeat = "1s"`, "price_heartbeat 1s"},
		{"heartbeat too long", `price_heartbeat = "1h"`, `price_heartbeat = "169h"`, "price_heartbeat 169h"},
		{"max rate age below the heartbeat", `price_heartbeat = "1h"`, `price_heartbeat = "1h"` + "\nmax_rate_age = \"15m\"", "max_rate_age 15m0s: want from price_heartbeat (1h0m0s"},
		{"max rate age too long", `price_heartbeat = "1h"`, `price_heartbeat = "1h"` + "\nmax_rate_age = \"337h\"", "max_rate_age 337h"},
		{"heartbeat without feed", `peg = "0.86"`, `peg = "0.86"` + "\nprice_heartbeat = \"1h\"", "assets[1] (TUSD): price_heartbeat and max_rate_age are for a price_feed"},
		{"max rate age without feed", `peg = "0.86"`, `peg = "0.86"` + "\nmax_rate_age = \"1h\"", "are for a price_feed"},
		{"peg zero", `peg = "0.86"`, `peg = "0"`, `peg "0" is not a positive decimal`},
		{"peg zero with decimals", `peg = "0.86"`, `peg = "0.000"`, `peg "0.000" is not a positive decimal`},
		{"peg negative", `peg = "0.86"`, `peg = "-1"`, `peg "-1" is not a positive decimal`},
		{"peg with a sign", `peg = "0.86"`, `peg = "+1"`, `peg "+1"`},
		{"peg exponent", `peg = "0.86"`, `peg = "1e0"`, `peg "1e0"`},
		{"peg empty fraction", `peg = "0.86"`, `peg = "1."`, `peg "1."`},
		{"peg no whole part", `peg = "0.86"`, `peg = ".5"`, `peg ".5"`},
		{"peg two points", `peg = "0.86"`, `peg = "1.2.3"`, `peg "1.2.3"`},
		{"peg comma", `peg = "0.86"`, `peg = "0,86"`, `peg "0,86"`},
		{"peg too precise", `peg = "0.86"`, `peg = "0.1234567890123456789"`, `peg "0.1234567890123456789"`},
		{"peg a number", `peg = "0.86"`, `peg = 1`, "peg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(priced, tc.from, tc.to, 1)
			if text == priced {
				t.Fatalf("%q is not in the config", tc.from)
			}
			_, err := Parse([]byte(text))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.wantInErr)
			}
		})
	}
}

// A fleet bundle may set terminal.currency and the assets' price keys (the
// assets are live): the terminal takes them without a restart.
func TestBundleSetsCurrencyAndPrices(t *testing.T) {
	bundle := "[terminal]\ncurrency = \"USD\"\n[[assets]]\nsymbol = \"ETH\"\nprice_feed = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\nprice_heartbeat = \"1h\"\n"
	if err := CheckBundleKeys([]byte(bundle)); err != nil {
		t.Fatalf("a bundle setting the currency and a feed: %v", err)
	}
	c, err := Overlay([]byte(good), []byte(bundle))
	if err != nil {
		t.Fatal(err)
	}
	if eth, _ := c.Asset("ETH"); c.Terminal.Currency != "USD" || eth.Price.Feed != common.HexToAddress("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512") {
		t.Fatalf("currency %q, ETH price %+v", c.Terminal.Currency, eth.Price)
	}
	running, _ := Parse([]byte(good))
	if changed := c.KeepRestartOnly(running); len(changed) != 0 || c.Terminal.Currency != "USD" {
		t.Fatalf("KeepRestartOnly: changed %v, currency %q: want the currency kept live", changed, c.Terminal.Currency)
	}
}
