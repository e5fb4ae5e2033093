package nfcpay

import (
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// phoneScript is a sequence of C-APDU → R-APDU, in hex, for one Phone.
type phoneScript struct {
	name  string
	steps [][2]string
}

var phoneScripts = []phoneScript{
	{"whole tap", [][2]string{
		{"00A4040008F053484F57504F5300", "01 9000"},
		{"80D0 0000 02 4142", "9000"},
		{"80D2 0000 04", "6985"}, // request not complete yet
		{"80D0 8001 01 43", "9000"},
		{"80D2 0000 04", "00000003 9000"},
		{"80D4 0000 00", "545831 9000"},
		{"80D4 0001 00", "6A86"}, // past the end
	}},
	{"resent chunks are idempotent", [][2]string{
		{"00A4040008F053484F57504F5300", "01 9000"},
		{"80D0 0000 01 41", "9000"},
		{"80D0 0000 01 41", "9000"}, // same again: fine
		{"80D0 0000 01 42", "6A86"}, // index 0 with other data: out of order
		{"80D0 8001 01 42", "9000"},
		{"80D0 8001 01 42", "9000"}, // the last one again: fine
		{"80D0 8002 01 43", "6985"}, // more after the last: out of sequence
		{"80D2 0000 04", "00000003 9000"},
	}},
	{"out of order", [][2]string{
		{"00A4040008F053484F57504F5300", "01 9000"},
		{"80D0 0001 01 41", "6A86"},
	}},
	{"before SELECT", [][2]string{
		{"80D2 0000 04", "6985"},
	}},
	{"other AID", [][2]string{
		{"00A4040007A0000000041010 00", "6A82"},
		{"80D2 0000 04", "6985"},
	}},
	{"bad lengths and codes", [][2]string{
		{"00A4040008F053484F57504F5300", "01 9000"},
		{"80D0 0000 00", "6700"},
		{"80D0 0000 05 41", "6700"},
		{"80D0", "6700"},
		{"80D2 0001 04", "6A86"},
		{"8077 0000", "6D00"},
		{"9000 0000", "6E00"},
	}},
	{"SELECT again starts over", [][2]string{
		{"00A4040008F053484F57504F5300", "01 9000"},
		{"80D0 8000 01 41", "9000"},
		{"00A4040008F053484F57504F5300", "01 9000"},
		{"80D2 0000 04", "6985"},
	}},
}

func TestPhoneScripts(t *testing.T) {
	for _, sc := range phoneScripts {
		t.Run(sc.name, func(t *testing.T) {
			p := &Phone{Sign: func(req []byte) ([]byte, error) { return []byte("TX1"), nil }}
			for i, st := range sc.steps {
				got := p.Respond(unhex(t, st[0]))
				if want := unhex(t, st[1]); string(got) != string(want) {
					t.Fatalf("step %d: %s → % X, want % X", i, st[0], got, want)
				}
			}
		})
	}
}

// FuzzPhoneRespond: whatever the reader sends, the phone answers with a
// status word and never more than one chunk; it never panics.
func FuzzPhoneRespond(f *testing.F) {
	for _, sc := range phoneScripts {
		for _, st := range sc.steps {
			f.Add(unhex(f, st[0]), unhex(f, "80D08000014100"))
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		p := &Phone{Sign: func(req []byte) ([]byte, error) { return make([]byte, 700), nil }}
		p.Respond(SelectAPDU())
		for _, apdu := range [][]byte{a, b, GetTxInfoAPDU(), GetTxChunkAPDU(2), a} {
			r := p.Respond(apdu)
			if len(r) < 2 || len(r) > ChunkSize+2 {
				t.Fatalf("% X → %d bytes", apdu, len(r))
			}
		}
	})
}
