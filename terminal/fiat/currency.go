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

// currencies are the ISO 4217 codes terminal.currency may name, with each
// currency's minor units (digits after the decimal point): the active codes
// of Debian iso-codes 4.15.0 (iso_4217.json), without the fund codes (BOV,
// CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals, SDR and
// settlement units (XAG, XAU, XBA–XBD, XDR, XPD, XPT, XSU, XUA) and the
// testing and "no currency" codes XTS and XXX: a shop prices in none of
// them. Minor units are ISO 4217's (list one). TestCurrenciesAreISO4217
// checks the codes against the iso-codes file where it is installed.
var currencies = map[string]uint8{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
	"AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0,
	"BMD": 2, "BND": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2,
	"BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2,
	"CUC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2,
	"EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2,
	"GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2,
	"HRK": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2,
	"ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0,
	"KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2,
	"LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2,
	"MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2,
	"MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3,
	"PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2,
	"SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SLL": 2, "SOS": 2, "SRD": 2, "SSP": 2,
	"STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2, "TND": 3,
	"TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2,
	"UYU": 2, "UZS": 2, "VED": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0,
	"XCD": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWL": 2,
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
