package fiat

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"showpos/terminal/asset"
)

// Errors; every refusal wraps one of them.
var (
	ErrCurrency = errors.New("unknown currency")
	ErrAmount   = errors.New("invalid fiat amount")
	ErrRate     = errors.New("invalid rate")
)

// Currency is an ISO 4217 currency: its three-letter code and how many
// digits its minor unit has (EUR 2: cents; JPY 0).
type Currency struct {
	Code  string
	Minor uint8
}

// currencies are the ones a terminal may be configured with, with their
// minor units as ISO 4217 lists them.
var currencies = map[string]uint8{
	"AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2,
	"EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "INR": 2, "ISK": 0, "JPY": 0,
	"KRW": 0, "MXN": 2, "NOK": 2, "NZD": 2, "PLN": 2, "RON": 2, "SEK": 2,
	"SGD": 2, "TRY": 2, "USD": 2, "ZAR": 2,
}

// Lookup returns the currency of an ISO 4217 code ("EUR"), upper case.
func Lookup(code string) (Currency, error) {
	minor, ok := currencies[code]
	if !ok {
		return Currency{}, fmt.Errorf("%w: %q; want an ISO 4217 code such as EUR, USD, GBP, CHF or JPY", ErrCurrency, clip(code))
	}
	return Currency{Code: code, Minor: minor}, nil
}

// MaxMajor bounds a fiat amount: at most this many whole units of the
// currency (a terminal takes payments at a counter, not house sales).
const MaxMajor = 1_000_000_000

// Parse reads an amount keyed in c ("4.50", "4.5", "4"): digits and at most
// one '.', no more decimals than c's minor unit has, above zero and at most
// MaxMajor whole units. It returns minor units (450). Errors wrap ErrAmount.
func (c Currency) Parse(s string) (*big.Int, error) {
	if len(s) > 32 {
		return nil, fmt.Errorf("%w: %q is %d characters, at most 32", ErrAmount, clip(s), len(s))
	}
	m, err := asset.ParseAmount(s, c.Minor)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %w", ErrAmount, c.Code, err)
	}
	if m.Sign() <= 0 {
		return nil, fmt.Errorf("%w: %s %s; an amount must be above zero", ErrAmount, c.Code, s)
	}
	if m.Cmp(c.max()) > 0 {
		return nil, fmt.Errorf("%w: %s %s is above %d %s", ErrAmount, c.Code, s, MaxMajor, c.Code)
	}
	return m, nil
}

// Valid reports whether minor is an amount Parse could return.
func (c Currency) Valid(minor *big.Int) bool {
	return minor != nil && minor.Sign() > 0 && minor.Cmp(c.max()) <= 0
}

func (c Currency) max() *big.Int {
	return new(big.Int).Mul(big.NewInt(MaxMajor), pow10(c.Minor))
}

// Format writes minor units with exactly c.Minor decimals: "4.50", "1200"
// for JPY. Parse reads it back. A nil amount is "0".
func (c Currency) Format(minor *big.Int) string {
	if minor == nil {
		minor = new(big.Int)
	}
	digits := new(big.Int).Abs(minor).String()
	sign := ""
	if minor.Sign() < 0 {
		sign = "-"
	}
	d := int(c.Minor)
	if d == 0 {
		return sign + digits
	}
	if len(digits) <= d {
		digits = strings.Repeat("0", d-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-d] + "." + digits[len(digits)-d:]
}

// String is the code.
func (c Currency) String() string { return c.Code }

func pow10(n uint8) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
