package escpos

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"showpos/device"
)

var update = flag.Bool("update", false, "rewrite the golden byte streams in testdata")

// everyKind is a receipt with every kind of line the terminal prints.
var everyKind = device.PrintJob{Lines: []device.PrintLine{
	{Text: "Café Müller", Align: device.AlignCenter, Bold: true, Large: true},
	{Text: "Hauptstraße 1, Köln", Align: device.AlignCenter},
	{Rule: true},
	{Text: "Total", Right: "4,50 €", Bold: true},
	{Text: "Paid", Right: "0.0013 ETH"},
	{Text: "Tip", Right: "0,45 €"},
	{Text: "a very long left column that cannot share its line", Right: "12,00 €"},
	{Text: "PAID", Large: true, Align: device.AlignCenter},
	{Rule: true},
	{Text: "0x5f3c…9a1e", Align: device.AlignRight},
	{QR: "https://pos.example/r/7f3a9c"},
	{Text: "Danke! ☺", Align: device.AlignCenter},
}}

func TestGoldenByteStreams(t *testing.T) {
	for _, cols := range []int{32, 48} {
		t.Run(strconv.Itoa(cols), func(t *testing.T) {
			got, err := Layout{Columns: cols, CodeTable: 19}.Encode(everyKind)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "receipt-"+strconv.Itoa(cols)+".bin")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("byte stream differs from %s:\ngot\n%s\nwant\n%s", path, hex.Dump(got), hex.Dump(want))
			}
			// What a printer would put on paper, read back from the bytes.
			paper := render(t, got, cols)
			for _, line := range []string{
				pad("Total", "4,50 €", cols),
				pad("Paid", "0.0013 ETH", cols),
				strings.Repeat("-", cols),
				"a very long left column that cannot share its line",
				pad("", "12,00 €", cols),
				"Danke! ?",
				"[QR https://pos.example/r/7f3a9c]",
			} {
				if !containsLine(paper, line) {
					t.Errorf("paper lacks %q:\n%s", line, strings.Join(paper, "\n"))
				}
			}
		})
	}
}

func pad(l, r string, cols int) string {
	return l + strings.Repeat(" ", cols-len([]rune(l))-len([]rune(r))) + r
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestEncodeLines(t *testing.T) {
	init := []byte{esc, '@', esc, 't', 19}
	cut := []byte{gs, 'V', 66, 0}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		name string
		line device.PrintLine
		want []byte
	}{
		{"plain text is the bytes and LF", device.PrintLine{Text: "abc"}, []byte("abc\n")},
		{"euro sign is 0xD5 in PC858", device.PrintLine{Text: "€5"}, []byte{0xD5, '5', lf}},
		{"umlauts and sharp s", device.PrintLine{Text: "Müß"}, []byte{'M', 0x81, 0xE1, lf}},
		{"a decomposed accent is composed first", device.PrintLine{Text: "e\u0301"}, []byte{0x82, lf}},
		{"typographic quotes become ASCII", device.PrintLine{Text: "“a”–b"}, []byte("\"a\"-b\n")},
		{"what PC858 lacks is ?", device.PrintLine{Text: "Ω😀"}, []byte("??\n")},
		{"control bytes in text cannot inject commands", device.PrintLine{Text: "a\x1b@\x10\x04\x01"}, []byte("a?@???\n")},
		{"invalid UTF-8 is ?", device.PrintLine{Text: "a\xffb"}, []byte("a?b\n")},
		{"centred bold", device.PrintLine{Text: "x", Align: device.AlignCenter, Bold: true},
			[]byte{esc, 'a', 1, esc, 'E', 1, 'x', lf, esc, 'a', 0, esc, 'E', 0}},
		{"large is double width and height", device.PrintLine{Text: "x", Large: true},
			[]byte{gs, '!', 0x11, 'x', lf, gs, '!', 0}},
		{"two columns are padded to the width", device.PrintLine{Text: "ab", Right: "cd"},
			[]byte("ab" + strings.Repeat(" ", 28) + "cd\n")},
		{"large two columns fill half as many characters", device.PrintLine{Text: "ab", Right: "cd", Large: true},
			cat([]byte{gs, '!', 0x11}, []byte("ab"+strings.Repeat(" ", 12)+"cd\n"), []byte{gs, '!', 0})},
		{"two columns exactly one space apart fit", device.PrintLine{Text: strings.Repeat("a", 30), Right: "b"},
			[]byte(strings.Repeat("a", 30) + " b\n")},
		{"two columns that do not fit take two lines", device.PrintLine{Text: strings.Repeat("a", 31), Right: "b"},
			[]byte(strings.Repeat("a", 31) + "\n" + strings.Repeat(" ", 31) + "b\n")},
		{"a rule spans the paper", device.PrintLine{Rule: true, Text: "ignored"}, []byte(strings.Repeat("-", 32) + "\n")},
		{"QR: model 2, module 6, level M, store, print, centred", device.PrintLine{QR: "HI"},
			cat([]byte{esc, 'a', 1},
				[]byte{gs, '(', 'k', 4, 0, 49, 65, 50, 0},
				[]byte{gs, '(', 'k', 3, 0, 49, 67, 6},
				[]byte{gs, '(', 'k', 3, 0, 49, 69, 49},
				[]byte{gs, '(', 'k', 5, 0, 49, 80, 48, 'H', 'I'},
				[]byte{gs, '(', 'k', 3, 0, 49, 81, 48, lf},
				[]byte{esc, 'a', 0})},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Layout{Columns: 32, CodeTable: 19}.Encode(device.PrintJob{Lines: []device.PrintLine{c.line}})
			if err != nil {
				t.Fatal(err)
			}
			want := cat(init, c.want, cut)
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", hex.Dump(got), hex.Dump(want))
			}
		})
	}
}

