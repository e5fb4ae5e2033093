package pn532

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.bug.st/serial"

	"showpos/device"
	"showpos/device/clock"
)

// Port is the serial line to the chip. A go.bug.st/serial Port is one; so
// is anything else that reads with a timeout.
type Port interface {
	io.ReadWriter
	// SetReadTimeout bounds each later Read; a Read that times out
	// returns (0, nil).
	SetReadTimeout(t time.Duration) error
	// ResetInputBuffer drops bytes received and not read yet.
	ResetInputBuffer() error
}

// DefaultOpts suit a PN532 module on a board UART in HSU mode.
var DefaultOpts = Opts{
	Baud:            115200,
	AckTimeout:      100 * time.Millisecond,
	CommandTimeout:  500 * time.Millisecond,
	PollBudget:      300 * time.Millisecond,
	PollPause:       20 * time.Millisecond,
	ExchangeTimeout: time.Second,
	PassiveRetries:  0x0A,
	MaxAnswer:       4096,
	TagSession:      time.Second,
}

// Opts are the link settings and the time budgets. A zero field takes the
// DefaultOpts value.
type Opts struct {
	// Baud is the HSU speed; the chip powers up at 115200 (8N1). Open
	// uses it; New takes a port already set up.
	Baud int
	// AckTimeout bounds the wait for the chip's ACK to a command. The
	// chip ACKs within a millisecond or two at 115200; a longer value
	// only slows the detection of a dead or mis-wired chip.
	AckTimeout time.Duration
	// CommandTimeout bounds the answer to a local command
	// (SAMConfiguration, RFConfiguration, GetFirmwareVersion, InRelease).
	CommandTimeout time.Duration
	// PollBudget bounds one InListPassiveTarget: with no answer by then
	// the driver aborts the search (with an ACK frame) and polls again.
	// It is also how late WaitTap notices a phone arriving, worst case.
	PollBudget time.Duration
	// PollPause is the rest between two polls that found nothing.
	PollPause time.Duration
	// ExchangeTimeout bounds one InDataExchange; the context can bound it
	// sooner. The phone's app runs between command and answer: HCE apps
	// answer in tens of milliseconds, the first SELECT can take longer
	// while Android starts the app.
	ExchangeTimeout time.Duration
	// PassiveRetries is MxRtyPassiveActivation (RFConfiguration item
	// 0x05): how many times one InListPassiveTarget tries to activate a
	// target before answering "none". 0xFF would retry forever and is
	// refused; 0 takes the default.
	PassiveRetries byte
	// MaxAnswer caps the bytes of one Exchange answer, chained parts
	// included.
	MaxAnswer int
	// TagSession bounds one reader's session with the emulated tag
	// (PresentTag), from activation to the last byte of the NDEF file,
	// and each wait for the reader's next APDU. A phone reads a small
	// NDEF file in 5 to 7 APDUs of a few milliseconds each; a second
	// leaves room for a slow phone and still frees the chip for the
	// reader role soon after a phone that stopped talking.
	TagSession time.Duration
}

func (o *Opts) withDefaults() (Opts, error) {
	r := DefaultOpts
	if o == nil {
		return r, nil
	}
	if o.PassiveRetries == 0xFF {
		return r, errors.New("PassiveRetries 0xFF makes InListPassiveTarget wait forever; use 0x01..0xFE")
	}
	set := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	if o.Baud > 0 {
		r.Baud = o.Baud
	}
	set(&r.AckTimeout, o.AckTimeout)
	set(&r.CommandTimeout, o.CommandTimeout)
	set(&r.PollBudget, o.PollBudget)
	set(&r.PollPause, o.PollPause)
	set(&r.ExchangeTimeout, o.ExchangeTimeout)
	set(&r.TagSession, o.TagSession)
	if o.PassiveRetries != 0 {
		r.PassiveRetries = o.PassiveRetries
	}
	if o.MaxAnswer > 0 {
		r.MaxAnswer = o.MaxAnswer
	}
	return r, nil
}

// MaxAPDU is the longest command APDU Exchange sends: one InDataExchange
// frame, without chaining on the host side.
const MaxAPDU = 254

// Commands (UM0701-02 §7).
const (
	cmdGetFirmwareVersion  = 0x02
	cmdSAMConfiguration    = 0x14
	cmdRFConfiguration     = 0x32
	cmdInDataExchange      = 0x40
	cmdInListPassiveTarget = 0x4A
	cmdInRelease           = 0x52
)

// wakeUp is what the host sends before the first command in HSU mode: 0x55
// then a run of 0x00 long enough for the chip's oscillator to start
// (UM0701-02 §7.2.11; libnfc sends the same run).
var wakeUp = []byte{0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}

