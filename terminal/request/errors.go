package request

import "errors"

// Sentinel errors. Functions wrap them with the operation and what to fix, so
// test with errors.Is and show err.Error() to people.
var (
	// ErrTerminalID: the terminal id is empty, too long or not plain text.
	ErrTerminalID = errors.New("invalid terminal id")
	// ErrMerchant: the merchant address is the zero address.
	ErrMerchant = errors.New("invalid merchant address")
	// ErrChainID: the chain id is zero or beyond 2^53-1.
	ErrChainID = errors.New("invalid chain id")
	// ErrAmount: the amount is missing, not above zero or beyond a uint256.
	ErrAmount = errors.New("invalid amount")
	// ErrMemo: the memo is too long, not UTF-8, or holds control characters.
	ErrMemo = errors.New("invalid memo")
	// ErrTTL: the time to live is under a second or over MaxTTL.
	ErrTTL = errors.New("invalid time to live")
	// ErrClock: the terminal's clock is not set (boards without an RTC boot in 1970).
	ErrClock = errors.New("clock not set")
	// ErrID: a request id is not 32 lowercase hex digits.
	ErrID = errors.New("invalid request id")
	// ErrTime: created/expires times are not UTC whole seconds in order.
	ErrTime = errors.New("invalid request times")
	// ErrRandom: the random source failed.
	ErrRandom = errors.New("random source failed")
	// ErrKey: the signing key is missing or not secp256k1.
	ErrKey = errors.New("invalid signing key")
	// ErrURL: a request or broadcast URL is not an absolute http(s) URL.
	ErrURL = errors.New("invalid URL")
	// ErrSignature: a signature is malformed or was not made by the named signer.
	ErrSignature = errors.New("bad signature")
	// ErrMismatch: a document's signed typed data, URI or display amount
	// disagrees with its fields.
	ErrMismatch = errors.New("document does not match its signed data")
	// ErrDocument: a document is not well-formed JSON of the expected shape,
	// or a stored value is not the compact form Document.Compact writes.
	ErrDocument = errors.New("malformed payment request document")
	// ErrSharedMissing: a stored request split by Document.CompactParts
	// was read without its shared part.
	ErrSharedMissing = errors.New("stored request read without its shared part")
	// ErrTooLarge: a document is larger than MaxDocumentSize.
	ErrTooLarge = errors.New("payment request document too large")
	// ErrQR: the content cannot be drawn as a QR code at that module size.
	ErrQR = errors.New("cannot draw QR code")
)

// ErrPrice: a request's tip or fiat price (amount, tip, rate) is invalid
// or does not agree with its amount in the asset.
var ErrPrice = errors.New("invalid price")

// ErrOptions: a request's networks are more than MaxOptions, name a chain
// id out of range or twice (the primary's included), or a network name is
// not short plain text.
var ErrOptions = errors.New("invalid payment options")
