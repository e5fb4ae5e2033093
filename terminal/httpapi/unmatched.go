package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"showpos/terminal/checkout"
	"showpos/terminal/store"
)

// Unmatched is what the operator API needs to acknowledge unmatched
// receipts (money on chain that paid no request, listed by GET
// /v1/payments?state=unmatched): checkout.Service.
type Unmatched interface {
	AckUnmatched(ctx context.Context, seq uint64) (checkout.PaymentView, error)
}

var _ Unmatched = (*checkout.Service)(nil)

// codeUnknownReceipt: no unmatched receipt with that number.
const codeUnknownReceipt = "unknown_receipt"

// ackUnmatched is POST /v1/payments/unmatched/{seq}/ack: the receipt
// acknowledged (again: unchanged), as GET /v1/payments lists it.
func (a *api) ackUnmatched(u Unmatched) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
		if err != nil || seq == 0 {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "the receipt number is its seq in GET /v1/payments?state=unmatched")
			return
		}
		p, err := u.AckUnmatched(r.Context(), seq)
		switch {
		case errors.Is(err, store.ErrUnknownReceipt):
			writeCoded(w, http.StatusNotFound, codeUnknownReceipt, "no unmatched receipt with that number")
		case err != nil:
			writeError(w, a.log, err)
		default:
			writeJSON(w, http.StatusOK, p)
		}
	}
}