// Firmware is the chip's GetFirmwareVersion answer.
type Firmware struct {
	IC      byte // 0x32 for a PN532
	Ver     byte
	Rev     byte
	Support byte // bit 0 ISO/IEC 14443 type A, 1 type B, 2 ISO 18092
}

func (f Firmware) String() string {
	return fmt.Sprintf("PN5%02x v%d.%d", f.IC, f.Ver, f.Rev)
}

// Dev is a PN532 on a serial line, polling for phones.
//
// Its methods may be called from several goroutines: commands go on the
// wire one at a time. Dev starts no goroutine.
type Dev struct {
	name   string
	port   Port
	closer io.Closer // the port, when New opened it
	o      Opts
	fw     Firmware

	halted atomic.Bool

	mu      sync.Mutex // serialises commands; guards the fields below
	buf     []byte     // bytes read, not parsed yet
	rd      []byte     // read scratch
	session uint64     // bumped by each WaitTap: older Taps are stale
	closing bool       // Halt is sending its last command
}

var (
	_ device.NFCReader = (*Dev)(nil)
	_ device.NFCTag    = (*Dev)(nil)
)

// New opens the serial device at path at o.Baud, 8N1, and sets the chip up
// as NewPort does; Halt closes the port. The path is used as given: no other
// port is opened or probed. A nil o means DefaultOpts.
func New(path string, o *Opts) (*Dev, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("pn532: %s: %w", path, err)
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: opts.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("pn532: %s: %w", path, err)
	}
	d, err := newDev(p, path, opts)
	if err != nil {
		_ = p.Close()
		return nil, err
	}
	d.closer = p
	return d, nil
}

// NewPort wakes the chip on port (already open at the right speed; the
// caller keeps and closes it), puts it in normal mode with SAMConfiguration, bounds
// InListPassiveTarget's retries with RFConfiguration, and reads its
// firmware version. It fails early, naming the port, if the chip does not
// answer or is not a PN532. A nil o means DefaultOpts.
func NewPort(port Port, o *Opts) (*Dev, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("pn532: %w", err)
	}
	name := "serial port"
	if s, ok := port.(fmt.Stringer); ok {
		name = s.String()
	}
	return newDev(port, name, opts)
}

func newDev(port Port, name string, o Opts) (*Dev, error) {
	d := &Dev{name: name, port: port, o: o, rd: make([]byte, 512)}
	ctx, cancel := context.WithTimeout(context.Background(), 4*(o.AckTimeout+o.CommandTimeout))
	defer cancel()
	if err := d.init(ctx); err != nil {
		return nil, fmt.Errorf("pn532: %s: %w (is a PN532 on this port, in HSU mode, at %d baud?)", name, err, o.Baud)
	}
	return d, nil
}

func (d *Dev) init(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_ = d.port.ResetInputBuffer()
	if err := d.write(wakeUp); err != nil {
		return fmt.Errorf("wake-up: %w", err)
	}
	// Normal mode (no SAM), virtual-card timeout 1 s (unused), IRQ pin on.
	if _, err := d.call(ctx, "SAMConfiguration", cmdSAMConfiguration, []byte{0x01, 0x14, 0x01}, d.o.CommandTimeout, retrySilence); err != nil {
		return err
	}
	// Item 0x05 MaxRetries: MxRtyATR, MxRtyPSL, MxRtyPassiveActivation,
	// all finite: the factory 0xFF makes InListPassiveTarget wait forever.
	if _, err := d.call(ctx, "RFConfiguration", cmdRFConfiguration, []byte{0x05, 0x02, 0x01, d.o.PassiveRetries}, d.o.CommandTimeout, retrySilence); err != nil {
		return err
	}
	r, err := d.call(ctx, "GetFirmwareVersion", cmdGetFirmwareVersion, nil, d.o.CommandTimeout, retrySilence)
	if err != nil {
		return err
	}
	if len(r) != 4 {
		return fmt.Errorf("GetFirmwareVersion: %w: %d bytes of data, want 4", ErrFrame, len(r))
	}
	d.fw = Firmware{IC: r[0], Ver: r[1], Rev: r[2], Support: r[3]}
	if d.fw.IC != 0x32 {
		return fmt.Errorf("GetFirmwareVersion: IC %#02x is not a PN532 (0x32)", d.fw.IC)
	}
	return nil
}

// String names the chip and its port.
func (d *Dev) String() string {
	return fmt.Sprintf("PN532 (%s) on %s", d.fw, d.name)
}

// Firmware is what the chip said at New.
func (d *Dev) Firmware() Firmware { return d.fw }

