package chain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/ethereum/go-ethereum/rpc"
)

// NodeError is a JSON-RPC error object a node answered with, as received.
// Error() is Message unchanged, so text matching works on it as on the
// node's own words (FIELD-NOTES: over RPC, errors are strings).
type NodeError struct {
	Code    int
	Message string
	Data    any // the "data" member, decoded from JSON (a revert's is a hex string); nil if absent
}

func (e *NodeError) Error() string {
	if e.Message == "" {
		return "json-rpc error " + strconv.Itoa(e.Code)
	}
	return e.Message
}

// TransportError means the call did not reach a node of the right chain:
// on one endpoint, or (Endpoint "") on every endpoint tried.
type TransportError struct {
	Endpoint string // redacted URL; "" when it sums up several endpoints
	Reason   string // short, e.g. "connection refused", "timeout", "HTTP 429 Too Many Requests"
	Err      error  // the cause, without the request URL
}

func (e *TransportError) Error() string {
	if e.Endpoint == "" {
		return "chain: " + e.Reason
	}
	return "chain: " + e.Endpoint + ": " + e.Reason
}

func (e *TransportError) Unwrap() error { return e.Err }

// IsTransport reports whether err (or an error it wraps) is a
// *TransportError: the network or the endpoints failed, not the request.
// Retry later; nothing can be concluded about the transaction.
func IsTransport(err error) bool {
	var te *TransportError
	return errors.As(err, &te)
}

// nodeError converts an rpc error answer; ok is false if err is not one.
func nodeError(err error) (*NodeError, bool) {
	var re rpc.Error
	if !errors.As(err, &re) {
		return nil, false
	}
	ne := &NodeError{Code: re.ErrorCode(), Message: re.Error()}
	var de rpc.DataError
	if errors.As(err, &de) {
		ne.Data = de.ErrorData()
	}
	return ne, true
}

// failure turns the error of one request to ep into what callers see: the
// parent context's error if that ended, else a *TransportError. callCtx is
// the request's own context (with CallTimeout).
func failure(ctx, callCtx context.Context, ep *endpoint, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may hold an API key
	}
	reason := reasonOf(err)
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		reason = "timeout"
	}
	return &TransportError{Endpoint: ep.name, Reason: reason, Err: err}
}

// reasonOf names a transport failure in a few words.
func reasonOf(err error) string {
	var (
		he    rpc.HTTPError
		ne    net.Error
		dns   *net.DNSError
		syn   *json.SyntaxError
		typ   *json.UnmarshalTypeError
		tlsR  tls.RecordHeaderError
		tlsV  *tls.CertificateVerificationError
		x509U x509.UnknownAuthorityError
		x509H x509.HostnameError
		x509C x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &he):
		return strings.TrimSpace("HTTP " + strconv.Itoa(he.StatusCode) + " " + http.StatusText(he.StatusCode))
	case errors.Is(err, ErrBatchUnsupported), errors.Is(err, ErrWrongChain):
		return err.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "network unreachable"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host"
		}
		return "DNS failure"
	case errors.As(err, &tlsR), errors.As(err, &tlsV), errors.As(err, &x509U),
		errors.As(err, &x509H), errors.As(err, &x509C):
		return "TLS failure"
	case errors.Is(err, errResponseTooLarge):
		return "response too large"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, rpc.ErrNoResult),
		errors.Is(err, rpc.ErrMissingBatchResponse):
		return "not a JSON-RPC answer"
	}
	return "unreachable"
}

// summarize turns the failures of one call into one error: the single
// endpoint's own, or a summary naming each endpoint.
func summarize(fails []*TransportError) *TransportError {
	switch len(fails) {
	case 0:
		return errNoEndpoints // nothing to try
	case 1:
		return fails[0]
	}
	parts := make([]string, len(fails))
	errs := make([]error, len(fails))
	for i, f := range fails {
		parts[i] = f.Endpoint + ": " + f.Reason
		errs[i] = f
	}
	return &TransportError{Reason: strings.Join(parts, "; "), Err: errors.Join(errs...)}
}

// wrongChain is the failure of an endpoint on another chain.
func wrongChain(ep *endpoint, got, want uint64) *TransportError {
	err := fmt.Errorf("%w %d (want %d)", ErrWrongChain, got, want)
	return &TransportError{Endpoint: ep.name, Reason: err.Error(), Err: err}
}
