package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"showpos/terminal/auth"
	"showpos/terminal/httpapi"
)

const acmeRegistration = `{"name":"Acme back office","contact":"ops@acme.example","role":"register","reason":"nightly books"}`

// regServers serves tm's network API with registrations (generous limits
// unless lim says otherwise) and its operator socket's.
func regServers(t *testing.T, tm *terminal, lim httpapi.RegistrationLimits) (nwURL, opURL string) {
	t.Helper()
	if lim == (httpapi.RegistrationLimits{}) {
		lim = httpapi.RegistrationLimits{PerAddressBurst: 100, GlobalBurst: 100}
	}
	nw := networkServer(t, tm, httpapi.NetworkOptions{Registrations: tm.store, RegistrationTTL: 48 * time.Hour, RegistrationLimits: lim})
	op := operatorServer(t, tm, httpapi.OperatorOptions{Registrations: tm.store})
	return nw.URL, op.URL
}

func register(t *testing.T, nwURL string) (id, secret string) {
	t.Helper()
	a := call(t, "POST", nwURL+"/v1/registrations", acmeRegistration)
	if a.status != 201 {
		t.Fatalf("register: %d %v", a.status, a.body)
	}
	id, _ = a.body["id"].(string)
	secret, _ = a.body["pickupSecret"].(string)
	if !strings.HasPrefix(id, "rg_") || !strings.HasPrefix(secret, "ps_") || a.body["expiresAt"] == nil {
		t.Fatalf("register answered %v", a.body)
	}
	return id, secret
}

// The whole flow: register, approve, pick up once, call as the new
// client, and a second pickup refused.
func TestRegistrationApprovedPickedUpOnceThenCallsAsClient(t *testing.T) {
	tm := newTerminal(t)
	nw, op := regServers(t, tm, httpapi.RegistrationLimits{})
	id, secret := register(t, nw)

	list := call(t, "GET", op+"/v1/registrations", "")
	regs, _ := list.body["registrations"].([]any)
	if list.status != 200 || len(regs) != 1 || regs[0].(map[string]any)["state"] != "pending" || strings.Contains(fmt.Sprint(list.body), secret) {
		t.Fatalf("list: %d %v", list.status, list.body)
	}
	pickup := nw + "/v1/registrations/" + id + "/pickup"
	if a := tm.signed("POST", pickup, "", id, secret); a.status != 403 || a.code() != "registration_pending" {
		t.Fatalf("pickup before approval: %d %v", a.status, a.body)
	}
	ap := call(t, "POST", op+"/v1/registrations/"+id+"/approve", `{"role":"register"}`)
	if ap.status != 200 || ap.body["state"] != "approved" || ap.body["granted"] != "register" {
		t.Fatalf("approve: %d %v", ap.status, ap.body)
	}
	got := tm.signed("POST", pickup, "", id, secret)
	number, _ := got.body["number"].(string)
	key, _ := got.body["key"].(string)
	if got.status != 200 || number != ap.body["number"] || !strings.HasPrefix(key, "sk_") || got.body["role"] != "register" {
		t.Fatalf("pickup: %d %v", got.status, got.body)
	}
	if a := tm.signed("GET", nw+"/v1/payments", "", number, key); a.status != 200 {
		t.Fatalf("the new client's signed call: %d %v", a.status, a.body)
	}
	if a := tm.signed("POST", pickup, "", id, secret); a.status != 409 || a.code() != "already_collected" || strings.Contains(fmt.Sprint(a.body), key) {
		t.Fatalf("second pickup: %d %v", a.status, a.body)
	}
	if a := call(t, "POST", op+"/v1/registrations/"+id+"/reject", ""); a.status != 409 || a.code() != "registration_decided" {
		t.Fatalf("reject after approval: %d %v", a.status, a.body)
	}
}