// Halt stops the driver: a WaitTap or Exchange in progress returns
// device.ErrHalted within a read slice (20 ms), the chip's RF field is
// switched off, and a port New opened is closed. Every later call returns
// device.ErrHalted. Halt is safe to call more than once.
func (d *Dev) Halt() error {
	if !d.halted.CompareAndSwap(false, true) {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.session++
	d.closing = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*(d.o.AckTimeout+d.o.CommandTimeout))
	defer cancel()
	// Item 0x01 RF field: auto RFCA off, field off.
	_, err := d.call(ctx, "RFConfiguration", cmdRFConfiguration, []byte{0x01, 0x00}, d.o.CommandTimeout, retrySilence)
	d.closing = false
	if err != nil {
		err = fmt.Errorf("pn532: %s: halt: switching the RF field off: %w", d.name, err)
	}
	if d.closer != nil {
		if cerr := d.closer.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("pn532: %s: close: %w", d.name, cerr))
		}
	}
	return err
}

// WaitTap polls until an ISO 14443-4 target (a phone in host card
// emulation: SEL_RES bit 0x20) is in the field, or ctx ends. Each poll is
// one InListPassiveTarget for one 106 kbps type A target, bounded by
// Opts.PollBudget. A target that does not speak ISO-DEP (an NFC sticker, a
// MIFARE Classic card) is released and polling goes on. A new WaitTap
// replaces the previous Tap.
func (d *Dev) WaitTap(ctx context.Context) (device.Tap, error) {
	for {
		t, err := d.poll(ctx)
		if err != nil || t != nil {
			if err != nil {
				return nil, fmt.Errorf("pn532: %s: %w", d.name, err)
			}
			return t, nil
		}
		if err := clock.Sleep(ctx, d.o.PollPause); err != nil {
			return nil, err
		}
	}
}

// poll is one InListPassiveTarget; a nil Tap and nil error is "nothing".
func (d *Dev) poll(ctx context.Context) (*Tap, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.session++
	r, err := d.call(ctx, "InListPassiveTarget", cmdInListPassiveTarget, []byte{0x01, 0x00}, d.o.PollBudget, pollSilence)
	if errors.Is(err, errTimeout) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	tg, err := parseTargetA(r)
	if err != nil || tg == nil {
		return nil, err
	}
	if tg.selRes&0x20 == 0 {
		// Not ISO-DEP: let it go and keep looking.
		if err := d.release(ctx, tg.num); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return &Tap{d: d, tg: tg.num, id: tg.uid, ats: tg.ats, session: d.session}, nil
}

// targetA is one entry of InListPassiveTarget's answer at 106 kbps type A.
type targetA struct {
	num     byte // Tg, the chip's number for it
	sensRes [2]byte
	selRes  byte
	uid     []byte
	ats     []byte
}

// parseTargetA reads NbTg and the first target: Tg, SENS_RES (2),
// SEL_RES, NFCIDLength, NFCID1, then ATS (its first byte is its length)
// when the target is ISO 14443-4. No target is (nil, nil).
func parseTargetA(r []byte) (*targetA, error) {
	bad := func(why string) error {
		return fmt.Errorf("InListPassiveTarget: %w: %s in % x", ErrFrame, why, r)
	}
	if len(r) < 1 {
		return nil, bad("no NbTg")
	}
	if r[0] == 0 {
		return nil, nil
	}
	if len(r) < 6 {
		return nil, bad("target data too short")
	}
	t := &targetA{num: r[1], sensRes: [2]byte{r[2], r[3]}, selRes: r[4]}
	n := int(r[5])
	if n == 0 || n > 10 || len(r) < 6+n {
		return nil, bad("bad NFCID1 length")
	}
	t.uid = append([]byte(nil), r[6:6+n]...)
	rest := r[6+n:]
	if len(rest) > 0 {
		l := int(rest[0])
		if l == 0 || l > len(rest) {
			return nil, bad("bad ATS length")
		}
		t.ats = append([]byte(nil), rest[:l]...)
	}
	return t, nil
}

// release is InRelease(tg). Called with d.mu held.
func (d *Dev) release(ctx context.Context, tg byte) error {
	r, err := d.call(ctx, "InRelease", cmdInRelease, []byte{tg}, d.o.CommandTimeout, retrySilence)
	if err != nil {
		return err
	}
	if len(r) < 1 {
		return fmt.Errorf("InRelease: %w: no status byte", ErrFrame)
	}
	if c := r[0] & 0x3F; c != 0 {
		return &StatusError{Cmd: "InRelease", Code: c}
	}
	return nil
}
