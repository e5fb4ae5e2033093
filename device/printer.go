package device

import (
	"context"
	"errors"
)

// Printer prints receipts and reports: an ESC/POS thermal printer on a
// serial port or on the Linux USB printer class (/dev/usb/lp0), or the
// virtual board's. A sale never waits on it: the terminal prints after the
// result is shown, and a printer that is out of paper, open or gone is
// reported, not waited for.
type Printer interface {
	String() string
	// Columns is how many characters of the normal font fit on a line
	// (32 on 58 mm paper, 48 on 80 mm), so the caller can lay out a job.
	Columns() int
	// Print prints job, then feeds and cuts, and returns once the printer
	// has taken all of it or ctx ends. A printer that reports paper out,
	// its cover open, or that does not answer is refused with
	// ErrPaperOut, ErrCoverOpen or ErrPrinterGone (wrapped), before
	// anything is sent where the driver can tell.
	Print(ctx context.Context, job PrintJob) error
	// Status asks the printer how it is, within ctx.
	Status(ctx context.Context) (PrinterStatus, error)
	Halt() error
}

// PrintJob is one document to print, top to bottom.
type PrintJob struct {
	Lines []PrintLine
}

// Align places a line's text.
type Align int

// Alignments; the zero value is left.
const (
	AlignLeft Align = iota
	AlignCenter
	AlignRight
)

// PrintLine is one line of a job: text, a two-column line, a rule or a QR
// code. Text is UTF-8; a driver prints what its code page has and "?" for
// the rest.
type PrintLine struct {
	Text  string // the line, or the left column when Right is set
	Right string // set: Text flush left and Right flush right on one line
	Align Align  // for Text alone
	Bold  bool
	Large bool   // double width and height
	Rule  bool   // a separator across the paper (Text ignored)
	QR    string // set: a QR code of this payload, centred (Text ignored)
}

// PrinterStatus is what a printer says of itself.
type PrinterStatus struct {
	Online    bool // answers and can print
	PaperOut  bool
	PaperLow  bool // the near-end sensor: print, but change the roll soon
	CoverOpen bool
}

// Printer errors.
var (
	ErrPaperOut    = errors.New("printer: paper out")
	ErrCoverOpen   = errors.New("printer: cover open")
	ErrPrinterGone = errors.New("printer: not answering")
)
