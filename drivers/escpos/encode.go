package escpos

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"

	"showpos/device"
)

// ESC/POS control bytes.
const (
	esc = 0x1B
	gs  = 0x1D
	dle = 0x10
	eot = 0x04
	lf  = 0x0A
)

// MaxQR is the longest QR payload encoded, in bytes: what a version 40
// symbol holds at error correction M in byte mode (ISO/IEC 18004 table 7),
// far more than fits on a receipt anyway.
const MaxQR = 2331

// ErrBadJob is wrapped by Encode (and so Print) for a job that cannot be
// printed at all: it is refused before anything is sent.
var ErrBadJob = errors.New("escpos: job cannot be printed")

// Layout is how a job is laid out on the paper: the width in characters of
// font A (12×24 dots) and the ESC t number of code page PC858.
type Layout struct {
	// Columns is 32 on 58 mm paper (384 dots) and 48 on 80 mm (576 dots).
	Columns int
	// CodeTable is the number ESC t selects PC858 (Latin-1 with "€") with:
	// 19 on Epson and most clones; check the self-test page of the model.
	CodeTable byte
}

// Encode turns job into the bytes a printer is sent: ESC @ and ESC t
// first, each line with the alignment, emphasis and size it asks for
// (commands only where they change), then a feed and a partial cut
// (GS V 66 0). Text is converted to PC858 (see [ToPC858]); a line wider
// than the paper wraps on the printer, and a two-column line that does
// not fit puts its right column on a line of its own.
func (l Layout) Encode(job device.PrintJob) ([]byte, error) {
	if l.Columns < 16 || l.Columns > 255 {
		return nil, fmt.Errorf("%w: %d columns", ErrBadJob, l.Columns)
	}
	e := encoder{cols: l.Columns}
	e.b.Write([]byte{esc, '@', esc, 't', l.CodeTable})
	for i, line := range job.Lines {
		if err := e.line(line); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadJob, i, err)
		}
	}
	e.set(device.AlignLeft, false, false)
	e.b.Write([]byte{gs, 'V', 66, 0}) // feed to the cutter, then cut leaving a hinge
	return e.b.Bytes(), nil
}

// encoder writes one job, remembering the modes set so far (ESC @ resets
// them to left, not bold, normal size).
type encoder struct {
	b     bytes.Buffer
	cols  int
	align device.Align
	bold  bool
	large bool
}

func (e *encoder) set(a device.Align, bold, large bool) {
	if a != e.align {
		e.b.Write([]byte{esc, 'a', byte(a)})
		e.align = a
	}
	if bold != e.bold {
		e.b.Write([]byte{esc, 'E', b2i(bold)})
		e.bold = bold
	}
	if large != e.large {
		n := byte(0x00)
		if large {
			n = 0x11 // double width (bits 4-6 = 1) and double height (bits 0-2 = 1)
		}
		e.b.Write([]byte{gs, '!', n})
		e.large = large
	}
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func (e *encoder) line(p device.PrintLine) error {
	width := e.cols
	if p.Large {
		width /= 2
	}
	switch {
	case p.QR != "":
		return e.qr(p.QR)
	case p.Rule:
		e.set(device.AlignLeft, false, false)
		e.b.WriteString(strings.Repeat("-", e.cols))
		e.b.WriteByte(lf)
	case p.Right != "":
		e.set(device.AlignLeft, p.Bold, p.Large)
		left, right := ToPC858(p.Text), ToPC858(p.Right)
		if len(left)+1+len(right) > width {
			// No room for both: the left column alone (wrapped by the
			// printer), the right one flush right beneath it.
			e.b.Write(left)
			e.b.WriteByte(lf)
			left = nil
		}
		if pad := width - len(left) - len(right); pad > 0 {
			e.b.Write(left)
			e.b.Write(bytes.Repeat([]byte{' '}, pad))
		}
		e.b.Write(right)
		e.b.WriteByte(lf)
	default:
		if p.Align < device.AlignLeft || p.Align > device.AlignRight {
			return fmt.Errorf("alignment %d", p.Align)
		}
		e.set(p.Align, p.Bold, p.Large)
		e.b.Write(ToPC858(p.Text))
		e.b.WriteByte(lf)
	}
	return nil
}

// qr prints payload as a model 2 QR code, error correction M, centred,
// with the largest module size up to 6 dots that fits the paper with its
// quiet zone (GS ( k functions 165, 167, 169, 180, 181).
func (e *encoder) qr(payload string) error {
	if len(payload) > MaxQR {
		return fmt.Errorf("QR payload of %d bytes, over %d", len(payload), MaxQR)
	}
	if !utf8.ValidString(payload) {
		return errors.New("QR payload is not UTF-8")
	}
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("QR: %w", err)
	}
	modules := 17 + 4*q.VersionNumber + 8 // with a 4-module quiet zone each side
	size := min(6, e.cols*12/modules)
	if size < 1 {
		return fmt.Errorf("QR of %d modules does not fit %d columns", modules, e.cols)
	}
	e.set(device.AlignCenter, false, false)
	n := len(payload) + 3
	e.b.Write([]byte{gs, '(', 'k', 4, 0, 49, 65, 50, 0})      // fn 165: model 2
	e.b.Write([]byte{gs, '(', 'k', 3, 0, 49, 67, byte(size)}) // fn 167: module size in dots
	e.b.Write([]byte{gs, '(', 'k', 3, 0, 49, 69, 49})         // fn 169: error correction M
	e.b.Write([]byte{gs, '(', 'k', byte(n), byte(n >> 8), 49, 80, 48})
	e.b.WriteString(payload)                          // fn 180: store the data
	e.b.Write([]byte{gs, '(', 'k', 3, 0, 49, 81, 48}) // fn 181: print the symbol
	e.b.WriteByte(lf)
	return nil
}
