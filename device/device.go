package device

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strconv"
	"time"
)

// Display shows what the terminal draws. Its methods are periph.io's
// display.Drawer, so a periph display driver is a Display as it is.
type Display interface {
	String() string
	// Bounds is the drawable area; Min is usually (0,0).
	Bounds() image.Rectangle
	// ColorModel is what the panel can show (monochrome, RGB565, …); the
	// terminal renders for it rather than letting the driver dither.
	ColorModel() color.Model
	// Draw copies src, from sp, into r of the display (r within Bounds).
	Draw(r image.Rectangle, src image.Image, sp image.Point) error
	// Halt blanks or releases the panel.
	Halt() error
}

// Key is one key of a payment terminal's keypad.
type Key int

// The keys a terminal needs. Digits are Key0+n.
const (
	KeyNone Key = iota
	Key0
	Key1
	Key2
	Key3
	Key4
	Key5
	Key6
	Key7
	Key8
	Key9
	KeyDot       // decimal point
	KeyEnter     // OK / confirm (green)
	KeyCancel    // cancel / stop (red)
	KeyClear     // clear the entry (yellow)
	KeyBackspace // delete one character
	KeyF1        // function keys: menu, asset switch, …
	KeyF2
	KeyF3
	KeyF4
)

var keyNames = [...]string{"none", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
	".", "enter", "cancel", "clear", "backspace", "F1", "F2", "F3", "F4"}

func (k Key) String() string {
	if k >= 0 && int(k) < len(keyNames) {
		return keyNames[k]
	}
	return "key(" + strconv.Itoa(int(k)) + ")"
}

// Digit reports the digit a digit key stands for.
func (k Key) Digit() (int, bool) {
	if k >= Key0 && k <= Key9 {
		return int(k - Key0), true
	}
	return 0, false
}

// ParseKey reads a key name as String writes it.
func ParseKey(s string) (Key, bool) {
	for i, n := range keyNames {
		if i > 0 && n == s {
			return Key(i), true
		}
	}
	return KeyNone, false
}

// Keypad delivers key presses (not releases, not auto-repeats).
type Keypad interface {
	String() string
	// ReadKey blocks until a key is pressed or ctx ends.
	ReadKey(ctx context.Context) (Key, error)
	Halt() error
}

// Scanner delivers what a QR/barcode scanner read: one payload a call,
// without its terminator.
type Scanner interface {
	String() string
	// ReadPayload blocks until a whole payload is read or ctx ends. A
	// payload over the driver's cap is refused with ErrTooLarge and the
	// scanner reads on; an unplugged scanner is reconnected by the driver
	// while ReadPayload waits.
	ReadPayload(ctx context.Context) ([]byte, error)
	Halt() error
}

// NFCReader finds a phone held to the terminal and opens a session with it.
type NFCReader interface {
	String() string
	// WaitTap blocks until a phone (an ISO 14443-4 target, e.g. a phone
	// in host card emulation) is in the field, or ctx ends. Each call
	// polls in bounded steps: it never waits on the chip forever.
	WaitTap(ctx context.Context) (Tap, error)
	Halt() error
}

// NFCTag is an NFC reader that can also be read: it acts for a while as an
// NFC Forum Type 4 tag holding one NDEF message, so that a phone without
// the showpos app (whose own reader reads any tag) gets the message, e.g.
// a link that opens its browser or wallet. A reader that cannot is simply
// not an NFCTag.
type NFCTag interface {
	// PresentTag acts as a read-only Type 4 tag holding ndef (an NDEF
	// message) until a reader has read the whole message (read true), or
	// no reader has come within wait (read false, nil error), or ctx
	// ends. A reader that comes is served to the end of its read even
	// past wait, within the driver's own bound.
	PresentTag(ctx context.Context, ndef []byte, wait time.Duration) (read bool, err error)
}

// Tap is a session with one phone in the field.
type Tap interface {
	// ID is the target's identifier for this tap (phones randomise it).
	ID() []byte
	// Exchange sends one command APDU and returns the phone's response
	// APDU (data and status word). ErrGone means the phone left the field.
	Exchange(ctx context.Context, apdu []byte) ([]byte, error)
	// Release ends the session and frees the target.
	Release() error
}

// Signal is what the terminal wants the payer and cashier to hear and see.
type Signal int

const (
	SignalKey       Signal = iota + 1 // a key click
	SignalAccepted                    // payment accepted: a short happy beep, green
	SignalRejected                    // payment refused: a long low beep, red
	SignalAttention                   // something needs the cashier
)

// Indicator beeps and lights.
type Indicator interface {
	String() string
	// Signal plays s; it returns when done or ctx ends.
	Signal(ctx context.Context, s Signal) error
	Halt() error
}

// Errors drivers return for the terminal to act on.
var (
	// ErrTooLarge: a payload over the driver's size cap was dropped.
	ErrTooLarge = errors.New("payload too large")
	// ErrGone: the phone left the field during a tap.
	ErrGone = errors.New("target left the field")
	// ErrHalted: the device was halted.
	ErrHalted = errors.New("device halted")
)

// DefaultTapTimeout bounds one tap's whole exchange.
const DefaultTapTimeout = 3 * time.Second

// Clip is image/draw's clipping, for drivers: r limited to the display's
// bounds and the source's, and the matching source point.
func Clip(r, bounds, srcBounds image.Rectangle, sp image.Point) (image.Rectangle, image.Point) {
	orig := r.Min
	r = r.Intersect(bounds)
	sp = sp.Add(r.Min.Sub(orig))
	sr := image.Rectangle{Min: sp, Max: sp.Add(r.Size())}.Intersect(srcBounds)
	r.Min = r.Min.Add(sr.Min.Sub(sp))
	r.Max = r.Min.Add(sr.Size())
	return r, sr.Min
}
