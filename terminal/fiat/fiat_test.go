package fiat

import (
	"errors"
	"math/big"
	oldrand "math/rand"
	"math/rand/v2"
	"testing"
	"time"
)

func TestCurrenciesHaveTheirISOMinorUnits(t *testing.T) {
	for code, minor := range map[string]uint8{
		"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "SEK": 2, "NOK": 2,
		"DKK": 2, "PLN": 2, "CZK": 2, "CAD": 2, "AUD": 2,
	} {
		c, err := Lookup(code)
		if err != nil || c.Minor != minor || c.Code != code {
			t.Errorf("Lookup(%s) = %+v, %v; want minor %d", code, c, err, minor)
		}
	}
	for _, bad := range []string{"", "eur", "EURO", "XXX", "BTC"} {
		if _, err := Lookup(bad); !errors.Is(err, ErrCurrency) {
			t.Errorf("Lookup(%q) = %v, want ErrCurrency", bad, err)
		}
	}
}

func TestParseTakesAKeyedAmountInMinorUnits(t *testing.T) {
	eur, _ := Lookup("EUR")
	jpy, _ := Lookup("JPY")
	for _, tc := range []struct {
		c    Currency
		in   string
		want int64 // 0: refused
	}{
		{eur, "4.50", 450}, {eur, "4.5", 450}, {eur, "4", 400}, {eur, "0.01", 1},
		{eur, "1000000000", 100_000_000_000}, {jpy, "1200", 1200},
		{eur, "4.505", 0}, {jpy, "12.5", 0}, {eur, "0", 0}, {eur, "0.00", 0},
		{eur, "-1", 0}, {eur, "", 0}, {eur, "4,50", 0}, {eur, "1e3", 0},
		{eur, "1000000000.01", 0}, {eur, "99999999999999999999999999999999999", 0},
	} {
		got, err := tc.c.Parse(tc.in)
		if tc.want == 0 {
			if !errors.Is(err, ErrAmount) {
				t.Errorf("%s Parse(%q) = %v, %v; want ErrAmount", tc.c, tc.in, got, err)
			}
			continue
		}
		if err != nil || got.Int64() != tc.want {
			t.Errorf("%s Parse(%q) = %v, %v; want %d", tc.c, tc.in, got, err, tc.want)
		}
		if back, err := tc.c.Parse(tc.c.Format(got)); err != nil || back.Cmp(got) != 0 {
			t.Errorf("%s Format(%v) = %q does not parse back: %v", tc.c, got, tc.c.Format(got), err)
		}
	}
	if got := eur.Format(big.NewInt(5)); got != "0.05" {
		t.Errorf("Format(5 cents) = %q, want 0.05", got)
	}
}

func ethUSD() Rate {
	return Rate{Answer: big.NewInt(345678901234), Decimals: 8, Currency: "USD", Source: "chainlink:0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419", At: time.Unix(1741964966, 0).UTC()}
}

func TestToBaseExamples(t *testing.T) {
	usd, _ := Lookup("USD")
	jpy, _ := Lookup("JPY")
	peg := Rate{Answer: big.NewInt(1), Decimals: 0, Currency: "USD", Source: "peg"}
	for _, tc := range []struct {
		name     string
		minor    int64
		c        Currency
		r        Rate
		decimals uint8
		want     string
	}{
		// 4.50 USD at 3456.78901234 USD/ETH = 0.0013017861327191...ETH, rounded up to the wei.
		{"ETH at a feed rate rounds up to the wei", 450, usd, ethUSD(), 18, "1301786132719110"},
		{"a pegged stablecoin is exact", 450, usd, peg, 6, "4500000"},
		{"a token of fewer decimals than the currency rounds up", 1, usd, peg, 0, "1"},
		{"yen have no minor unit", 1200, jpy, Rate{Answer: big.NewInt(150), Currency: "JPY", Source: "peg"}, 6, "8000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ToBase(big.NewInt(tc.minor), tc.c, tc.r, tc.decimals); got.String() != tc.want {
				t.Errorf("ToBase = %s, want %s", got, tc.want)
			}
		})
	}
}

