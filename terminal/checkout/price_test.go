package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/fiat"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// fixedRates is a rate source that knows the rates it is given, and
// answers every other asset with an error (as a stale feed would).
type fixedRates map[string]fiat.Rate

func (f fixedRates) Rate(symbol string) (fiat.Rate, error) {
	r, ok := f[symbol]
	if !ok {
		return fiat.Rate{}, fmt.Errorf("no rate of %s younger than max_rate_age", symbol)
	}
	return r, nil
}

// inEUR is the fixture with the shop's currency set to EUR.
const inEUR = `
[terminal]
id = "unit-till"
currency = "EUR"
`

var rateAt = time.Date(2026, 11, 23, 11, 59, 0, 0, time.UTC)

func eurRates() fixedRates {
	return fixedRates{
		// 2500.12345678 EUR per ETH, 0.92 EUR per TUSD.
		"ETH":  {Answer: big.NewInt(250012345678), Decimals: 8, Currency: "EUR", Source: "chainlink:0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419", At: rateAt},
		"TUSD": {Answer: big.NewInt(92), Decimals: 2, Currency: "EUR", Source: "peg", At: rateAt},
	}
}

func newPricedTill(t *testing.T, cfgText string, rates checkout.Rates) (*checkout.Service, *store.Store, *clocktest.Fake) {
	t.Helper()
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	key, _ := crypto.GenerateKey()
	return checkout.New(checkout.Options{Config: configtest.New(t, cfgText), Key: key, Store: st, Clock: now, Rates: rates}), st, now
}

func TestAmountKeyedInTheShopsCurrencyIsConvertedAndSigned(t *testing.T) {
	till, _, _ := newPricedTill(t, inEUR, eurRates())
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		order      checkout.Order
		wantAmount string // base units, before any uniqueness tail
		wantTip    string // base units, "" none
		fiatTotal  string
		fiatTip    string
	}{
		// 4.50 EUR / 2500.12345678 EUR per ETH, rounded up to the wei (checked with
		// Python's fractions.Fraction: ceil(450e26 / 25001234567800)).
		{"ETH without tip", checkout.Order{Fiat: "4.50", Symbol: "ETH"}, "1799911115507758", "", "4.50", ""},
		// 4.50 + 15 % (0.675, half up: 0.68) = 5.18 EUR.
		{"ETH with 15 %", checkout.Order{Fiat: "4.50", Symbol: "ETH", TipPercent: 15}, "2071897684073374", "271986568565617", "5.18", "0.68"},
		// TUSD at 0.92: 4.60 EUR = 5 TUSD exactly; tip 0.46 EUR = 0.5 TUSD.
		{"TUSD with a tip amount", checkout.Order{Fiat: "4.60", Symbol: "TUSD", Tip: "0.46"}, "5500000", "500000", "5.06", "0.46"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := till.Make(ctx, tc.order)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := doc.Verify(); err != nil {
				t.Fatalf("the request does not verify: %v", err)
			}
			want, _ := new(big.Int).SetString(tc.wantAmount, 10)
			if d := new(big.Int).Sub(doc.Amount, want); d.Sign() < 0 || d.Cmp(checkout.Tail(doc.Asset.Decimals)) >= 0 {
				t.Errorf("amount %s, want %s plus less than its tail", doc.Amount, want)
			}
			if got := fmt.Sprint(doc.Tip); tc.wantTip != "" && got != tc.wantTip || tc.wantTip == "" && doc.Tip != nil {
				t.Errorf("tip %s, want %q", got, tc.wantTip)
			}
			eur, _ := fiat.Lookup("EUR")
			if doc.Fiat == nil || eur.Format(doc.Fiat.Amount) != tc.fiatTotal || doc.Fiat.Rate.Currency != "EUR" || !doc.Fiat.Rate.At.Equal(rateAt) {
				t.Fatalf("fiat %+v, want %s EUR at the rate of %s", doc.Fiat, tc.fiatTotal, rateAt)
			}
			if tc.fiatTip != "" && eur.Format(doc.Fiat.Tip) != tc.fiatTip {
				t.Errorf("fiat tip %s, want %s", eur.Format(doc.Fiat.Tip), tc.fiatTip)
			}
			// What the screen and the API read back is what was signed.
			again, err := till.Request(doc.ID)
			if err != nil || again.Fiat == nil || again.Fiat.Amount.Cmp(doc.Fiat.Amount) != 0 || fmt.Sprint(again.Tip) != fmt.Sprint(doc.Tip) {
				t.Errorf("read back: %+v, %v", again, err)
			}
		})
	}
}