func TestQRModuleShrinksToFitThePaper(t *testing.T) {
	long := "https://pos.example/r/" + strings.Repeat("a1", 150) // version 13 at M: 69+8 modules
	for _, c := range []struct {
		cols, want int
	}{{32, 4}, {48, 6}} {
		got, err := Layout{Columns: c.cols, CodeTable: 19}.Encode(device.PrintJob{Lines: []device.PrintLine{{QR: long}}})
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(got, []byte{gs, '(', 'k', 3, 0, 49, 67})
		if i < 0 || int(got[i+7]) != c.want {
			t.Errorf("%d columns: module size %d, want %d", c.cols, got[i+7], c.want)
		}
	}
}

func TestEncodeRefusesWhatCannotPrint(t *testing.T) {
	for _, c := range []struct {
		name string
		l    Layout
		job  device.PrintJob
	}{
		{"QR over MaxQR", Layout{Columns: 48}, device.PrintJob{Lines: []device.PrintLine{{QR: strings.Repeat("a", MaxQR+1)}}}},
		{"QR not UTF-8", Layout{Columns: 48}, device.PrintJob{Lines: []device.PrintLine{{QR: "\xff"}}}},
		{"unknown alignment", Layout{Columns: 48}, device.PrintJob{Lines: []device.PrintLine{{Text: "x", Align: 7}}}},
		{"no width", Layout{}, device.PrintJob{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.l.Encode(c.job); !errors.Is(err, ErrBadJob) {
				t.Fatalf("err = %v, want ErrBadJob", err)
			}
		})
	}
}

func TestDecodeStatusBytes(t *testing.T) {
	for _, c := range []struct {
		name                 string
		printer, cause, roll byte
		want                 device.PrinterStatus
	}{
		{"ready", 0x12, 0x12, 0x12, device.PrinterStatus{Online: true}},
		{"paper near end still prints", 0x12, 0x12, 0x1E, device.PrinterStatus{Online: true, PaperLow: true}},
		{"paper out", 0x1A, 0x32, 0x72, device.PrinterStatus{PaperOut: true}},
		{"paper out seen by the offline cause alone", 0x1A, 0x32, 0x12, device.PrinterStatus{PaperOut: true}},
		{"cover open", 0x1A, 0x16, 0x12, device.PrinterStatus{CoverOpen: true}},
		{"offline for an error", 0x1A, 0x52, 0x12, device.PrinterStatus{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Decode(c.printer, c.cause, c.roll); got != c.want {
				t.Errorf("Decode(%#x, %#x, %#x) = %+v, want %+v", c.printer, c.cause, c.roll, got, c.want)
			}
		})
	}
}
