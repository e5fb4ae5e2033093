package config

import (
	"errors"
	"strings"
	"testing"
)

// terminal.locale: English by default, a language by its tag or a BCP 47
// tag of it, anything else refused naming the key; a fleet bundle may
// change it (the cashier switches language live).
func TestParseLocale(t *testing.T) {
	with := func(v string) string {
		return strings.Replace(good, `request_ttl = "90s"`, `request_ttl = "90s"`+"\nlocale = \""+v+"\"", 1)
	}
	c, err := Parse([]byte(good))
	if err != nil || c.Terminal.Locale.String() != "en" {
		t.Fatalf("no locale: %v, %v; want en", c.Terminal.Locale, err)
	}
	for in, want := range map[string]string{"en": "en", "de": "de", "de-AT": "de", "fr": "fr", "fr-CA": "fr", "es": "es", "es-419": "es"} {
		c, err := Parse([]byte(with(in)))
		if err != nil || c.Terminal.Locale.String() != want {
			t.Errorf("locale %q: %v, %v; want %s", in, c.Terminal.Locale, err, want)
		}
	}
	for _, in := range []string{"it", "german", "xx-YY-!"} {
		_, err := Parse([]byte(with(in)))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "terminal.locale") {
			t.Errorf("locale %q: %v, want an ErrInvalid naming terminal.locale", in, err)
		}
	}
	c, err = Overlay([]byte(good), []byte("[terminal]\nlocale = \"fr\""))
	if err != nil || c.Terminal.Locale.String() != "fr" {
		t.Errorf("bundle setting terminal.locale: %v, %v", c, err)
	}
}
