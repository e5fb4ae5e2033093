package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/report"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// Codes the HTTP layer adds to the check's refusal codes.
const (
	codeBadRequest       = "bad_request"
	codeBodyTooLarge     = "body_too_large"
	codeMethodNotAllowed = "method_not_allowed"
	codeNotFound         = "not_found"
	codeNoRequest        = "no_request"
	codeInvalidAmount    = "invalid_amount"
	codeInvalidRequest   = "invalid_request"
	codeUnknownAsset     = "unknown_asset"
	codeUnavailable      = "unavailable"
	codeClockNotSet      = "clock_not_set"
	codeMisconfigured    = "misconfigured"
	codeNotConfigured    = "not_configured"
	codeUnknownClient    = "unknown_client"
	codeClientExists     = "client_exists"
	codeRevokedClient    = "revoked_client"
	codeStoreDamaged     = "store_damaged"
	// The webhook routes' (webhooks.go).
	codeBadWebhookURL = "bad_webhook_url"
	codeNoWebhook     = "no_webhook"
)

// refusalStatus is the HTTP status for each refusal code. Which code an
// error has is the till's to say (every refusal it returns is a
// *check.Refusal, store rules included); this table only says how each
// is answered over HTTP.
var refusalStatus = map[check.Code]int{
	check.CodeTxTooLarge:        http.StatusRequestEntityTooLarge,
	check.CodeInvalidTx:         http.StatusBadRequest,
	check.CodeUnsupportedTxType: http.StatusUnprocessableEntity,
	check.CodeWrongChain:        http.StatusUnprocessableEntity,
	check.CodeBadSignature:      http.StatusUnprocessableEntity,
	check.CodeWrongRecipient:    http.StatusUnprocessableEntity,
	check.CodeUnderpaid:         http.StatusUnprocessableEntity,
	check.CodeOverpaid:          http.StatusUnprocessableEntity,
	check.CodeGasTooLow:         http.StatusUnprocessableEntity,
	check.CodeGasTooHigh:        http.StatusUnprocessableEntity,
	check.CodeUnexpectedData:    http.StatusUnprocessableEntity,
	check.CodeUnexpectedValue:   http.StatusUnprocessableEntity,
	check.CodeWrongTransfer:     http.StatusUnprocessableEntity,
	check.CodeFeeTooLow:         http.StatusUnprocessableEntity,
	check.CodeFeeInvalid:        http.StatusUnprocessableEntity,
	check.CodePaymentLimit:      http.StatusForbidden,
	check.CodeExposureLimit:     http.StatusForbidden,
	check.CodePayerLimit:        http.StatusForbidden,
	check.CodeNonceGap:          http.StatusUnprocessableEntity,
	check.CodeNonceUsed:         http.StatusUnprocessableEntity,
	check.CodeInsufficientFunds: http.StatusUnprocessableEntity,
	check.CodeAmountInUse:       http.StatusConflict,
	check.CodeUnknownRequest:    http.StatusNotFound,
	check.CodeExpired:           http.StatusGone,
	check.CodeCancelled:         http.StatusConflict,
	check.CodeAlreadyPaid:       http.StatusConflict,
	check.CodeTxReused:          http.StatusConflict,
	check.CodeNonceConflict:     http.StatusConflict,

	// An EIP-3009 authorization (x402 payment payload).
	check.CodeInvalidPayload:              http.StatusBadRequest,
	check.CodeBadAuthorization:            http.StatusUnprocessableEntity,
	check.CodeWrongAsset:                  http.StatusUnprocessableEntity,
	check.CodeAuthorizationNotYetValid:    http.StatusUnprocessableEntity,
	check.CodeAuthorizationExpiresTooSoon: http.StatusUnprocessableEntity,
	check.CodeAuthorizationReused:         http.StatusConflict,

	// A new request priced in the shop's currency or with a tip.
	checkout.CodeInvalidFiat:     http.StatusBadRequest,
	checkout.CodeInvalidTip:      http.StatusBadRequest,
	checkout.CodeNoCurrency:      http.StatusConflict,
	checkout.CodeRateUnavailable: http.StatusConflict,
}

type apiError struct {
	status int
	code   string
	msg    string
}

