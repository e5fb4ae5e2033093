package check

import "fmt"

// Code is a stable, machine-readable refusal code. Codes are part of the
// public API (payer apps and integrators match on them): never rename one.
type Code string

// Refusals decided by [Checker.Check] from the raw bytes, the terms and the
// policy.
const (
	CodeTxTooLarge        Code = "tx_too_large"        // raw tx over MaxTxSize bytes (or its hex over 2*MaxTxSize digits)
	CodeInvalidTx         Code = "invalid_tx"          // not hex, not decodable, or a field out of range
	CodeUnsupportedTxType Code = "unsupported_tx_type" // anything but EIP-155 legacy, 0x01, 0x02; the message names the type
	CodeWrongChain        Code = "wrong_chain"         // signed for another chain (the till: for a chain the request is not offered on)
	CodeBadSignature      Code = "bad_signature"       // sender not recoverable
	CodeWrongRecipient    Code = "wrong_recipient"     // native: to != merchant (or contract creation); ERC-20: to != token
	CodeUnderpaid         Code = "underpaid"           // paid less than the request's amount
	CodeOverpaid          Code = "overpaid"            // paid more and the policy does not allow overpayment
	CodeGasTooLow         Code = "gas_too_low"         // gas limit below intrinsic gas or the configured minimum
	CodeGasTooHigh        Code = "gas_too_high"        // gas limit above the network's per-transaction cap (EIP-7825 params.MaxTxGas)
	CodeUnexpectedData    Code = "unexpected_data"     // native payment with non-empty data
	CodeUnexpectedValue   Code = "unexpected_value"    // ERC-20 payment with value != 0
	CodeWrongTransfer     Code = "wrong_transfer"      // calldata not exactly transfer(merchant, amount); the message says which part
	CodeFeeTooLow         Code = "fee_too_low"         // maxFeePerGas (gasPrice for legacy/0x01) below the configured floor
	CodeFeeInvalid        Code = "fee_invalid"         // maxPriorityFeePerGas > maxFeePerGas
	CodePaymentLimit      Code = "payment_limit"       // paid amount above the per-payment maximum for the asset
)

// Refusals decided by [ParsePaymentPayload] and [Checker.CheckAuthorization]
// for an EIP-3009 authorization in an x402 payment payload. wrong_chain,
// wrong_recipient, underpaid, overpaid and payment_limit above mean there
// what they mean for a transaction.
const (
	CodeInvalidPayload              Code = "invalid_payload"                // not an x402 v1/v2 "exact" payment payload: JSON, a member, a field's encoding or its size; the message names the field
	CodeBadAuthorization            Code = "bad_authorization"              // the signature does not recover the authorization's from over the token's domain (or is not a low-s 65-byte signature)
	CodeWrongAsset                  Code = "wrong_asset"                    // signed for another token contract or another EIP-712 domain name/version than the request's asset
	CodeAuthorizationNotYetValid    Code = "authorization_not_yet_valid"    // validAfter is later than now
	CodeAuthorizationExpiresTooSoon Code = "authorization_expires_too_soon" // validBefore is earlier than now + the settle window
)

// Refusals enforced by the store. The till (terminal/checkout) is the one
// place a store error gets one of these codes: every refusal it returns is
// a *Refusal, so the HTTP API, the cashier's screen and the metrics read
// the code from there and never from a store error.
const (
	CodeUnknownRequest Code = "unknown_request" // no such request (or its asset is no longer taken)
	CodeExpired        Code = "expired"         // the request expired before the tx arrived
	CodeCancelled      Code = "cancelled"       // the cashier cancelled the request
	CodeAlreadyPaid    Code = "already_paid"    // the request is paid by another tx
	CodeTxReused       Code = "tx_reused"       // this tx hash already paid another request
	CodeNonceConflict  Code = "nonce_conflict"  // sender+nonce held by another tx that is queued, broadcast or mined; a failed one frees it
	CodeExposureLimit  Code = "exposure_limit"  // too much unsettled value for this asset
	CodeAmountInUse    Code = "amount_in_use"   // new request: every amount its tail may take is held by another pending request of the asset
	CodePayerLimit     Code = "payer_limit"     // too much unsettled value for this asset from this sender

	CodeAuthorizationReused Code = "authorization_reused" // (token, from, nonce) of an authorization already taken, for this or another request
)

// Refusals of the online pre-flight (terminal/checkout): the chain, asked
// within a short budget, says the transaction cannot be mined as it is.
// A chain that does not answer in time refuses nothing.
const (
	CodeNonceGap          Code = "nonce_gap"          // nonce above the sender's pending nonce (and above what the terminal holds of the sender)
	CodeNonceUsed         Code = "nonce_used"         // nonce below the sender's pending nonce: another transaction took it
	CodeInsufficientFunds Code = "insufficient_funds" // balance short of value + gas × max fee, or token balance short of the amount
)

// Codes returns every refusal code: those Check decides, those of the
// authorization check, then those the store enforces, then the
// pre-flight's, in the order declared above. Tests walk it to prove each
// code is answered (an HTTP status, a cashier's words).
func Codes() []Code {
	return []Code{
		CodeTxTooLarge, CodeInvalidTx, CodeUnsupportedTxType, CodeWrongChain, CodeBadSignature,
		CodeWrongRecipient, CodeUnderpaid, CodeOverpaid, CodeGasTooLow, CodeGasTooHigh,
		CodeUnexpectedData, CodeUnexpectedValue, CodeWrongTransfer, CodeFeeTooLow, CodeFeeInvalid,
		CodePaymentLimit,
		CodeInvalidPayload, CodeBadAuthorization, CodeWrongAsset, CodeAuthorizationNotYetValid,
		CodeAuthorizationExpiresTooSoon,
		CodeUnknownRequest, CodeExpired, CodeCancelled, CodeAlreadyPaid, CodeTxReused,
		CodeNonceConflict, CodeExposureLimit, CodePayerLimit, CodeAmountInUse,
		CodeAuthorizationReused,
		CodeNonceGap, CodeNonceUsed, CodeInsufficientFunds,
	}
}

// Refusal is why a payment was not accepted. Msg is short and human ("paid
// 0.009 ETH, request is 0.01 ETH"), fit for a payer's phone or a cashier's
// screen; Code is what programs match on.
type Refusal struct {
	Code Code
	Msg  string
	// Err, if set, is the refused rule as its enforcer reported it (a
	// store error): errors.Is sees through the refusal to it. It is not
	// part of Error's text.
	Err error
}

// Error returns "code: msg".
func (r *Refusal) Error() string { return string(r.Code) + ": " + r.Msg }

// Unwrap returns Err.
func (r *Refusal) Unwrap() error { return r.Err }

// Refuse builds a Refusal whose message is fmt.Sprintf(format, args...).
func Refuse(code Code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Msg: fmt.Sprintf(format, args...)}
}
