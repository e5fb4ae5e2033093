package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.bug.st/serial"

	"showpos/device"
)

// Transport is the printer's link: a serial port (go.bug.st/serial's Port
// satisfies it) or the USB printer class device. Writes carry the job;
// reads carry the one-byte answers to DLE EOT.
type Transport interface {
	io.ReadWriter
	// SetReadTimeout bounds each Read: a Read that waits that long with
	// nothing to read returns 0 bytes and no error.
	SetReadTimeout(d time.Duration) error
}

// Opts configures a Dev. A zero field takes DefaultOpts' value.
type Opts struct {
	// Columns is the paper's width in characters of font A: 32 on 58 mm
	// paper, 48 on 80 mm.
	Columns int
	// CodeTable is ESC t's number for code page PC858 (19 on Epson and
	// most clones).
	CodeTable byte
	// StatusTimeout bounds the wait for each DLE EOT answer. A printer
	// answers within a few milliseconds even while busy; one that has not
	// after this long is taken as gone. Short makes a sale's receipt give
	// up sooner on a dead printer; too short mistakes a slow USB-serial
	// bridge for one.
	StatusTimeout time.Duration
	// Logger receives reopen events; nil discards them.
	Logger *slog.Logger
}

// DefaultOpts suits an 80 mm Epson-compatible printer.
var DefaultOpts = Opts{
	Columns:       48,
	CodeTable:     19,
	StatusTimeout: 500 * time.Millisecond,
}

// writeChunk is how much of a job is written between looks at ctx: at
// 9600 baud 512 bytes take about half a second.
const writeChunk = 512

// Dev is an ESC/POS receipt printer. It implements device.Printer; its
// methods may be called from several goroutines (one talks to the
// printer at a time).
type Dev struct {
	o    Opts
	log  *slog.Logger
	name string

	// open returns the transport, opening it if need be; drop forgets it
	// after an I/O error so that the next call opens it afresh. For a
	// transport handed to New, both keep the one given.
	open  func() (Transport, error)
	drop  func()
	close func() error

	mu     sync.Mutex // one exchange with the printer at a time
	halted bool
}

var _ device.Printer = (*Dev)(nil)

func withDefaults(o *Opts) (Opts, error) {
	oo := DefaultOpts
	if o != nil {
		oo = *o
		if oo.Columns == 0 {
			oo.Columns = DefaultOpts.Columns
		}
		if oo.CodeTable == 0 {
			oo.CodeTable = DefaultOpts.CodeTable
		}
		if oo.StatusTimeout == 0 {
			oo.StatusTimeout = DefaultOpts.StatusTimeout
		}
	}
	if oo.Columns < 16 || oo.Columns > 255 {
		return oo, fmt.Errorf("escpos: Columns %d: want 32 (58 mm) or 48 (80 mm)", oo.Columns)
	}
	if oo.StatusTimeout < 0 {
		return oo, errors.New("escpos: negative StatusTimeout")
	}
	if oo.Logger == nil {
		oo.Logger = slog.New(slog.DiscardHandler)
	}
	return oo, nil
}

// New drives the printer on t, which the caller owns (and closes after
// Halt). name is for String, e.g. the port's path.
func New(t Transport, name string, o *Opts) (*Dev, error) {
	oo, err := withDefaults(o)
	if err != nil {
		return nil, err
	}
	return &Dev{o: oo, log: oo.Logger, name: name,
		open: func() (Transport, error) { return t, nil }, drop: func() {}, close: func() error { return nil }}, nil
}

// OpenSerial drives a printer on a serial port (8N1, no flow control) at
// baud. The port is opened now and, after an I/O error (a USB-serial
// adapter unplugged), again at the next Print or Status; a port that
// cannot be opened makes them return ErrPrinterGone, so a printer that is
// off at boot is reported, not fatal. Halt closes it.
func OpenSerial(path string, baud int, o *Opts) (*Dev, error) {
	if baud <= 0 {
		return nil, fmt.Errorf("escpos: %s: baud %d", path, baud)
	}
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	return owned("serial "+path, o, func() (Transport, io.Closer, error) {
		p, err := serial.Open(path, mode)
		if err != nil {
			return nil, nil, err
		}
		return p, p, nil
	})
}

// OpenUSB drives a printer on the Linux USB printer class device, e.g.
// /dev/usb/lp0, opened read-write as a file: usblp passes DLE EOT answers
// back on the bulk IN endpoint of bidirectional printers (most thermal
// ones). Like OpenSerial it reopens after an error (the printer switched
// off and on) and reports a missing device as ErrPrinterGone.
func OpenUSB(path string, o *Opts) (*Dev, error) {
	return owned("usb "+path, o, func() (Transport, io.Closer, error) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return nil, nil, err
		}
		return &fileTransport{f: f}, f, nil
	})
}

func owned(name string, o *Opts, open func() (Transport, io.Closer, error)) (*Dev, error) {
	oo, err := withDefaults(o)
	if err != nil {
		return nil, err
	}
	d := &Dev{o: oo, log: oo.Logger, name: name}
	var (
		t Transport
		c io.Closer
	)
	d.open = func() (Transport, error) {
		if t != nil {
			return t, nil
		}
		var err error
		if t, c, err = open(); err != nil {
			t, c = nil, nil
			return nil, err
		}
		d.log.Info("printer open", "printer", name)
		return t, nil
	}
	d.drop = func() {
		if c != nil {
			c.Close()
		}
		t, c = nil, nil
	}
	d.close = func() error {
		if c == nil {
			return nil
		}
		err := c.Close()
		t, c = nil, nil
		return err
	}
	if _, err := d.open(); err != nil {
		d.log.Warn("printer not there yet; trying again at each print", "printer", name, "err", err)
	}
	return d, nil
}

