package escpos

import (
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// lookalikes are characters PC858 lacks that have a plain ASCII stand-in a
// reader takes for the same thing.
var lookalikes = map[rune]byte{
	'‘': '\'', '’': '\'', '‚': ',', '“': '"', '”': '"', '„': '"',
	'–': '-', '—': '-', '−': '-', '‐': '-', '…': '.', '\u00a0': ' ',
	'\u202f': ' ', '\u2009': ' ', '•': '*', '\t': ' ',
}

// ToPC858 converts UTF-8 text to code page 858 (code page 850 with "€"
// at 0xD5), the Latin-1 repertoire of Western European receipts: letters
// are composed first (an "e" and a combining accent become "é"), a few
// typographic characters become their ASCII look-alikes, and anything
// else — other scripts, emoji, control characters, invalid UTF-8 — becomes
// "?", so no text can inject a printer command.
func ToPC858(s string) []byte {
	s = norm.NFC.String(s)
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if b, ok := lookalikes[r]; ok {
			out = append(out, b)
			continue
		}
		if r < 0x20 || r == 0x7F {
			out = append(out, '?')
			continue
		}
		b, ok := charmap.CodePage858.EncodeRune(r)
		if !ok || b < 0x20 || b == 0x7F {
			b = '?'
		}
		out = append(out, b)
	}
	return out
}
