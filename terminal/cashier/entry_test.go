package cashier

import (
	"testing"

	"showpos/device"
)

func keys(s string) []device.Key {
	var ks []device.Key
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			ks = append(ks, device.Key0+device.Key(r-'0'))
		case r == '.':
			ks = append(ks, device.KeyDot)
		case r == '<':
			ks = append(ks, device.KeyBackspace)
		case r == 'C':
			ks = append(ks, device.KeyClear)
		}
	}
	return ks
}

func TestEntryKeying(t *testing.T) {
	tests := []struct {
		name     string
		decimals uint8
		typed    string
		want     string
		refused  int
	}{
		{"digits", 18, "125", "125", 0},
		{"decimal point once", 6, "1.2.5", "1.25", 1},
		{"point first becomes 0.", 6, ".5", "0.5", 0},
		{"no more decimals than the asset", 2, "1.999", "1.99", 1},
		{"whole-unit asset refuses the point", 0, "1.5", "15", 1},
		{"no leading zeros", 6, "007", "7", 1},
		{"backspace", 6, "12.3<<", "12", 0},
		{"backspace on empty refused", 6, "<", "", 1},
		{"clear", 6, "99C4", "4", 0},
		{"length cap", 18, "1234567890123", "123456789012", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := entry{decimals: tc.decimals}
			refused := 0
			for _, k := range keys(tc.typed) {
				if !e.press(k) {
					refused++
				}
			}
			if e.text != tc.want || refused != tc.refused {
				t.Errorf("typed %q: entry %q (%d refused), want %q (%d refused)", tc.typed, e.text, refused, tc.want, tc.refused)
			}
		})
	}
	e := entry{decimals: 6, text: "12."}
	if e.amount() != "12" || e.empty() {
		t.Errorf("amount of %q = %q", e.text, e.amount())
	}
	for _, s := range []string{"", "0", "0.", "0.00"} {
		if e := (entry{text: s}); !e.empty() {
			t.Errorf("%q is not empty", s)
		}
	}
}
