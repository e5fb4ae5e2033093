package escpos

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// render reads an ESC/POS stream back as a printer would put it on paper:
// one string per printed line, QR codes as "[QR payload]". It knows only
// the commands this package sends and fails the test on any other, so it
// is also a check that the stream is well formed (every command complete,
// ESC @ and ESC t first, GS V last).
func render(t *testing.T, b []byte, cols int) []string {
	t.Helper()
	var (
		lines []string
		cur   strings.Builder
		qr    string
	)
	need := func(i, n int) {
		if i+n > len(b) {
			t.Fatalf("command at %d cut short", i)
		}
	}
	if len(b) < 5 || string(b[:2]) != "\x1b@" || b[2] != esc || b[3] != 't' {
		t.Fatalf("stream does not start with ESC @ ESC t: % x", b[:min(len(b), 5)])
	}
	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case lf:
			lines = append(lines, cur.String())
			cur.Reset()
			i++
		case esc:
			need(i, 3)
			switch b[i+1] {
			case '@':
				i += 2
			case 't', 'a', 'E':
				i += 3
			default:
				t.Fatalf("unknown ESC %q at %d", b[i+1], i)
			}
		case gs:
			need(i, 2)
			switch b[i+1] {
			case '!':
				need(i, 3)
				i += 3
			case 'V':
				need(i, 4)
				if i+4 != len(b) {
					t.Fatalf("bytes after the cut at %d", i)
				}
				i += 4
			case '(':
				need(i, 5)
				n := int(b[i+3]) | int(b[i+4])<<8
				need(i, 5+n)
				args := b[i+5 : i+5+n]
				if args[0] != 49 {
					t.Fatalf("GS ( k cn %d, want 49 (QR)", args[0])
				}
				switch args[1] {
				case 80:
					qr = string(args[3:])
				case 81:
					cur.WriteString("[QR " + qr + "]")
				}
				i += 5 + n
			default:
				t.Fatalf("unknown GS %q at %d", b[i+1], i)
			}
		case dle:
			t.Fatalf("DLE in a job at %d", i)
		default:
			if c < 0x20 {
				t.Fatalf("control byte %#x at %d", c, i)
			}
			cur.WriteRune(charmap.CodePage858.DecodeByte(c))
			i++
		}
	}
	if cur.Len() > 0 {
		t.Fatalf("unterminated line %q", cur.String())
	}
	return lines
}
