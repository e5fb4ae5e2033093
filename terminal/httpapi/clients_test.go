package httpapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

var (
	numberRE = regexp.MustCompile(`^sn_[0-9a-f]{16}$`)
	keyRE    = regexp.MustCompile(`^sk_[A-Za-z0-9_-]{43}$`) // 32 bytes, base64url without padding
)

// addClient registers a client over the operator socket and returns its
// service number and key.
func addClient(t *testing.T, opURL, name string, role store.Role) (number, key string) {
	t.Helper()
	a := call(t, "POST", opURL+"/v1/clients", `{"name":"`+name+`","role":"`+string(role)+`"}`)
	if a.status != 201 {
		t.Fatalf("add client: %d %v", a.status, a.body)
	}
	number, _ = a.body["number"].(string)
	key, _ = a.body["key"].(string)
	return number, key
}

func TestClientsAddListRotateRevoke(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)

	a := call(t, "POST", op.URL+"/v1/clients", `{"name":"Till 4 register","role":"register"}`)
	if a.status != 201 {
		t.Fatalf("add: %d %v", a.status, a.body)
	}
	number, key := a.body["number"].(string), a.body["key"].(string)
	if !numberRE.MatchString(number) || !keyRE.MatchString(key) {
		t.Errorf("number %q, key %q", number, key)
	}
	if a.body["name"] != "Till 4 register" || a.body["role"] != "register" || a.body["created"] != "2026-11-23T12:00:00Z" {
		t.Errorf("add answered %v", a.body)
	}
	// The secret stored is the key string exactly as shown.
	c, err := tm.store.Client(number)
	if err != nil || len(c.Keys) != 1 || string(c.Keys[0].Secret) != key {
		t.Fatalf("stored client %+v, %v", c, err)
	}
	fleetNumber, _ := addClient(t, op.URL, "Fleet HQ", store.RoleFleet)

	list := call(t, "GET", op.URL+"/v1/clients", "")
	if list.status != 200 || len(list.body["clients"].([]any)) != 2 {
		t.Fatalf("list: %d %v", list.status, list.body)
	}
	if s := fmtJSON(list.body); strings.Contains(s, key) || strings.Contains(s, "secret") {
		t.Errorf("list shows a secret: %s", s)
	}
	view := findClient(t, list, number)
	if view["role"] != "register" || view["revoked"] != nil || fmtJSON(view["keys"]) != `[{"current":true}]` {
		t.Errorf("listed %v", view)
	}
	if findClient(t, list, fleetNumber)["role"] != "fleet" {
		t.Errorf("fleet client listed as %v", findClient(t, list, fleetNumber))
	}

	rot := call(t, "POST", op.URL+"/v1/clients/"+number+"/rotate", `{"grace":"2h"}`)
	newKey, _ := rot.body["key"].(string)
	if rot.status != 200 || rot.body["number"] != number || !keyRE.MatchString(newKey) || newKey == key ||
		rot.body["previousKeyUntil"] != "2026-11-23T14:00:00Z" {
		t.Fatalf("rotate: %d %v", rot.status, rot.body)
	}
	view = findClient(t, call(t, "GET", op.URL+"/v1/clients", ""), number)
	if got := fmtJSON(view["keys"]); got != `[{"current":true},{"notAfter":"2026-11-23T14:00:00Z"}]` {
		t.Errorf("keys after rotate: %s", got)
	}
	tm.clock.Advance(2 * time.Hour)
	view = findClient(t, call(t, "GET", op.URL+"/v1/clients", ""), number)
	if got := fmtJSON(view["keys"]); got != `[{"current":true}]` {
		t.Errorf("keys after the grace: %s", got)
	}
	// No body: the default grace of 24 hours.
	rot = call(t, "POST", op.URL+"/v1/clients/"+number+"/rotate", "")
	if rot.status != 200 || rot.body["previousKeyUntil"] != "2026-11-24T14:00:00Z" {
		t.Errorf("rotate with the default grace: %d %v", rot.status, rot.body)
	}

	rev := call(t, "POST", op.URL+"/v1/clients/"+number+"/revoke", "")
	if rev.status != 200 || rev.body["revoked"] != "2026-11-23T14:00:00Z" || fmtJSON(rev.body["keys"]) != `[]` {
		t.Errorf("revoke: %d %v", rev.status, rev.body)
	}
	if a := call(t, "POST", op.URL+"/v1/clients/"+number+"/rotate", ""); a.status != 409 || a.code() != "revoked_client" {
		t.Errorf("rotate a revoked client: %d %v", a.status, a.body)
	}
	if a := call(t, "POST", op.URL+"/v1/clients/"+number+"/revoke", ""); a.status != 200 || a.body["revoked"] != "2026-11-23T14:00:00Z" {
		t.Errorf("revoke again: %d %v", a.status, a.body)
	}
}

// A fleet manager's one credential, made elsewhere, registered as given:
// the same service number and key then sign for every terminal.
func TestClientsImportAGivenNumberAndKey(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	key := "sk_" + strings.Repeat("F", 40)
	a := call(t, "POST", op.URL+"/v1/clients", `{"name":"Fleet HQ","role":"fleet","number":"sn_fleet-hq","key":"`+key+`"}`)
	if a.status != 201 || a.body["number"] != "sn_fleet-hq" || a.body["key"] != key {
		t.Fatalf("import: %d %v", a.status, a.body)
	}
	c, err := tm.store.Client("sn_fleet-hq")
	if err != nil || c.Role != store.RoleFleet || string(c.Keys[0].Secret) != key {
		t.Errorf("stored %+v, %v", c, err)
	}
}