// fileTransport is a device file with a per-Read timeout, made of the
// file's deadline (the file is pollable: usblp and ttys are).
type fileTransport struct {
	f       *os.File
	timeout time.Duration
}

func (t *fileTransport) Write(p []byte) (int, error) { return t.f.Write(p) }

func (t *fileTransport) Read(p []byte) (int, error) {
	if t.timeout > 0 {
		if err := t.f.SetReadDeadline(time.Now().Add(t.timeout)); err != nil {
			return 0, err
		}
	}
	n, err := t.f.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return n, err
}

func (t *fileTransport) SetReadTimeout(d time.Duration) error {
	t.timeout = d
	return nil
}

// String names the printer and its link.
func (d *Dev) String() string { return "escpos(" + d.name + ")" }

// Columns is the paper's width in characters.
func (d *Dev) Columns() int { return d.o.Columns }

// Halt closes a port the Dev opened; later calls return device.ErrHalted.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	d.halted = true
	return d.close()
}

// Status asks the printer with DLE EOT 1, 2 and 4 (printer, offline
// cause, roll paper sensor), each answer awaited for at most
// StatusTimeout and until ctx ends. A printer that does not answer, or
// whose port cannot be opened, is ErrPrinterGone (wrapped).
func (d *Dev) Status(ctx context.Context) (device.PrinterStatus, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return device.PrinterStatus{}, fmt.Errorf("%s: %w", d, device.ErrHalted)
	}
	return d.status(ctx)
}

// Print refuses a job the printer cannot take now — paper out, cover
// open, offline or not answering — with ErrPaperOut, ErrCoverOpen or
// ErrPrinterGone (wrapped), before sending any of it, and a job that
// cannot be printed at all with ErrBadJob. Otherwise it sends the job and
// returns once the port took all of it: the printer prints from its
// buffer. If the paper runs out in the middle, the printer stops and
// finishes when a roll is put in; Print does not send it again.
func (d *Dev) Print(ctx context.Context, job device.PrintJob) error {
	data, err := Layout{Columns: d.o.Columns, CodeTable: d.o.CodeTable}.Encode(job)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return fmt.Errorf("%s: %w", d, device.ErrHalted)
	}
	s, err := d.status(ctx)
	if err != nil {
		return err
	}
	if err := refusal(s); err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	t, err := d.open()
	if err != nil {
		return fmt.Errorf("%s: %w: %w", d, device.ErrPrinterGone, err)
	}
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: print: %w", d, err)
		}
		n := min(len(data), writeChunk)
		if _, err := t.Write(data[:n]); err != nil {
			d.drop()
			return fmt.Errorf("%s: print: %w: %w", d, device.ErrPrinterGone, err)
		}
		data = data[n:]
	}
	return nil
}

// status runs the three queries; d.mu is held.
func (d *Dev) status(ctx context.Context) (device.PrinterStatus, error) {
	t, err := d.open()
	if err != nil {
		return device.PrinterStatus{}, fmt.Errorf("%s: %w: %w", d, device.ErrPrinterGone, err)
	}
	d.drain(t)
	var ans [3]byte
	for i, n := range []byte{1, 2, 4} {
		b, err := d.query(ctx, t, n)
		if err != nil {
			return device.PrinterStatus{}, err
		}
		ans[i] = b
	}
	return Decode(ans[0], ans[1], ans[2]), nil
}

// drain discards bytes a printer sent unasked (or a late answer to a query
// that timed out), so the next answer read is the next query's.
func (d *Dev) drain(t Transport) {
	if t.SetReadTimeout(time.Millisecond) != nil {
		return
	}
	var buf [64]byte
	for range 16 {
		if n, err := t.Read(buf[:]); n == 0 || err != nil {
			return
		}
	}
}

// query sends DLE EOT n and reads its one-byte answer. A byte without the
// fixed bits of a status answer (bit 1 and 4 set, 0 and 7 clear) is not
// one and is skipped.
func (d *Dev) query(ctx context.Context, t Transport, n byte) (byte, error) {
	if _, err := t.Write([]byte{dle, eot, n}); err != nil {
		d.drop()
		return 0, fmt.Errorf("%s: DLE EOT %d: %w: %w", d, n, device.ErrPrinterGone, err)
	}
	deadline := time.Now().Add(d.o.StatusTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	var buf [1]byte
	for {
		wait := time.Until(deadline)
		if wait <= 0 || ctx.Err() != nil {
			return 0, fmt.Errorf("%s: DLE EOT %d: no answer within %v: %w", d, n, d.o.StatusTimeout, device.ErrPrinterGone)
		}
		if err := t.SetReadTimeout(min(wait, 50*time.Millisecond)); err != nil {
			return 0, fmt.Errorf("%s: set read timeout: %w", d, err)
		}
		got, err := t.Read(buf[:])
		if err != nil {
			d.drop()
			return 0, fmt.Errorf("%s: DLE EOT %d: %w: %w", d, n, device.ErrPrinterGone, err)
		}
		if got == 1 && buf[0]&0x93 == 0x12 {
			return buf[0], nil
		}
	}
}
