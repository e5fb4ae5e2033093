package serialscanner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"

	"showpos/device"
)

// Terminator values for Opts.Terminator.
const (
	// TerminatorAuto ends a payload at CR, at LF or at CRLF, whichever the
	// scanner sends.
	TerminatorAuto = "auto"
	TerminatorCR   = "\r"
	TerminatorLF   = "\n"
	TerminatorCRLF = "\r\n"
)

// ErrNoPort is wrapped by New when no serial port has the configured USB
// VID:PID.
var ErrNoPort = errors.New("serialscanner: no serial port with the configured USB VID:PID")

// Opts configures a scanner. A zero numeric, duration or Terminator field
// takes DefaultOpts' value; Path, VID and PID are taken as given.
type Opts struct {
	// Path is the serial device node, e.g. "/dev/ttyACM0". A stable udev
	// name such as /dev/serial/by-id/usb-… survives replugging into another
	// USB port, which /dev/ttyACMn does not. Empty means find the port by VID
	// and PID, again at every reconnect. Path wins when both are given.
	Path string
	// VID and PID are the scanner's USB vendor and product ids as hex,
	// e.g. "05e0" and "1200" (a leading "0x" is allowed; case does not
	// matter: sysfs says lowercase, go.bug.st/serial v1.8.0 reports
	// uppercase). Used only when Path is empty.
	VID, PID string
	// Baud is the UART bit rate. USB CDC-ACM scanners ignore it; a scanner on
	// a real UART usually ships at 9600 and can be set to 115200, which types
	// a 4 KiB payload in 0.4 s instead of 4.3 s.
	Baud int
	// Terminator is the scanner's suffix after each payload: TerminatorCR,
	// TerminatorLF, TerminatorCRLF, or TerminatorAuto to take any of them.
	// Auto is the default because the suffix is a per-unit setting (scanned
	// from the manual's config barcodes) that a replaced scanner may not
	// share; an exact terminator only matters if payloads may contain the
	// other line-end byte, which hex never does.
	Terminator string
	// MaxPayload is the longest line kept, in bytes before trimming. A
	// longer line is dropped up to its terminator and reported once as
	// device.ErrTooLarge. A signed transaction as 0x-hex is usually under
	// 1 KiB and a few KiB with long calldata; raise it (it costs that much
	// memory, once) if payers show bigger ones.
	MaxPayload int
	// ReconnectMin and ReconnectMax bound the wait between attempts to
	// reopen an unplugged scanner: the wait starts at ReconnectMin, doubles
	// up to ReconnectMax, and is jittered to half..full. Short finds a
	// replugged scanner sooner; long costs less while it stays away (each
	// attempt lists sysfs when finding by VID/PID).
	ReconnectMin, ReconnectMax time.Duration
	// Logger receives unplug/reconnect and dropped-payload events. Nil
	// discards them.
	Logger *slog.Logger

	// List enumerates serial ports for the VID/PID lookup. Nil means
	// enumerator.GetDetailedPortsList. For tests and unusual platforms.
	List func() ([]*enumerator.PortDetails, error)
	// Open opens a port. Nil means serial.Open. For tests and unusual
	// platforms; the driver sets the read timeout on what it returns.
	Open func(path string, mode *serial.Mode) (serial.Port, error)
}

// DefaultOpts suits a USB CDC-ACM scanner, the first one the kernel names.
var DefaultOpts = Opts{
	Path:         "/dev/ttyACM0",
	Baud:         9600,
	Terminator:   TerminatorAuto,
	MaxPayload:   8 << 10,
	ReconnectMin: 250 * time.Millisecond,
	ReconnectMax: 5 * time.Second,
}

// pollInterval is the port's read timeout: how often the reader looks up
// from the port to see whether it was halted. It bounds Halt's latency and
// costs one wakeup per interval while idle.
const pollInterval = 100 * time.Millisecond

// queueLen is how many payloads wait for a slow consumer before the oldest
// is dropped. A person scans a few codes a second at most; a backlog means
// nobody is reading and old scans are stale.
const queueLen = 4

// readChunk is the read buffer: a CDC-ACM packet is 64 bytes and a 9600 baud
// UART delivers 960 bytes a second, so a read rarely fills it.
const readChunk = 4096

// Dev is a QR/barcode scanner that types payloads over a serial port.
type Dev struct {
	o     Opts // with defaults applied
	log   *slog.Logger
	which string // "/dev/ttyACM0" or "05e0:1200", for errors and String

	q        chan item     // payloads for ReadPayload; the reader drops the oldest when full
	stop     chan struct{} // closed by Halt
	haltOnce sync.Once
	wg       sync.WaitGroup

	mu   sync.Mutex
	path string // the port open now or last

	lost    atomic.Bool  // the port failed and is not open again yet
	opens   atomic.Int64 // successful opens, for tests
	dropped atomic.Int64 // payloads dropped for a slow consumer, for tests
}

var _ device.Scanner = (*Dev)(nil)

type item struct {
	payload []byte
	err     error
}

// New opens the scanner's port — Path, or the port with VID and PID — and
// starts reading. It fails if the port cannot be opened now; once open, an
// unplugged scanner is reopened in the background. Halt stops it.
func New(o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	oo, err := withDefaults(*o)
	if err != nil {
		return nil, err
	}
	d := &Dev{
		o:    oo,
		log:  oo.Logger,
		q:    make(chan item, queueLen),
		stop: make(chan struct{}),
	}
	if oo.Path != "" {
		d.which = oo.Path
	} else {
		d.which = oo.VID + ":" + oo.PID
	}
	p, err := d.connect()
	if err != nil {
		return nil, err
	}
	d.log.Info("scanner open", "scanner", d.which, "path", d.Path())
	d.wg.Add(1)
	go d.run(p)
	return d, nil
}