// The promise of ToBase, on random inputs: the payer pays at least the
// fiat amount at the rate (never the merchant short) and less than one
// base unit more; exact conversions are not rounded at all.
func TestToBaseRoundsInTheMerchantsFavourByLessThanOneUnit(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 4))
	old := oldrand.New(oldrand.NewSource(16))
	codes := []string{"EUR", "USD", "JPY", "GBP", "CHF"}
	for i := range 20000 {
		c, _ := Lookup(codes[rng.IntN(len(codes))])
		minor := new(big.Int).Rand(old, c.max())
		minor.Add(minor, big.NewInt(1))
		answer := new(big.Int).Rand(old, new(big.Int).Lsh(big.NewInt(1), uint(1+rng.IntN(120))))
		answer.Add(answer, big.NewInt(1))
		r := Rate{Answer: answer, Decimals: uint8(rng.IntN(19)), Currency: c.Code, Source: "peg"}
		d := uint8(rng.IntN(25))
		b := ToBase(minor, c, r, d)
		// exact = minor×10^d×10^r / (answer×10^minor); check b-1 < exact ≤ b
		// as (b-1)×den < num ≤ b×den.
		num := new(big.Int).Mul(minor, pow10(d))
		num.Mul(num, pow10(r.Decimals))
		den := new(big.Int).Mul(answer, pow10(c.Minor))
		hi := new(big.Int).Mul(b, den)
		lo := new(big.Int).Sub(hi, den)
		if num.Cmp(hi) > 0 || num.Cmp(lo) <= 0 {
			t.Fatalf("case %d: ToBase(%s %s, rate %s, %d decimals) = %s is not the exact value rounded up", i, c.Format(minor), c, r.Price(), d, b)
		}
		if new(big.Int).Mod(num, den).Sign() == 0 && hi.Cmp(num) != 0 {
			t.Fatalf("case %d: exact conversion rounded", i)
		}
		// FromBase of the result gives back at least the keyed amount.
		if back := FromBase(b, c, r, d); back.Cmp(minor) < 0 {
			t.Fatalf("case %d: FromBase(ToBase(%s)) = %s, below what was keyed", i, minor, back)
		}
	}
}

func TestPriceIsExactAndReadsBack(t *testing.T) {
	for _, tc := range []struct {
		answer   int64
		decimals uint8
		want     string
	}{{345678901234, 8, "3456.78901234"}, {100000000, 8, "1.00000000"}, {1, 0, "1"}, {5, 3, "0.005"}} {
		r := Rate{Answer: big.NewInt(tc.answer), Decimals: tc.decimals}
		if got := r.Price(); got != tc.want {
			t.Errorf("Price(%d, %d) = %q, want %q", tc.answer, tc.decimals, got, tc.want)
		}
		a, d, err := ParsePrice(tc.want)
		if err != nil || a.Int64() != tc.answer || d != tc.decimals {
			t.Errorf("ParsePrice(%q) = %v, %d, %v", tc.want, a, d, err)
		}
	}
	for _, bad := range []string{"", ".5", "1.", "01.5", "1,5", "-1", "1e5", "1.2.3"} {
		if _, _, err := ParsePrice(bad); !errors.Is(err, ErrRate) {
			t.Errorf("ParsePrice(%q) = %v, want ErrRate", bad, err)
		}
	}
}

func TestRateValidate(t *testing.T) {
	if err := ethUSD().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Rate){
		"zero answer":        func(r *Rate) { r.Answer = new(big.Int) },
		"negative answer":    func(r *Rate) { r.Answer = big.NewInt(-1) },
		"no answer":          func(r *Rate) { r.Answer = nil },
		"too many decimals":  func(r *Rate) { r.Decimals = 37 },
		"unknown currency":   func(r *Rate) { r.Currency = "XYZ" },
		"no source":          func(r *Rate) { r.Source = "" },
		"source with spaces": func(r *Rate) { r.Source = "a feed" },
	} {
		r := ethUSD()
		change(&r)
		if err := r.Validate(); !errors.Is(err, ErrRate) {
			t.Errorf("%s: Validate = %v, want ErrRate", name, err)
		}
	}
}

func TestTipRoundsHalfUp(t *testing.T) {
	for _, tc := range []struct {
		amount  int64
		percent uint
		want    int64
	}{{450, 10, 45}, {450, 15, 68}, {450, 20, 90}, {333, 15, 50}, {1, 10, 0}, {5, 10, 1}, {450, 0, 0}} {
		if got := Tip(big.NewInt(tc.amount), tc.percent); got.Int64() != tc.want {
			t.Errorf("Tip(%d, %d%%) = %s, want %d", tc.amount, tc.percent, got, tc.want)
		}
	}
}
