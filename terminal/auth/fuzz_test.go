package auth_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"showpos/device/clock/clocktest"
	"showpos/terminal/auth"
	"showpos/terminal/store"
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

func (failingStore) Client(string) (store.Client, error) { return store.Client{}, store.ErrClosed }
func (failingStore) UseNonce(context.Context, string, string, time.Time, time.Time) error {
	return store.ErrClosed
}

func TestStoreFailureIsInternal(t *testing.T) {
	v := &auth.Verifier{Store: failingStore{}, Clock: clocktest.NewFake(t0)}
	req := httptest.NewRequest("GET", "/v1/x", nil)
	auth.Sign(req, nil, regNumber, regKey, t0, auth.NewNonce())
	_, err := v.Verify(req)
	var e *auth.Error
	if !errors.As(err, &e) || e.Code != auth.CodeInternal || e.Status != 500 || !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Verify with a failing store: %v", err)
	}
	rec := httptest.NewRecorder()
	v.Require(http.NotFoundHandler(), store.RoleRegister).ServeHTTP(rec, req)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "closed") {
		t.Fatalf("Require: %d %q; want 500 without the cause", rec.Code, rec.Body)
	}
}

// fuzzClients are the clients the fuzz target's store knows, with the key
// each signs with now: a register, a fleet client, a register whose key
// was rotated (the old key still in its grace period, an older one past
// it), and a revoked register.
var (
	rotNumber, fleetFuzzNumber, revokedNumber = "sn_rotated000000001", "sn_fleet0000000002", "sn_revoked000000001"
	rotKey, graceKey, expiredKey              = []byte("rotated-key-0123456789abcdef0123"), []byte("grace-key-0123456789abcdef012345"), []byte("expired-key-0123456789abcdef0123")
)

func fuzzClients() map[string]store.Client {
	return map[string]store.Client{
		regNumber:       {Number: regNumber, Role: store.RoleRegister, Keys: []store.ClientKey{{Secret: regKey}}, Created: t0},
		fleetFuzzNumber: {Number: fleetFuzzNumber, Role: store.RoleFleet, Keys: []store.ClientKey{{Secret: fleetKey}}, Created: t0},
		rotNumber: {Number: rotNumber, Role: store.RoleRegister, Created: t0, Keys: []store.ClientKey{
			{Secret: rotKey}, {Secret: graceKey, NotAfter: t0.Add(time.Hour)}, {Secret: expiredKey, NotAfter: t0.Add(-time.Second)}}},
		revokedNumber: {Number: revokedNumber, Role: store.RoleRegister, Keys: []store.ClientKey{{Secret: regKey}}, Created: t0, Revoked: t0.Add(-time.Hour)},
	}
}

// memStore is a Verifier's store in memory, fresh for each input, so the
// fuzzer's thousands of calls cost no fsync and each input is judged alone.
type memStore struct {
	clients map[string]store.Client
	used    map[string]bool
}

func (s *memStore) Client(number string) (store.Client, error) {
	c, ok := s.clients[number]
	if !ok {
		return store.Client{}, store.ErrUnknownClient
	}
	return c, nil
}

func (s *memStore) UseNonce(_ context.Context, number, nonce string, _, _ time.Time) error {
	k := number + "\x00" + nonce
	if s.used[k] {
		return store.ErrNonceReplayed
	}
	s.used[k] = true
	return nil
}

// codeStatus is the status each code is answered with (README, errors.go).
var codeStatus = map[string]int{
	auth.CodeMissingAuth: 401, auth.CodeStaleTimestamp: 401, auth.CodeBadNonce: 401, auth.CodeUnknownClient: 401,
	auth.CodeRevokedClient: 401, auth.CodeBodyTooLarge: 413, auth.CodeBadRequest: 400, auth.CodeBadSignature: 401,
	auth.CodeReplayedNonce: 401, auth.CodeForbiddenRole: 403, auth.CodeInternal: 500,
}

