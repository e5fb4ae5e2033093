package pn532

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The frames the driver writes, as the user manual's worked examples and
// an independent computation give them.
var encodeCases = []struct {
	name   string
	cmd    byte
	params string
	want   string
}{
	{"GetFirmwareVersion", 0x02, "", "00 00 FF 02 FE D4 02 2A 00"},
	{"SAMConfiguration normal", 0x14, "01 14 01", "00 00 FF 05 FB D4 14 01 14 01 02 00"},
	{"RFConfiguration MaxRetries", 0x32, "05 02 01 0A", "00 00 FF 06 FA D4 32 05 02 01 0A E8 00"},
	{"InListPassiveTarget 1 type A", 0x4A, "01 00", "00 00 FF 04 FC D4 4A 01 00 E1 00"},
	{"InDataExchange SELECT", 0x40, "01 00 A4 04 00 08 F0 53 48 4F 57 50 4F 53 00",
		"00 00 FF 11 EF D4 40 01 00 A4 04 00 08 F0 53 48 4F 57 50 4F 53 00 18 00"},
	{"InRelease 1", 0x52, "01", "00 00 FF 03 FD D4 52 01 D9 00"},
	{"RF field off", 0x32, "01 00", "00 00 FF 04 FC D4 32 01 00 F9 00"},
}

func TestEncodeCommand(t *testing.T) {
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := encodeCommand(tc.cmd, hx(t, tc.params)), hx(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("got  % X\nwant % X", got, want)
			}
		})
	}
}

func TestEncodeExtendedFrame(t *testing.T) {
	// TFI + cmd + Tg + a 254-byte APDU = 257 bytes: over a normal frame.
	f := encodeCommand(0x40, append([]byte{0x01}, bytes.Repeat([]byte{0x11}, 254)...))
	if head := hx(t, "00 00 FF FF FF 01 01 FE D4 40"); !bytes.Equal(f[:10], head) {
		t.Errorf("head % X, want % X", f[:10], head)
	}
	if tail := hx(t, "11 0D 00"); !bytes.Equal(f[len(f)-3:], tail) || len(f) != 267 {
		t.Errorf("tail % X (len %d), want % X (len 267)", f[len(f)-3:], len(f), tail)
	}
	kind, p, n, err := parseFrame(f)
	if kind != kindInfo || err != nil || n != len(f)-1 || len(p) != 257 {
		t.Errorf("parse back: %v %d bytes, n=%d, %v", kind, len(p), n, err)
	}
}

// parseCases drive TestParseFrame and seed FuzzParseFrame.
var parseCases = []struct {
	name    string
	in      string
	kind    frameKind
	payload string // for kindInfo
	n       int    // bytes consumed
	err     error
}{
	{"ACK", "00 00 FF 00 FF 00", kindACK, "", 5, nil},
	{"NACK", "00 00 FF FF 00 00", kindNACK, "", 5, nil},
	{"error frame", "00 00 FF 01 FF 7F 81 00", kindError, "", 7, nil},
	{"firmware answer", "00 00 FF 06 FA D5 03 32 01 06 07 E8 00", kindInfo, "D5 03 32 01 06 07", 12, nil},
	{"without postamble", "00 00 FF 06 FA D5 03 32 01 06 07 E8", kindInfo, "D5 03 32 01 06 07", 12, nil},
	{"without preamble", "00 FF 02 FE D5 15 16", kindInfo, "D5 15", 7, nil},
	{"garbage first", "55 AA 13 37 FE 01 00 42 00 00 FF 02 FE D5 15 16 00", kindInfo, "D5 15", 16, nil},
	{"ACK then answer", "00 00 FF 00 FF 00 00 00 FF 02 FE D5 15 16 00", kindACK, "", 5, nil},
	{"extended", "00 00 FF FF FF 00 02 FE D5 15 16 00", kindInfo, "D5 15", 11, nil},
	{"bad LCS", "00 00 FF 06 FB D5 03 32 01 06 07 E8 00", kindNone, "", 3, errLCS},
	{"bad DCS", "00 00 FF 06 FA D5 03 32 01 06 07 E9 00", kindNone, "", 12, errDCS},
	{"bad extended LCS", "00 00 FF FF FF 00 02 FD D5 15 16 00", kindNone, "", 3, errLCS},
	{"zero length", "00 00 FF 00 00 00", kindNone, "", 3, errLen},
	{"extended too long", "00 00 FF FF FF 02 00 FE", kindNone, "", 3, errLen},
	{"truncated header", "00 00 FF 06", kindNone, "", 1, nil},
	{"truncated data", "00 00 FF 06 FA D5 03 32", kindNone, "", 1, nil},
	{"only garbage", "55 AA 13", kindNone, "", 3, nil},
	{"garbage then half a start code", "55 AA 00", kindNone, "", 2, nil},
	{"empty", "", kindNone, "", 0, nil},
}

func TestParseFrame(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			kind, p, n, err := parseFrame(hx(t, tc.in))
			if kind != tc.kind || n != tc.n || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("got %v n=%d err=%v, want %v n=%d err=%v", kind, n, err, tc.kind, tc.n, tc.err)
			}
			if want := hx(t, tc.payload); !bytes.Equal(p, want) {
				t.Errorf("payload % X, want % X", p, want)
			}
		})
	}
}

// FuzzParseFrame: parsing never panics, always makes progress on a damaged
// frame, never reads past its input, and what it accepts round-trips.
func FuzzParseFrame(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(hx(f, tc.in))
	}
	for _, tc := range encodeCases {
		f.Add(hx(f, tc.want))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rest := b
		for range len(b) + 1 {
			kind, p, n, err := parseFrame(rest)
			if n < 0 || n > len(rest) {
				t.Fatalf("n=%d for %d bytes", n, len(rest))
			}
			if err != nil && n == 0 {
				t.Fatalf("error %v without progress on % X", err, rest)
			}
			if kind == kindInfo {
				if len(p) == 0 || len(p) > maxFrameLen {
					t.Fatalf("payload of %d bytes", len(p))
				}
				re := encodeFrame(p[0], p[1:])
				k2, p2, _, err2 := parseFrame(re)
				if k2 != kindInfo || err2 != nil || !bytes.Equal(p, p2) {
					t.Fatalf("round trip of % X: %v % X %v", p, k2, p2, err2)
				}
			}
			if kind == kindNone && err == nil {
				// Whatever is left must be short of a whole frame.
				if len(rest)-n > maxFrameLen+10 {
					t.Fatalf("stalled with %d bytes left: % X", len(rest)-n, rest[n:])
				}
				return
			}
			rest = rest[n:]
		}
		t.Fatalf("no end to parsing % X", b)
	})
}
