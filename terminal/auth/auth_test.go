package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"showpos/device/clock/clocktest"
	"showpos/terminal/auth"
	"showpos/terminal/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	regNumber   = "sn_00a1b2c3d4e5f607"
	fleetNumber = "sn_fleet000000000001"
)

var (
	regKey   = []byte("register-key-0123456789abcdef012")
	fleetKey = []byte("fleet-key-0123456789abcdef012345")
)

// env is a terminal: a real store file, a verifier and an HTTP server
// whose every path is guarded by Require(register).
type env struct {
	t     *testing.T
	path  string
	store *store.Store
	clock *clocktest.Fake // the verifier's clock, moved by the test
	srv   *httptest.Server
	hits  atomic.Int32
	seq   atomic.Int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "pos.db"), clock: clocktest.NewFake(t0)}
	e.open()
	ctx := context.Background()
	for _, c := range []store.Client{
		{Number: regNumber, Name: "till 4", Role: store.RoleRegister, Keys: []store.ClientKey{{Secret: regKey}}, Created: t0},
		{Number: fleetNumber, Name: "fleet", Role: store.RoleFleet, Keys: []store.ClientKey{{Secret: fleetKey}}, Created: t0},
	} {
		if err := e.store.PutClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// open opens the store file and starts a server on it.
func (e *env) open() {
	e.t.Helper()
	s, err := store.Open(e.path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = s
	v := &auth.Verifier{Store: s, Clock: e.clock, MaxBody: 1024}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		c, _ := auth.ClientFrom(r.Context())
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", c.Number, b)
	})
	e.srv = httptest.NewServer(v.Require(h, store.RoleRegister))
	e.t.Cleanup(e.close)
}

func (e *env) close() {
	e.srv.Close()
	_ = e.store.Close()
}

// restart closes the store and server and opens them again.
func (e *env) restart() {
	e.close()
	e.open()
}

func (e *env) nonce() string { return fmt.Sprintf("nonce-%016d", e.seq.Add(1)) }

// signed builds a request signed by number with secret at the clock's now.
func (e *env) signed(method, target, body, number string, secret []byte, nonce string) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	auth.Sign(req, []byte(body), number, secret, e.clock.Now(), nonce)
	return req
}

type answer struct {
	status int
	code   string
	body   string
}

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, body: string(b)}
	if res.StatusCode != http.StatusOK {
		var doc struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			e.t.Fatalf("refusal body %q is not the error JSON: %v", b, err)
		}
		if doc.Error.Message == "" {
			e.t.Errorf("refusal %s has no message", doc.Error.Code)
		}
		a.code = doc.Error.Code
	}
	return a
}

func (e *env) wantOK(req *http.Request, body string) {
	e.t.Helper()
	a := e.do(req)
	if a.status != http.StatusOK || a.body != body {
		e.t.Fatalf("got %d %q (%s), want 200 %q", a.status, a.body, a.code, body)
	}
}

func (e *env) wantRefused(req *http.Request, status int, code string) {
	e.t.Helper()
	before := e.hits.Load()
	a := e.do(req)
	if a.status != status || a.code != code {
		e.t.Fatalf("got %d %s (%q), want %d %s", a.status, a.code, a.body, status, code)
	}
	if e.hits.Load() != before {
		e.t.Fatal("a refused request reached the handler")
	}
}

