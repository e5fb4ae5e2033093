package fiat

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Rate is the price of ONE whole unit of an asset in a currency, in the
// form a Chainlink feed answers: Answer / 10^Decimals.
type Rate struct {
	Answer   *big.Int  // > 0
	Decimals uint8     // ≤ MaxRateDecimals
	Currency string    // ISO 4217 code
	Source   string    // where it came from: "chainlink:0x…" or "peg"
	At       time.Time // when the rate was true (a feed's updatedAt)
}

// Bounds on a rate, so the arithmetic stays small and a signed request
// stays short.
const (
	MaxRateDecimals = 36
	MaxSourceLength = 80 // bytes of printable ASCII
)

// Validate checks r: Answer above zero and below 2^256, at most
// MaxRateDecimals decimals, a known currency, a source of 1 to
// MaxSourceLength printable ASCII bytes. Errors wrap ErrRate (or
// ErrCurrency).
func (r Rate) Validate() error {
	if r.Answer == nil || r.Answer.Sign() <= 0 {
		return fmt.Errorf("%w: answer %v, want above zero", ErrRate, r.Answer)
	}
	if r.Answer.BitLen() > 256 {
		return fmt.Errorf("%w: answer above 2^256-1", ErrRate)
	}
	if r.Decimals > MaxRateDecimals {
		return fmt.Errorf("%w: %d decimals, at most %d", ErrRate, r.Decimals, MaxRateDecimals)
	}
	if _, err := Lookup(r.Currency); err != nil {
		return fmt.Errorf("%w: %w", ErrRate, err)
	}
	if r.Source == "" || len(r.Source) > MaxSourceLength {
		return fmt.Errorf("%w: source %q, want 1 to %d bytes", ErrRate, clip(r.Source), MaxSourceLength)
	}
	for i := 0; i < len(r.Source); i++ {
		if c := r.Source[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("%w: source %q: byte %d is not printable ASCII", ErrRate, clip(r.Source), i)
		}
	}
	return nil
}

// Price writes the rate as an exact decimal with exactly Decimals digits
// after the point ("3456.78901234" for Answer 345678901234 at 8), so
// ParsePrice gives back the same Answer and Decimals. It is what a
// request signs.
func (r Rate) Price() string {
	return Currency{Minor: r.Decimals}.Format(r.Answer)
}

// ParsePrice reads what Price writes: digits, and if a point, at least one
// digit after it; the number of digits after the point is the decimals.
func ParsePrice(s string) (answer *big.Int, decimals uint8, err error) {
	whole, frac, point := strings.Cut(s, ".")
	if whole == "" || len(s) > 120 || strings.Trim(whole+frac, "0123456789") != "" || (point && frac == "") ||
		(len(whole) > 1 && whole[0] == '0') || len(frac) > MaxRateDecimals {
		return nil, 0, fmt.Errorf("%w: price %q is not a decimal like 3456.78901234", ErrRate, clip(s))
	}
	answer, _ = new(big.Int).SetString(whole+frac, 10)
	return answer, uint8(len(frac)), nil
}

// ToBase converts minor units of currency c into base units of an asset of
// assetDecimals decimals at rate r, rounding up (see the package
// documentation): the result b satisfies
//
//	b - 1 < minor × 10^assetDecimals × 10^r.Decimals / (r.Answer × 10^c.Minor) ≤ b
//
// r must be valid (Validate) and in c.
func ToBase(minor *big.Int, c Currency, r Rate, assetDecimals uint8) *big.Int {
	num := new(big.Int).Mul(minor, pow10(assetDecimals))
	num.Mul(num, pow10(r.Decimals))
	den := new(big.Int).Mul(r.Answer, pow10(c.Minor))
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// FromBase converts base units into minor units of c at r, rounded down:
// the fiat worth of an amount, for display beside it ("≈").
func FromBase(base *big.Int, c Currency, r Rate, assetDecimals uint8) *big.Int {
	num := new(big.Int).Mul(base, r.Answer)
	num.Mul(num, pow10(c.Minor))
	den := new(big.Int).Mul(pow10(assetDecimals), pow10(r.Decimals))
	return num.Quo(num, den)
}

// MaxTipPercent bounds a tip percentage.
const MaxTipPercent = 100

// Tip returns percent % of amount (in whatever unit amount is in), rounded
// half up to that unit: 15 % of 4.50 EUR (450 cents) is 68 cents (67.5
// rounded up).
func Tip(amount *big.Int, percent uint) *big.Int {
	t := new(big.Int).Mul(amount, big.NewInt(int64(percent)))
	t.Add(t, big.NewInt(50))
	return t.Quo(t, big.NewInt(100))
}
