package fleet

import (
	"errors"
	"fmt"
	"net/http"
)

// Refusal codes, stable: a fleet manager may switch on them.
const (
	CodeBadBundle    = "bad_bundle"           // 400: malformed (a member not spelled exactly as documented, or twice), or over MaxBundle
	CodeNoFleetKey   = "no_fleet_key"         // 501: this terminal pins no fleet key
	CodeBadSignature = "bad_bundle_signature" // 403: not signed by the pinned key
	CodeWrongTarget  = "wrong_target"         // 422: not for this terminal
	CodeNotNewer     = "not_newer"            // 409: version not above the highest accepted
	CodeExpired      = "expired"              // 422: expired by the terminal's clock
	CodeNotYetValid  = "not_yet_valid"        // 422: issued after the terminal's clock (by more than ClockSkew): its clock is not set, or the bundle is from the future
	CodeBadConfig    = "bad_config"           // 422: the config it makes is invalid, or it sets a key a bundle may not
	CodeNetworkOpen  = "network_open"         // 409: it removes a network that still has payments to settle
)

// ErrNetworkOpen is what Options.Retire wraps to say a network may not go
// yet (it has payments to settle): the bundle is refused network_open.
// Any other error of Retire is the terminal failing, not a refusal.
var ErrNetworkOpen = errors.New("network has payments to settle")

// Refusal is why a bundle was not taken. Message is fit to show the fleet
// manager; Version is the bundle's, when it was read that far (else 0).
type Refusal struct {
	Code    string
	Message string
	Version uint64
}

func refuse(code string, version uint64, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...), Version: version}
}

// Error returns "code: message".
func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

// ErrorCode is the stable code.
func (r *Refusal) ErrorCode() string { return r.Code }

// HTTPStatus is the status an HTTP API answers the refusal with.
func (r *Refusal) HTTPStatus() int {
	switch r.Code {
	case CodeBadBundle:
		return http.StatusBadRequest
	case CodeNoFleetKey:
		return http.StatusNotImplemented
	case CodeBadSignature:
		return http.StatusForbidden
	case CodeNotNewer, CodeNetworkOpen:
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}
