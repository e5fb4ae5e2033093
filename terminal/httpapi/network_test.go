package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"showpos/terminal/auth"
	"showpos/terminal/checkout"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// networkServer serves the network API of tm, authenticating against its
// store at its clock; o adds Status and Fleet.
func networkServer(t *testing.T, tm *terminal, o httpapi.NetworkOptions) *httptest.Server {
	t.Helper()
	o.Till, o.Register, o.Clock = tm.till, tm.till, tm.clock
	o.Verifier = &auth.Verifier{Store: tm.store, Clock: tm.clock}
	srv := httptest.NewServer(httpapi.Network(o))
	t.Cleanup(srv.Close)
	return srv
}

// signedDo makes one call signed by the client number with key at the
// terminal's clock (unsigned if number is ""), and returns the raw answer.
func (tm *terminal) signedDo(method, url, body, number, key string, header ...string) (*http.Response, []byte) {
	tm.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tm.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if number != "" {
		auth.Sign(req, []byte(body), number, []byte(key), tm.clock.Now(), auth.NewNonce())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tm.t.Fatal(err)
	}
	return resp, b
}

// signed is signedDo for a JSON answer.
func (tm *terminal) signed(method, url, body, number, key string) answer {
	tm.t.Helper()
	resp, b := tm.signedDo(method, url, body, number, key)
	return decodeAnswer(tm.t, &http.Response{StatusCode: resp.StatusCode, Body: io.NopCloser(bytes.NewReader(b))})
}

func staticStatus(ctx context.Context) (httpapi.Status, error) {
	return httpapi.Status{Terminal: "test-till", ConfigVersion: 3}, nil
}

func TestNetworkServesSignedRegisterCalls(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	nw := networkServer(t, tm, httpapi.NetworkOptions{Status: staticStatus})
	number, key := addClient(t, op.URL, "Till 4 register", store.RoleRegister)

	a := tm.signed("POST", nw.URL+"/v1/requests", `{"amount":"0.02","memo":"table 4"}`, number, key)
	if a.status != 201 || a.body["amount"] != "20000000000000000" || a.body["status"] != "pending" {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	id := a.body["id"].(string)
	for _, path := range []string{"/v1/requests/current", "/v1/requests/" + id} {
		if a := tm.signed("GET", nw.URL+path, "", number, key); a.status != 200 || a.body["id"] != id {
			t.Errorf("GET %s: %d %v", path, a.status, a.body)
		}
	}
	resp, b := tm.signedDo("GET", nw.URL+"/v1/requests/"+id+"/qr.png?module=2", "", number, key)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("qr.png: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := tm.request("0.01", "ETH")
	if a := tm.broadcast(r.ID, sign(t, r, newKey(t), paytx.Options{})); a.status != 202 {
		t.Fatalf("pay: %v", a.body)
	}
	if a := tm.signed("GET", nw.URL+"/v1/payments?state=queued", "", number, key); a.status != 200 || len(a.body["payments"].([]any)) != 1 {
		t.Errorf("payments: %d %v", a.status, a.body)
	}
	if a := tm.signed("GET", nw.URL+"/v1/totals", "", number, key); a.status != 200 || len(a.body["assets"].([]any)) != 1 {
		t.Errorf("totals: %d %v", a.status, a.body)
	}
	if a := tm.signed("GET", nw.URL+"/v1/status", "", number, key); a.status != 200 || a.body["terminal"] != "test-till" {
		t.Errorf("status: %d %v", a.status, a.body)
	}
	r2 := tm.request("0.03", "ETH")
	if a := tm.signed("POST", nw.URL+"/v1/requests/"+r2.ID+"/cancel", "", number, key); a.status != 200 || a.body["status"] != "cancelled" {
		t.Errorf("cancel: %d %v", a.status, a.body)
	}
	// Refusals of the till reach the register as on the socket.
	if a := tm.signed("POST", nw.URL+"/v1/requests", `{"amount":"2"}`, number, key); a.status != 403 || a.code() != "payment_limit" {
		t.Errorf("over the limit: %d %v", a.status, a.body)
	}
}

func TestNetworkHonoursOldKeyOnlyDuringGrace(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	nw := networkServer(t, tm, httpapi.NetworkOptions{})
	number, oldKey := addClient(t, op.URL, "Back office", store.RoleRegister)
	rot := call(t, "POST", op.URL+"/v1/clients/"+number+"/rotate", `{"grace":"1h"}`)
	newKey := rot.body["key"].(string)

	for _, key := range []string{oldKey, newKey} {
		if a := tm.signed("GET", nw.URL+"/v1/payments", "", number, key); a.status != 200 {
			t.Errorf("during the grace: %d %v", a.status, a.body)
		}
	}
	tm.clock.Advance(time.Hour)
	if a := tm.signed("GET", nw.URL+"/v1/payments", "", number, oldKey); a.status != 401 || a.code() != "bad_signature" {
		t.Errorf("old key after the grace: %d %v", a.status, a.body)
	}
	if a := tm.signed("GET", nw.URL+"/v1/payments", "", number, newKey); a.status != 200 {
		t.Errorf("new key after the grace: %d %v", a.status, a.body)
	}
}

func TestNetworkRefusesWhoMayNot(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	fleet := &fakeFleet{}
	nw := networkServer(t, tm, httpapi.NetworkOptions{Status: staticStatus, Fleet: fleet})
	reg, regKey := addClient(t, op.URL, "Till 1", store.RoleRegister)
	fl, flKey := addClient(t, op.URL, "Fleet HQ", store.RoleFleet)
	gone, goneKey := addClient(t, op.URL, "Till 2", store.RoleRegister)
	call(t, "POST", op.URL+"/v1/clients/"+gone+"/revoke", "")

	tests := []struct {
		name, method, path, body, number, key string
		status                                int
		code                                  string
	}{
		{"unsigned", "POST", "/v1/requests", `{"amount":"0.1"}`, "", "", 401, "missing_auth"},
		{"unsigned status", "GET", "/v1/status", ``, "", "", 401, "missing_auth"},
		{"unknown client", "GET", "/v1/payments", ``, "sn_0000000000000000", regKey, 401, "unknown_client"},
		{"wrong key", "GET", "/v1/payments", ``, reg, flKey, 401, "bad_signature"},
		{"revoked", "GET", "/v1/payments", ``, gone, goneKey, 401, "revoked_client"},
		{"fleet creates a request", "POST", "/v1/requests", `{"amount":"0.1"}`, fl, flKey, 403, "forbidden_role"},
		{"fleet reads totals", "GET", "/v1/totals", ``, fl, flKey, 403, "forbidden_role"},
		{"register pushes a bundle", "POST", "/v1/fleet/bundle", `{}`, reg, regKey, 403, "forbidden_role"},
		{"register reads status", "GET", "/v1/status", ``, reg, regKey, 200, ""},
		{"fleet reads status", "GET", "/v1/status", ``, fl, flKey, 200, ""},
		{"fleet pushes a bundle", "POST", "/v1/fleet/bundle", `{"version":8}`, fl, flKey, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a := tm.signed(tc.method, nw.URL+tc.path, tc.body, tc.number, tc.key); a.status != tc.status || a.code() != tc.code {
				t.Errorf("got %d %v, want %d %q", a.status, a.body, tc.status, tc.code)
			}
		})
	}
	if fleet.pushes != 1 {
		t.Errorf("%d bundles reached the fleet, want 1", fleet.pushes)
	}
	if ps, _ := tm.store.Payments(store.PaymentFilter{}); len(ps) != 0 {
		t.Errorf("refused calls stored payments")
	}
	if _, err := tm.till.Request(""); err == nil {
		t.Errorf("a refused call created a request")
	}
}

// What only the operator may do is not on the network at all, signed or
// not; an unknown path is 404 before any authentication.
func TestNetworkHasNoOperatorCalls(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	nw := networkServer(t, tm, httpapi.NetworkOptions{})
	reg, regKey := addClient(t, op.URL, "Till 1", store.RoleRegister)
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/clients"}, {"GET", "/v1/clients"}, {"POST", "/v1/clients/" + reg + "/rotate"},
		{"POST", "/v1/clients/" + reg + "/revoke"}, {"GET", "/v1/queue"}, {"POST", "/v1/sync"},
		{"GET", "/metrics"}, {"GET", "/v1/nothing"}, {"DELETE", "/v1/requests/current"}, {"GET", "/"},
	} {
		for _, signer := range []string{"", reg} {
			if a := tm.signed(c.method, nw.URL+c.path, "", signer, regKey); a.status != 404 || a.code() != "not_found" {
				t.Errorf("%s %s (signed by %q): %d %v", c.method, c.path, signer, a.status, a.body)
			}
		}
	}
	if c, _ := tm.store.Client(reg); !c.Revoked.IsZero() || len(c.Keys) != 1 {
		t.Errorf("the network changed a client: %+v", c)
	}
}

