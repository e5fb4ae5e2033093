package pn532

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tagMsg is the message the table's tag holds: one URI record,
// https://pos.example/r/1 (prefix code 04).
const tagMsg = "D1 01 10 55 04 70 6F 73 2E 65 78 61 6D 70 6C 65 2F 72 2F 31"

const (
	apduSelApp  = "00 A4 04 00 07 D2 76 00 00 85 01 01 00"
	apduSelCC   = "00 A4 00 0C 02 E1 03"
	apduSelNDEF = "00 A4 00 0C 02 E1 04"
)

// tagSteps are APDUs in order, each with the answer a Type 4 tag gives.
type tagStep struct{ apdu, want string }

var tagCases = []struct {
	name  string
	steps []tagStep
	read  bool // the whole NDEF file was read by the end
}{
	{"a phone reads CC, NLEN and the message", []tagStep{
		{apduSelApp, "90 00"},
		{apduSelCC, "90 00"},
		{"00 B0 00 00 0F", "00 0F 20 00 F0 00 F0 04 06 E1 04 00 16 00 FF 90 00"},
		{apduSelNDEF, "90 00"},
		{"00 B0 00 00 02", "00 14 90 00"},
		{"00 B0 00 02 14", tagMsg + " 90 00"},
	}, true},
	{"the whole NDEF file in one read", []tagStep{
		{apduSelApp, "90 00"}, {apduSelNDEF, "90 00"},
		{"00 B0 00 00 00", "00 14 " + tagMsg + " 90 00"},
	}, true},
	{"SELECT without Le, and by file id with P2 00 (T4T v1)", []tagStep{
		{"00 A4 04 00 07 D2 76 00 00 85 01 01", "90 00"},
		{"00 A4 00 00 02 E1 03", "90 00"},
		{"00 B0 00 0D 05", "00 FF 90 00"},
	}, false},
	{"a read past the end is cut at the end", []tagStep{
		{apduSelApp, "90 00"}, {apduSelNDEF, "90 00"},
		{"00 B0 00 10 FF", "6C 65 2F 72 2F 31 90 00"},
	}, false},
	{"another application is not found", []tagStep{
		{"00 A4 04 00 08 F0 53 48 4F 57 50 4F 53 00", "6A 82"},
		{apduSelCC, "6A 82"},
	}, false},
	{"a file before the application is not found", []tagStep{
		{apduSelCC, "6A 82"}, {apduSelNDEF, "6A 82"},
		{"00 B0 00 00 0F", "69 86"},
	}, false},
	{"an unknown file is not found and keeps the selection", []tagStep{
		{apduSelApp, "90 00"}, {apduSelCC, "90 00"},
		{"00 A4 00 0C 02 E1 05", "6A 82"},
		{"00 B0 00 00 02", "00 0F 90 00"},
	}, false},
	{"read-only: UPDATE BINARY is refused and changes nothing", []tagStep{
		{apduSelApp, "90 00"}, {apduSelNDEF, "90 00"},
		{"00 D6 00 00 02 00 00", "69 82"},
		{"00 B0 00 00 02", "00 14 90 00"},
	}, false},
	{"READ BINARY with no file selected", []tagStep{
		{apduSelApp, "90 00"}, {"00 B0 00 00 0F", "69 86"},
	}, false},
	{"offsets past the file and with P1 bit 7", []tagStep{
		{apduSelApp, "90 00"}, {apduSelCC, "90 00"},
		{"00 B0 00 0F 01", "6B 00"},
		{"00 B0 80 00 01", "6A 86"},
	}, false},
	{"wrong lengths", []tagStep{
		{"", "67 00"},
		{"00 A4 04", "67 00"},
		{"00 A4 04 00", "67 00"},
		{"00 A4 04 00 08 D2 76 00 00 85 01 01", "67 00"},
		{"00 A4 04 00 07 D2 76 00 00 85 01 01 00 00", "67 00"},
		{"00 A4 04 00 00", "67 00"},
		{apduSelApp, "90 00"},
		{"00 A4 00 0C 03 E1 03 00", "67 00"},
		{apduSelCC, "90 00"},
		{"00 B0 00 00", "67 00"},
		{"00 B0 00 00 0F 00", "67 00"},
	}, false},
	{"unknown class, instruction and SELECT parameters", []tagStep{
		{"80 A4 04 00 07 D2 76 00 00 85 01 01 00", "6E 00"},
		{"00 CA 00 00 00", "6D 00"},
		{"00 A4 04 0C 07 D2 76 00 00 85 01 01", "6A 86"},
		{"00 A4 02 0C 02 E1 03", "6A 86"},
	}, false},
	{"a new application SELECT drops the file selection", []tagStep{
		{apduSelApp, "90 00"}, {apduSelCC, "90 00"}, {apduSelApp, "90 00"},
		{"00 B0 00 00 02", "69 86"},
	}, false},
	{"the message read out of order is not a whole read", []tagStep{
		{apduSelApp, "90 00"}, {apduSelNDEF, "90 00"},
		{"00 B0 00 05 10", "55 04 70 6F 73 2E 65 78 61 6D 70 6C 65 2F 72 2F 90 00"},
		{"00 B0 00 15 01", "31 90 00"},
	}, false},
}

