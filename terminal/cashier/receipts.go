package cashier

import (
	"context"

	"showpos/device"
	"showpos/terminal/locale"
	"showpos/terminal/screen"
)

// Receipts prints the receipt of a result the cashier was shown. Print
// must return at once: it queues the job (a printer out of paper, open or
// gone is the queue's to report), so no sale waits on paper. The cashier
// calls it only once the result is on the display.
type Receipts interface {
	Print(ctx context.Context, requestID string, kind screen.ResultKind, reason string)
}

// printOrder is a result to print: which request, and what was shown.
type printOrder struct {
	requestID string
	kind      screen.ResultKind
	reason    string
}

// resultShown is called with each result put on screen: it keeps it as
// the last receipt and, unless it is a refusal (printed only when the
// cashier asks, from the menu), marks it to print once drawn.
func (c *Cashier) resultShown(r screen.Result) {
	if c.o.Receipts == nil || c.resultFor == "" {
		return
	}
	// The reason goes on the signed receipt: in English, the same for
	// every reader (the printer says it in the terminal's language).
	o := printOrder{requestID: c.resultFor, kind: r.Kind, reason: locale.EnglishReason(c.o.Locale, r.Reason)}
	c.lastReceipt = &o
	if r.Kind != screen.ResultRejected {
		c.toPrint = &o
	}
}

// printDrawn prints the result marked by resultShown, now that the screen
// shows it.
func (c *Cashier) printDrawn(ctx context.Context) {
	if c.toPrint == nil {
		return
	}
	o := *c.toPrint
	c.toPrint = nil
	c.o.Receipts.Print(ctx, o.requestID, o.kind, o.reason)
}

// reprint prints the last receipt again (the menu's F3 on its page).
func (c *Cashier) reprint(ctx context.Context) {
	if c.lastReceipt == nil {
		c.signal(device.SignalAttention)
		return
	}
	o := *c.lastReceipt
	c.o.Receipts.Print(ctx, o.requestID, o.kind, o.reason)
	c.reprinted = true
}

// receiptMenu is the menu page of the last receipt.
func (c *Cashier) receiptMenu() screen.Menu {
	w := c.o.Locale
	m := screen.Menu{Title: w.T(locale.TitleReceipt), Hint: w.T(locale.HintReceipt)}
	if c.lastReceipt == nil {
		m.Lines = []string{w.T(locale.NoReceiptYet)}
		return m
	}
	o := c.lastReceipt
	// Its last 8 digits: an id's first are the time it was made (a UUIDv7),
	// the same for the requests of a minute; the receipt prints it whole.
	id := o.requestID
	if len(id) > 8 {
		id = "…" + id[len(id)-8:]
	}
	last := w.T(receiptWords[o.kind])
	if o.reason != "" {
		last += ", " + w.Reason(o.reason)
	}
	m.Lines = []string{w.T(locale.LastReceipt, last), w.T(locale.RequestID, id)}
	if c.reprinted {
		m.Lines = append(m.Lines, w.T(locale.SentToPrinter))
	}
	return m
}

// receiptWords names a result on the receipt page.
var receiptWords = map[screen.ResultKind]locale.Key{
	screen.ResultPaid:     locale.Paid,
	screen.ResultAccepted: locale.Accepted,
	screen.ResultSeen:     locale.Seen,
	screen.ResultRejected: locale.Rejected,
}