func TestAmountKeyedInTheAssetTakesATip(t *testing.T) {
	till, _, _ := newPricedTill(t, inEUR, nil)
	doc, err := till.Make(context.Background(), checkout.Order{Amount: "10", Symbol: "TUSD", TipPercent: 10})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Amount.String() != "11000000" || doc.Tip.String() != "1000000" || doc.Fiat != nil {
		t.Errorf("amount %s tip %s fiat %+v; want 11 TUSD with a 1 TUSD tip, no fiat", doc.Amount, doc.Tip, doc.Fiat)
	}
}

// A refused order stores nothing and puts nothing on screen; each cause
// has its stable code.
func TestFiatOrdersRefusedWithTheirCodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   string
		rates checkout.Rates
		order checkout.Order
		code  check.Code
	}{
		{"no rate for the asset", inEUR, fixedRates{}, checkout.Order{Fiat: "4.50"}, checkout.CodeRateUnavailable},
		{"no rate source at all", inEUR, nil, checkout.Order{Fiat: "4.50"}, checkout.CodeRateUnavailable},
		{"a rate in another currency", inEUR, fixedRates{"ETH": {Answer: big.NewInt(1), Currency: "USD", Source: "peg"}}, checkout.Order{Fiat: "4.50"}, checkout.CodeRateUnavailable},
		{"a rate without a time", inEUR, fixedRates{"ETH": {Answer: big.NewInt(1), Currency: "EUR", Source: "peg"}}, checkout.Order{Fiat: "4.50"}, checkout.CodeRateUnavailable},
		{"a zero rate", inEUR, fixedRates{"ETH": {Answer: new(big.Int), Currency: "EUR", Source: "peg"}}, checkout.Order{Fiat: "4.50"}, checkout.CodeRateUnavailable},
		{"no shop currency", withToken, eurRates(), checkout.Order{Fiat: "4.50"}, checkout.CodeNoCurrency},
		{"more decimals than cents", inEUR, eurRates(), checkout.Order{Fiat: "4.505"}, checkout.CodeInvalidFiat},
		{"zero", inEUR, eurRates(), checkout.Order{Fiat: "0.00"}, checkout.CodeInvalidFiat},
		{"negative", inEUR, eurRates(), checkout.Order{Fiat: "-4.50"}, checkout.CodeInvalidFiat},
		{"above the bound", inEUR, eurRates(), checkout.Order{Fiat: "1000000000.01"}, checkout.CodeInvalidFiat},
		{"fiat and asset amounts both", inEUR, eurRates(), checkout.Order{Fiat: "4.50", Amount: "0.01"}, checkout.CodeInvalidFiat},
		{"tip amount and percentage both", inEUR, eurRates(), checkout.Order{Fiat: "4.50", Tip: "1", TipPercent: 10}, checkout.CodeInvalidTip},
		{"tip percentage above 100", inEUR, eurRates(), checkout.Order{Fiat: "4.50", TipPercent: 101}, checkout.CodeInvalidTip},
		{"tip with too many decimals", inEUR, eurRates(), checkout.Order{Fiat: "4.50", Tip: "0.001"}, checkout.CodeInvalidTip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			till, st, now := newPricedTill(t, tc.cfg, tc.rates)
			_, err := till.Make(context.Background(), tc.order)
			var r *check.Refusal
			if !errors.As(err, &r) || r.Code != tc.code {
				t.Fatalf("err = %v, want refusal %s", err, tc.code)
			}
			if _, err := till.Request(""); !errors.Is(err, checkout.ErrNoRequest) {
				t.Errorf("a refused order put something on screen: %v", err)
			}
			if free, ok, err := st.FreeAmount("ETH", big.NewInt(1), big.NewInt(1), now.Now()); err != nil || !ok || free.Int64() != 1 {
				t.Errorf("store: %v %v %v", free, ok, err)
			}
			if ps, err := st.Payments(store.PaymentFilter{}); err != nil || len(ps) != 0 {
				t.Errorf("payments stored: %v %v", ps, err)
			}
		})
	}
	// Without a rate, amounts keyed in the asset still work.
	till, _, _ := newPricedTill(t, inEUR, fixedRates{})
	if _, err := till.Make(context.Background(), checkout.Order{Amount: "0.01"}); err != nil {
		t.Errorf("an asset amount without a rate: %v", err)
	}
}

