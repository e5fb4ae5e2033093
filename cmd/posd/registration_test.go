package main

import (
	"net/http"
	"strings"
	"testing"
)

// A third party registers with the running daemon, the registration
// survives a restart, the operator approves it on the socket, and the
// third party collects its service number and key once and calls with
// them.
func TestRegistrationThroughTheDaemon(t *testing.T) {
	tm := newTerminal(t, headless+"[api]\nregistration_ttl = \"2h\"\n")
	req, _ := http.NewRequest("POST", "http://"+tm.addr+"/v1/registrations",
		strings.NewReader(`{"name":"Acme books","contact":"ops@acme.example","role":"register","reason":"nightly books"}`))
	a := do(t, http.DefaultClient, req)
	if a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.raw)
	}
	id, secret := a.body["id"].(string), a.body["pickupSecret"].(string)

	tm.restart()
	if l := tm.operator("GET", "/v1/registrations", ""); l.status != 200 || !strings.Contains(string(l.raw), id) || strings.Contains(string(l.raw), secret) {
		t.Fatalf("list after restart: %d %s", l.status, l.raw)
	}
	pickup := "/v1/registrations/" + id + "/pickup"
	if p := tm.send(tm.sign("POST", pickup, "", id, secret)); p.status != http.StatusForbidden || p.code() != "registration_pending" {
		t.Fatalf("pickup before approval: %d %s", p.status, p.raw)
	}
	if ap := tm.operator("POST", "/v1/registrations/"+id+"/approve", `{"role":"register"}`); ap.status != 200 {
		t.Fatalf("approve: %d %s", ap.status, ap.raw)
	}
	got := tm.send(tm.sign("POST", pickup, "", id, secret))
	number, _ := got.body["number"].(string)
	key, _ := got.body["key"].(string)
	if got.status != 200 || number == "" || key == "" {
		t.Fatalf("pickup: %d %s", got.status, got.raw)
	}
	if c := tm.send(tm.sign("GET", "/v1/payments", "", number, key)); c.status != 200 {
		t.Fatalf("a call with the collected key: %d %s", c.status, c.raw)
	}
	tm.restart()
	if p := tm.send(tm.sign("POST", pickup, "", id, secret)); p.status != http.StatusConflict || p.code() != "already_collected" || strings.Contains(string(p.raw), key) {
		t.Fatalf("second pickup after restart: %d %s", p.status, p.raw)
	}
}
