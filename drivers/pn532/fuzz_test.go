package pn532

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"showpos/device"
)

// scriptPort is the chip's end of the line played from a script: Read hands
// out stream in pieces whose lengths cuts gives (then up to what the caller
// asks), and once it is drained fails with errDrained rather than timing
// out, so no deadline is ever waited for. Write records what the driver
// sends.
type scriptPort struct {
	stream  []byte
	cuts    []byte
	reads   int
	written []byte
}

var errDrained = errors.New("script drained")

func (p *scriptPort) Read(b []byte) (int, error) {
	if len(p.stream) == 0 {
		return 0, errDrained
	}
	n := min(len(b), len(p.stream))
	if p.reads < len(p.cuts) {
		n = min(n, int(p.cuts[p.reads])+1)
	}
	p.reads++
	copy(b, p.stream[:n])
	p.stream = p.stream[n:]
	return n, nil
}

func (p *scriptPort) Write(b []byte) (int, error) {
	p.written = append(p.written, b...)
	return len(b), nil
}

func (p *scriptPort) SetReadTimeout(time.Duration) error { return nil }
func (p *scriptPort) ResetInputBuffer() error            { return nil }

// fuzzDev is a Dev on p without the start-up exchange (New's), as if the
// chip had been set up.
func fuzzDev(p Port, maxAnswer int) *Dev {
	o := DefaultOpts
	o.MaxAnswer = maxAnswer
	return &Dev{name: "fuzz", port: p, o: o, rd: make([]byte, 512)}
}

// frameSeen is one result of parsing.
type frameSeen struct {
	kind    frameKind
	payload []byte
	err     error
}

// parseAll is parseFrame over a whole stream: every frame and damaged
// frame in it, up to what is left incomplete.
func parseAll(t *testing.T, b []byte) []frameSeen {
	var out []frameSeen
	for range len(b) + 1 {
		kind, p, n, err := parseFrame(b)
		if kind == kindNone && err == nil {
			return out
		}
		out = append(out, frameSeen{kind, p, err})
		b = b[n:]
	}
	t.Fatalf("parseFrame makes no progress on % X", b)
	return nil
}

// chipStreams seed the targets: answers as the chip sends them, and the
// same with the faults a UART line has.
func chipStreams(f *testing.F) [][]byte {
	ack := hx(f, "00 00 FF 00 FF 00")
	fw := hx(f, "00 00 FF 06 FA D5 03 32 01 06 07 E8 00")
	// InListPassiveTarget: one phone (Tg 1, ATQA 00 04, SAK 20, 4-byte
	// UID, ATS 05 78 80 70 02); and one sticker (SAK 00, 7-byte UID).
	phone := encodeFrame(tfiChip, hx(f, "4B 01 01 00 04 20 04 08 11 5A 3C 05 78 80 70 02"))
	sticker := encodeFrame(tfiChip, hx(f, "4B 01 01 00 44 00 07 04 91 2C 6A 52 63 80"))
	none := encodeFrame(tfiChip, hx(f, "4B 00"))
	released := encodeFrame(tfiChip, hx(f, "53 00"))
	// InDataExchange: status 00 and "01 90 00"; a chained answer (status
	// 40) in two parts; the target gone (status 01).
	answer := encodeFrame(tfiChip, hx(f, "41 00 01 90 00"))
	part1 := encodeFrame(tfiChip, append(hx(f, "41 40"), bytes.Repeat([]byte{0xAB}, 200)...))
	part2 := encodeFrame(tfiChip, hx(f, "41 00 CD 90 00"))
	gone := encodeFrame(tfiChip, hx(f, "41 01"))
	long := encodeFrame(tfiChip, append(hx(f, "41 00"), bytes.Repeat([]byte{0x5A}, 260)...))
	badDCS := append([]byte(nil), answer...)
	badDCS[len(badDCS)-2]++
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return [][]byte{
		cat(ack, fw), cat(ack, phone), cat(ack, sticker, ack, released), cat(ack, none),
		cat(ack, answer), cat(ack, part1, ack, part2), cat(ack, gone), cat(ack, long),
		cat(ack, badDCS, answer), cat(garbage(), ack, answer), cat(ack, errFrameBytes, ack, answer),
		cat(hx(f, "00 00 FF FF 00 00"), ack, answer), cat(ack, fw, answer),
	}
}

// garbage is line noise with no start code in it.
func garbage() []byte { return []byte{0x55, 0xAA, 0x13, 0x37, 0xFE, 0x01, 0x00, 0x42} }

// FuzzReadFrame drives the driver's reader (Dev.readFrame) over a script
// of chip bytes arriving in arbitrary pieces. Whatever the bytes and the
// chunking, it must find exactly the frames, damaged frames included,
// that parseFrame finds in the whole stream at once, in order, and never
// hold more than its bound of unparsed bytes.
func FuzzReadFrame(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(hx(f, tc.in), []byte{1, 2, 3})
	}
	for _, s := range chipStreams(f) {
		f.Add(s, []byte{})
		f.Add(s, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
		f.Add(s, []byte{6, 3, 200, 1})
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		want := parseAll(t, stream)
		p := &scriptPort{stream: stream, cuts: cuts}
		d := fuzzDev(p, DefaultOpts.MaxAnswer)
		deadline := time.Now().Add(time.Hour)
		var got []frameSeen
		for {
			kind, payload, err := d.readFrame(context.Background(), deadline)
			if errors.Is(err, errDrained) {
				break
			}
			if kind == kindNone && err == nil {
				t.Fatal("readFrame returned nothing and no error")
			}
			got = append(got, frameSeen{kind, payload, err})
			if len(got) > len(stream) {
				t.Fatalf("%d frames from %d bytes", len(got), len(stream))
			}
			if len(d.buf) > 4*maxFrameLen {
				t.Fatalf("holds %d unparsed bytes", len(d.buf))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("cuts %v: %d frames, whole stream has %d:\n got %v\nwant %v", cuts, len(got), len(want), got, want)
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.kind != w.kind || !bytes.Equal(g.payload, w.payload) || !errors.Is(g.err, w.err) || (g.err == nil) != (w.err == nil) {
				t.Fatalf("cuts %v: frame %d is %v % X %v, whole stream says %v % X %v", cuts, i, g.kind, g.payload, g.err, w.kind, w.payload, w.err)
			}
		}
	})
}