// precheck is the documented order of checks before the signature,
// written apart from Verify: the first code that fails, or "".
func precheck(number, ts, nonce, sig string, bodyLen int, now time.Time, maxBody int) string {
	if number == "" || ts == "" || nonce == "" || sig == "" {
		return auth.CodeMissingAuth
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 || strconv.FormatInt(sec, 10) != ts {
		return auth.CodeStaleTimestamp
	}
	if len(nonce) < auth.MinNonce || len(nonce) > auth.MaxNonce || strings.Trim(nonce,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return auth.CodeBadNonce
	}
	c, ok := fuzzClients()[number]
	switch {
	case !ok:
		return auth.CodeUnknownClient
	case !c.Revoked.IsZero():
		return auth.CodeRevokedClient
	}
	if d := now.Sub(time.Unix(sec, 0)); d > auth.DefaultWindow || d < -auth.DefaultWindow {
		return auth.CodeStaleTimestamp
	}
	if bodyLen > maxBody {
		return auth.CodeBodyTooLarge
	}
	if b, err := hex.DecodeString(sig); err != nil || len(b) != 32 {
		return auth.CodeBadSignature
	}
	return ""
}

// How FuzzVerifyHeaders builds the signature.
const (
	sigAsGiven     = iota // the fuzzer's X-Showpos-Signature
	sigRight              // signed as the scheme says, with the client's current key
	sigGraceKey           // the same with a rotated-out key still in its grace period
	sigBodyDiffers        // signed over another body
	sigMethodDiffers
	sigTargetDiffers
	sigTimeDiffers
	sigWrongKey // a key the client never had, or one past its grace period
	sigReplayed // right, sent twice
	sigModes
)

// FuzzVerifyHeaders sends requests with arbitrary values of the four
// headers, method, request target and body through Require to a handler,
// signed as mode says: the fuzzer's signature, the right one, or the right
// one with one thing changed after signing. Verify must never panic; a
// refusal answers the status of its code with a JSON body naming it, and
// the code is the first check of the documented order that fails
// (computed apart from the code); a request is let through exactly when
// every check passes and it is signed over exactly its method, target,
// timestamp, nonce and body with a key honoured now, and the handler then
// reads the same body; the same nonce twice is replayed_nonce; a fleet
// client on a register call is forbidden_role.
func FuzzVerifyHeaders(f *testing.F) {
	const ts, nonce = "1740830400", "Zq3v9Xc1Lr7sTm2P"
	body := []byte(`{"asset":"ETH","amount":"1000000000000000"}`)
	for mode := range uint8(sigModes) {
		f.Add(regNumber, ts, nonce, "", "POST", "/v1/requests?ref=till-4&dry_run=1", body, mode)
		f.Add(rotNumber, "1740830100", strings.Repeat("n", 64), "", "GET", "/v1/payments?limit=5", []byte{}, mode)
		f.Add(fleetFuzzNumber, "1740830700", "nonce-0000000000001", "", "POST", "/v1/fleet/bundle", []byte("{}"), mode)
	}
	f.Add(regNumber, ts, nonce, "d3d16f2ef5d70f687d45d0fe959172c3f3440933e045d4225527a8f17e0a5499", "POST", "/v1/requests?ref=till-4&dry_run=1", body, uint8(sigAsGiven))
	f.Add("", "", "", "", "POST", "/", []byte{}, uint8(sigAsGiven))
	f.Add(regNumber, "-1", strings.Repeat("n", 70), strings.Repeat("0", 64), "GET", "/?a=b", []byte{}, uint8(sigRight))
	f.Add(regNumber, "99999999999999999999", "nonce-0000000000001", strings.Repeat("A", 64), "PUT", "/%2F", []byte{}, uint8(sigRight))
	f.Add(revokedNumber, ts, nonce, "", "GET", "/v1/status", []byte{}, uint8(sigRight))
	f.Add("sn_nobody", ts, nonce, "", "GET", "/v1/status", []byte{}, uint8(sigRight))
	f.Add(regNumber, "01740830400", nonce, "", "GET", "/", []byte{}, uint8(sigRight))
	f.Add(regNumber, "1740830701", nonce, "", "GET", "/", []byte{}, uint8(sigRight))
	f.Add(regNumber, ts, "short", "", "GET", "/", []byte{}, uint8(sigRight))
	f.Add(regNumber, ts, nonce, "", "GET", "*", bytes.Repeat([]byte("x"), 65), uint8(sigRight))

	const maxBody = 64
	now := t0
	f.Fuzz(func(t *testing.T, number, ts, nonce, sig, method, target string, body []byte, mode uint8) {
		mode %= sigModes
		v := &auth.Verifier{Store: &memStore{clients: fuzzClients(), used: map[string]bool{}},
			Clock: clocktest.NewFake(now), MaxBody: maxBody}
		var reached int
		var gotBody []byte
		var gotClient store.Client
		h := v.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached++
			gotBody, _ = io.ReadAll(r.Body)
			gotClient, _ = auth.ClientFrom(r.Context())
		}), store.RoleRegister)

		newReq := func() *http.Request {
			req := httptest.NewRequest("GET", "/", bytes.NewReader(body))
			req.Method, req.RequestURI = method, target
			return req
		}
		// What is signed: the target as the request line carries it.
		signedTarget := target
		if !strings.HasPrefix(target, "/") {
			signedTarget = newReq().URL.RequestURI()
		}
		sec, _ := strconv.ParseInt(ts, 10, 64)
		key := regKey
		if c, ok := fuzzClients()[number]; ok {
			key = c.Keys[0].Secret
		}
		sm, st, ss, sb := method, signedTarget, sec, body
		switch mode {
		case sigGraceKey:
			if number == rotNumber {
				key = graceKey
			}
		case sigBodyDiffers:
			sb = append(bytes.Clone(body), '!')
		case sigMethodDiffers:
			sm += "X"
		case sigTargetDiffers:
			st += "x"
		case sigTimeDiffers:
			ss++
		case sigWrongKey:
			key = []byte("not-a-key-of-this-client-0123456")
			if number == rotNumber {
				key = expiredKey
			}
		}
		if mode != sigAsGiven {
			sig = auth.Signature(key, auth.StringToSign(sm, st, ss, nonce, sb))
		}

		want := precheck(number, ts, nonce, sig, len(body), now, maxBody)
		rightlySigned := mode == sigRight || mode == sigGraceKey || mode == sigReplayed
		switch {
		case want != "":
		case !rightlySigned:
			want = auth.CodeBadSignature
		case fuzzClients()[number].Role != store.RoleRegister:
			want = auth.CodeForbiddenRole
		}

		send := func(want string) {
			t.Helper()
			req := newReq()
			req.Header.Set(auth.HeaderClient, number)
			req.Header.Set(auth.HeaderTimestamp, ts)
			req.Header.Set(auth.HeaderNonce, nonce)
			req.Header.Set(auth.HeaderSignature, sig)
			rec := httptest.NewRecorder()
			before := reached
			h.ServeHTTP(rec, req)
			if want == "" {
				if reached != before+1 || rec.Code != 200 {
					t.Fatalf("mode %d: a rightly signed request got %d %s", mode, rec.Code, rec.Body)
				}
				if !bytes.Equal(gotBody, body) || gotClient.Number != number {
					t.Fatalf("handler read %q as %q; sent %q as %q", gotBody, gotClient.Number, body, number)
				}
				return
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if reached != before {
				t.Fatalf("mode %d: let through; want %s", mode, want)
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != want ||
				e.Error.Message == "" || rec.Code != codeStatus[want] {
				t.Fatalf("mode %d: answered %d %s; want %d %s", mode, rec.Code, rec.Body, codeStatus[want], want)
			}
		}
		send(want)
		if mode == sigReplayed && want == "" {
			send(auth.CodeReplayedNonce)
		}
	})
}
