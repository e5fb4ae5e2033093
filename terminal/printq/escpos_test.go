package printq

import (
	"bytes"
	"context"
	"testing"
	"time"

	"showpos/device"
	"showpos/drivers/escpos"
	"showpos/drivers/escpos/escpostest"
)

// The queue over the real ESC/POS driver on a pty, against the emulated
// printer: a receipt submitted while the paper is out waits, the status
// says why, and once a roll is in, the printer receives the receipt's
// exact bytes, once, and the next one after it.
func TestReceiptWaitsForPaperOnARealDriver(t *testing.T) {
	emu, err := escpostest.Start(escpostest.PaperOut)
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	dev, err := escpos.OpenSerial(emu.Path(), 115200, &escpos.Opts{Columns: 32, StatusTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Halt()
	q, out := startOn(t, dev)

	first := device.PrintJob{Lines: []device.PrintLine{{Text: "Café", Bold: true}, {Text: "Total", Right: "4,50 €"}, {QR: "https://pos.example/r/1"}}}
	second := device.PrintJob{Lines: []device.PrintLine{{Text: "second"}}}
	q.Submit(first)
	eventually(t, "the paper-out refusal", func() bool { return out.count("paper_out") > 0 })
	q.Submit(second)
	if s := q.Status(); !s.PaperOut || s.Online || s.Queued != 2 || s.Printer != dev.String() {
		t.Fatalf("status with the paper out: %+v", s)
	}
	if p := emu.Printed(); len(p) != 0 {
		t.Fatalf("the printer received %d bytes with its paper out", len(p))
	}

	emu.Set(escpostest.Ready)
	l := escpos.Layout{Columns: 32, CodeTable: 19}
	a, _ := l.Encode(first)
	b, _ := l.Encode(second)
	want := append(a, b...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := emu.WaitPrinted(ctx, len(want))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("printer received %d bytes (%v), want both receipts in order (%d)", len(got), err, len(want))
	}
	eventually(t, "both printed", func() bool { s := q.Status(); return s.Printed == 2 && s.Queued == 0 && s.Online })
}
