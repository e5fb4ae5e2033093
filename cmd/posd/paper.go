package main

import (
	"log/slog"

	"showpos/terminal/cashier"
	"showpos/terminal/locale"
	"showpos/terminal/receipt"
	"showpos/terminal/report"
)

// paper is what the cashier prints: each result's receipt and the X
// reports it shows. Both are nil without a printer.
type paper struct {
	receipts cashier.Receipts
	report   func(report.Report)
}

// printing is the cashier's paper over the print queue, laid out for the
// printer's width; the zero paper when the board has no printer.
func (d *daemon) printing(log *slog.Logger) paper {
	if d.printq == nil {
		return paper{}
	}
	return paper{
		receipts: &receipt.Printing{Issuer: d.receipts, Columns: d.devs.Printer.Columns, Enqueue: d.printq.Submit,
			Locale: d.locale, Logger: log.With("part", "receipts")},
		report: d.printReport,
	}
}

// printReport queues a report (an X the cashier shows, each Z taken,
// however asked for) on the printer, if the board has one.
func (d *daemon) printReport(r report.Report) {
	if d.printq != nil {
		d.printq.Submit(r.JobIn(d.locale(), d.devs.Printer.Columns()))
	}
}

// locale is the language printed now: terminal.locale of the running
// config (a fleet bundle may change it).
func (d *daemon) locale() locale.Locale { return d.mgr.Current().Terminal.Locale }
