package asset

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

// maxUint256 is 2^256-1 written out.
const maxUint256 = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

// amountCases drives TestParseAmount and seeds FuzzParseAmount.
var amountCases = []struct {
	name     string
	in       string
	decimals uint8
	want     string // base units, when err is nil
	err      error
}{
	{"whole number", "12", 6, "12000000", nil},
	{"one decimal", "12.5", 6, "12500000", nil},
	{"smallest unit", "0.000001", 6, "1", nil},
	{"leading point", ".5", 6, "500000", nil},
	{"leading zeros", "007.50", 2, "750", nil},
	{"zero", "0", 18, "0", nil},
	{"zero with point", "0.0", 18, "0", nil},
	{"trailing zeros past precision are exact", "1.500000000", 6, "1500000", nil},
	{"zero decimals whole", "42", 0, "42", nil},
	{"zero decimals trailing zero fraction", "42.000", 0, "42", nil},
	{"one wei", "0.000000000000000001", 18, "1", nil},
	{"cent", "0.01", 2, "1", nil},
	{"max uint256 base units", maxUint256, 0, maxUint256, nil},
	{"max uint256 with point", maxUint256[:60] + "." + maxUint256[60:], 18, maxUint256, nil},
	{"many leading zeros within bound", strings.Repeat("0", 120) + "1", 0, "1", nil},

	{"empty", "", 6, "", ErrEmpty},
	{"negative", "-1", 6, "", ErrNegative},
	{"negative fraction", "-0.5", 6, "", ErrNegative},
	{"negative zero", "-0", 6, "", ErrNegative},
	{"lone minus", "-", 6, "", ErrSyntax},
	{"minus garbage", "-abc", 6, "", ErrSyntax},
	{"letters", "abc", 6, "", ErrSyntax},
	{"exponent", "1e5", 6, "", ErrSyntax},
	{"decimal comma", "1,5", 6, "", ErrSyntax},
	{"thousands separator", "1,000.00", 6, "", ErrSyntax},
	{"leading space", " 1", 6, "", ErrSyntax},
	{"trailing space", "1 ", 6, "", ErrSyntax},
	{"inner space", "1 000", 6, "", ErrSyntax},
	{"trailing newline", "1\n", 6, "", ErrSyntax},
	{"plus sign", "+1", 6, "", ErrSyntax},
	{"two points", "1.2.3", 6, "", ErrSyntax},
	{"lone point", ".", 6, "", ErrSyntax},
	{"trailing point", "5.", 6, "", ErrSyntax},
	{"arabic-indic digit", "\u0661", 6, "", ErrSyntax},
	{"fullwidth digit", "\uff11", 6, "", ErrSyntax},
	{"hex", "0x10", 6, "", ErrSyntax},
	{"infinity", "Inf", 6, "", ErrSyntax},
	{"nan", "NaN", 6, "", ErrSyntax},
	{"underscore", "1_000", 6, "", ErrSyntax},
	{"nul byte", "1\x00", 6, "", ErrSyntax},
	{"too long", strings.Repeat("1", MaxAmountLength+1), 0, "", ErrSyntax},
	{"too precise", "0.1234567", 6, "", ErrPrecision},
	{"too precise for whole-unit asset", "0.5", 0, "", ErrPrecision},
	{"nonzero after zeros past precision", "1.0000001", 6, "", ErrPrecision},
	{"one over max uint256", "115792089237316195423570985008687907853269984665640564039457584007913129639936", 0, "", ErrOverflow},
	{"max uint256 whole units of ether", maxUint256, 18, "", ErrOverflow},
	{"79 digits", "1" + strings.Repeat("0", 78), 0, "", ErrOverflow},
	{"long within bound", strings.Repeat("9", MaxAmountLength), 0, "", ErrOverflow},
	{"huge decimals", "1", 255, "", ErrOverflow},
}