func TestClientsRefuseBadInput(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	number, _ := addClient(t, op.URL, "Back office", store.RoleRegister)
	tests := []struct {
		name, path, body string
		status           int
		code, says       string
	}{
		{"no name", "/v1/clients", `{"role":"register"}`, 400, "bad_request", "name is required"},
		{"long name", "/v1/clients", `{"name":"` + strings.Repeat("x", 201) + `","role":"register"}`, 400, "bad_request", "at most 200"},
		{"control in name", "/v1/clients", `{"name":"a\u0007","role":"register"}`, 400, "bad_request", "control"},
		{"no role", "/v1/clients", `{"name":"Till 1"}`, 400, "bad_request", `want "register"`},
		{"unknown role", "/v1/clients", `{"name":"Till 1","role":"admin"}`, 400, "bad_request", `role "admin"`},
		{"unknown field", "/v1/clients", `{"name":"Till 1","role":"register","secret":"mine"}`, 400, "bad_request", `unknown member "secret"`},
		{"role in another case", "/v1/clients", `{"name":"Till 1","Role":"fleet"}`, 400, "bad_request", `unknown member "Role"`},
		{"role twice", "/v1/clients", `{"name":"Till 1","role":"register","role":"fleet"}`, 400, "bad_request", `duplicate member "role"`},
		{"number in another case", "/v1/clients", `{"name":"Fleet","role":"fleet","NUMBER":"sn_fleet","key":"` + strings.Repeat("k", 32) + `"}`, 400, "bad_request", `unknown member "NUMBER"`},
		{"key without number", "/v1/clients", `{"name":"Fleet","role":"fleet","key":"` + strings.Repeat("k", 32) + `"}`, 400, "bad_request", "go together"},
		{"number without key", "/v1/clients", `{"name":"Fleet","role":"fleet","number":"sn_fleet"}`, 400, "bad_request", "go together"},
		{"short imported key", "/v1/clients", `{"name":"Fleet","role":"fleet","number":"sn_fleet","key":"short-key"}`, 400, "bad_request", "want 32"},
		{"bad imported number", "/v1/clients", `{"name":"Fleet","role":"fleet","number":"sn fleet","key":"` + strings.Repeat("k", 32) + `"}`, 400, "bad_request", "number must be"},
		{"imported register credential", "/v1/clients", `{"name":"Till","role":"register","number":"sn_shared","key":"` + strings.Repeat("k", 32) + `"}`, 400, "bad_request", "only a fleet client"},
		{"imported number taken", "/v1/clients", `{"name":"Fleet","role":"fleet","number":"` + number + `","key":"` + strings.Repeat("k", 32) + `"}`, 409, "client_exists", "already registered"},
		{"not JSON", "/v1/clients", `name=Till`, 400, "bad_request", "JSON"},
		{"grace not a duration", "/v1/clients/" + number + "/rotate", `{"grace":"a day"}`, 400, "bad_request", "grace"},
		{"negative grace", "/v1/clients/" + number + "/rotate", `{"grace":"-1h"}`, 400, "bad_request", "grace"},
		{"grace over 30 days", "/v1/clients/" + number + "/rotate", `{"grace":"721h"}`, 400, "bad_request", "720h"},
		{"grace in another case", "/v1/clients/" + number + "/rotate", `{"Grace":"1h"}`, 400, "bad_request", `unknown member "Grace"`},
		{"grace twice", "/v1/clients/" + number + "/rotate", `{"grace":"721h","grace":"1h"}`, 400, "bad_request", `duplicate member "grace"`},
		{"rotate unknown", "/v1/clients/sn_0000000000000000/rotate", ``, 404, "unknown_client", ""},
		{"revoke unknown", "/v1/clients/sn_0000000000000000/revoke", ``, 404, "unknown_client", ""},
		{"revoke overlong", "/v1/clients/" + strings.Repeat("9", 65) + "/revoke", ``, 404, "unknown_client", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, "POST", op.URL+tc.path, tc.body)
			e, _ := a.body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if a.status != tc.status || a.code() != tc.code || !strings.Contains(msg, tc.says) {
				t.Errorf("got %d %v, want %d %q saying %q", a.status, a.body, tc.status, tc.code, tc.says)
			}
		})
	}
	cs, err := tm.store.Clients()
	if err != nil || len(cs) != 1 || len(cs[0].Keys) != 1 {
		t.Errorf("refusals changed the clients: %+v, %v", cs, err)
	}
}

func TestClientsNotConfigured(t *testing.T) {
	tm := newTerminal(t)
	srv := httptest.NewServer(httpapi.Operator(httpapi.OperatorOptions{Register: tm.till}))
	defer srv.Close()
	for _, c := range []struct{ method, path string }{{"POST", "/v1/clients"}, {"GET", "/v1/clients"}, {"POST", "/v1/clients/sn_1/revoke"}} {
		if a := call(t, c.method, srv.URL+c.path, `{}`); a.status != 501 || a.code() != "not_configured" {
			t.Errorf("%s %s: %d %v", c.method, c.path, a.status, a.body)
		}
	}
}

func findClient(t *testing.T, list answer, number string) map[string]any {
	t.Helper()
	for _, c := range list.body["clients"].([]any) {
		if m := c.(map[string]any); m["number"] == number {
			return m
		}
	}
	t.Fatalf("client %s not in %v", number, list.body)
	return nil
}

// fmtJSON is v as compact JSON, to compare small values whole.
func fmtJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
