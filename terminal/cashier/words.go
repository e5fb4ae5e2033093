package cashier

import (
	"errors"
	"fmt"
	"strings"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

// reasons says each refusal in a few words a cashier can read aloud.
var reasons = map[check.Code]string{
	check.CodeTxTooLarge:        "code too long",
	check.CodeInvalidTx:         "not a payment",
	check.CodeUnsupportedTxType: "wrong payment type",
	check.CodeWrongChain:        "wrong network",
	check.CodeBadSignature:      "bad signature",
	check.CodeWrongRecipient:    "wrong recipient",
	check.CodeUnderpaid:         "underpaid",
	check.CodeOverpaid:          "overpaid",
	check.CodeGasTooLow:         "gas too low",
	check.CodeGasTooHigh:        "gas too high",
	check.CodeUnexpectedData:    "not a plain payment",
	check.CodeUnexpectedValue:   "not a token payment",
	check.CodeWrongTransfer:     "wrong token transfer",
	check.CodeFeeTooLow:         "fee too low",
	check.CodeFeeInvalid:        "bad fee",
	check.CodePaymentLimit:      "over payment limit",
	check.CodeExposureLimit:     "offline limit reached",
	check.CodePayerLimit:        "payer limit reached",
	check.CodeNonceGap:          "payment out of order",
	check.CodeNonceUsed:         "payment already spent",
	check.CodeInsufficientFunds: "not enough funds",
	check.CodeUnknownRequest:    "unknown request",
	check.CodeExpired:           "request expired",
	check.CodeCancelled:         "request cancelled",
	check.CodeAlreadyPaid:       "already paid",
	check.CodeTxReused:          "payment reused",
	check.CodeNonceConflict:     "duplicate payment",
	check.CodeAmountInUse:       "amount in use, wait",

	// An EIP-3009 authorization (x402 payment payload).
	check.CodeInvalidPayload:              "not a payment",
	check.CodeBadAuthorization:            "bad signature",
	check.CodeWrongAsset:                  "wrong token",
	check.CodeAuthorizationNotYetValid:    "payment not valid yet",
	check.CodeAuthorizationExpiresTooSoon: "payment expires too soon",
	check.CodeAuthorizationReused:         "payment reused",

	// A request priced in the shop's currency or with a tip.
	checkout.CodeInvalidFiat:     "bad amount",
	checkout.CodeNoCurrency:      "no shop currency",
	checkout.CodeRateUnavailable: "no rate: key the asset",
	checkout.CodeInvalidTip:      "bad tip",
}

// shortReason turns an error from the till into a few words.
func shortReason(err error) string {
	var r *check.Refusal
	if errors.As(err, &r) {
		if w, ok := reasons[r.Code]; ok {
			return w
		}
		return strings.ReplaceAll(string(r.Code), "_", " ")
	}
	switch {
	case errors.Is(err, asset.ErrPrecision), errors.Is(err, asset.ErrSyntax), errors.Is(err, asset.ErrOverflow):
		return "bad amount"
	}
	return "terminal error"
}

// shortFailure says why a payment failed after acceptance, shortly.
func shortFailure(reason string) string {
	switch {
	case strings.HasPrefix(reason, "conflict"):
		return "conflict"
	case strings.HasPrefix(reason, "reverted"):
		return "reverted"
	case strings.HasPrefix(reason, "not mined"):
		return "not mined"
	}
	return "failed"
}

// menu builds the current menu page: last payments, today's totals per
// asset, the queue, or (with a printer) the last receipt.
func (c *Cashier) menu() screen.Menu {
	if c.menuPage == pageFailures || c.menuPage == pageReports {
		return c.booksPage() // books.go
	}
	switch c.menuPage {
	case 0:
		m := screen.Menu{Title: "LAST PAYMENTS", Hint: "F2 next  CANCEL back"}
		ps, err := c.o.Till.Payments(store.PaymentFilter{Newest: true, Limit: 5})
		if err != nil {
			m.Lines = []string{"cannot read payments"}
			return m
		}
		for _, p := range ps {
			m.Lines = append(m.Lines, fmt.Sprintf("%s %s %s", p.AmountDisplay, p.Asset, p.State))
		}
		if len(m.Lines) == 0 {
			m.Lines = []string{"no payments yet"}
		}
		return m
	case 1:
		m := screen.Menu{Title: "TODAY", Hint: "F2 next  CANCEL back"}
		totals, err := c.o.Till.Totals(checkout.Day(c.o.Clock.Now()))
		if err != nil {
			m.Lines = []string{"cannot read payments"}
			return m
		}
		for _, a := range totals.Assets {
			if a.Taken.Count > 0 {
				m.Lines = append(m.Lines, fmt.Sprintf("%s %s (%d)", a.Taken.AmountDisplay, a.Asset, a.Taken.Count))
			}
		}
		if len(m.Lines) == 0 {
			m.Lines = []string{"no sales today"}
		}
		return m
	case pageReceipt:
		return c.receiptMenu()
	}
	m := screen.Menu{Title: "QUEUE", Hint: "F4 sync now  CANCEL back"}
	online := "OFFLINE"
	if c.o.Online != nil && c.o.Online() {
		online = "ONLINE"
	}
	queued := 0
	if c.o.Queued != nil {
		queued = c.o.Queued()
	}
	m.Lines = []string{online, fmt.Sprintf("%d waiting to settle", queued)}
	if c.notice != "" {
		m.Lines = append(m.Lines, c.notice)
	}
	return m
}
