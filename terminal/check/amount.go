package check

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// formatAmount renders v base units for a message: "0.009 ETH" with Decimals
// 18 and Symbol "ETH", "9000000000000000" with neither.
func formatAmount(v *big.Int, t Terms) string {
	s := decimal(v, int(t.Decimals))
	if t.Symbol != "" {
		s += " " + t.Symbol
	}
	return s
}

// decimal writes v/10^dec without trailing zeros.
func decimal(v *big.Int, dec int) string {
	s := v.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if dec > 0 {
		if len(s) <= dec {
			s = strings.Repeat("0", dec-len(s)+1) + s
		}
		whole, frac := s[:len(s)-dec], strings.TrimRight(s[len(s)-dec:], "0")
		s = whole
		if frac != "" {
			s += "." + frac
		}
	}
	if neg {
		s = "-" + s
	}
	return s
}

// symbol names the asset in messages.
func symbol(t Terms) string {
	if t.Symbol != "" {
		return t.Symbol
	}
	if t.Token == (common.Address{}) {
		return "native"
	}
	return "token"
}

// plural writes "1 byte", "2 bytes".
func plural(n int, unit string) string {
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}
