package asset

import (
	"math/big"
	"strings"
	"testing"
)

// FuzzFormatAmount starts from the other end of FuzzParseAmount: any
// amount a uint256 holds (big-endian bytes), at any decimals an asset may
// have (0..MaxDecimals; beyond, a formatted amount can be longer than
// ParseAmount's MaxAmountLength), formats as a
// plain decimal (digits and at most one interior point, no trailing zero
// after it, no leading zero before a digit), which ParseAmount reads back
// to the same amount, and whose value, computed apart with big.Rat, is
// the amount divided by 10^decimals.
func FuzzFormatAmount(f *testing.F) {
	for _, tc := range amountCases {
		if tc.err != nil {
			continue
		}
		u, ok := new(big.Int).SetString(tc.want, 10)
		if !ok {
			f.Fatalf("case %q: want %q is not a number", tc.name, tc.want)
		}
		f.Add(u.Bytes(), tc.decimals)
	}
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0x01}, uint8(MaxDecimals))
	f.Add(maxUnits().Bytes(), uint8(MaxDecimals))
	f.Fuzz(func(t *testing.T, b []byte, decimals uint8) {
		if len(b) > 32 {
			b = b[:32]
		}
		decimals %= MaxDecimals + 1
		u := new(big.Int).SetBytes(b)
		s := FormatAmount(u, decimals)
		whole, frac, hasPoint := strings.Cut(s, ".")
		if whole == "" || strings.Trim(whole+frac, "0123456789") != "" ||
			(len(whole) > 1 && whole[0] == '0') || (hasPoint && (frac == "" || strings.HasSuffix(frac, "0"))) {
			t.Fatalf("FormatAmount(%s, %d) = %q, not a plain decimal", u, decimals, s)
		}
		back, err := ParseAmount(s, decimals)
		if err != nil || back.Cmp(u) != 0 {
			t.Fatalf("FormatAmount(%s, %d) = %q parses as %v, %v", u, decimals, s, back, err)
		}
		r, ok := new(big.Rat).SetString(s)
		want := new(big.Rat).SetFrac(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
		if !ok || r.Cmp(want) != 0 {
			t.Fatalf("FormatAmount(%s, %d) = %q, worth %v, not %v", u, decimals, s, r, want)
		}
	})
}