func TestQuoteIsWhatMakeAsks(t *testing.T) {
	till, _, _ := newPricedTill(t, inEUR, eurRates())
	q, err := till.Quote("4.60", "TUSD")
	if err != nil || q.String() != "5000000" {
		t.Errorf("Quote = %v, %v; want 5000000", q, err)
	}
	if _, err := newTill(t, inEUR, mustStore(t), clocktest.NewFake(time.Now())).Quote("4.60", "TUSD"); !isRefusal(err, checkout.CodeRateUnavailable) {
		t.Errorf("Quote without rates = %v", err)
	}
}

func mustStore(t *testing.T) *store.Store { s, _ := openStore(t); return s }

func TestTotalsSumTipsPerAssetAndFiatPerCurrency(t *testing.T) {
	till, _, _ := newPricedTill(t, inEUR, eurRates())
	ctx := context.Background()
	payer, _ := crypto.GenerateKey()
	var nonce uint64
	for _, o := range []checkout.Order{
		{Fiat: "4.60", Symbol: "TUSD", Tip: "0.46"},   // 5.06 EUR, 5.5 TUSD, tip 0.5 TUSD
		{Fiat: "9.20", Symbol: "TUSD"},                // 9.20 EUR, 10 TUSD
		{Amount: "2", Symbol: "TUSD", TipPercent: 10}, // 2.2 TUSD, tip 0.2 TUSD, no fiat
	} {
		doc, err := till.Make(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := paytx.Build(doc.Request(), payer, paytx.Options{Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		nonce++
		raw, _ := tx.MarshalBinary()
		if _, err := till.Pay(ctx, doc.ID, raw); err != nil {
			t.Fatal(err)
		}
	}
	got, err := till.Totals(checkout.Day(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assets) != 1 || got.Assets[0].Tips == nil || *got.Assets[0].Tips != (checkout.Sum{Count: 2, Amount: "700000", AmountDisplay: "0.7"}) {
		t.Errorf("asset totals: %+v", got.Assets)
	}
	want := []checkout.FiatTotal{{Currency: "EUR", Taken: checkout.FiatSum{Count: 2, Amount: "14.26"}, Tips: checkout.FiatSum{Count: 1, Amount: "0.46"}}}
	if fmt.Sprint(got.Fiat) != fmt.Sprint(want) {
		t.Errorf("fiat totals %+v, want %+v", got.Fiat, want)
	}
}

// A priced request's amount is the converted fiat amount plus the tail
// that makes it unique; request.Validate allows less than MaxFiatSlack
// above it, so every tail must fit in that.
func TestEveryTailFitsTheSignedSlack(t *testing.T) {
	for d := range 256 {
		if tail := checkout.Tail(uint8(d)); tail.Cmp(big.NewInt(request.MaxFiatSlack)) > 0 {
			t.Errorf("Tail(%d) = %s, above request.MaxFiatSlack %d", d, tail, request.MaxFiatSlack)
		}
	}
}
