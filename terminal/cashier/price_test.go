package cashier_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/config/configtest"
	"showpos/terminal/fiat"
	"showpos/terminal/request"
	"showpos/terminal/screen"
)

// fixedRates is a rate source that knows the rates it is given and
// answers every other asset with an error (as a stale feed would).
type fixedRates map[string]fiat.Rate

func (f fixedRates) Rate(symbol string) (fiat.Rate, error) {
	r, ok := f[symbol]
	if !ok {
		return fiat.Rate{}, fmt.Errorf("no rate of %s younger than max_rate_age", symbol)
	}
	return r, nil
}

const inEUR = cfgText + `currency = "EUR"
`

func eur(t *testing.T) fiat.Currency {
	c, err := fiat.Lookup("EUR")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func withTips(c fiat.Currency) func(*cashier.Options) {
	return func(o *cashier.Options) { o.Currency, o.Tips = c, []uint{10, 15, 20} }
}

// madeRequest waits for the request on screen and returns it.
func (s *shop) madeRequest() *request.Document {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if doc, err := s.till.Request(""); err == nil {
			return doc
		}
		if time.Now().After(deadline) {
			s.t.Fatal("no request was made")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The cashier keys 4.50 in euros (the default when the asset has a rate),
// sees what it comes to in ETH, presses OK; the payer's tip screen offers
// 10, 15 and 20 %; Cancel goes back to the amount, OK again and 2 takes
// 15 %: the request asks 5.18 EUR in ETH with a 0.68 EUR tip, signed.
func TestKeyedInEurosWithATip(t *testing.T) {
	rates := fixedRates{"ETH": {Answer: big.NewInt(250000000000), Decimals: 8, Currency: "EUR", Source: "peg", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	s := openShopRates(t, inEUR, rates, withTips(eur(t)))
	s.press("4", ".", "5")
	amount := screen.Amount{Entry: "4.5", Asset: "EUR", Quote: "≈ 0.0018 ETH", Hint: "OK to charge, F1 asset, F3 ETH"}
	s.waitScreen(s.screens.Amount(amount))
	tip := screen.Tip{Amount: "EUR 4.50", Options: []screen.TipOption{{Percent: 10, Tip: "0.45"}, {Percent: 15, Tip: "0.68"}, {Percent: 20, Tip: "0.90"}}, Hint: "Cancel back"}
	s.press("enter")
	s.waitScreen(s.screens.Tip(tip))
	s.press("cancel")
	s.waitScreen(s.screens.Amount(amount))
	s.press("enter")
	s.waitScreen(s.screens.Tip(tip))
	s.press("2")
	doc := s.madeRequest()
	if _, err := doc.Verify(); err != nil {
		t.Fatal(err)
	}
	e := eur(t)
	if doc.Fiat == nil || e.Format(doc.Fiat.Amount) != "5.18" || e.Format(doc.Fiat.Tip) != "0.68" || doc.Asset.Symbol != "ETH" {
		t.Fatalf("request %s %s, fiat %+v", doc.AmountDisplay, doc.Asset.Symbol, doc.Fiat)
	}
	// 5.18 EUR at 2500 EUR/ETH = 0.002072 ETH, plus the uniqueness tail.
	if d := new(big.Int).Sub(doc.Amount, big.NewInt(2072000000000000)); d.Sign() < 0 || d.Cmp(big.NewInt(1000)) >= 0 {
		t.Errorf("amount %s wei, want 0.002072 ETH", doc.Amount)
	}
	if doc.Tip == nil || doc.Tip.String() != "272000000000000" {
		t.Errorf("tip %v wei, want 0.000272 ETH", doc.Tip)
	}
}

// Without a rate the amount screen says so and takes the amount in the
// asset; F3 does not switch to euros. 0 on the tip screen is no tip.
func TestNoRateKeysTheAsset(t *testing.T) {
	s := openShopRates(t, inEUR, fixedRates{}, withTips(eur(t)))
	s.press("1")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "1", Asset: "ETH", Quote: "no rate: key ETH", Hint: "OK to charge, F1 asset, F3 EUR"}))
	s.press("F3", ".", "5")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "1.5", Asset: "ETH", Quote: "no rate: key ETH", Hint: "OK to charge, F1 asset, F3 EUR"}))
	s.press("enter")
	s.waitScreen(s.screens.Tip(screen.Tip{Amount: "ETH 1.5", Options: []screen.TipOption{{Percent: 10, Tip: "0.15"}, {Percent: 15, Tip: "0.225"}, {Percent: 20, Tip: "0.3"}}, Hint: "Cancel back"}))
	s.press("0")
	doc := s.madeRequest()
	if doc.AmountDisplay != "1.5" || doc.Asset.Symbol != "ETH" || doc.Fiat != nil || doc.Tip != nil {
		t.Errorf("request %s %s, fiat %+v, tip %v; want 1.5 ETH, no price, no tip", doc.AmountDisplay, doc.Asset.Symbol, doc.Fiat, doc.Tip)
	}
}

// F3 switches a euro amount to the asset, keeping the digits.
func TestF3SwitchesToTheAsset(t *testing.T) {
	rates := fixedRates{"ETH": {Answer: big.NewInt(250000000000), Decimals: 8, Currency: "EUR", Source: "peg", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	s := openShopRates(t, inEUR, rates, func(o *cashier.Options) { o.Currency = eur(t) })
	s.press("2", "F3")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "2", Asset: "ETH", Hint: "OK to charge, F1 asset, F3 EUR"}))
	doc := s.charge()
	if doc.AmountDisplay != "2" || doc.Fiat != nil {
		t.Errorf("request %s %s fiat %+v, want 2 ETH", doc.AmountDisplay, doc.Asset.Symbol, doc.Fiat)
	}
}

// A fleet bundle that sets the shop's currency reaches the keypad at once:
// the next amount is keyed in euros.
func TestReconfigureSetsTheShopsCurrency(t *testing.T) {
	rates := fixedRates{"ETH": {Answer: big.NewInt(250000000000), Decimals: 8, Currency: "EUR", Source: "peg", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	s := openShopRates(t, inEUR, rates, nil) // the keypad not told of a currency yet
	s.press("4", ".", "5")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "4.5", Asset: "ETH", Hint: "OK to charge, F1 asset"}))
	s.press("cancel")
	var assets []asset.Asset
	for _, a := range configtest.New(t, inEUR).Assets {
		assets = append(assets, a.Asset)
	}
	s.c.Reconfigure(context.Background(), cashier.Setup{Merchant: "Test Shop", Assets: assets, Currency: eur(t)})
	s.press("4", ".", "5")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "4.5", Asset: "EUR", Quote: "≈ 0.0018 ETH", Hint: "OK to charge, F1 asset, F3 ETH"}))
}