func TestSignedRequestPasses(t *testing.T) {
	e := newEnv(t)
	e.wantOK(e.signed("POST", "/v1/requests?ref=a%20b&x=1", `{"amount":"1"}`, regNumber, regKey, e.nonce()),
		regNumber+` {"amount":"1"}`)
	e.wantOK(e.signed("GET", "/v1/reports/today", "", regNumber, regKey, e.nonce()), regNumber+" ")
	// An escaped path is signed as it goes on the wire.
	e.wantOK(e.signed("GET", "/v1/requests/a%2Fb%41", "", regNumber, regKey, e.nonce()), regNumber+" ")
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"no headers", func() *http.Request {
			r, _ := http.NewRequest("GET", e.srv.URL+"/v1/x", nil)
			return r
		}, 401, auth.CodeMissingAuth},
		{"no signature", func() *http.Request {
			r := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
			r.Header.Del(auth.HeaderSignature)
			return r
		}, 401, auth.CodeMissingAuth},
		{"unknown client", func() *http.Request {
			return e.signed("GET", "/v1/x", "", "sn_ffffffffffffffff", regKey, e.nonce())
		}, 401, auth.CodeUnknownClient},
		{"timestamp too old", func() *http.Request {
			r := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
			auth.Sign(r, nil, regNumber, regKey, e.clock.Now().Add(-301*time.Second), r.Header.Get(auth.HeaderNonce))
			return r
		}, 401, auth.CodeStaleTimestamp},
		{"timestamp too new", func() *http.Request {
			r := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
			auth.Sign(r, nil, regNumber, regKey, e.clock.Now().Add(301*time.Second), r.Header.Get(auth.HeaderNonce))
			return r
		}, 401, auth.CodeStaleTimestamp},
		{"timestamp not seconds", func() *http.Request {
			r := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
			r.Header.Set(auth.HeaderTimestamp, "+"+r.Header.Get(auth.HeaderTimestamp))
			return r
		}, 401, auth.CodeStaleTimestamp},
		{"nonce too short", func() *http.Request {
			return e.signed("GET", "/v1/x", "", regNumber, regKey, "short-nonce")
		}, 401, auth.CodeBadNonce},
		{"nonce too long", func() *http.Request {
			return e.signed("GET", "/v1/x", "", regNumber, regKey, strings.Repeat("n", 65))
		}, 401, auth.CodeBadNonce},
		{"nonce bad character", func() *http.Request {
			return e.signed("GET", "/v1/x", "", regNumber, regKey, "nonce.0123456789abcdef")
		}, 401, auth.CodeBadNonce},
		{"wrong key", func() *http.Request {
			return e.signed("GET", "/v1/x", "", regNumber, fleetKey, e.nonce())
		}, 401, auth.CodeBadSignature},
		{"signature not hex", func() *http.Request {
			r := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
			r.Header.Set(auth.HeaderSignature, "zz")
			return r
		}, 401, auth.CodeBadSignature},
		{"body too large", func() *http.Request {
			return e.signed("POST", "/v1/x", strings.Repeat("a", 1025), regNumber, regKey, e.nonce())
		}, 413, auth.CodeBodyTooLarge},
		{"fleet client on a register handler", func() *http.Request {
			return e.signed("GET", "/v1/x", "", fleetNumber, fleetKey, e.nonce())
		}, 403, auth.CodeForbiddenRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.wantRefused(tt.req(), tt.status, tt.code)
		})
	}
}

func TestBodyTooLargeWithoutContentLength(t *testing.T) {
	e := newEnv(t)
	body := strings.Repeat("a", 1025)
	req := e.signed("POST", "/v1/x", body, regNumber, regKey, e.nonce())
	req.Body = io.NopCloser(io.MultiReader(strings.NewReader(body))) // chunked: length unknown
	req.ContentLength = -1
	e.wantRefused(req, 413, auth.CodeBodyTooLarge)
}

func TestWindowEdgesAccepted(t *testing.T) {
	e := newEnv(t)
	for _, d := range []time.Duration{-300 * time.Second, 300 * time.Second} {
		req := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
		auth.Sign(req, nil, regNumber, regKey, e.clock.Now().Add(d), req.Header.Get(auth.HeaderNonce))
		e.wantOK(req, regNumber+" ")
	}
}

func TestChangedAfterSigningIsBadSignature(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		method string
		target string
		body   string
	}{
		{"method", "PUT", "/v1/requests?ref=1", `{"amount":"1"}`},
		{"path", "POST", "/v1/requestz?ref=1", `{"amount":"1"}`},
		{"path escaping", "POST", "/v1/%72equests?ref=1", `{"amount":"1"}`},
		{"query", "POST", "/v1/requests?ref=2", `{"amount":"1"}`},
		{"query added", "POST", "/v1/requests?ref=1&x=1", `{"amount":"1"}`},
		{"query removed", "POST", "/v1/requests", `{"amount":"1"}`},
		{"body", "POST", "/v1/requests?ref=1", `{"amount":"9"}`},
		{"body emptied", "POST", "/v1/requests?ref=1", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			nonce := e.nonce()
			signed := e.signed("POST", "/v1/requests?ref=1", `{"amount":"1"}`, regNumber, regKey, nonce)
			req, err := http.NewRequest(tt.method, e.srv.URL+tt.target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = signed.Header.Clone()
			e.wantRefused(req, 401, auth.CodeBadSignature)
			// The forged request did not burn the nonce: the genuine one
			// still passes.
			e.wantOK(e.signed("POST", "/v1/requests?ref=1", `{"amount":"1"}`, regNumber, regKey, nonce), regNumber+` {"amount":"1"}`)
		})
	}
}