// codedError is an error that says how it is answered: a refusal from a
// part this package does not know (fleet bundles, say) keeps its own
// stable code and status.
type codedError interface {
	error
	ErrorCode() string
	HTTPStatus() int
}

// classify maps an error from the till, the store or another part of the
// terminal to what the client is told: a refusal by its code, the API's
// own failures (clients, the clock, the store's damage) by their codes. Errors it does not know are the
// terminal's own failure (503): nothing was accepted, and the client may
// try again.
func classify(err error) apiError {
	var r *check.Refusal
	var coded codedError
	switch {
	case errors.As(err, &coded):
		status := coded.HTTPStatus()
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		// Such errors often read "code: message"; the code is sent apart.
		code := coded.ErrorCode()
		return apiError{status, code, strings.TrimPrefix(coded.Error(), code+": ")}
	case errors.As(err, &r):
		status, ok := refusalStatus[r.Code]
		if !ok {
			status = http.StatusUnprocessableEntity
		}
		return apiError{status, string(r.Code), r.Msg}
	case errors.Is(err, checkout.ErrNoRequest):
		return apiError{http.StatusNotFound, codeNoRequest, "no payment request is on screen"}
	case errors.Is(err, checkout.ErrUnknownAsset):
		return apiError{http.StatusBadRequest, codeUnknownAsset, err.Error()}
	case errors.Is(err, asset.ErrEmpty), errors.Is(err, asset.ErrNegative), errors.Is(err, asset.ErrSyntax),
		errors.Is(err, asset.ErrPrecision), errors.Is(err, asset.ErrOverflow):
		return apiError{http.StatusBadRequest, codeInvalidAmount, err.Error()}
	case errors.Is(err, request.ErrAmount):
		return apiError{http.StatusBadRequest, codeInvalidAmount, err.Error()}
	case errors.Is(err, request.ErrMemo):
		return apiError{http.StatusBadRequest, codeInvalidRequest, err.Error()}
	case errors.Is(err, store.ErrUnknownClient):
		return apiError{http.StatusNotFound, codeUnknownClient, "no such client"}
	case errors.Is(err, store.ErrClientRevoked):
		return apiError{http.StatusConflict, codeRevokedClient, "the client is revoked; add a new one instead"}
	case errors.Is(err, request.ErrClock):
		// A board without a real-time clock boots in 1970; requests wait
		// for the time to be set (NTP).
		return apiError{http.StatusServiceUnavailable, codeClockNotSet, "the terminal's clock is not set yet; wait for it to sync and try again"}
	case errors.Is(err, store.ErrUnknownFailure):
		return apiError{http.StatusNotFound, codeUnknownFailure, "no failure with that id"}
	case errors.Is(err, store.ErrUnknownZ):
		return apiError{http.StatusNotFound, codeUnknownReport, "no Z report with that number"}
	case errors.Is(err, report.ErrClockBehind):
		return apiError{http.StatusConflict, codeClockBehind, err.Error()}
	case errors.Is(err, report.ErrBusy):
		return apiError{http.StatusServiceUnavailable, codeBooksBusy, "payments kept arriving while the Z report was read; take it again"}
	case errors.Is(err, store.ErrCorrupt):
		// Sending again will not mend it; the operator must look (logged).
		return apiError{http.StatusInternalServerError, codeStoreDamaged, "the terminal's store holds a damaged record for this; the operator has to look at it"}
	case errors.Is(err, request.ErrTTL), errors.Is(err, request.ErrChainID), errors.Is(err, request.ErrURL),
		errors.Is(err, request.ErrMerchant), errors.Is(err, request.ErrTerminalID), errors.Is(err, asset.ErrAsset),
		errors.Is(err, request.ErrKey):
		return apiError{http.StatusInternalServerError, codeMisconfigured, "the terminal's configuration does not allow this: " + err.Error()}
	}
	return apiError{http.StatusServiceUnavailable, codeUnavailable, "the terminal could not complete this now; send the same request again"}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	e := classify(err)
	if e.status >= 500 {
		log.Error("request failed", "err", err)
	}
	writeCoded(w, e.status, e.code, e.msg)
}

func writeCoded(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client going away is not ours to report
}
