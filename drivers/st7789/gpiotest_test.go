package st7789

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/spi/spitest"
)

// checkOps compares what spitest.Record saw with the bytes of want.
// Record keeps only the bytes of each transfer, not the D/C level during
// it; TestNewInitSequence checks those levels with the bench's pins.
func checkOps(t *testing.T, got []conntest.IO, want script) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Fatalf("transfer %d: missing, want %v", i, want[i])
		case i >= len(want):
			t.Fatalf("transfer %d: unexpected % X", i, got[i].W)
		case !bytes.Equal(got[i].W, want[i].W) || len(got[i].R) != 0:
			t.Fatalf("transfer %d: got W % .16X R % X, want %v", i, got[i].W, got[i].R, want[i])
		}
	}
}

// New against periph's own fakes: D/C and RST are gpiotest pins (both
// start High), the port is spitest.Record. RST is pulsed Low for 10 µs and
// released High before any transfer, D/C is Low from the start, the
// transfers are exactly the init sequence's bytes, and RST stays High
// (reset released) afterwards.
func TestWithGpiotestPinsAndSpitestRecord(t *testing.T) {
	dc := &gpiotest.Pin{N: "DC", Num: 25, L: gpio.High}
	rst := &gpiotest.Pin{N: "RST", Num: 27, L: gpio.High}
	rec := &spitest.Record{}
	var mu sync.Mutex
	var sleeps []string // pin levels and transfers so far at each wait
	o := DefaultOpts
	o.Sleep = func(d time.Duration) {
		rec.Lock()
		n := len(rec.Ops)
		rec.Unlock()
		mu.Lock()
		defer mu.Unlock()
		sleeps = append(sleeps, fmt.Sprintf("sleep %s RST=%s DC=%s after %d transfers", d, rst.Read(), dc.Read(), n))
	}
	d, err := New(rec, dc, rst, &o)
	if err != nil {
		t.Fatal(err)
	}
	if l := rst.Read(); l != gpio.High {
		t.Errorf("RST L = %s after New, want High (reset released)", l)
	}
	if l := dc.Read(); l != gpio.Low {
		t.Errorf("DC L = %s after New, want Low (DISPON was a command)", l)
	}
	mu.Lock()
	got := sleeps
	mu.Unlock()
	want := []string{
		"sleep 10µs RST=Low DC=Low after 0 transfers",
		"sleep 120ms RST=High DC=Low after 0 transfers",
		"sleep 120ms RST=High DC=Low after 1 transfers", // SWRESET
		"sleep 120ms RST=High DC=Low after 2 transfers"} // SLPOUT
	if !slices.Equal(got, want) {
		t.Errorf("waits:\n got %q\nwant %q", got, want)
	}
	rec.Lock()
	ops := slices.Clone(rec.Ops)
	rec.Unlock()
	checkOps(t, ops, initScript(0x00, 0x21, 0, 239, 0, 239, 4096))
	if s, want := d.String(), "st7789.Dev{record, dc=DC(25), 240x240}"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}

	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	rec.Lock()
	ops = slices.Clone(rec.Ops[len(ops):])
	rec.Unlock()
	checkOps(t, ops, script{}.cmd(0x28).cmd(0x10)) // DISPOFF, SLPIN
	if r, c := rst.Read(), dc.Read(); r != gpio.High || c != gpio.Low {
		t.Errorf("after Halt: RST %s, DC %s; want High (Halt does not reset), Low", r, c)
	}
}
