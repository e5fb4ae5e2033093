package auth

import "net/http"

// Codes of refusals, stable: clients may switch on them. Verify checks in
// this order and reports the first that fails (the timestamp's format is
// checked second, its window after revoked_client).
const (
	CodeMissingAuth    = "missing_auth"    // 401: a header is missing
	CodeStaleTimestamp = "stale_timestamp" // 401: malformed, or outside ±Window of the terminal's clock
	CodeBadNonce       = "bad_nonce"       // 401: not 16–64 characters of [A-Za-z0-9_-]
	CodeUnknownClient  = "unknown_client"  // 401: no such service number
	CodeRevokedClient  = "revoked_client"  // 401: the client is revoked
	CodeBodyTooLarge   = "body_too_large"  // 413: body over MaxBody
	CodeBadRequest     = "bad_request"     // 400: the body could not be read
	CodeBadSignature   = "bad_signature"   // 401: matches no honoured key
	CodeReplayedNonce  = "replayed_nonce"  // 401: nonce already used within the window
	CodeForbiddenRole  = "forbidden_role"  // 403: the client's role may not call this (Require)
	CodeInternal       = "internal"        // 500: the store failed
)

// Error is a refusal: a stable Code, its HTTP Status and a Message fit to
// show the caller. Err, if set, is the underlying cause, for logs only.
type Error struct {
	Code    string
	Status  int
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "auth: " + e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return "auth: " + e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func refuse(code, msg string, err error) *Error {
	return &Error{Code: code, Status: statusOf(code), Message: msg, Err: err}
}

func statusOf(code string) int {
	switch code {
	case CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeBadRequest:
		return http.StatusBadRequest
	case CodeForbiddenRole:
		return http.StatusForbidden
	case CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusUnauthorized
}