func TestParseAmount(t *testing.T) {
	for _, tc := range amountCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAmount(tc.in, tc.decimals)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ParseAmount(%q, %d) = %v, %v; want error %v", tc.in, tc.decimals, got, err, tc.err)
				}
				if got != nil {
					t.Errorf("ParseAmount(%q, %d) returned %v with its error", tc.in, tc.decimals, got)
				}
				if len(err.Error()) > 300 {
					t.Errorf("error message is %d bytes long: %.80s…", len(err.Error()), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAmount(%q, %d): %v", tc.in, tc.decimals, err)
			}
			if got.String() != tc.want {
				t.Errorf("ParseAmount(%q, %d) = %s, want %s", tc.in, tc.decimals, got, tc.want)
			}
		})
	}
}

func TestParseAmountErrorsSayWhatToFix(t *testing.T) {
	for _, tc := range []struct {
		in       string
		decimals uint8
		want     string
	}{
		{"0.1234567", 6, "7 decimal places, at most 6"},
		{"1,5", 6, "use '.' as the decimal point"},
		{"1e5", 6, "exponent"},
		{"5.", 2, "write 5 or 5.00"},
		{"", 6, "enter a number"},
		{"-1", 6, "below zero"},
	} {
		_, err := ParseAmount(tc.in, tc.decimals)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAmount(%q) error %q does not contain %q", tc.in, err, tc.want)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		units    string
		decimals uint8
		want     string
	}{
		{"1", 2, "0.01"},
		{"1200", 2, "12"},
		{"150", 2, "1.5"},
		{"0", 18, "0"},
		{"1", 18, "0.000000000000000001"},
		{"1000000000000000000", 18, "1"},
		{"42", 0, "42"},
		{"-150", 2, "-1.5"},
		{maxUint256, 18, "115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
	} {
		u, _ := new(big.Int).SetString(tc.units, 10)
		if got := FormatAmount(u, tc.decimals); got != tc.want {
			t.Errorf("FormatAmount(%s, %d) = %q, want %q", tc.units, tc.decimals, got, tc.want)
		}
	}
	if got := FormatAmount(nil, 6); got != "0" {
		t.Errorf("FormatAmount(nil) = %q, want 0", got)
	}
}

func TestFormatAmountRoundTrips(t *testing.T) {
	for _, decimals := range []uint8{0, 1, 2, 6, 8, 18, 30, 77} {
		for _, units := range []string{"0", "1", "9", "10", "100", "123456789", "1000000000000000000", maxUint256} {
			u, _ := new(big.Int).SetString(units, 10)
			s := FormatAmount(u, decimals)
			back, err := ParseAmount(s, decimals)
			if err != nil {
				t.Fatalf("ParseAmount(FormatAmount(%s, %d) = %q): %v", units, decimals, s, err)
			}
			if back.Cmp(u) != 0 {
				t.Errorf("round trip of %s at %d decimals via %q gave %s", units, decimals, s, back)
			}
		}
	}
}

// maxUnits returns 2^256-1, the largest amount a uint256 holds.
func maxUnits() *big.Int {
	return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
}

func FuzzParseAmount(f *testing.F) {
	for _, tc := range amountCases {
		f.Add(tc.in, tc.decimals)
	}
	max := maxUnits()
	f.Fuzz(func(t *testing.T, s string, decimals uint8) {
		u, err := ParseAmount(s, decimals)
		if err != nil {
			if u != nil {
				t.Fatalf("ParseAmount(%q, %d) returned %v with error %v", s, decimals, u, err)
			}
			for _, sentinel := range []error{ErrEmpty, ErrNegative, ErrSyntax, ErrPrecision, ErrOverflow} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("ParseAmount(%q, %d) error wraps no sentinel: %v", s, decimals, err)
		}
		if u.Sign() < 0 || u.Cmp(max) > 0 {
			t.Fatalf("ParseAmount(%q, %d) = %s, outside uint256", s, decimals, u)
		}
		formatted := FormatAmount(u, decimals)
		back, err := ParseAmount(formatted, decimals)
		if err != nil {
			t.Fatalf("ParseAmount(%q, %d) = %s formats as %q, which does not parse: %v", s, decimals, u, formatted, err)
		}
		if back.Cmp(u) != 0 {
			t.Fatalf("ParseAmount(%q, %d) = %s formats as %q, which parses as %s", s, decimals, u, formatted, back)
		}
	})
}
