package virtual

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"showpos/device"
)

// keepReceipts is how many printed jobs the page keeps on its paper.
const keepReceipts = 20

// printer is the simulated receipt printer: jobs it prints are laid out
// as a real one would lay them out and shown on the page as paper, and the
// page's switches make it out of paper, open, low on paper or unplugged.
type printer struct {
	hub  *hub
	cols int

	mu       sync.Mutex
	state    PrinterState
	receipts []Receipt // oldest first, at most keepReceipts
	seq      uint64    // jobs printed so far
	changes  uint64    // prints and state changes, for the page
	halted   bool
}

// PrinterState is what the page's switches set: POST /sim/printer takes it
// as JSON, GET /sim/printer returns it.
type PrinterState struct {
	PaperOut  bool `json:"paperOut"`
	PaperLow  bool `json:"paperLow"`
	CoverOpen bool `json:"coverOpen"`
	Gone      bool `json:"gone"` // unplugged: answers nothing
}

// Receipt is one printed job as the paper shows it.
type Receipt struct {
	Seq   uint64        `json:"seq"`
	Lines []ReceiptLine `json:"lines"`
}

// ReceiptLine is one printed line: Text already laid out to the paper's
// width (two columns padded, rules drawn), or a QR code of QR.
type ReceiptLine struct {
	Text  string `json:"text,omitempty"`
	Bold  bool   `json:"bold,omitempty"`
	Large bool   `json:"large,omitempty"`
	Align string `json:"align,omitempty"` // "", "center" or "right"
	QR    string `json:"qr,omitempty"`
}

func newPrinter(cols int, hub *hub) *printer { return &printer{hub: hub, cols: cols} }

func (p *printer) String() string { return fmt.Sprintf("virtual printer %d columns", p.cols) }

func (p *printer) Columns() int { return p.cols }

func (p *printer) Halt() error {
	p.mu.Lock()
	p.halted = true
	p.mu.Unlock()
	return nil
}

func (p *printer) Status(ctx context.Context) (device.PrinterStatus, error) {
	if err := ctx.Err(); err != nil {
		return device.PrinterStatus{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.halted {
		return device.PrinterStatus{}, fmt.Errorf("virtual printer: %w", device.ErrHalted)
	}
	if p.state.Gone {
		return device.PrinterStatus{}, fmt.Errorf("virtual printer: %w", device.ErrPrinterGone)
	}
	s := p.state
	return device.PrinterStatus{Online: !s.PaperOut && !s.CoverOpen, PaperOut: s.PaperOut, PaperLow: s.PaperLow, CoverOpen: s.CoverOpen}, nil
}

// Print refuses as an ESC/POS printer does (paper out, cover open,
// unplugged) and otherwise puts the job on the page's paper.
func (p *printer) Print(ctx context.Context, job device.PrintJob) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lines := make([]ReceiptLine, 0, len(job.Lines))
	for _, l := range job.Lines {
		lines = append(lines, layout(l, p.cols))
	}
	p.mu.Lock()
	switch {
	case p.halted:
		p.mu.Unlock()
		return fmt.Errorf("virtual printer: %w", device.ErrHalted)
	case p.state.Gone:
		p.mu.Unlock()
		return fmt.Errorf("virtual printer: %w", device.ErrPrinterGone)
	case p.state.PaperOut:
		p.mu.Unlock()
		return fmt.Errorf("virtual printer: %w", device.ErrPaperOut)
	case p.state.CoverOpen:
		p.mu.Unlock()
		return fmt.Errorf("virtual printer: %w", device.ErrCoverOpen)
	}
	p.seq++
	p.changes++
	p.receipts = append(p.receipts, Receipt{Seq: p.seq, Lines: lines})
	if len(p.receipts) > keepReceipts {
		p.receipts = p.receipts[len(p.receipts)-keepReceipts:]
	}
	p.mu.Unlock()
	p.hub.notify()
	return nil
}

func (p *printer) set(s PrinterState) {
	p.mu.Lock()
	p.state = s
	p.changes++
	p.mu.Unlock()
	p.hub.notify()
}

// printerView is the printer as GET /sim/printer answers.
type printerView struct {
	Columns  int          `json:"columns"`
	State    PrinterState `json:"state"`
	Printed  uint64       `json:"printed"`
	Version  uint64       `json:"version"`
	Receipts []Receipt    `json:"receipts"` // oldest first
}

func (p *printer) view() printerView {
	p.mu.Lock()
	defer p.mu.Unlock()
	return printerView{Columns: p.cols, State: p.state, Printed: p.seq, Version: p.changes,
		Receipts: append([]Receipt{}, p.receipts...)}
}

func (p *printer) version() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changes
}

// layout lays out one line as drivers/escpos does on paper of cols
// characters (half as many for a large line).
func layout(l device.PrintLine, cols int) ReceiptLine {
	width := cols
	if l.Large {
		width /= 2
	}
	out := ReceiptLine{Bold: l.Bold, Large: l.Large}
	switch {
	case l.QR != "":
		return ReceiptLine{QR: l.QR, Align: "center"}
	case l.Rule:
		return ReceiptLine{Text: strings.Repeat("-", cols)}
	case l.Right != "":
		left, right := clean(l.Text), clean(l.Right)
		nl, nr := utf8.RuneCountInString(left), utf8.RuneCountInString(right)
		if nl+1+nr > width {
			out.Text = left + "\n" + strings.Repeat(" ", max(0, width-nr)) + right
		} else {
			out.Text = left + strings.Repeat(" ", width-nl-nr) + right
		}
	default:
		out.Text = clean(l.Text)
		switch l.Align {
		case device.AlignCenter:
			out.Align = "center"
		case device.AlignRight:
			out.Align = "right"
		}
	}
	return out
}

// clean replaces control characters, as the real driver does.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}

// Printed returns the receipts on the page's paper, oldest first (at most
// 20), for tests and tools.
func (b *Board) Printed() []Receipt { return b.printer.view().Receipts }

// SetPrinter sets the simulated printer's state, as the page's switches do.
func (b *Board) SetPrinter(s PrinterState) { b.printer.set(s) }