func withDefaults(o Opts) (Opts, error) {
	def := DefaultOpts
	if o.Baud == 0 {
		o.Baud = def.Baud
	}
	if o.Terminator == "" {
		o.Terminator = def.Terminator
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = def.MaxPayload
	}
	if o.ReconnectMin == 0 {
		o.ReconnectMin = def.ReconnectMin
		if o.ReconnectMax > 0 {
			o.ReconnectMin = min(o.ReconnectMin, o.ReconnectMax)
		}
	}
	if o.ReconnectMax == 0 {
		o.ReconnectMax = max(def.ReconnectMax, o.ReconnectMin)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.List == nil {
		o.List = func() ([]*enumerator.PortDetails, error) { return enumerator.GetDetailedPortsList() }
	}
	if o.Open == nil {
		o.Open = serial.Open
	}
	o.VID = normHex(o.VID)
	o.PID = normHex(o.PID)
	switch {
	case o.Path == "" && (o.VID == "" || o.PID == ""):
		return o, errors.New("serialscanner: need Path, or VID and PID")
	case o.Terminator != TerminatorAuto && o.Terminator != TerminatorCR &&
		o.Terminator != TerminatorLF && o.Terminator != TerminatorCRLF:
		return o, fmt.Errorf("serialscanner: Terminator %q: want \"auto\", \"\\r\", \"\\n\" or \"\\r\\n\"", o.Terminator)
	case o.Baud < 0 || o.MaxPayload < 0:
		return o, errors.New("serialscanner: negative Baud or MaxPayload")
	case o.ReconnectMin < 0 || o.ReconnectMax < o.ReconnectMin:
		return o, fmt.Errorf("serialscanner: want 0 <= ReconnectMin (%v) <= ReconnectMax (%v)", o.ReconnectMin, o.ReconnectMax)
	}
	return o, nil
}

func normHex(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.TrimPrefix(s, "0x")
}

// ReadPayload returns the next payload the scanner read, without its
// terminator and surrounding whitespace. It returns device.ErrTooLarge (wrapped)
// once for each line over MaxPayload, ctx.Err() when ctx ends first, and
// device.ErrHalted after Halt. While the scanner is unplugged it waits.
func (d *Dev) ReadPayload(ctx context.Context) ([]byte, error) {
	select {
	case <-d.stop:
		return nil, device.ErrHalted
	default:
	}
	select {
	case it := <-d.q:
		return it.payload, it.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-d.stop:
		return nil, device.ErrHalted
	}
}

// Halt stops the reader, closes the port and waits for both; a reconnect
// wait is cut short. It returns within about 100 ms. Safe to call twice.
func (d *Dev) Halt() error {
	d.haltOnce.Do(func() { close(d.stop) })
	d.wg.Wait()
	return nil
}

// String names the scanner and the port it is (or was last) on.
func (d *Dev) String() string {
	p := d.Path()
	if p == d.which {
		return "serialscanner(" + p + ")"
	}
	return "serialscanner(" + d.which + " at " + p + ")"
}

// Present reports whether the scanner's port is open now: false from an
// unplug until it is found again.
func (d *Dev) Present() bool { return !d.lost.Load() }

// Path is the device node the scanner is, or was last, open on. With VID/PID
// lookup it may change across replugs.
func (d *Dev) Path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.path
}

// connect resolves the port and opens it with the read timeout set.
func (d *Dev) connect() (serial.Port, error) {
	path := d.o.Path
	if path == "" {
		var err error
		if path, err = d.find(); err != nil {
			return nil, err
		}
	}
	// No InitialStatusBits: the kernel raises DTR on open, which is what
	// CDC-ACM scanners want, and a pty has no modem lines at all.
	mode := &serial.Mode{BaudRate: d.o.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	p, err := d.o.Open(path, mode)
	if err != nil {
		return nil, fmt.Errorf("serialscanner: open %s: %w", path, err)
	}
	if err := p.SetReadTimeout(pollInterval); err != nil {
		p.Close()
		return nil, fmt.Errorf("serialscanner: %s: set read timeout: %w", path, err)
	}
	d.opens.Add(1)
	d.mu.Lock()
	d.path = path
	d.mu.Unlock()
	return p, nil
}

// find returns the first port, by the lister's order, with VID and PID.
func (d *Dev) find() (string, error) {
	ports, err := d.o.List()
	if err != nil {
		return "", fmt.Errorf("serialscanner: list serial ports for %s: %w", d.which, err)
	}
	var seen []string
	for _, p := range ports {
		if p == nil {
			continue
		}
		vid, pid := normHex(p.VID), normHex(p.PID)
		if vid == d.o.VID && pid == d.o.PID && p.Name != "" {
			return p.Name, nil
		}
		if vid != "" || pid != "" {
			seen = append(seen, p.Name+" ("+vid+":"+pid+")")
		} else {
			seen = append(seen, p.Name)
		}
	}
	found := "none"
	if len(seen) > 0 {
		found = strings.Join(seen, ", ")
	}
	return "", fmt.Errorf("%w: want USB VID:PID %s, found: %s", ErrNoPort, d.which, found)
}