func TestReplayedNonceRefusedAcrossRestart(t *testing.T) {
	e := newEnv(t)
	nonce := e.nonce()
	first := e.signed("POST", "/v1/requests", `{"a":1}`, regNumber, regKey, nonce)
	again := func() *http.Request {
		r, _ := http.NewRequest("POST", e.srv.URL+"/v1/requests", bytes.NewReader([]byte(`{"a":1}`)))
		r.Header = first.Header.Clone()
		return r
	}
	e.wantOK(first, regNumber+` {"a":1}`)
	e.wantRefused(again(), 401, auth.CodeReplayedNonce)

	e.restart()
	e.wantRefused(again(), 401, auth.CodeReplayedNonce)

	// The same nonce from another client is its own.
	e.wantRefused(e.signed("GET", "/v1/x", "", fleetNumber, fleetKey, nonce), 403, auth.CodeForbiddenRole)
}

func TestReplayRefusedUntilTimestampLeavesWindow(t *testing.T) {
	e := newEnv(t)
	first := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
	e.wantOK(first, regNumber+" ")
	replay := func() *http.Request {
		r, _ := http.NewRequest("GET", e.srv.URL+"/v1/x", nil)
		r.Header = first.Header.Clone()
		return r
	}
	e.clock.Advance(300 * time.Second)
	e.wantRefused(replay(), 401, auth.CodeReplayedNonce)
	e.clock.Advance(time.Second)
	e.wantRefused(replay(), 401, auth.CodeStaleTimestamp)
}

func TestRotationGracePeriod(t *testing.T) {
	e := newEnv(t)
	newKey := []byte("register-key-rotated-0123456789a")
	if _, err := e.store.RotateClientKey(context.Background(), regNumber, newKey, time.Hour, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, newKey, e.nonce()), regNumber+" ")
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), regNumber+" ")

	e.clock.Advance(59 * time.Minute)
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), regNumber+" ")

	e.clock.Advance(time.Minute) // now == NotAfter: no longer honoured
	e.wantRefused(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), 401, auth.CodeBadSignature)
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, newKey, e.nonce()), regNumber+" ")
}

func TestRevokedClientRefused(t *testing.T) {
	e := newEnv(t)
	e.wantOK(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), regNumber+" ")
	if _, err := e.store.RevokeClient(context.Background(), regNumber, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.wantRefused(e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce()), 401, auth.CodeRevokedClient)
}

func TestRequireRoles(t *testing.T) {
	e := newEnv(t)
	v := &auth.Verifier{Store: e.store, Clock: e.clock}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	fleetOnly := httptest.NewServer(v.Require(ok, store.RoleFleet))
	defer fleetOnly.Close()
	both := httptest.NewServer(v.Require(ok, store.RoleFleet, store.RoleRegister))
	defer both.Close()
	send := func(url, number string, key []byte) int {
		req, _ := http.NewRequest("GET", url+"/v1/config", nil)
		auth.Sign(req, nil, number, key, e.clock.Now(), e.nonce())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		url, number string
		key         []byte
		want        int
	}{
		{fleetOnly.URL, fleetNumber, fleetKey, 200},
		{fleetOnly.URL, regNumber, regKey, 403},
		{both.URL, fleetNumber, fleetKey, 200},
		{both.URL, regNumber, regKey, 200},
	} {
		if got := send(c.url, c.number, c.key); got != c.want {
			t.Errorf("%s on %s: %d, want %d", c.number, c.url, got, c.want)
		}
	}
}

func TestVerifyRestoresBody(t *testing.T) {
	e := newEnv(t)
	v := &auth.Verifier{Store: e.store, Clock: e.clock}
	req := httptest.NewRequest("POST", "/v1/requests?a=1", strings.NewReader("hello"))
	auth.Sign(req, []byte("hello"), regNumber, regKey, e.clock.Now(), e.nonce())
	c, err := v.Verify(req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Number != regNumber {
		t.Errorf("client %q", c.Number)
	}
	if b, _ := io.ReadAll(req.Body); string(b) != "hello" {
		t.Errorf("body after Verify: %q", b)
	}
}

// Concurrent uses of one nonce: exactly one passes.
func TestConcurrentReplayOnePasses(t *testing.T) {
	e := newEnv(t)
	first := e.signed("GET", "/v1/x", "", regNumber, regKey, e.nonce())
	var wg sync.WaitGroup
	var passed atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := http.NewRequest("GET", e.srv.URL+"/v1/x", nil)
			r.Header = first.Header.Clone()
			res, err := e.srv.Client().Do(r)
			if err != nil {
				return
			}
			res.Body.Close()
			if res.StatusCode == 200 {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 1 {
		t.Fatalf("%d requests with one nonce passed, want 1", passed.Load())
	}
}
