package checkout

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"encoding/json"

	"showpos/terminal/check"
	"showpos/terminal/strictjson"
)

// MaxRequestIDLen bounds a request id a payer names.
const MaxRequestIDLen = 64

// ErrBadHandover is wrapped by ParseHandover for JSON that is not a
// handover (the payer API answers it bad_request).
var ErrBadHandover = errors.New(`not {"requestId", "rawTx"} or {"requestId", "payment"}`)

// Handover is what a payer hands over, by POST /api/showpos/broadcastTx, a
// scanner line or an NFC payload: a signed transaction or an x402 payment
// payload for a request.
type Handover struct {
	RequestID string
	// Raw is the signed transaction's bytes (Pay), or with Payment set the
	// x402 payment payload's JSON (PayAuthorization).
	Raw     []byte
	Payment bool
}

// ParseHandover reads a handover's JSON strictly (terminal/strictjson):
// {"requestId": ID, "rawTx": "0x…"} or {"requestId": ID, "payment":
// <x402 PaymentPayload>}, exactly one of rawTx and payment. JSON that is
// not that wraps ErrBadHandover; rawTx that is not hex is a
// *check.Refusal (invalid_tx), a payment that is not a JSON object one
// with invalid_payload.
func ParseHandover(b []byte) (Handover, error) {
	var in struct {
		RequestID string          `json:"requestId"`
		RawTx     *string         `json:"rawTx"`
		Payment   json.RawMessage `json:"payment"`
	}
	if err := strictjson.Decode(b, &in); err != nil {
		return Handover{}, fmt.Errorf("%w: %w", ErrBadHandover, err)
	}
	if in.RequestID == "" || len(in.RequestID) > MaxRequestIDLen {
		return Handover{}, fmt.Errorf("%w: requestId is required (at most %d characters)", ErrBadHandover, MaxRequestIDLen)
	}
	hasPayment := len(in.Payment) > 0 && string(in.Payment) != "null"
	switch {
	case in.RawTx != nil && hasPayment:
		return Handover{}, fmt.Errorf("%w: rawTx and payment both given; a handover is one of them", ErrBadHandover)
	case in.RawTx != nil:
		raw, err := check.DecodeHex(*in.RawTx)
		if err != nil {
			return Handover{}, err
		}
		return Handover{RequestID: in.RequestID, Raw: raw}, nil
	case hasPayment:
		p := bytes.TrimSpace(in.Payment)
		if p[0] != '{' {
			return Handover{}, check.Refuse(check.CodeInvalidPayload, "payment must be an x402 PaymentPayload object")
		}
		return Handover{RequestID: in.RequestID, Raw: bytes.Clone(p), Payment: true}, nil
	}
	return Handover{}, fmt.Errorf("%w: rawTx or payment is required", ErrBadHandover)
}

// PayHandover is Pay or PayAuthorization, as h says.
func (s *Service) PayHandover(ctx context.Context, h Handover) (Receipt, error) {
	if h.Payment {
		return s.PayAuthorization(ctx, h.RequestID, h.Raw)
	}
	return s.Pay(ctx, h.RequestID, h.Raw)
}