func TestNetworkServesThePayerAPIOpen(t *testing.T) {
	tm := newTerminal(t)
	nw := networkServer(t, tm, httpapi.NetworkOptions{})
	tm.srv = nw // the payer helpers now go through the network handler
	r := tm.request("0.01", "ETH")
	if a := tm.get(checkout.RequestPath); a.status != 200 || a.body["id"] != r.ID {
		t.Errorf("getPaymentRequest: %d %v", a.status, a.body)
	}
	if a := tm.broadcast(r.ID, sign(t, r, newKey(t), paytx.Options{})); a.status != 202 || a.body["status"] != "queued" {
		t.Errorf("broadcastTx: %d %v", a.status, a.body)
	}
	resp, _ := tm.signedDo("GET", nw.URL+httpapi.QRPath+"?id="+r.ID, "", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("qr.png: %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if a := tm.get("/api/showpos/nothing"); a.status != 404 || a.code() != "not_found" {
		t.Errorf("unknown payer path: %d %v", a.status, a.body)
	}
}

func TestNetworkNeedsAVerifier(t *testing.T) {
	tm := newTerminal(t)
	defer func() {
		if recover() == nil {
			t.Error("Network without a Verifier did not panic")
		}
	}()
	httpapi.Network(httpapi.NetworkOptions{Till: tm.till, Register: tm.till})
}

// TestNetworkReadsNoMoreThanItsLargestBody: a call naming a real service
// number (they are public) with a body over the largest any network route
// takes (a fleet bundle's) is refused 413 body_too_large before its
// signature is checked, not read to the Verifier's 1 MiB default first.
func TestNetworkReadsNoMoreThanItsLargestBody(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	nw := networkServer(t, tm, httpapi.NetworkOptions{})
	number, _ := addClient(t, op.URL, "Fleet HQ", store.RoleFleet)
	for _, tc := range []struct {
		name string
		size int
		want string
	}{
		{"the largest body", httpapi.MaxNetworkBody, "bad_signature"},
		{"one byte more", httpapi.MaxNetworkBody + 1, "body_too_large"},
		{"under the Verifier's default", 600 << 10, "body_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Repeat("x", tc.size)
			// Signed with a wrong key: only the body's size decides
			// whether the signature is reached.
			a := tm.signed("POST", nw.URL+"/v1/fleet/bundle", body, number, "sk_wrong")
			if a.code() != tc.want {
				t.Errorf("%d bytes: %d %s, want %s", tc.size, a.status, a.code(), tc.want)
			}
		})
	}
}
