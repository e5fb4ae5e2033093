package fiat

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// lookupDigits is Lookup's minor units and whether it knows the code.
func lookupDigits(code string) (uint8, bool) {
	c, err := Lookup(code)
	return c.Minor, err == nil
}

func TestLookupKnowsEveryShopCurrency(t *testing.T) {
	for _, tc := range []struct {
		code   string
		digits uint8
		ok     bool
	}{{"EUR", 2, true}, {"USD", 2, true}, {"JPY", 0, true}, {"KWD", 3, true}, {"CHF", 2, true}, {"VES", 2, true},
		{"eur", 0, false}, {"XXX", 0, false}, {"XTS", 0, false}, {"BTC", 0, false}, {"", 0, false}} {
		if d, ok := lookupDigits(tc.code); d != tc.digits || ok != tc.ok {
			t.Errorf("Lookup(%q) = %d, %v; want %d, %v", tc.code, d, ok, tc.digits, tc.ok)
		}
	}
}

// The codes are ISO 4217's, checked against Debian's iso-codes where
// installed: every code taken is there, and every code there is taken or
// deliberately left out.
func TestCurrenciesAreISO4217(t *testing.T) {
	b, err := os.ReadFile("/usr/share/iso-codes/json/iso_4217.json")
	if err != nil {
		t.Skipf("iso-codes not installed (apt-get install iso-codes): %v", err)
	}
	var f struct {
		List []struct {
			Code string `json:"alpha_3"`
		} `json:"4217"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, c := range strings.Fields("BOV CHE CHW CLF COU MXV USN UYI UYW XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX") {
		left[c] = true
	}
	there := map[string]bool{}
	for _, c := range f.List {
		there[c.Code] = true
		if _, ok := currencies[c.Code]; !ok && !left[c.Code] {
			t.Errorf("ISO 4217 has %s, not taken nor left out on purpose", c.Code)
		}
	}
	for c := range currencies {
		if !there[c] {
			t.Errorf("%s is taken but not in iso-codes' ISO 4217", c)
		}
	}
}
