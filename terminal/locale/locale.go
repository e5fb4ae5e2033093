// Package locale is the terminal's message catalog: every word the
// cashier's screens, the printed receipts and reports and the digital
// receipt's page (terminal/httpapi) show, in English, German, French and
// Spanish, and how each language writes amounts and times.
//
// A Locale is a small value; its zero value is English, the default, whose
// words and formats are the ones the terminal always had (so English
// screens and printouts stay byte for byte what they were). Parse reads
// the terminal.locale config value: "en", "de", "fr", "es", or a BCP 47
// tag whose language is one of them ("de-AT" is German).
//
// Only human words are here. What is signed or read by machines (the
// receipt's typed data, request JSON, API error codes, logs) stays English
// and stable.
//
// The tables are ours rather than golang.org/x/text/message's: the
// catalog is a fixed set of short texts checked by tests (every key in
// every language, the same placeholders, and each text fitting its
// screen), and amounts are decimal strings that must stay exact, which
// x/text/number would take as floats. x/text/language parses and matches
// the config's tag.
package locale

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// table is one language's words, indexed by Key.
type table [numKeys]string

// number is how a language writes a decimal amount.
type number struct {
	point string // the decimal separator
	group string // between groups of three integer digits; "" none
	// minGroup is the fewest integer digits that are grouped: Spanish
	// writes 1234 but 12.345 (RAE, CLDR's minimumGroupingDigits).
	minGroup int
}

// lang is one language the terminal speaks.
type lang struct {
	tag    language.Tag
	words  *table
	number number
}

// langs are the languages, English first (the default).
var langs = []lang{
	{language.English, &en, number{point: "."}},
	{language.German, &de, number{point: ",", group: ".", minGroup: 4}},
	// A no-break space groups French thousands: it keeps an amount on one
	// line, and PC858, the receipt printer's code page, has it (0xFF),
	// unlike the narrow no-break space CLDR prescribes (U+202F), which the
	// printer would print as "?" and the screen's Go fonts lack.
	{language.French, &fr, number{point: ",", group: "\u00a0", minGroup: 4}},
	{language.Spanish, &es, number{point: ",", group: ".", minGroup: 5}},
}

// Locale is a language the terminal speaks. The zero value is English.
type Locale struct {
	i int // index in langs
}

// English is the default locale.
var English = Locale{}

// ErrUnknown is wrapped by Parse for a language the catalog lacks.
var ErrUnknown = fmt.Errorf("locale: no such language")

// Parse returns the locale for a config value: "" or "en" is English; a
// BCP 47 tag is matched by its language ("de-AT" and "de-CH" are "de").
// A malformed tag or a language without a catalog is an error wrapping
// ErrUnknown.
func Parse(s string) (Locale, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return English, nil
	}
	t, err := language.Parse(s)
	if err != nil {
		return English, fmt.Errorf("%w: %q is not a BCP 47 language tag (want one of %s)", ErrUnknown, s, strings.Join(Tags(), ", "))
	}
	base, _ := t.Base()
	for i, l := range langs {
		if b, _ := l.tag.Base(); b == base {
			return Locale{i: i}, nil
		}
	}
	return English, fmt.Errorf("%w: %q (want one of %s)", ErrUnknown, s, strings.Join(Tags(), ", "))
}

// All returns every locale, English first.
func All() []Locale {
	out := make([]Locale, len(langs))
	for i := range langs {
		out[i] = Locale{i: i}
	}
	return out
}

// Tags returns the language tags the catalog has: "en", "de", "fr", "es".
func Tags() []string {
	out := make([]string, len(langs))
	for i, l := range langs {
		out[i] = l.tag.String()
	}
	return out
}

// String is the locale's language tag, e.g. "de".
func (l Locale) String() string { return langs[l.i].tag.String() }

// MarshalText writes the tag, so a locale reads as "de" in JSON and logs.
func (l Locale) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a tag as Parse does.
func (l *Locale) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*l = p
	return nil
}

// Text returns key's words as they are in the catalog, placeholders
// unfilled; "" for a key the catalog lacks.
func (l Locale) Text(k Key) string {
	if k < 0 || k >= numKeys {
		return ""
	}
	return langs[l.i].words[k]
}

// T returns key's words with args filled in as fmt.Sprintf would. A key
// this language lacks falls back to English (the catalog test keeps that
// from happening).
func (l Locale) T(k Key, args ...any) string {
	s := l.Text(k)
	if s == "" {
		s = English.Text(k)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Amount writes a decimal amount ("1234.5", "-0.001799", as
// asset.FormatAmount and fiat.Currency.Format write them) the way the
// language does: "1.234,5" in German, "1 234,5" in French (a no-break
// space), "1234,5" in Spanish (grouped from five digits), unchanged in
// English. Only separators change; every digit stays, so the amount stays
// exact. A partly keyed amount ("12.") keeps its shape ("12,"). Anything
// else is returned as it is.
func (l Locale) Amount(s string) string {
	n := langs[l.i].number
	sign, rest := "", s
	if strings.HasPrefix(rest, "-") {
		sign, rest = "-", rest[1:]
	}
	whole, frac, hasPoint := strings.Cut(rest, ".")
	if !digits(whole) || !digits(frac) || (whole == "" && frac == "" && hasPoint) {
		return s
	}
	if n.group != "" && len(whole) >= n.minGroup && len(whole) > 3 {
		var b strings.Builder
		for i, d := range whole {
			if i > 0 && (len(whole)-i)%3 == 0 {
				b.WriteString(n.group)
			}
			b.WriteRune(d)
		}
		whole = b.String()
	}
	if hasPoint {
		return sign + whole + n.point + frac
	}
	return sign + whole
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Stamp writes a moment to the second, as receipts and reports print it:
// "2026-12-07 14:05:09" in English, "07.12.2026 14:05:09" in German,
// "07/12/2026 14:05:09" in French and Spanish. The zone is t's.
func (l Locale) Stamp(t time.Time) string { return t.Format(l.T(LayoutStamp)) }

// Short writes a moment for a screen line: "12-07 14:05" in English,
// "07.12. 14:05" in German, "07/12 14:05" in French and Spanish.
func (l Locale) Short(t time.Time) string { return t.Format(l.T(LayoutShort)) }

// Reasons are kept and signed in English (a signed receipt's reason must
// read the same to every auditor); these two translate them for print and
// back. Only the refusal and failure reasons of the catalog are looked up.

// Reason returns the words, in l, of the reason whose English words are
// english; anything else (a reason from the chain, say) as it is.
func (l Locale) Reason(english string) string {
	if k, ok := reasonKey(English, english); ok {
		return l.T(k)
	}
	return english
}

// EnglishReason returns the English words of the reason l says as words;
// anything else as it is.
func EnglishReason(l Locale, words string) string {
	if k, ok := reasonKey(l, words); ok {
		return English.T(k)
	}
	return words
}

func reasonKey(l Locale, words string) (Key, bool) {
	for k := ReasonCodeTooLong; k <= FailFailed; k++ {
		if words != "" && l.Text(k) == words {
			return k, true
		}
	}
	return 0, false
}