func TestRegistrationRejectedOrExpiredIsRefused(t *testing.T) {
	tm := newTerminal(t)
	nw, op := regServers(t, tm, httpapi.RegistrationLimits{})
	rid, rsecret := register(t, nw)
	eid, esecret := register(t, nw)
	if a := call(t, "POST", op+"/v1/registrations/"+rid+"/reject", ""); a.status != 200 || a.body["state"] != "rejected" {
		t.Fatalf("reject: %d %v", a.status, a.body)
	}
	if a := tm.signed("POST", nw+"/v1/registrations/"+rid+"/pickup", "", rid, rsecret); a.status != 403 || a.code() != "registration_rejected" {
		t.Fatalf("pickup of a rejected one: %d %v", a.status, a.body)
	}
	tm.clock.Advance(48*time.Hour + time.Second)
	if a := tm.signed("POST", nw+"/v1/registrations/"+eid+"/pickup", "", eid, esecret); a.status != 403 || a.code() != "registration_expired" {
		t.Fatalf("pickup of an expired one: %d %v", a.status, a.body)
	}
	if a := call(t, "POST", op+"/v1/registrations/"+eid+"/approve", `{"role":"register"}`); a.status != 409 || a.code() != "registration_decided" {
		t.Fatalf("approve an expired one: %d %v", a.status, a.body)
	}
	if cs, _ := tm.store.Clients(); len(cs) != 0 {
		t.Fatalf("clients after refused approvals: %+v", cs)
	}
	if a := call(t, "GET", op+"/v1/registrations", ""); len(a.body["registrations"].([]any)) != 0 {
		t.Fatalf("waiting list after expiry: %v", a.body)
	}
	// The next registration prunes both; their pickups then answer as
	// unknown ones do.
	register(t, nw)
	if a := call(t, "GET", op+"/v1/registrations?all=1", ""); len(a.body["registrations"].([]any)) != 1 {
		t.Fatalf("full list after pruning: %v", a.body)
	}
	if a := tm.signed("POST", nw+"/v1/registrations/"+eid+"/pickup", "", eid, esecret); a.status != 401 || a.code() != "bad_signature" {
		t.Fatalf("pickup of a pruned one: %d %v", a.status, a.body)
	}
}

