package cashier

import (
	"context"
	"errors"
	"math/big"
	"time"

	"showpos/device"
	"showpos/terminal/checkout"
	"showpos/terminal/locale"
	"showpos/terminal/report"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

// Books is what the cashier needs of the terminal's books (failures after
// acceptance, X and Z reports); *report.Books has it. Nil: the idle
// screen counts no failures and the menu has no FAILURES nor REPORTS page.
type Books interface {
	OpenFailures() (int, error)
	Failures(f store.FailureFilter) ([]report.Failure, error)
	Ack(ctx context.Context, id uint64) (report.Failure, error)
	X() (report.Report, error)
	TakeZ(ctx context.Context, key string) (report.Report, bool, error)
}

var _ Books = (*report.Books)(nil)

// The menu pages after the cashier's own three (0 last payments, 1
// today, 2 queue): the books' two, with Books, and the last receipt's,
// with Receipts (receipts.go). F2 goes through those there are.
const (
	pageFailures = 3
	pageReports  = 4
	pageReceipt  = 5
)

// nextMenuPage is the page F2 goes to from the one shown.
func (c *Cashier) nextMenuPage() int {
	for p := c.menuPage + 1; p <= pageReceipt; p++ {
		switch {
		case p < pageFailures,
			(p == pageFailures || p == pageReports) && c.o.Books != nil,
			p == pageReceipt && c.o.Receipts != nil:
			return p
		}
	}
	return 0
}

// openFailures is the idle screen's count.
func (c *Cashier) openFailures() int {
	if c.o.Books == nil {
		return 0
	}
	n, err := c.o.Books.OpenFailures()
	if err != nil {
		c.log.Warn("count failures", "err", err)
	}
	return n
}

// shownFailure is the open failure the FAILURES page shows: the first
// after failAfter, or, past the last, the first of all; with how many are
// open. It reads two failures at most, however many are open.
func (c *Cashier) shownFailure() (report.Failure, int, bool) {
	n, err := c.o.Books.OpenFailures()
	if err != nil || n == 0 {
		if err != nil {
			c.log.Warn("count failures", "err", err)
		}
		return report.Failure{}, 0, false
	}
	for _, after := range []uint64{c.failAfter, 0} {
		fs, err := c.o.Books.Failures(store.FailureFilter{Open: true, AfterID: after, Limit: 1})
		if err != nil {
			c.log.Warn("list failures", "err", err)
			return report.Failure{}, 0, false
		}
		if len(fs) == 1 {
			c.failAfter = after
			return fs[0], n, true
		}
	}
	return report.Failure{}, 0, false
}

// booksPage draws the FAILURES and REPORTS pages of the menu.
func (c *Cashier) booksPage() screen.Menu {
	w := c.o.Locale
	if c.menuPage == pageReports {
		return screen.Menu{Title: w.T(locale.TitleReports), Hint: w.T(locale.HintMenuNext),
			Lines: []string{w.T(locale.XReportLine), w.T(locale.ZReportLine)}}
	}
	f, n, ok := c.shownFailure()
	if !ok {
		return screen.Menu{Title: w.T(locale.TitleFailures), Hint: w.T(locale.HintMenuNext), Lines: []string{w.T(locale.NoFailedPayments)}}
	}
	return screen.Menu{
		Title: w.T(locale.TitleFailedOpen, f.ID, n),
		Hint:  w.T(locale.HintFailure),
		Lines: []string{
			w.Amount(f.AmountDisplay) + " " + f.Asset,
			f.Reason,
			w.Short(f.FailedAt.In(c.o.Clock.Now().Location())),
		},
	}
}

// booksKey handles a key on the FAILURES and REPORTS pages; it reports
// whether the key was theirs.
func (c *Cashier) booksKey(ctx context.Context, k device.Key) bool {
	switch {
	case c.menuPage == pageFailures && k == device.KeyEnter:
		if f, _, ok := c.shownFailure(); ok {
			if _, err := c.o.Books.Ack(ctx, f.ID); err != nil {
				c.log.Warn("acknowledge failure", "failure", f.ID, "err", err)
			}
		}
		return true
	case c.menuPage == pageFailures && k == device.KeyF3:
		if f, _, ok := c.shownFailure(); ok {
			c.failAfter = f.ID
		}
		return true
	case c.menuPage == pageFailures && k == device.KeyF1:
		if f, _, ok := c.shownFailure(); ok {
			c.askAgain(ctx, f)
		}
		return true
	case c.menuPage == pageReports && k == device.KeyF1:
		x, err := c.o.Books.X()
		if err != nil {
			c.log.Warn("X report", "err", err)
			c.signal(device.SignalRejected)
			return true
		}
		c.report, c.mode = x, modeReport
		if c.o.PrintReport != nil {
			c.o.PrintReport(x)
		}
		return true
	case c.menuPage == pageReports && k == device.KeyF3:
		c.mode = modeConfirmZ
		return true
	}
	return false
}

// askAgain puts a new request on screen for the failed payment's amount
// (without the tail that made it unique: the new request gets its own)
// and asset, as if keyed. The failure stays open until acknowledged.
func (c *Cashier) askAgain(ctx context.Context, f report.Failure) {
	amount, ok := new(big.Int).SetString(f.Amount, 10)
	idx := -1
	for i, a := range c.o.Assets {
		if a.Symbol == f.Asset {
			idx = i
		}
	}
	if !ok || idx < 0 {
		c.log.Info("ask again: asset no longer taken", "failure", f.ID, "asset", f.Asset)
		c.reject(c.o.Locale.T(locale.ReasonAssetNotTaken))
		return
	}
	c.resultFor = "" // a refusal of this amount is about no request
	doc, err := c.o.Till.Make(ctx, checkout.Order{Symbol: f.Asset, Amount: checkout.ShownAmount(amount, c.o.Assets[idx].Decimals)})
	if err != nil {
		c.log.Info("ask again refused", "failure", f.ID, "err", err)
		c.reject(shortReason(c.o.Locale, err))
		return
	}
	c.log.Info("asked again", "failure", f.ID, "request", doc.ID)
	c.assetIdx = idx
	c.mode = modeRequest
	c.setRequest(doc)
}

// booksModeKey handles keys while a report or the Z confirmation is on
// screen.
func (c *Cashier) booksModeKey(ctx context.Context, k device.Key) {
	switch {
	case c.mode == modeConfirmZ && k == device.KeyEnter:
		zctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		z, _, err := c.o.Books.TakeZ(zctx, "")
		cancel()
		if err != nil {
			c.log.Warn("Z report", "err", err)
			c.reject(c.o.Locale.T(locale.ReasonNoZ, zReason(c.o.Locale, err)))
			return
		}
		c.report, c.mode = z, modeReport
	case c.mode == modeConfirmZ && k == device.KeyCancel, c.mode == modeReport:
		c.mode = modeMenu
	}
}

func zReason(l locale.Locale, err error) string {
	switch {
	case errors.Is(err, report.ErrClockBehind):
		return l.T(locale.ReasonClockBehind)
	case errors.Is(err, report.ErrBusy):
		return l.T(locale.ReasonBusy)
	}
	return l.T(locale.ReasonTerminalError)
}

// booksScreen is the report or the Z confirmation, drawn as a menu page.
func (c *Cashier) booksScreen() screen.Menu {
	w := c.o.Locale
	if c.mode == modeConfirmZ {
		return screen.Menu{Title: w.T(locale.TitleCloseDay), Hint: w.T(locale.HintCloseDay),
			Lines: []string{w.T(locale.CloseDayLine1), w.T(locale.CloseDayLine2)}}
	}
	r := c.report
	m := screen.Menu{Title: r.TitleIn(w), Hint: w.T(locale.HintAnyKey)}
	label := c.labelNetworks(r.Assets)
	for _, a := range r.Assets {
		m.Lines = append(m.Lines, totalsLine(w, a, label))
		if a.Failed.Count > 0 {
			m.Lines = append(m.Lines, w.T(locale.MenuFailedSum, w.Amount(a.Failed.AmountDisplay), a.Failed.Count))
		}
		if a.Unmatched.Count > 0 {
			m.Lines = append(m.Lines, w.T(locale.MenuUnmatchedSum, w.Amount(a.Unmatched.AmountDisplay), a.Unmatched.Count))
		}
	}
	if len(r.Assets) == 0 {
		m.Lines = append(m.Lines, w.T(locale.NoPayments))
	}
	m.Lines = append(m.Lines, w.T(locale.FailuresCount, len(r.Failures)))
	return m
}
