package locale_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"showpos/terminal/locale"
)

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// Every key has words in every language, with English's placeholders in
// English's order: a translation that drops or swaps a %s fails here, not
// on a customer's screen.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	for _, l := range locale.All() {
		for k := locale.Key(0); int(k) < locale.NumKeys; k++ {
			s := l.Text(k)
			if s == "" {
				t.Errorf("%s: key %d has no words (English: %q)", l, k, locale.English.Text(k))
				continue
			}
			want := verb.FindAllString(locale.English.Text(k), -1)
			if got := verb.FindAllString(s, -1); !slices.Equal(got, want) {
				t.Errorf("%s: %q has placeholders %q, English %q has %q", l, s, got, locale.English.Text(k), want)
			}
		}
	}
}

// The time layouts are layouts: each language's prints a known moment with
// its day, month, year and minutes.
func TestTimeLayouts(t *testing.T) {
	at := time.Date(2026, 12, 7, 14, 5, 9, 0, time.UTC)
	want := map[string][2]string{
		"en": {"2026-12-07 14:05:09", "12-07 14:05"},
		"de": {"07.12.2026 14:05:09", "07.12. 14:05"},
		"fr": {"07/12/2026 14:05:09", "07/12 14:05"},
		"es": {"07/12/2026 14:05:09", "07/12 14:05"},
	}
	for _, l := range locale.All() {
		if got := [2]string{l.Stamp(at), l.Short(at)}; got != want[l.String()] {
			t.Errorf("%s: %q, want %q", l, got, want[l.String()])
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", "en"}, {"en", "en"}, {"en-GB", "en"}, {"de", "de"}, {"de-AT", "de"}, {"de-CH", "de"},
		{"fr", "fr"}, {"fr-BE", "fr"}, {"es", "es"}, {"es-MX", "es"}, {" DE ", "de"},
	} {
		l, err := locale.Parse(c.in)
		if err != nil || l.String() != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", c.in, l, err, c.want)
		}
	}
	var l locale.Locale
	if err := json.Unmarshal([]byte(`"fr-CA"`), &l); err != nil || l.String() != "fr" {
		t.Errorf("JSON \"fr-CA\": %v, %v", l, err)
	}
	if b, _ := json.Marshal(l); string(b) != `"fr"` {
		t.Errorf("JSON of fr: %s", b)
	}
	for _, in := range []string{"it", "pt-BR", "xx", "de_DE!", "german"} {
		if _, err := locale.Parse(in); !errors.Is(err, locale.ErrUnknown) {
			t.Errorf("Parse(%q): %v, want ErrUnknown", in, err)
		}
	}
}

// Amounts keep every digit; only the separators are the language's.
func TestAmount(t *testing.T) {
	const nb = "\u00a0"
	for _, c := range []struct {
		in             string
		en, de, fr, es string
	}{
		{"4.50", "4.50", "4,50", "4,50", "4,50"},
		{"1234.50", "1234.50", "1.234,50", "1" + nb + "234,50", "1234,50"},
		{"12345.6", "12345.6", "12.345,6", "12" + nb + "345,6", "12.345,6"},
		{"1234567", "1234567", "1.234.567", "1" + nb + "234" + nb + "567", "1.234.567"},
		{"0.001799000000000001", "0.001799000000000001", "0,001799000000000001", "0,001799000000000001", "0,001799000000000001"},
		{"-1234.5", "-1234.5", "-1.234,5", "-1" + nb + "234,5", "-1234,5"},
		{"12.", "12.", "12,", "12,", "12,"},
		{"", "", "", "", ""},
		{"?", "?", "?", "?", "?"},
		{"0x12", "0x12", "0x12", "0x12", "0x12"},
	} {
		for _, l := range locale.All() {
			want := map[string]string{"en": c.en, "de": c.de, "fr": c.fr, "es": c.es}[l.String()]
			if got := l.Amount(c.in); got != want {
				t.Errorf("%s Amount(%q) = %q, want %q", l, c.in, got, want)
			}
		}
	}
}

func TestTFallsBackAndFormats(t *testing.T) {
	de, _ := locale.Parse("de")
	if got := de.T(locale.ManyQueued, 3); got != "3 Zahlungen warten" {
		t.Errorf("got %q", got)
	}
	if got := locale.English.T(locale.Paid); got != "PAID" {
		t.Errorf("got %q", got)
	}
}

// A reason kept in English prints in the language, and back.
func TestReasonsTranslate(t *testing.T) {
	de, _ := locale.Parse("de")
	if got := de.Reason("underpaid"); got != "zu wenig bezahlt" {
		t.Errorf("de.Reason = %q", got)
	}
	if got := locale.EnglishReason(de, "zu wenig bezahlt"); got != "underpaid" {
		t.Errorf("EnglishReason = %q", got)
	}
	if got := de.Reason("conflict: nonce 3 used by 0xabc"); got != "conflict: nonce 3 used by 0xabc" {
		t.Errorf("a reason outside the catalog changed: %q", got)
	}
}
