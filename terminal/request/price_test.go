package request

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"showpos/terminal/fiat"
)

// priceInEUR prices goodParams' TUSD request at 4.95 EUR (0.45 tip) at
// 0.92 EUR per TUSD from a Chainlink feed.
func priceInEUR(p *Params) {
	r := fiat.Rate{Answer: big.NewInt(92_000_000), Decimals: 8, Currency: "EUR",
		Source: "chainlink:0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419", At: time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)}
	eur, _ := fiat.Lookup("EUR")
	p.Fiat = &Fiat{Amount: big.NewInt(495), Tip: big.NewInt(45), Rate: r}
	p.Amount = fiat.ToBase(p.Fiat.Amount, eur, r, p.Asset.Decimals)
	p.Tip = fiat.ToBase(p.Fiat.Tip, eur, r, p.Asset.Decimals)
}

// priceInJPY prices a request in ETH at 1200 JPY, at 18 decimals of rate.
func priceInJPY(p *Params) {
	r := fiat.Rate{Answer: bigString("512345678901234567890123"), Decimals: 18, Currency: "JPY", Source: "peg", At: time.Date(2025, 3, 14, 15, 9, 0, 0, time.UTC)}
	jpy, _ := fiat.Lookup("JPY")
	p.Asset = eth()
	p.Fiat = &Fiat{Amount: big.NewInt(1200), Rate: r}
	p.Amount = new(big.Int).Add(fiat.ToBase(p.Fiat.Amount, jpy, r, 18), big.NewInt(999)) // the till's uniqueness tail
}

func TestPricedRequestSignsItsPrice(t *testing.T) {
	p := goodParams()
	priceInEUR(&p)
	r := mustNew(t, p)
	td := r.TypedData()
	for k, want := range map[string]string{
		"amount": "5380435", "tip": "489131", "fiatCurrency": "EUR", "fiatAmount": "4.95", "fiatTip": "0.45",
		"rate": "0.92000000", "rateSource": "chainlink:0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419", "rateAt": "1741964400",
	} {
		if got := td.Message[k]; got != want {
			t.Errorf("typedData.message.%s = %v, want %q", k, got, want)
		}
	}
	if n := len(td.Types[PrimaryType]); n != 17 {
		t.Errorf("priced PaymentRequest has %d fields, want 17", n)
	}
	// Unpriced requests keep the schema of before: 10 fields.
	if n := len(mustNew(t, goodParams()).TypedData().Types[PrimaryType]); n != 10 {
		t.Errorf("unpriced PaymentRequest has %d fields, want 10", n)
	}
	d := mustDocument(t, r)
	if _, err := d.Verify(); err != nil {
		t.Fatal(err)
	}
	var w struct {
		Tip  string
		Fiat map[string]string
	}
	if err := json.Unmarshal(mustJSON(t, d), &w); err != nil {
		t.Fatal(err)
	}
	if w.Tip != "489131" || w.Fiat["currency"] != "EUR" || w.Fiat["amount"] != "4.95" || w.Fiat["tip"] != "0.45" ||
		w.Fiat["rate"] != "0.92000000" || w.Fiat["rateAt"] != "2025-03-14T15:00:00Z" {
		t.Errorf("JSON tip %q fiat %v", w.Tip, w.Fiat)
	}
}

