package serialscanner

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"showpos/terminal/check"
)

// fuzzTerminators are the Opts.Terminator values, indexed by the fuzzer.
var fuzzTerminators = []string{TerminatorAuto, TerminatorCR, TerminatorLF, TerminatorCRLF}

// referenceSplit is the splitter's specification over the whole stream at
// once: a line ends at the first terminator (any CR or LF in auto mode); a
// line longer than max, spaces counted, is one tooLarge; otherwise its
// trimmed text is a payload unless empty. The unterminated rest is held,
// not emitted.
func referenceSplit(term string, max int, in []byte) (lines []string, rest []byte) {
	for {
		var i, n int
		if term == TerminatorAuto {
			i, n = bytes.IndexAny(in, "\r\n"), 1
		} else {
			i, n = bytes.Index(in, []byte(term)), len(term)
		}
		if i < 0 {
			return lines, in
		}
		line := in[:i]
		in = in[i+n:]
		switch t := bytes.TrimSpace(line); {
		case len(line) > max:
			lines = append(lines, tooLarge)
		case len(t) > 0:
			lines = append(lines, string(t))
		}
	}
}

// FuzzScannerPayloads feeds a byte stream, as a scanner types it, to the
// real splitter in arbitrary read-sized pieces (cuts gives each piece's
// length), with each terminator setting and a small or the default size
// cap; then every payload goes through check.DecodeHex as the cashier hands
// it on. The payloads must be those of the whole-stream specification
// whatever the chunking, memory stays bounded after every read, and
// DecodeHex either returns exactly the bytes the hex digits spell or an
// invalid_tx / tx_too_large refusal.
func FuzzScannerPayloads(f *testing.F) {
	for _, c := range wireCases {
		term := uint8(slices.Index(fuzzTerminators, c.term))
		var cuts []byte
		for _, w := range c.writes {
			cuts = append(cuts, byte(len(w)))
		}
		maxSel := uint8(0) // the default cap
		if c.max > 0 {
			maxSel = uint8(c.max - 1)
		}
		f.Add([]byte(strings.Join(c.writes, "")), cuts, term, maxSel)
	}
	// Real payloads: a signed transaction's hex, in each framing a scanner
	// might use, and near misses.
	const tx = "0x02f86f83aa36a7098447868c00850df8475800825208945ec1ba2db0e3f2bd3c7a48fee1d5a4c6b2a9e001872386f26fc1000080c080a0"
	for i, in := range []string{
		tx + "\r\n", tx + "\r", tx + "\n", "  " + tx + " \t\r\n",
		strings.ToUpper(tx) + "\r", tx[2:] + "\n", tx + "0\r\n", tx[:40] + "zz" + tx[42:] + "\r",
		"0x\r\n", "\r\n\r\n0x00\r\n", tx + "\r" + tx + "\n" + tx + "\r\n" + tx,
	} {
		f.Add([]byte(in), []byte{3, 1, 64, 2}, uint8(i%len(fuzzTerminators)), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in, cuts []byte, which, maxSel uint8) {
		term := fuzzTerminators[int(which)%len(fuzzTerminators)]
		max := DefaultOpts.MaxPayload
		if maxSel != 0 {
			max = int(maxSel)%96 + 1
		}
		keep := max + len(term) - 1
		if term == TerminatorAuto {
			keep = max
		}

		s := newSplitter(term, max)
		var got []string
		emit := func(p []byte, tl bool) {
			if tl {
				if p != nil {
					t.Fatalf("too large with a payload %q", p)
				}
				got = append(got, tooLarge)
				return
			}
			got = append(got, string(p))
		}
		rest := in
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(n, int(cuts[i])+1)
			}
			s.feed(rest[:n], emit)
			rest = rest[n:]
			if len(s.buf) > keep {
				t.Fatalf("holds %d bytes after a read, at most %d (max %d, terminator %q)", len(s.buf), keep, max, term)
			}
		}

		want, held := referenceSplit(term, max, in)
		if !slices.Equal(got, want) {
			t.Fatalf("terminator %q, max %d, cuts %v:\n got %q\nwant %q", term, max, cuts, got, want)
		}
		if len(bytes.TrimSpace(held)) > 0 && !s.pending() {
			t.Fatalf("%q held but pending() is false", held)
		}

		for _, p := range got {
			if p == tooLarge {
				continue
			}
			decodeLikeTheCashier(t, p)
		}
	})
}

// decodeLikeTheCashier runs p through check.DecodeHex and checks the answer
// against the hex digits p carries.
func decodeLikeTheCashier(t *testing.T, p string) {
	t.Helper()
	raw, err := check.DecodeHex(p)
	digits := strings.TrimSpace(p)
	if len(digits) >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') {
		digits = digits[2:]
	}
	if err != nil {
		var r *check.Refusal
		if !errors.As(err, &r) || (r.Code != check.CodeInvalidTx && r.Code != check.CodeTxTooLarge) || r.Msg == "" {
			t.Fatalf("DecodeHex(%q): %v (%T)", p, err, err)
		}
		if raw != nil {
			t.Fatalf("DecodeHex(%q) refused with %d bytes", p, len(raw))
		}
		if want, herr := hex.DecodeString(digits); herr == nil && len(want) > 0 && len(want) <= check.MaxTxSize {
			t.Fatalf("DecodeHex(%q) refused hex digits: %v", p, err)
		}
		return
	}
	if len(raw) == 0 || len(raw) > check.MaxTxSize || hex.EncodeToString(raw) != strings.ToLower(digits) {
		t.Fatalf("DecodeHex(%q) = %x", p, raw)
	}
}