func TestType4TagAnswersAsTheSpecSays(t *testing.T) {
	for _, tc := range tagCases {
		t.Run(tc.name, func(t *testing.T) {
			tag, err := newTag4(unhex(t, tagMsg))
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				got := tag.respond(unhex(t, s.apdu))
				if want := unhex(t, s.want); !bytes.Equal(got, want) {
					t.Errorf("step %d: % X\n got % X\nwant % X", i, unhex(t, s.apdu), got, want)
				}
			}
			if tag.done() != tc.read {
				t.Errorf("done() = %v, want %v", tag.done(), tc.read)
			}
		})
	}
}

func TestType4TagRefusesAMessageItCannotHold(t *testing.T) {
	for _, n := range []int{0, MaxNDEF + 1} {
		if _, err := newTag4(make([]byte, n)); err == nil {
			t.Errorf("newTag4 of %d bytes: no error", n)
		}
	}
	if _, err := newTag4(make([]byte, MaxNDEF)); err != nil {
		t.Errorf("newTag4 of MaxNDEF bytes: %v", err)
	}
}

// knownSW is every status word the tag may answer.
var knownSW = map[uint16]bool{
	swOK: true, swWrongLength: true, swNotAllowed: true, swNoCurrentEF: true, swNotFound: true,
	swWrongP1P2: true, swWrongOffset: true, swINSUnknown: true, swCLAUnknown: true,
}

// FuzzTagAPDU feeds one APDU to a tag in each state a reader can bring it
// to (nothing, the application, the CC, the NDEF file selected): every
// answer ends in a status word of the table, carries data only with 90 00
// and never more than MLe bytes of it, and an error status changes nothing.
func FuzzTagAPDU(f *testing.F) {
	for _, tc := range tagCases {
		for _, s := range tc.steps {
			for state := range byte(4) {
				f.Add(state, unhex(f, s.apdu))
			}
		}
	}
	prefixes := [][]string{nil, {apduSelApp}, {apduSelApp, apduSelCC}, {apduSelApp, apduSelNDEF}}
	f.Fuzz(func(t *testing.T, state byte, apdu []byte) {
		tag, err := newTag4(unhex(t, tagMsg))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prefixes[int(state)%len(prefixes)] {
			tag.respond(unhex(t, p))
		}
		before := *tag
		r := tag.respond(apdu)
		if len(r) < 2 {
			t.Fatalf("answer % X has no status word", r)
		}
		code := uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
		if !knownSW[code] {
			t.Fatalf("status %04X is not in the table", code)
		}
		if code != swOK {
			if len(r) != 2 {
				t.Fatalf("error %04X with data % X", code, r)
			}
			if tag.appSel != before.appSel || tag.isNDEF != before.isNDEF || tag.readTo != before.readTo ||
				!bytes.Equal(tag.file, before.file) || (tag.file == nil) != (before.file == nil) {
				t.Fatalf("error %04X changed the tag's state", code)
			}
		}
		if len(r)-2 > tagMLe {
			t.Fatalf("%d bytes of data over MLe %d", len(r)-2, tagMLe)
		}
	})
}