func TestNewRefusesAPriceThatDisagrees(t *testing.T) {
	for name, change := range map[string]func(p *Params){
		"amount short of the converted fiat":   func(p *Params) { p.Amount.Sub(p.Amount, big.NewInt(1)) },
		"amount far above the converted fiat":  func(p *Params) { p.Amount.Add(p.Amount, big.NewInt(MaxFiatSlack)) },
		"tip in base units not the fiat tip's": func(p *Params) { p.Tip.Add(p.Tip, big.NewInt(1)) },
		"fiat tip without a tip in the asset":  func(p *Params) { p.Tip = nil },
		"tip not below the amount":             func(p *Params) { p.Fiat = nil; p.Tip = new(big.Int).Set(p.Amount) },
		"fiat tip not below the fiat amount":   func(p *Params) { p.Fiat.Tip = big.NewInt(495) },
		"fiat amount above the bound":          func(p *Params) { p.Fiat.Amount = big.NewInt(fiat.MaxMajor*100 + 1) },
		"unknown currency":                     func(p *Params) { p.Fiat.Rate.Currency = "XYZ" },
		"zero rate":                            func(p *Params) { p.Fiat.Rate.Answer = new(big.Int) },
		"no rate source":                       func(p *Params) { p.Fiat.Rate.Source = "" },
	} {
		t.Run(name, func(t *testing.T) {
			p := goodParams()
			priceInEUR(&p)
			change(&p)
			if _, err := New(p, nil); !errors.Is(err, ErrPrice) {
				t.Errorf("New = %v, want ErrPrice", err)
			}
		})
	}
}

// Requests stored before prices existed (compact version 1, and the JSON
// documents of older builds) still load, to the same bytes and JSON.
func TestStoredRequestsOfBeforePricesStillLoad(t *testing.T) {
	raw, err := os.ReadFile("testdata/compact-erc20.hex")
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseStored(b)
	if err != nil {
		t.Fatalf("ParseStored(version 1 of before prices): %v", err)
	}
	if d.Tip != nil || d.Fiat != nil {
		t.Errorf("an old request read back with a price: tip %v fiat %v", d.Tip, d.Fiat)
	}
	if _, err := d.Verify(); err != nil {
		t.Errorf("old request no longer verifies: %v", err)
	}
	if again := mustCompact(t, d); !bytes.Equal(again, b) {
		t.Errorf("an old request compacts to other bytes:\n%x\n%x", again, b)
	}
	for _, f := range []string{"testdata/document-erc20.json", "testdata/document-native.json"} {
		j, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseStored(bytes.TrimSpace(j))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := d.Verify(); err != nil {
			t.Errorf("%s no longer verifies: %v", f, err)
		}
	}
}

func TestPricedCompactIsVersion2AndUnpricedVersion1(t *testing.T) {
	for _, tc := range []struct {
		name  string
		price func(*Params)
		want  byte
	}{
		{"unpriced", func(*Params) {}, CompactVersion},
		{"fiat and tip", priceInEUR, CompactPricedVersion},
		{"tip only", func(p *Params) { p.Tip = big.NewInt(1) }, CompactPricedVersion},
	} {
		p := goodParams()
		tc.price(&p)
		if b := mustCompact(t, mustDocument(t, mustNew(t, p))); b[0] != tc.want {
			t.Errorf("%s: compact version %d, want %d", tc.name, b[0], tc.want)
		}
	}
	// A version 2 value without a price is not the one encoding: refused.
	b := mustCompact(t, mustDocument(t, mustNew(t, goodParams())))
	b[0] = CompactPricedVersion
	if _, err := ParseStored(append(b, 0)); !errors.Is(err, ErrDocument) {
		t.Errorf("version 2 without a price: %v, want ErrDocument", err)
	}
}

func TestEthersVerifiesPricedTypedData(t *testing.T) {
	dir := jsTools(t)
	p := goodParams()
	priceInEUR(&p)
	d := mustDocument(t, mustNew(t, p))
	var got struct{ Signer string }
	if err := json.Unmarshal(runJS(t, dir, mustJSON(t, d), "verify"), &got); err != nil {
		t.Fatal(err)
	}
	if got.Signer != testSigner {
		t.Errorf("ethers recovered %s, want %s", got.Signer, testSigner)
	}
	d.TypedData.Message["fiatAmount"] = "0.95"
	if err := json.Unmarshal(runJS(t, dir, mustJSON(t, d), "verify"), &got); err != nil {
		t.Fatal(err)
	}
	if got.Signer == testSigner {
		t.Error("ethers recovered the terminal address from a tampered fiat amount")
	}
}
