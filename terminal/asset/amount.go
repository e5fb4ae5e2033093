package asset

import (
	"fmt"
	"math/big"
	"strings"
)

// MaxAmountLength bounds the input of ParseAmount, in bytes. The largest
// uint256 has 78 digits; 128 leaves room for a point and padding zeros while
// keeping a hostile input from costing big-number work.
const MaxAmountLength = 128

// ParseAmount converts a decimal string such as "12.5" into base units of an
// asset with the given decimals, exactly. The accepted forms and the refusals
// are described in the package documentation; every error wraps one of
// ErrEmpty, ErrNegative, ErrSyntax, ErrPrecision or ErrOverflow.
func ParseAmount(s string, decimals uint8) (*big.Int, error) {
	if s == "" {
		return nil, fmt.Errorf("parse amount: %w: enter a number such as 12.50", ErrEmpty)
	}
	if len(s) > MaxAmountLength {
		return nil, fmt.Errorf("parse amount %s: %w: %d characters, at most %d", quote(s), ErrSyntax, len(s), MaxAmountLength)
	}
	if s[0] == '-' {
		// Tell a negative number from garbage that starts with a minus.
		if _, _, err := split(s[1:]); err == nil {
			return nil, fmt.Errorf("parse amount %s: %w: an amount cannot be below zero", quote(s), ErrNegative)
		}
	}
	whole, frac, err := split(s)
	if err != nil {
		return nil, fmt.Errorf("parse amount %s: %w", quote(s), err)
	}
	// Zeros past the precision are exact; anything else there is not.
	kept := strings.TrimRight(frac, "0")
	if len(kept) > int(decimals) {
		return nil, fmt.Errorf("parse amount %s: %w: %d decimal places, at most %d", quote(s), ErrPrecision, len(kept), decimals)
	}
	// At most MaxAmountLength+255 digits: cheap to convert.
	digits := whole + kept + strings.Repeat("0", int(decimals)-len(kept))
	units, ok := new(big.Int).SetString("0"+digits, 10)
	if !ok {
		// split admitted only ASCII digits, so this cannot happen.
		return nil, fmt.Errorf("parse amount %s: %w", quote(s), ErrSyntax)
	}
	if units.BitLen() > 256 {
		return nil, fmt.Errorf("parse amount %s: %w: %d digits of base units at %d decimals, more than a uint256 holds (2^256-1)",
			quote(s), ErrOverflow, len(units.String()), decimals)
	}
	return units, nil
}

// split checks that s is digits with at most one interior or leading point and
// returns the parts before and after it. Its errors wrap ErrSyntax.
func split(s string) (whole, frac string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("%w: no digits", ErrSyntax)
	}
	point := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.':
			if point >= 0 {
				return "", "", fmt.Errorf("%w: more than one '.'", ErrSyntax)
			}
			point = i
		case c == ',':
			return "", "", fmt.Errorf("%w: ',' at position %d: use '.' as the decimal point and no thousands separator", ErrSyntax, i+1)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return "", "", fmt.Errorf("%w: space at position %d: remove spaces", ErrSyntax, i+1)
		case c == 'e' || c == 'E':
			return "", "", fmt.Errorf("%w: exponent at position %d: write the number out in full", ErrSyntax, i+1)
		case c == '+' || c == '-':
			return "", "", fmt.Errorf("%w: sign at position %d: write digits only", ErrSyntax, i+1)
		default:
			return "", "", fmt.Errorf("%w: unexpected character at position %d: write digits and at most one '.'", ErrSyntax, i+1)
		}
	}
	if point < 0 {
		return s, "", nil
	}
	whole, frac = s[:point], s[point+1:]
	if frac == "" {
		if whole == "" {
			return "", "", fmt.Errorf("%w: no digits", ErrSyntax)
		}
		return "", "", fmt.Errorf("%w: nothing after the '.': write %s or %s.00", ErrSyntax, whole, whole)
	}
	return whole, frac, nil
}

// quote returns s quoted for an error message, cut short if long so a hostile
// input does not flood logs.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// FormatAmount writes base units as a decimal string in whole units: "0.01",
// "12", "1.5". It writes no trailing zeros, no exponent and no grouping, so
// ParseAmount reads it back to the same value. A nil amount formats as "0"; a
// negative one gets a leading '-' (which ParseAmount refuses).
func FormatAmount(units *big.Int, decimals uint8) string {
	if units == nil {
		return "0"
	}
	sign := ""
	if units.Sign() < 0 {
		sign = "-"
	}
	digits := new(big.Int).Abs(units).String()
	d := int(decimals)
	if len(digits) <= d {
		digits = strings.Repeat("0", d-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-d], strings.TrimRight(digits[len(digits)-d:], "0")
	if frac == "" {
		return sign + whole
	}
	return sign + whole + "." + frac
}
