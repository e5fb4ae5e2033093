package checkout

import (
	"errors"

	"showpos/terminal/check"
	"showpos/terminal/store"
)

// Codes of a new request refused before anything is signed or stored,
// beside amount_in_use and payment_limit. The HTTP API answers them 400
// (input) or 409 (the terminal's state).
const (
	// CodeInvalidFiat: an amount keyed in the shop's currency is not one
	// (syntax, more decimals than the currency has, not above zero, above
	// fiat.MaxMajor), or both a fiat and an asset amount were given.
	CodeInvalidFiat check.Code = "invalid_fiat"
	// CodeNoCurrency: a fiat amount, but terminal.currency is not set.
	CodeNoCurrency check.Code = "no_currency"
	// CodeRateUnavailable: no current rate of the asset in the shop's
	// currency (none known, too old, unusable); amounts keyed in the asset
	// still work.
	CodeRateUnavailable check.Code = "rate_unavailable"
	// CodeInvalidTip: a tip that is not an amount in the unit keyed, both
	// an amount and a percentage, a percentage above 100, or a tip not
	// below the whole.
	CodeInvalidTip check.Code = "invalid_tip"
)

// RequestCodes returns the codes above, for tests that prove each is
// answered (an HTTP status, a cashier's words).
func RequestCodes() []check.Code {
	return []check.Code{CodeInvalidFiat, CodeNoCurrency, CodeRateUnavailable, CodeInvalidTip}
}

// storeRules is the one place a store error gets its refusal code. The
// store enforces these rules inside the write that would record a payment
// (or a cancellation); the till answers each broken rule with a
// *check.Refusal of this code, whichever of its methods met it.
var storeRules = []struct {
	err  error
	code check.Code
}{
	{store.ErrUnknownRequest, check.CodeUnknownRequest},
	{store.ErrExpired, check.CodeExpired},
	{store.ErrCancelled, check.CodeCancelled},
	{store.ErrAlreadyPaid, check.CodeAlreadyPaid},
	{store.ErrTxReused, check.CodeTxReused},
	{store.ErrNonceConflict, check.CodeNonceConflict},
	{store.ErrExposureLimit, check.CodeExposureLimit},
	// The network was removed from the config while the payment was
	// judged under the old one: it is not offered there any more.
	{store.ErrChainRetired, check.CodeWrongChain},
	{store.ErrPayerLimit, check.CodePayerLimit},
	{store.ErrAmountTaken, check.CodeAmountInUse},
	{store.ErrAuthorizationReused, check.CodeAuthorizationReused},
}

// storeRefusal returns the refusal for a store error that breaks one of
// storeRules, its message msg(code) and its cause err; nil for any other
// error (the store failing: nothing was refused).
func storeRefusal(err error, msg func(check.Code) string) *check.Refusal {
	for _, r := range storeRules {
		if errors.Is(err, r.err) {
			return &check.Refusal{Code: r.code, Msg: msg(r.code), Err: err}
		}
	}
	return nil
}

// requestMessages are what a caller asking about a request (Request,
// Cancel) is told when the store refuses; a payment's refusals say more
// (Pay).
var requestMessages = map[check.Code]string{
	check.CodeUnknownRequest: "no such payment request",
	check.CodeAlreadyPaid:    "the payment request is already paid",
	check.CodeExpired:        "the payment request has expired",
}

// requestRefusal is storeRefusal for Request and Cancel; err passes
// through unchanged when it breaks no rule. The store gives these two
// only the three rules requestMessages names; another rule (never met
// today) would be told by its code.
func requestRefusal(err error) error {
	r := storeRefusal(err, func(c check.Code) string {
		if m, ok := requestMessages[c]; ok {
			return m
		}
		return string(c)
	})
	if r == nil {
		return err
	}
	return r
}
