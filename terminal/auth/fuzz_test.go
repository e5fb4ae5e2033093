package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/sync/outbox"
	"showpos/terminal/auth"
)

func TestNewNonceIsValid(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	for range 100 {
		n := auth.NewNonce()
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, regKey, auth.NewNonce()), regNumber+" ")
}

// failingStore stands for a store that cannot be read.
type failingStore struct{}

func (failingStore) Client(string) (outbox.Client, error) { return outbox.Client{}, outbox.ErrClosed }
func (failingStore) UseNonce(context.Context, string, string, time.Time, time.Time) error {
	return outbox.ErrClosed
}

func TestStoreFailureIsInternal(t *testing.T) {
	v := &auth.Verifier{Store: failingStore{}, Clock: func() time.Time { return t0 }}
	req := httptest.NewRequest("GET", "/v1/x", nil)
	auth.Sign(req, nil, regNumber, regKey, t0, auth.NewNonce())
	_, err := v.Verify(req)
	var e *auth.Error
	if !errors.As(err, &e) || e.Code != auth.CodeInternal || e.Status != 500 || !errors.Is(err, outbox.ErrClosed) {
		t.Fatalf("Verify with a failing store: %v", err)
	}
	rec := httptest.NewRecorder()
	v.Require(http.NotFoundHandler(), outbox.RoleRegister).ServeHTTP(rec, req)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "closed") {
		t.Fatalf("Require: %d %q; want 500 without the cause", rec.Code, rec.Body)
	}
}

// Whatever the headers, Verify never panics and never accepts a request
// that was not signed with the client's key.
func FuzzVerifyHeaders(f *testing.F) {
	f.Add(regNumber, "1740830400", "nonce-0000000000001", "00", "GET", "/v1/x")
	f.Add("", "", "", "", "POST", "/")
	f.Add(regNumber, "-1", strings.Repeat("n", 70), strings.Repeat("0", 64), "GET", "/?a=b")
	f.Add(regNumber, "99999999999999999999", "nonce-0000000000001", strings.Repeat("A", 64), "PUT", "/%2F")
	s, err := outbox.Open(filepath.Join(f.TempDir(), "pos.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	if err := s.PutClient(context.Background(), outbox.Client{Number: regNumber, Role: outbox.RoleRegister,
		Keys: []outbox.ClientKey{{Secret: regKey}}, Created: t0}); err != nil {
		f.Fatal(err)
	}
	v := &auth.Verifier{Store: s, Clock: func() time.Time { return time.Unix(1740830400, 0) }}
	f.Fuzz(func(t *testing.T, number, ts, nonce, sig, method, target string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Method, req.RequestURI = method, target
		req.Header.Set(auth.HeaderClient, number)
		req.Header.Set(auth.HeaderTimestamp, ts)
		req.Header.Set(auth.HeaderNonce, nonce)
		req.Header.Set(auth.HeaderSignature, sig)
		_, err := v.Verify(req)
		var e *auth.Error
		if err == nil {
			t.Fatal("an unsigned request was accepted")
		}
		if !errors.As(err, &e) || e.Code == "" || e.Status < 400 {
			t.Fatalf("refusal %v is not an *auth.Error", err)
		}
	})
}
