package serialscanner

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// tooLarge stands for a device.ErrTooLarge in wanted outputs.
const tooLarge = "<too large>"

// wireCases are the bytes a scanner sends, as separate writes, and the
// payloads that must come out. They drive the splitter unit test, its fuzz
// seeds, and the end-to-end test through a real pty.
var wireCases = []struct {
	name   string
	term   string
	max    int // 0: DefaultOpts.MaxPayload
	writes []string
	want   []string
}{
	{"CR", TerminatorAuto, 0, []string{"0xf86c0a85\r"}, []string{"0xf86c0a85"}},
	{"LF", TerminatorAuto, 0, []string{"0xf86c0a85\n"}, []string{"0xf86c0a85"}},
	{"CRLF", TerminatorAuto, 0, []string{"0xf86c0a85\r\n"}, []string{"0xf86c0a85"}},
	{"several in one write", TerminatorAuto, 0,
		[]string{"0x01\r0x02\n0x03\r\n0x04\r"}, []string{"0x01", "0x02", "0x03", "0x04"}},
	{"byte by byte", TerminatorAuto, 0,
		strings.Split("0xdeadbeef\r\n0xcafe\r", ""), []string{"0xdeadbeef", "0xcafe"}},
	{"cut mid payload and mid CRLF", TerminatorAuto, 0,
		[]string{"0xde", "adbe", "ef\r", "\n0x0", "1\r\n"}, []string{"0xdeadbeef", "0x01"}},
	{"spaces trimmed, empty lines skipped", TerminatorAuto, 0,
		[]string{"  0x01 \t\r\n\r\n\r\n \t \r\n\n\r0x02  \n"}, []string{"0x01", "0x02"}},
	{"no terminator yet: nothing", TerminatorAuto, 0, []string{"0x01"}, nil},
	{"exact CRLF: lone CR and LF are payload", TerminatorCRLF, 0,
		[]string{"0x0\r1\r", "\n0x0\n2\r\n"}, []string{"0x0\r1", "0x0\n2"}},
	{"exact CR: LF inside stays, at the edge is trimmed", TerminatorCR, 0,
		[]string{"0xab\ncd\r\n0x02\r"}, []string{"0xab\ncd", "0x02"}},
	{"exact LF: CR before it is trimmed", TerminatorLF, 0,
		[]string{"0x01\r\n0x02\n"}, []string{"0x01", "0x02"}},
	{"over max, then fine", TerminatorAuto, 16,
		[]string{"0x" + strings.Repeat("ab", 20) + "\r", "0x01\r"}, []string{tooLarge, "0x01"}},
	{"over max streamed in pieces, CRLF: reported once", TerminatorAuto, 16,
		[]string{"0x0123456789", "abcdef0123456789", "abcdef", "\r", "\n0x02\r\n"}, []string{tooLarge, "0x02"}},
	{"over max with exact CRLF split", TerminatorCRLF, 16,
		[]string{"0x" + strings.Repeat("a", 30) + "\r", "\n0x03\r\n"}, []string{tooLarge, "0x03"}},
	{"exactly max is kept", TerminatorAuto, 16,
		[]string{"0x" + strings.Repeat("a", 14) + "\r"}, []string{"0x" + strings.Repeat("a", 14)}},
	{"max counts spaces", TerminatorAuto, 16,
		[]string{" 0x" + strings.Repeat("a", 14) + "\r0x04\r"}, []string{tooLarge, "0x04"}},
	{"two over-long lines", TerminatorAuto, 8,
		[]string{"0x0123456789\r0xabcdefabcdef\n0x05\n"}, []string{tooLarge, tooLarge, "0x05"}},
}

func split(term string, max int, writes []string) []string {
	if max == 0 {
		max = DefaultOpts.MaxPayload
	}
	s := newSplitter(term, max)
	var got []string
	for _, w := range writes {
		s.feed([]byte(w), func(p []byte, tl bool) {
			if tl {
				got = append(got, tooLarge)
			} else {
				got = append(got, string(p))
			}
		})
	}
	return got
}

func TestSplitter(t *testing.T) {
	for _, c := range wireCases {
		t.Run(c.name, func(t *testing.T) {
			if got := split(c.term, c.max, c.writes); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
			// The same bytes in one write give the same payloads.
			if got := split(c.term, c.max, []string{strings.Join(c.writes, "")}); !slices.Equal(got, c.want) {
				t.Errorf("in one write: got %q, want %q", got, c.want)
			}
		})
	}
}

func TestSplitterMemoryBounded(t *testing.T) {
	s := newSplitter(TerminatorCRLF, 64)
	chunk := bytes.Repeat([]byte("ab"), 32)
	for range 10000 { // 640 KB, no terminator
		s.feed(chunk, func([]byte, bool) { t.Fatal("emitted before a terminator") })
		if len(s.buf) > 64+1 {
			t.Fatalf("holds %d bytes", len(s.buf))
		}
	}
	n := 0
	s.feed([]byte("\r\n"), func(p []byte, tl bool) {
		if !tl {
			t.Errorf("got %q, want too large", p)
		}
		n++
	})
	if n != 1 {
		t.Errorf("%d reports, want 1", n)
	}
}

// FuzzSplitter checks that chunking never matters and that every payload is
// trimmed, non-empty, within max and free of terminators.
func FuzzSplitter(f *testing.F) {
	for _, c := range wireCases {
		f.Add(strings.Join(c.writes, ""), uint8(7), c.term == TerminatorCRLF)
	}
	f.Fuzz(func(t *testing.T, in string, cut uint8, crlf bool) {
		term := TerminatorAuto
		if crlf {
			term = TerminatorCRLF
		}
		const max = 16
		whole := split(term, max, []string{in})
		step := int(cut%31) + 1
		var pieces []string
		for i := 0; i < len(in); i += step {
			pieces = append(pieces, in[i:min(i+step, len(in))])
		}
		if got := split(term, max, pieces); !slices.Equal(got, whole) {
			t.Fatalf("in %d-byte pieces: %q, whole: %q", step, got, whole)
		}
		for _, p := range whole {
			if p == tooLarge {
				continue
			}
			if p == "" || strings.TrimSpace(p) != p || len(p) > max ||
				(term == TerminatorAuto && strings.ContainsAny(p, "\r\n")) ||
				(term == TerminatorCRLF && strings.Contains(p, "\r\n")) {
				t.Fatalf("bad payload %q", p)
			}
		}
	})
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 250 * time.Millisecond, max: 5 * time.Second}
	wantCur := []time.Duration{250, 500, 1000, 2000, 4000, 5000, 5000}
	for i, w := range wantCur {
		w *= time.Millisecond
		lo := b.next(0)
		if b.cur != w || lo != w/2 {
			t.Fatalf("step %d: cur %v wait %v, want %v and %v", i, b.cur, lo, w, w/2)
		}
		b.cur /= 2 // undo the doubling to probe the top of the jitter
		if b.cur < b.min {
			b.cur = 0
		}
		if hi := b.next(0.999999); hi > w || hi < w*9/10 {
			t.Fatalf("step %d: top wait %v, want just under %v", i, hi, w)
		}
	}
}