// FuzzChipAnswers runs the driver's commands against a chip whose answers
// are arbitrary bytes: a poll (InListPassiveTarget, then InRelease for a
// target that is not a phone) or an Exchange (InDataExchange, chained
// answers joined). It must never panic; a found target has a 1..10-byte
// UID and an ATS led by its own length; an answer stays within MaxAnswer;
// an error is one the driver documents; and every byte the driver wrote
// is a well-formed frame: ACK, NACK, or a host command it means to send.
func FuzzChipAnswers(f *testing.F) {
	for i, s := range chipStreams(f) {
		f.Add(s, []byte{}, selectAPDU(), uint8(i))
		f.Add(s, []byte{2, 9, 0, 40}, []byte{0x80, 0xD2, 0x00, 0x00, 0x04}, uint8(i+1))
	}
	f.Add([]byte{}, []byte{}, []byte{}, uint8(1))
	f.Add([]byte{}, []byte{}, bytes.Repeat([]byte{1}, MaxAPDU+1), uint8(1))
	f.Fuzz(func(t *testing.T, stream, cuts, apdu []byte, mode uint8) {
		p := &scriptPort{stream: stream, cuts: cuts}
		d := fuzzDev(p, 300) // small, so chained answers reach it
		ctx := context.Background()
		var err error
		if mode%2 == 0 {
			var tap *Tap
			tap, err = d.poll(ctx)
			if tap != nil {
				if err != nil {
					t.Fatalf("a tap and an error: %v", err)
				}
				if n := len(tap.id); n < 1 || n > 10 {
					t.Fatalf("UID of %d bytes", n)
				}
				if len(tap.ats) > 0 && int(tap.ats[0]) != len(tap.ats) {
					t.Fatalf("ATS % X does not start with its length", tap.ats)
				}
			}
		} else {
			tap := &Tap{d: d, tg: 1, session: d.session}
			var out []byte
			out, err = tap.Exchange(ctx, apdu)
			if (len(apdu) == 0 || len(apdu) > MaxAPDU) && (err == nil || len(p.written) > 0) {
				t.Fatalf("APDU of %d bytes: sent % X, err %v", len(apdu), p.written, err)
			}
			if err == nil && len(out) > d.o.MaxAnswer {
				t.Fatalf("answer of %d bytes, over MaxAnswer %d", len(out), d.o.MaxAnswer)
			}
		}
		if err != nil && !(mode%2 == 1 && len(apdu) == 0) && !knownChipError(err) {
			t.Fatalf("undocumented error %v", err)
		}
		checkWritten(t, p.written, mode%2 == 0, apdu)
	})
}

// selectAPDU is nfcpay's SELECT of the showpos AID, spelt out.
func selectAPDU() []byte {
	return []byte{0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x53, 0x48, 0x4F, 0x57, 0x50, 0x4F, 0x53, 0x00}
}

func knownChipError(err error) bool {
	var se *StatusError
	for _, e := range []error{errDrained, ErrFrame, ErrSyntax, ErrNoAnswer, ErrTooLong, device.ErrGone} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.As(err, &se) && se.Code != 0 && se.Code <= 0x3F
}

// checkWritten parses what the driver wrote: only ACKs, NACKs and host
// frames of the commands it sends, each whole with its preamble and
// postamble, nothing damaged, nothing in between.
func checkWritten(t *testing.T, w []byte, poll bool, apdu []byte) {
	t.Helper()
	first := true
	for len(w) > 0 {
		if !bytes.HasPrefix(w, []byte{0x00, 0x00, 0xFF}) {
			t.Fatalf("driver wrote % X, not a frame", w)
		}
		kind, p, n, err := parseFrame(w)
		if err != nil || kind == kindNone || kind == kindError || n >= len(w) || w[n] != 0x00 {
			t.Fatalf("driver wrote a bad frame: %v %v in % X", kind, err, w)
		}
		if kind == kindInfo {
			if len(p) < 2 || p[0] != tfiHost {
				t.Fatalf("driver wrote frame % X", p)
			}
			switch cmd := p[1]; {
			case poll && cmd == cmdInListPassiveTarget && bytes.Equal(p[2:], []byte{0x01, 0x00}):
			case poll && cmd == cmdInRelease && len(p) == 3:
			case !poll && cmd == cmdInDataExchange && len(p) >= 3 && p[2] == 1 &&
				(bytes.Equal(p[3:], apdu) || (!first && len(p) == 3)):
				// The command, or after the first answer, a resend of it
				// or a request for the next part of a chained answer.
			default:
				t.Fatalf("driver wrote command frame % X", p)
			}
			first = false
		}
		w = w[n+1:]
	}
}