// A wrong secret and an unknown ID get the same answer, byte for byte.
func TestRegistrationPickupUnknownIDAnswersAsWrongSecret(t *testing.T) {
	tm := newTerminal(t)
	nw, op := regServers(t, tm, httpapi.RegistrationLimits{})
	id, _ := register(t, nw)
	call(t, "POST", op+"/v1/registrations/"+id+"/approve", `{"role":"register"}`)
	wrong := "ps_" + strings.Repeat("A", 43)
	r1, b1 := tm.signedDo("POST", nw+"/v1/registrations/"+id+"/pickup", "", id, wrong)
	unknown := "rg_00000000deadbeef"
	r2, b2 := tm.signedDo("POST", nw+"/v1/registrations/"+unknown+"/pickup", "", unknown, wrong)
	if r1.StatusCode != 401 || r1.StatusCode != r2.StatusCode || string(b1) != string(b2) ||
		r1.Header.Get("WWW-Authenticate") != r2.Header.Get("WWW-Authenticate") {
		t.Fatalf("wrong secret: %d %s; unknown id: %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	// An unsigned pickup is refused as any unsigned call is.
	if a := call(t, "POST", nw+"/v1/registrations/"+id+"/pickup", ""); a.status != 401 || a.code() != "missing_auth" {
		t.Fatalf("unsigned pickup: %d %v", a.status, a.body)
	}
	// Signed for one registration, sent to another's path.
	if a := tm.signed("POST", nw+"/v1/registrations/"+unknown+"/pickup", "", id, wrong); a.status != 401 {
		t.Fatalf("pickup of another path: %d %v", a.status, a.body)
	}
}

// A pickup secret authenticates the pickup and nothing else.
func TestRegistrationSecretCallsNothingElse(t *testing.T) {
	tm := newTerminal(t)
	nw, _ := regServers(t, tm, httpapi.RegistrationLimits{})
	id, secret := register(t, nw)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/payments", ""},
		{"GET", "/v1/status", ""},
		{"POST", "/v1/requests", `{"amount":"0.01"}`},
		{"POST", "/v1/fleet/bundle", `{}`},
	} {
		if a := tm.signed(c.method, nw+c.path, c.body, id, secret); a.status != 401 || a.code() != "unknown_client" {
			t.Errorf("%s %s with a pickup secret: %d %v", c.method, c.path, a.status, a.body)
		}
	}
}

func TestRegistrationRefusesBadBodiesAndStoresNothing(t *testing.T) {
	tm := newTerminal(t)
	nw, _ := regServers(t, tm, httpapi.RegistrationLimits{})
	for _, c := range []struct{ name, body, code string }{
		{"oversize", `{"name":"` + strings.Repeat("a", 5000) + `","contact":"x","role":"register","reason":"r"}`, "body_too_large"},
		{"unknown member", `{"name":"A","contact":"x","role":"register","reason":"r","admin":true}`, "bad_request"},
		{"control character", `{"name":"A\u0007","contact":"x","role":"register","reason":"r"}`, "bad_request"},
		{"newline in reason", `{"name":"A","contact":"x","role":"register","reason":"a\nb"}`, "bad_request"},
		{"bidi override", `{"name":"A\u202e","contact":"x","role":"register","reason":"r"}`, "bad_request"},
		{"no contact", `{"name":"A","contact":"","role":"register","reason":"r"}`, "bad_request"},
		{"long reason", `{"name":"A","contact":"x","role":"register","reason":"` + strings.Repeat("r", 501) + `"}`, "bad_request"},
		{"bad role", `{"name":"A","contact":"x","role":"admin","reason":"r"}`, "bad_request"},
		{"not JSON", `name=A`, "bad_request"},
		{"duplicate member", `{"name":"A","name":"B","contact":"x","role":"register","reason":"r"}`, "bad_request"},
	} {
		if a := call(t, "POST", nw+"/v1/registrations", c.body); a.code() != c.code || a.status < 400 {
			t.Errorf("%s: %d %v, want %s", c.name, a.status, a.body, c.code)
		}
	}
	if rs, err := tm.store.Registrations(true, tm.clock.Now()); err != nil || len(rs) != 0 {
		t.Fatalf("stored: %+v, %v", rs, err)
	}
}

func TestRegistrationRateLimited(t *testing.T) {
	tm := newTerminal(t)
	nw, _ := regServers(t, tm, httpapi.RegistrationLimits{PerAddressBurst: 2, PerAddressEvery: time.Hour, GlobalBurst: 50})
	register(t, nw)
	register(t, nw)
	resp, b := tm.signedDo("POST", nw+"/v1/registrations", acmeRegistration, "", "")
	if resp.StatusCode != 429 || !strings.Contains(string(b), `"rate_limited"`) || resp.Header.Get("Retry-After") != "3600" {
		t.Fatalf("third registration: %d %s Retry-After %q", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	tm.clock.Advance(time.Hour)
	register(t, nw)

	// The global bucket holds for every address.
	tm2 := newTerminal(t)
	nw2, _ := regServers(t, tm2, httpapi.RegistrationLimits{PerAddressBurst: 50, GlobalBurst: 1, GlobalEvery: time.Minute})
	register(t, nw2)
	if resp, _ := tm2.signedDo("POST", nw2+"/v1/registrations", acmeRegistration, "", ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("over the global limit: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if rs, _ := tm2.store.Registrations(true, tm2.clock.Now()); len(rs) != 1 {
		t.Fatalf("stored %d", len(rs))
	}
}

func TestRegistrationApproveNeedsARole(t *testing.T) {
	tm := newTerminal(t)
	nw, op := regServers(t, tm, httpapi.RegistrationLimits{})
	id, _ := register(t, nw)
	for _, body := range []string{``, `{}`, `{"role":"admin"}`} {
		if a := call(t, "POST", op+"/v1/registrations/"+id+"/approve", body); a.status != 400 || a.code() != "bad_request" {
			t.Errorf("approve %q: %d %v", body, a.status, a.body)
		}
	}
	if a := call(t, "POST", op+"/v1/registrations/rg_nope/approve", `{"role":"fleet"}`); a.status != 404 || a.code() != "unknown_registration" {
		t.Errorf("approve unknown: %d %v", a.status, a.body)
	}
	// The role granted is the operator's, whatever was asked.
	if a := call(t, "POST", op+"/v1/registrations/"+id+"/approve", `{"role":"fleet"}`); a.status != 200 || a.body["granted"] != "fleet" {
		t.Fatalf("approve as fleet: %d %v", a.status, a.body)
	}
}

// The README's worked example of a pickup signature.
func TestReadmePickupSignature(t *testing.T) {
	sts := auth.StringToSign("POST", "/v1/registrations/rg_00a1b2c3d4e5f607/pickup", 1740830400, "Zq3v9Xc1Lr7sTm2P", nil)
	if got := auth.Signature([]byte("ps_example-pickup-secret-0123456789"), sts); got != "4de70f509585727a2929f95703196cdf9932330ef199664e96fc6674580c85b8" {
		t.Fatalf("signature %s", got)
	}
}
