package virtual

import (
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"showpos/device"
)

var receipt = device.PrintJob{Lines: []device.PrintLine{
	{Text: "Café Müller", Align: device.AlignCenter, Bold: true, Large: true},
	{Rule: true},
	{Text: "Total", Right: "4,50 €", Bold: true},
	{Text: "a left column far too long to share its line", Right: "12,00 €"},
	{Text: "evil\x1b@", Align: device.AlignRight},
	{QR: "https://pos.example/r/7f3a9c"},
}}

func getPrinter(t *testing.T, b *Board) printerView {
	t.Helper()
	resp := get(t, b, "/sim/printer")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /sim/printer: %d", resp.StatusCode)
	}
	var v printerView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPrintedReceiptIsOnThePagesPaper(t *testing.T) {
	for _, cols := range []int{32, 48} {
		b := newBoard(t, &Opts{PrinterColumns: cols})
		p := b.Printer()
		if p.Columns() != cols {
			t.Fatalf("Columns %d, want %d", p.Columns(), cols)
		}
		if err := p.Print(testCtx(t), receipt); err != nil {
			t.Fatal(err)
		}
		v := getPrinter(t, b)
		if v.Columns != cols || v.Printed != 1 || len(v.Receipts) != 1 {
			t.Fatalf("view %+v", v)
		}
		want := []ReceiptLine{
			{Text: "Café Müller", Bold: true, Large: true, Align: "center"},
			{Text: strings.Repeat("-", cols)},
			{Text: "Total" + strings.Repeat(" ", cols-11) + "4,50 €", Bold: true},
			{Text: "a left column far too long to share its line\n" + strings.Repeat(" ", cols-7) + "12,00 €"},
			{Text: "evil?@", Align: "right"},
			{QR: "https://pos.example/r/7f3a9c", Align: "center"},
		}
		got := v.Receipts[0].Lines
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%d columns, line %d: %+v, want %+v", cols, i, got[i], want[i])
			}
		}

		// The QR the page draws reads back as the payload.
		resp := get(t, b, "/sim/printer/qr/1/5")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("GET QR: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		img, err := png.Decode(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
		if err != nil || res.GetText() != "https://pos.example/r/7f3a9c" {
			t.Fatalf("QR decodes as %v, %v", res, err)
		}
		for _, path := range []string{"/sim/printer/qr/1/0", "/sim/printer/qr/2/5", "/sim/printer/qr/x/5"} {
			if resp := get(t, b, path); resp.StatusCode != 404 {
				t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
			}
		}
	}
}

func TestPrinterSwitchesAreWhatTheTerminalSees(t *testing.T) {
	for _, c := range []struct {
		body    string
		wantErr error
		want    device.PrinterStatus
	}{
		{`{"paperOut":true}`, device.ErrPaperOut, device.PrinterStatus{PaperOut: true}},
		{`{"coverOpen":true}`, device.ErrCoverOpen, device.PrinterStatus{CoverOpen: true}},
		{`{"gone":true}`, device.ErrPrinterGone, device.PrinterStatus{}},
		{`{"paperLow":true}`, nil, device.PrinterStatus{Online: true, PaperLow: true}},
		{`{}`, nil, device.PrinterStatus{Online: true}},
	} {
		t.Run(c.body, func(t *testing.T) {
			b := newBoard(t, nil)
			if code, msg := post(t, b, "/sim/printer", "application/json", c.body); code != http.StatusNoContent {
				t.Fatalf("POST: %d %s", code, msg)
			}
			st, err := b.Printer().Status(testCtx(t))
			if c.want == (device.PrinterStatus{}) {
				if !errors.Is(err, device.ErrPrinterGone) {
					t.Fatalf("Status: %v, want ErrPrinterGone", err)
				}
			} else if err != nil || st != c.want {
				t.Fatalf("Status = %+v, %v; want %+v", st, err, c.want)
			}
			err = b.Printer().Print(testCtx(t), receipt)
			if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
				t.Fatalf("Print: %v, want %v", err, c.wantErr)
			}
			printed := 0
			if c.wantErr == nil {
				printed = 1
			}
			if n := len(b.Printed()); n != printed {
				t.Fatalf("%d receipts on the paper, want %d", n, printed)
			}
		})
	}
}

func TestPrinterSwitchesRefuseBadRequests(t *testing.T) {
	b := newBoard(t, nil)
	for _, body := range []string{``, `{"paperOut":"yes"}`, `{"jam":true}`, `[]`} {
		if code, _ := post(t, b, "/sim/printer", "application/json", body); code != http.StatusBadRequest {
			t.Errorf("POST %q: %d, want 400", body, code)
		}
	}
	if code, _ := post(t, b, "/sim/printer", "application/json", `{"paperOut":true}`, "Origin", "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", code)
	}
	if st, err := b.Printer().Status(testCtx(t)); err != nil || !st.Online {
		t.Errorf("refused requests changed the printer: %+v, %v", st, err)
	}
}

func TestPaperKeepsTheLastTwentyReceipts(t *testing.T) {
	b := newBoard(t, nil)
	for i := range 25 {
		if err := b.Printer().Print(testCtx(t), device.PrintJob{Lines: []device.PrintLine{{Text: string(rune('a' + i))}}}); err != nil {
			t.Fatal(err)
		}
	}
	got := b.Printed()
	if len(got) != 20 || got[0].Seq != 6 || got[19].Seq != 25 || got[19].Lines[0].Text != "y" {
		t.Fatalf("paper holds %d receipts, first %d", len(got), got[0].Seq)
	}
}

func TestHaltedPrinterRefuses(t *testing.T) {
	b := newBoard(t, nil)
	b.Printer().Halt()
	if err := b.Printer().Print(context.Background(), receipt); !errors.Is(err, device.ErrHalted) {
		t.Fatalf("Print after Halt: %v", err)
	}
}
