package receipt

import (
	"context"
	"log/slog"

	"showpos/device"
	"showpos/terminal/locale"
	"showpos/terminal/screen"
)

// Printing prints the cashier's receipts (it is a cashier.Receipts): for a
// result shown, it builds and signs the receipt (Issuer.ForResult: one
// store read and one signature), lays it out for the printer's columns and
// hands the job to Enqueue, which must return at once (the print queue
// reports a printer out of paper, open or gone). A receipt that cannot be
// built is logged: a sale never waits on paper. Every field but Logger is
// required.
type Printing struct {
	Issuer  *Issuer
	Columns func() int // the printer's, device.Printer.Columns
	Enqueue func(device.PrintJob)
	// Locale is the language receipts print in, asked at each receipt
	// (terminal.locale may change while running); nil: English.
	Locale func() locale.Locale
	Logger *slog.Logger // nil: discard
}

// Print queues the receipt of the result kind (with reason) shown for
// request requestID.
func (p *Printing) Print(_ context.Context, requestID string, kind screen.ResultKind, reason string) {
	s, err := p.Issuer.ForResult(requestID, StateFor(kind), reason)
	if err != nil {
		if p.Logger != nil {
			p.Logger.Warn("receipt not printed", "request", requestID, "result", kind.String(), "err", err)
		}
		return
	}
	l := locale.English
	if p.Locale != nil {
		l = p.Locale()
	}
	p.Enqueue(JobIn(l, s, p.Columns()))
}
