package escpos

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"showpos/device"
	"showpos/drivers/escpos/escpostest"
)

// start serves a printer in state s on a pty until the test ends.
func start(t *testing.T, s escpostest.State) *escpostest.Printer {
	t.Helper()
	p, err := escpostest.Start(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// These tests run the driver over a pty: the driver opens the slave as a
// serial port (the real go.bug.st/serial) or as a device file (as
// /dev/usb/lp0), and escpostest plays the printer on the master.

// links opens a driver on the emulator each way the board can.
var links = []struct {
	name string
	open func(t *testing.T, e *escpostest.Printer, o *Opts) *Dev
}{
	{"serial", func(t *testing.T, e *escpostest.Printer, o *Opts) *Dev {
		d, err := OpenSerial(e.Path(), 115200, o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"usb lp file", func(t *testing.T, e *escpostest.Printer, o *Opts) *Dev {
		d, err := OpenUSB(e.Path(), o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
}

func TestPrintOnTheWire(t *testing.T) {
	for _, l := range links {
		for _, c := range []struct {
			name    string
			state   escpostest.State
			wantErr error
			want    device.PrinterStatus
		}{
			{"ready printer prints the job's exact bytes", escpostest.Ready, nil, device.PrinterStatus{Online: true}},
			{"paper near end still prints and says so", escpostest.NearEnd, nil, device.PrinterStatus{Online: true, PaperLow: true}},
			{"paper out is refused before sending", escpostest.PaperOut, device.ErrPaperOut, device.PrinterStatus{PaperOut: true}},
			{"cover open is refused before sending", escpostest.CoverOpen, device.ErrCoverOpen, device.PrinterStatus{CoverOpen: true}},
			{"a printer that does not answer is gone", escpostest.Silent, device.ErrPrinterGone, device.PrinterStatus{}},
		} {
			t.Run(l.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				e := start(t, c.state)
				d := l.open(t, e, &Opts{Columns: 32, StatusTimeout: 200 * time.Millisecond})
				t.Cleanup(func() { d.Halt() })
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()

				st, err := d.Status(ctx)
				if c.state == escpostest.Silent {
					if !errors.Is(err, device.ErrPrinterGone) {
						t.Fatalf("Status: %v, want ErrPrinterGone", err)
					}
				} else if err != nil || st != c.want {
					t.Fatalf("Status = %+v, %v; want %+v", st, err, c.want)
				}

				err = d.Print(ctx, everyKind)
				if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
					t.Fatalf("Print: %v, want %v", err, c.wantErr)
				}
				golden, _ := Layout{Columns: 32, CodeTable: 19}.Encode(everyKind)
				if c.wantErr != nil {
					time.Sleep(50 * time.Millisecond) // anything sent would have arrived
					if p := e.Printed(); len(p) != 0 {
						t.Fatalf("a refused job sent %d bytes: % x", len(p), p)
					}
					return
				}
				if got, err := e.WaitPrinted(ctx, len(golden)); err != nil || !bytes.Equal(got, golden) {
					t.Fatalf("printer received\n% x\nwant the golden stream\n% x", got, golden)
				}
			})
		}
	}
}

func TestPrinterBackAfterPaperChange(t *testing.T) {
	e := start(t, escpostest.PaperOut)
	d := links[0].open(t, e, &Opts{Columns: 48, StatusTimeout: 200 * time.Millisecond})
	defer d.Halt()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Print(ctx, everyKind); !errors.Is(err, device.ErrPaperOut) {
		t.Fatalf("Print with paper out: %v", err)
	}
	e.Set(escpostest.Ready)
	if err := d.Print(ctx, everyKind); err != nil {
		t.Fatalf("Print after the roll was changed: %v", err)
	}
	golden, _ := Layout{Columns: 48, CodeTable: 19}.Encode(everyKind)
	if got, err := e.WaitPrinted(ctx, len(golden)); err != nil || !bytes.Equal(got, golden) {
		t.Fatal("the job printed after the paper change is not the golden stream")
	}
}

func TestMissingPortIsGoneNotFatal(t *testing.T) {
	for _, open := range []func() (*Dev, error){
		func() (*Dev, error) { return OpenSerial("/dev/showpos-no-such-printer", 9600, nil) },
		func() (*Dev, error) { return OpenUSB("/dev/usb/showpos-no-such-lp", nil) },
	} {
		d, err := open()
		if err != nil {
			t.Fatalf("open: %v; want a Dev that reports the printer gone", err)
		}
		if _, err := d.Status(context.Background()); !errors.Is(err, device.ErrPrinterGone) {
			t.Errorf("%s: Status: %v, want ErrPrinterGone", d, err)
		}
		if err := d.Print(context.Background(), everyKind); !errors.Is(err, device.ErrPrinterGone) {
			t.Errorf("%s: Print: %v, want ErrPrinterGone", d, err)
		}
		d.Halt()
		if _, err := d.Status(context.Background()); !errors.Is(err, device.ErrHalted) {
			t.Errorf("%s: Status after Halt: %v, want ErrHalted", d, err)
		}
	}
}

func TestBadOptionsAreRefused(t *testing.T) {
	if _, err := OpenSerial("/dev/null", 0, nil); err == nil {
		t.Error("baud 0 accepted")
	}
	if _, err := OpenUSB("/dev/null", &Opts{Columns: 3}); err == nil {
		t.Error("3 columns accepted")
	}
}

// A printer switched off and on again (a USB printer gets a new device
// node; here the udev-style link is pointed at a new pty) is reported gone
// while it is away and printed on again once it is back, by opening its
// path afresh.
func TestPrinterSwitchedOffAndOnIsReopened(t *testing.T) {
	for _, l := range []struct {
		name string
		open func(path string) (*Dev, error)
	}{
		{"serial", func(p string) (*Dev, error) {
			return OpenSerial(p, 115200, &Opts{Columns: 32, StatusTimeout: 200 * time.Millisecond})
		}},
		{"usb lp file", func(p string) (*Dev, error) {
			return OpenUSB(p, &Opts{Columns: 32, StatusTimeout: 200 * time.Millisecond})
		}},
	} {
		t.Run(l.name, func(t *testing.T) {
			link := filepath.Join(t.TempDir(), "lp0")
			first, err := escpostest.Start(escpostest.Ready)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(first.Path(), link); err != nil {
				t.Fatal(err)
			}
			d, err := l.open(link)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Halt()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			job := device.PrintJob{Lines: []device.PrintLine{{Text: "before"}}}
			if err := d.Print(ctx, job); err != nil {
				t.Fatalf("first printer: %v", err)
			}

			first.Close() // switched off: the pty hangs up
			os.Remove(link)
			if err := d.Print(ctx, job); !errors.Is(err, device.ErrPrinterGone) {
				t.Fatalf("while it is off: %v, want ErrPrinterGone", err)
			}

			second := start(t, escpostest.Ready)
			if err := os.Symlink(second.Path(), link); err != nil {
				t.Fatal(err)
			}
			job = device.PrintJob{Lines: []device.PrintLine{{Text: "after"}}}
			if err := d.Print(ctx, job); err != nil {
				t.Fatalf("after it is back: %v", err)
			}
			want, _ := Layout{Columns: 32, CodeTable: 19}.Encode(job)
			if got, err := second.WaitPrinted(ctx, len(want)); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("the printer back on received % x (%v), want % x", got, err, want)
			}
		})
	}
}
