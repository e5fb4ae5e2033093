package escpos

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"showpos/device"
)

// These tests run the driver over a pty: the driver opens the slave as a
// serial port (the real go.bug.st/serial) or as a device file (as
// /dev/usb/lp0), and emulator plays the printer on the master.

// Status bytes as a printer answers DLE EOT 1, 2 and 4.
type answers struct{ printer, cause, roll byte }

var (
	ready     = answers{0x12, 0x12, 0x12}
	nearEnd   = answers{0x12, 0x12, 0x1E}
	paperOut  = answers{0x1A, 0x32, 0x72}
	coverOpen = answers{0x1A, 0x16, 0x12}
	silent    = answers{} // never answers
)

// emulator is a printer on a pty master: it answers each DLE EOT n with
// its status byte (unless silent) and keeps every other byte as printed.
type emulator struct {
	t      *testing.T
	master *os.File
	slave  *os.File

	mu      sync.Mutex
	state   answers
	printed []byte
	queries int
	got     chan struct{} // a byte arrived
}

func newEmulator(t *testing.T, state answers) *emulator {
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	e := &emulator{t: t, master: m, slave: s, state: state, got: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.serve()
	}()
	t.Cleanup(func() {
		m.Close()
		s.Close()
		<-done
	})
	return e
}

// raw makes the slave raw, as serial.Open does, for a driver that opens it
// as a plain file.
func (e *emulator) raw() {
	tio, err := unix.IoctlGetTermios(int(e.slave.Fd()), unix.TCGETS)
	if err != nil {
		e.t.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(int(e.slave.Fd()), unix.TCSETS, tio); err != nil {
		e.t.Fatal(err)
	}
}

func (e *emulator) set(a answers) {
	e.mu.Lock()
	e.state = a
	e.mu.Unlock()
}

func (e *emulator) serve() {
	var pending []byte
	buf := make([]byte, 4096)
	for {
		n, err := e.master.Read(buf)
		if err != nil {
			return
		}
		pending = append(pending, buf[:n]...)
		for len(pending) > 0 {
			if pending[0] == dle {
				if len(pending) < 3 {
					break // the rest of the query is on its way
				}
				if pending[1] == eot {
					e.answer(pending[2])
					pending = pending[3:]
					continue
				}
			}
			e.mu.Lock()
			e.printed = append(e.printed, pending[0])
			e.mu.Unlock()
			pending = pending[1:]
		}
		select {
		case e.got <- struct{}{}:
		default:
		}
	}
}

func (e *emulator) answer(n byte) {
	e.mu.Lock()
	e.queries++
	st := e.state
	e.mu.Unlock()
	var b byte
	switch n {
	case 1:
		b = st.printer
	case 2:
		b = st.cause
	case 4:
		b = st.roll
	}
	if b != 0 {
		e.master.Write([]byte{b})
	}
}

// waitPrinted waits until the printer has taken n bytes of jobs.
func (e *emulator) waitPrinted(n int) []byte {
	deadline := time.After(5 * time.Second)
	for {
		e.mu.Lock()
		p := bytes.Clone(e.printed)
		e.mu.Unlock()
		if len(p) >= n {
			return p
		}
		select {
		case <-e.got:
		case <-deadline:
			e.t.Fatalf("printer got %d bytes, want %d", len(p), n)
		}
	}
}

func (e *emulator) printedNow() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Clone(e.printed)
}

// links opens a driver on the emulator each way the board can.
var links = []struct {
	name string
	open func(t *testing.T, e *emulator, o *Opts) *Dev
}{
	{"serial", func(t *testing.T, e *emulator, o *Opts) *Dev {
		d, err := OpenSerial(e.slave.Name(), 115200, o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"usb lp file", func(t *testing.T, e *emulator, o *Opts) *Dev {
		e.raw()
		d, err := OpenUSB(e.slave.Name(), o)
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
			state   answers
			wantErr error
			want    device.PrinterStatus
		}{
			{"ready printer prints the job's exact bytes", ready, nil, device.PrinterStatus{Online: true}},
			{"paper near end still prints and says so", nearEnd, nil, device.PrinterStatus{Online: true, PaperLow: true}},
			{"paper out is refused before sending", paperOut, device.ErrPaperOut, device.PrinterStatus{PaperOut: true}},
			{"cover open is refused before sending", coverOpen, device.ErrCoverOpen, device.PrinterStatus{CoverOpen: true}},
			{"a printer that does not answer is gone", silent, device.ErrPrinterGone, device.PrinterStatus{}},
		} {
			t.Run(l.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				e := newEmulator(t, c.state)
				d := l.open(t, e, &Opts{Columns: 32, StatusTimeout: 200 * time.Millisecond})
				t.Cleanup(func() { d.Halt() })
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()

				st, err := d.Status(ctx)
				if c.state == silent {
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
					if p := e.printedNow(); len(p) != 0 {
						t.Fatalf("a refused job sent %d bytes: % x", len(p), p)
					}
					return
				}
				if got := e.waitPrinted(len(golden)); !bytes.Equal(got, golden) {
					t.Fatalf("printer received\n% x\nwant the golden stream\n% x", got, golden)
				}
			})
		}
	}
}

func TestPrinterBackAfterPaperChange(t *testing.T) {
	e := newEmulator(t, paperOut)
	d := links[0].open(t, e, &Opts{Columns: 48, StatusTimeout: 200 * time.Millisecond})
	defer d.Halt()
	ctx := context.Background()
	if err := d.Print(ctx, everyKind); !errors.Is(err, device.ErrPaperOut) {
		t.Fatalf("Print with paper out: %v", err)
	}
	e.set(ready)
	if err := d.Print(ctx, everyKind); err != nil {
		t.Fatalf("Print after the roll was changed: %v", err)
	}
	golden, _ := Layout{Columns: 48, CodeTable: 19}.Encode(everyKind)
	if got := e.waitPrinted(len(golden)); !bytes.Equal(got, golden) {
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
