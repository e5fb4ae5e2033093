package cashier

import (
	"errors"
	"fmt"
	"strings"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/locale"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

// reasons says each refusal in a few words a cashier can read aloud, in
// the terminal's language (the catalog's keys).
var reasons = map[check.Code]locale.Key{
	check.CodeTxTooLarge:        locale.ReasonCodeTooLong,
	check.CodeInvalidTx:         locale.ReasonNotPayment,
	check.CodeUnsupportedTxType: locale.ReasonWrongType,
	check.CodeWrongChain:        locale.ReasonWrongChain,
	check.CodeBadSignature:      locale.ReasonBadSignature,
	check.CodeWrongRecipient:    locale.ReasonWrongRecipient,
	check.CodeUnderpaid:         locale.ReasonUnderpaid,
	check.CodeOverpaid:          locale.ReasonOverpaid,
	check.CodeGasTooLow:         locale.ReasonGasLow,
	check.CodeGasTooHigh:        locale.ReasonGasHigh,
	check.CodeUnexpectedData:    locale.ReasonNotPlain,
	check.CodeUnexpectedValue:   locale.ReasonNotToken,
	check.CodeWrongTransfer:     locale.ReasonWrongTransfer,
	check.CodeFeeTooLow:         locale.ReasonFeeLow,
	check.CodeFeeInvalid:        locale.ReasonBadFee,
	check.CodePaymentLimit:      locale.ReasonPaymentLimit,
	check.CodeExposureLimit:     locale.ReasonExposureLimit,
	check.CodePayerLimit:        locale.ReasonPayerLimit,
	check.CodeNonceGap:          locale.ReasonNonceGap,
	check.CodeNonceUsed:         locale.ReasonNonceUsed,
	check.CodeInsufficientFunds: locale.ReasonNoFunds,
	check.CodeUnknownRequest:    locale.ReasonUnknownRequest,
	check.CodeExpired:           locale.ReasonExpired,
	check.CodeCancelled:         locale.ReasonCancelled,
	check.CodeAlreadyPaid:       locale.ReasonAlreadyPaid,
	check.CodeTxReused:          locale.ReasonReused,
	check.CodeNonceConflict:     locale.ReasonDuplicate,
	check.CodeAmountInUse:       locale.ReasonAmountInUse,

	// An EIP-3009 authorization (x402 payment payload).
	check.CodeInvalidPayload:              locale.ReasonNotPayment,
	check.CodeBadAuthorization:            locale.ReasonBadSignature,
	check.CodeWrongAsset:                  locale.ReasonWrongToken,
	check.CodeAuthorizationNotYetValid:    locale.ReasonNotYetValid,
	check.CodeAuthorizationExpiresTooSoon: locale.ReasonExpiresSoon,
	check.CodeAuthorizationReused:         locale.ReasonReused,

	// A request priced in the shop's currency or with a tip.
	checkout.CodeInvalidFiat:     locale.ReasonBadAmount,
	checkout.CodeNoCurrency:      locale.ReasonNoCurrency,
	checkout.CodeRateUnavailable: locale.ReasonNoRateKeyAsset,
	checkout.CodeInvalidTip:      locale.ReasonBadTip,
}

// shortReason turns an error from the till into a few words in l.
func shortReason(l locale.Locale, err error) string {
	var r *check.Refusal
	if errors.As(err, &r) {
		if k, ok := reasons[r.Code]; ok {
			return l.T(k)
		}
		return strings.ReplaceAll(string(r.Code), "_", " ")
	}
	switch {
	case errors.Is(err, asset.ErrPrecision), errors.Is(err, asset.ErrSyntax), errors.Is(err, asset.ErrOverflow):
		return l.T(locale.ReasonBadAmount)
	}
	return l.T(locale.ReasonTerminalError)
}

// shortFailure says why a payment failed after acceptance, shortly, in l.
func shortFailure(l locale.Locale, reason string) string {
	switch {
	case strings.HasPrefix(reason, "conflict"):
		return l.T(locale.FailConflict)
	case strings.HasPrefix(reason, "reverted"):
		return l.T(locale.FailReverted)
	case strings.HasPrefix(reason, "not mined"):
		return l.T(locale.FailNotMined)
	}
	return l.T(locale.FailFailed)
}

// stateWords names a payment's state on the last payments' page.
var stateWords = map[store.PaymentState]locale.Key{
	store.PaymentQueued:    locale.StateQueued,
	store.PaymentBroadcast: locale.StateBroadcast,
	store.PaymentConfirmed: locale.StateConfirmed,
	store.PaymentFinal:     locale.StateFinal,
	store.PaymentFailed:    locale.StateFailed,
	store.PaymentSeen:      locale.StateSeen,
	store.PaymentUnmatched: locale.StateUnmatched,
}

func stateWord(l locale.Locale, s store.PaymentState) string {
	if k, ok := stateWords[s]; ok {
		return l.T(k)
	}
	return string(s)
}

// menu builds the current menu page: last payments, today's totals per
// asset (and network, totals.go), the queue, or (with a printer) the last receipt.
func (c *Cashier) menu() screen.Menu {
	if c.menuPage == pageFailures || c.menuPage == pageReports {
		return c.booksPage() // books.go
	}
	w := c.o.Locale
	switch c.menuPage {
	case 0:
		m := screen.Menu{Title: w.T(locale.TitleLastPayments), Hint: w.T(locale.HintMenuNext)}
		ps, err := c.o.Till.Payments(store.PaymentFilter{Newest: true, Limit: 5})
		if err != nil {
			m.Lines = []string{w.T(locale.CannotRead)}
			return m
		}
		for _, p := range ps {
			m.Lines = append(m.Lines, fmt.Sprintf("%s %s %s", w.Amount(p.AmountDisplay), p.Asset, stateWord(w, p.State)))
		}
		if len(m.Lines) == 0 {
			m.Lines = []string{w.T(locale.NoPaymentsYet)}
		}
		return m
	case 1:
		m := screen.Menu{Title: w.T(locale.TitleToday), Hint: w.T(locale.HintMenuNext)}
		totals, err := c.o.Till.Totals(checkout.Day(c.o.Clock.Now()))
		if err != nil {
			m.Lines = []string{w.T(locale.CannotRead)}
			return m
		}
		label := c.labelNetworks(totals.Assets)
		for _, a := range totals.Assets {
			if a.Taken.Count > 0 {
				m.Lines = append(m.Lines, totalsLine(w, a, label))
			}
		}
		if len(m.Lines) == 0 {
			m.Lines = []string{w.T(locale.NoSalesToday)}
		}
		return m
	case pageReceipt:
		return c.receiptMenu()
	}
	m := screen.Menu{Title: w.T(locale.TitleQueue), Hint: w.T(locale.HintQueue)}
	online := w.T(locale.Offline)
	switch up, down := c.networks(); {
	case len(down) > 0:
		online = w.T(locale.OfflineSome, strings.Join(down, ", "))
	case up:
		online = w.T(locale.Online)
	}
	queued := 0
	if c.o.Queued != nil {
		queued = c.o.Queued()
	}
	m.Lines = []string{online, w.T(locale.WaitingToSettle, queued)}
	if n := c.noticeText(); n != "" {
		m.Lines = append(m.Lines, n)
	}
	return m
}
