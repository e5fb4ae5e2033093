package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"showpos/device/clock"
	"showpos/terminal/store"
)

// Defaults for a Verifier's zero fields.
const (
	DefaultWindow  = 300 * time.Second
	DefaultMaxBody = 1 << 20
)

// Store is what a Verifier needs of the store; *store.Store has it.
type Store interface {
	Client(number string) (store.Client, error)
	UseNonce(ctx context.Context, number, nonce string, expires, now time.Time) error
}

var _ Store = (*store.Store)(nil)

// Verifier checks signed requests. Its fields are set once, before use;
// then it is safe for concurrent use.
type Verifier struct {
	Store Store
	Clock clock.Clock // the current time; nil: clock.System
	// Window is how far a request's timestamp may be from now, either way;
	// 0 means DefaultWindow (300 s).
	Window time.Duration
	// MaxBody caps the request body read for the body hash; 0 means
	// DefaultMaxBody (1 MiB). A larger body is refused (body_too_large).
	MaxBody int64
}

func (v *Verifier) now() time.Time {
	if v.Clock != nil {
		return v.Clock.Now()
	}
	return clock.System{}.Now()
}

func (v *Verifier) window() time.Duration {
	if v.Window > 0 {
		return v.Window
	}
	return DefaultWindow
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBody > 0 {
		return v.MaxBody
	}
	return DefaultMaxBody
}

// Verify checks r's authentication and returns its client. On success
// r.Body has been read (at most MaxBody bytes) and replaced by a reader of
// the same bytes, and the nonce is recorded as used until timestamp+Window.
// A refusal is an *Error; see the Code constants for the order of checks.
// The nonce is recorded only once the signature verifies, so a forged
// request cannot burn an honest client's nonce.
func (v *Verifier) Verify(r *http.Request) (store.Client, error) {
	number := r.Header.Get(HeaderClient)
	tsText := r.Header.Get(HeaderTimestamp)
	nonce := r.Header.Get(HeaderNonce)
	sigText := r.Header.Get(HeaderSignature)
	if number == "" || tsText == "" || nonce == "" || sigText == "" {
		return store.Client{}, refuse(CodeMissingAuth, "the headers "+HeaderClient+", "+HeaderTimestamp+", "+HeaderNonce+" and "+HeaderSignature+" are required", nil)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || ts < 0 || strconv.FormatInt(ts, 10) != tsText {
		return store.Client{}, refuse(CodeStaleTimestamp, HeaderTimestamp+" must be decimal Unix seconds", nil)
	}
	if !validNonce(nonce) {
		return store.Client{}, refuse(CodeBadNonce, fmt.Sprintf("%s must be %d to %d characters of [A-Za-z0-9_-]", HeaderNonce, MinNonce, MaxNonce), nil)
	}
	c, err := v.Store.Client(number)
	switch {
	case errors.Is(err, store.ErrUnknownClient):
		return store.Client{}, refuse(CodeUnknownClient, "unknown service number", err)
	case err != nil:
		return store.Client{}, refuse(CodeInternal, "the terminal could not check the request", err)
	case !c.Revoked.IsZero():
		return store.Client{}, refuse(CodeRevokedClient, "this service number is revoked", nil)
	}
	now := v.now()
	win := v.window()
	when := time.Unix(ts, 0)
	if d := now.Sub(when); d > win || d < -win {
		return store.Client{}, refuse(CodeStaleTimestamp, fmt.Sprintf("timestamp is more than %d s from the terminal's clock (%d)", int(win.Seconds()), now.Unix()), nil)
	}
	body, err := v.readBody(r)
	if err != nil {
		return store.Client{}, err
	}
	want, err := hex.DecodeString(sigText)
	if err != nil || len(want) != 32 {
		return store.Client{}, refuse(CodeBadSignature, HeaderSignature+" must be 64 hex digits", nil)
	}
	sts := StringToSign(r.Method, requestTarget(r), ts, nonce, body)
	ok := false
	for _, secret := range c.HonouredKeys(now) {
		// Every honoured key is tried, so the time taken does not say
		// which one matched.
		if hmac.Equal(mac(secret, sts), want) {
			ok = true
		}
	}
	if !ok {
		return store.Client{}, refuse(CodeBadSignature, "the signature does not match the request", nil)
	}
	err = v.Store.UseNonce(r.Context(), number, nonce, when.Add(win), now)
	switch {
	case errors.Is(err, store.ErrNonceReplayed):
		return store.Client{}, refuse(CodeReplayedNonce, "this nonce was already used", err)
	case err != nil:
		return store.Client{}, refuse(CodeInternal, "the terminal could not record the nonce", err)
	}
	return c, nil
}

// requestTarget is the request target as it came on the request line; a
// request built in process (no RequestURI) uses its URL's.
func requestTarget(r *http.Request) string {
	if t := r.RequestURI; t != "" && t[0] == '/' {
		return t
	}
	return r.URL.RequestURI()
}

func (v *Verifier) readBody(r *http.Request) ([]byte, error) {
	max := v.maxBody()
	if r.ContentLength > max {
		return nil, refuse(CodeBodyTooLarge, fmt.Sprintf("body of %d bytes: at most %d", r.ContentLength, max), nil)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	_ = r.Body.Close()
	if err != nil {
		return nil, refuse(CodeBadRequest, "reading the body failed", err)
	}
	if int64(len(body)) > max {
		return nil, refuse(CodeBodyTooLarge, fmt.Sprintf("body over %d bytes", max), nil)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
