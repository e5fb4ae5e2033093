package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/auth"
	"showpos/terminal/httpapi"
	"showpos/tools/paytx"
)

// fakeFleet takes every bundle and says which version it was given.
type fakeFleet struct {
	mu  sync.Mutex
	got [][]byte
}

func (f *fakeFleet) Push(_ context.Context, raw []byte) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, raw)
	return map[string]any{"applied": true, "bytes": len(raw)}, nil
}

// serveNetwork serves d's network API over HTTPS, as posd does on
// api.listen, and returns its URL and a PEM file of its certificate.
func (d *daemon) serveNetwork(t *testing.T) (url, caFile string) {
	t.Helper()
	srv := httptest.NewTLSServer(httpapi.Network(httpapi.NetworkOptions{
		Till: d.till, Register: d.till, Status: d.status, Fleet: d.fleet,
		Verifier: &auth.Verifier{Store: d.store}, Registrations: d.store,
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "terminal.pem")
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	return srv.URL, caFile
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// addClientCLI registers a client with posctl on d's socket and writes
// its key, as shown, to a key file (with the newline an editor adds).
func addClientCLI(t *testing.T, d *daemon, name, role string) (number, keyFile string) {
	t.Helper()
	added, err := posctl(t, "-socket", d.socket, "clients", "add", "-name", name, "-role", role)
	if err != nil {
		t.Fatal(err)
	}
	number, _ = added["number"].(string)
	key, _ := added["key"].(string)
	if !strings.HasPrefix(number, "sn_") || !strings.HasPrefix(key, "sk_") {
		t.Fatalf("clients add printed %v", added)
	}
	keyFile = filepath.Join(t.TempDir(), "service.key")
	writeFile(t, keyFile, key+"\n")
	return number, keyFile
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// A client added on the socket uses its key over HTTPS: a request, a
// payment taken by the till, then the day's totals as JSON and CSV.
func TestNetworkModeWithTheKeyClientsAddPrinted(t *testing.T) {
	d := startDaemon(t)
	number, keyFile := addClientCLI(t, d, "Till 4 register", "register")
	url, ca := d.serveNetwork(t)
	flags := []string{"-url", url, "-client", number, "-key-file", keyFile, "-cacert", ca}

	doc, err := posctl(t, append(flags, "request", "new", "-amount", "0.01", "-memo", "table 4")...)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := doc["id"].(string)
	if doc["amount"] != "10000000000000000" || doc["status"] != "pending" {
		t.Fatalf("request new over the network printed %v", doc)
	}
	r, err := d.till.Request(id)
	if err != nil {
		t.Fatal(err)
	}
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(r.Request(), payer, paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	if _, err := d.till.Pay(context.Background(), id, raw); err != nil {
		t.Fatal(err)
	}

	tot, err := posctl(t, append(flags, "totals")...)
	if err != nil {
		t.Fatal(err)
	}
	assets, _ := tot["assets"].([]any)
	if len(assets) != 1 {
		t.Fatalf("totals printed %v", tot)
	}
	eth := assets[0].(map[string]any)
	if taken := eth["taken"].(map[string]any); eth["asset"] != "ETH" || taken["count"] != 1.0 || taken["amount"] != "10000000000000000" {
		t.Errorf("totals: %v", eth)
	}
	day := time.Now().Format(time.DateOnly)
	csv, err := posctlRaw(t, append(flags, "totals", "-day", day, "-csv")...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 6 || lines[0] != "from,to,asset,decimals,state,count,amount,amount_display,network" ||
		!strings.HasSuffix(lines[1], ",ETH,18,taken,1,10000000000000000,0.01,chain-1337") ||
		!strings.HasSuffix(lines[4], ",ETH,18,failed,0,0,0,chain-1337") || !strings.HasSuffix(lines[5], ",ETH,18,unmatched,0,0,0,chain-1337") {
		t.Errorf("totals -csv printed\n%s", csv)
	}

	// The same from the environment.
	t.Setenv("SHOWPOS_URL", url)
	t.Setenv("SHOWPOS_CLIENT", number)
	t.Setenv("SHOWPOS_KEY_FILE", keyFile)
	t.Setenv("SHOWPOS_CACERT", ca)
	list, err := posctl(t, "payments", "-state", "queued")
	if err != nil {
		t.Fatal(err)
	}
	if ps := list["payments"].([]any); len(ps) != 1 || ps[0].(map[string]any)["txHash"] != tx.Hash().Hex() {
		t.Errorf("payments over the network: %v", list)
	}
	if st, err := posctl(t, "status"); err != nil || st["terminal"] != "cli-till" {
		t.Errorf("status: %v, %v", st, err)
	}
	if cancelled, err := posctl(t, "request", "cancel", id); err == nil || !strings.Contains(err.Error(), "already_paid") {
		t.Errorf("cancel a paid request: %v, %v", cancelled, err)
	}
}

func TestNetworkModeRefusals(t *testing.T) {
	d := startDaemon(t)
	number, keyFile := addClientCLI(t, d, "Back office", "register")
	url, ca := d.serveNetwork(t)
	key, _ := os.ReadFile(keyFile)
	tampered := filepath.Join(t.TempDir(), "tampered.key")
	// One character changed, whatever it was (an "X" in a random key
	// replaced by "X" left it intact, 1 run in 60 or so).
	other := "X"
	if key[10] == 'X' {
		other = "Y"
	}
	writeFile(t, tampered, string(key[:10])+other+string(key[11:]))
	short := filepath.Join(t.TempDir(), "short.key")
	writeFile(t, short, "sk_short\n")
	bundle := filepath.Join(t.TempDir(), "bundle.json")
	writeFile(t, bundle, `{"payload":"","signature":""}`)

	tests := []struct {
		name     string
		args     []string
		exit     int
		contains string
	}{
		{"tampered key", []string{"-url", url, "-client", number, "-key-file", tampered, "-cacert", ca, "payments"}, 1, "bad_signature"},
		{"unknown client", []string{"-url", url, "-client", "sn_0000000000000000", "-key-file", keyFile, "-cacert", ca, "payments"}, 1, "unknown_client"},
		{"register pushes a bundle", []string{"-url", url, "-client", number, "-key-file", keyFile, "-cacert", ca, "fleet", "push", bundle}, 1, "forbidden_role"},
		{"terminal certificate not trusted", []string{"-url", url, "-client", number, "-key-file", keyFile, "payments"}, 1, "certificate"},
		{"key file missing", []string{"-url", url, "-client", number, "-key-file", filepath.Join(t.TempDir(), "none"), "-cacert", ca, "payments"}, 1, "read service key"},
		{"key too short", []string{"-url", url, "-client", number, "-key-file", short, "-cacert", ca, "payments"}, 1, "8 bytes"},
		{"no client", []string{"-url", url, "-key-file", keyFile, "-cacert", ca, "payments"}, 2, "-client"},
		{"not a URL", []string{"-url", "10.0.0.7:8080", "-client", number, "-key-file", keyFile, "payments"}, 2, "http(s)://"},
		{"clients add on the network", []string{"-url", url, "-client", number, "-key-file", keyFile, "-cacert", ca, "clients", "add", "-name", "x", "-role", "register"}, 2, "socket only"},
		{"queue on the network", []string{"-url", url, "-client", number, "-key-file", keyFile, "-cacert", ca, "queue"}, 2, "socket only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := posctl(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.contains) || exitCode(err) != tc.exit {
				t.Errorf("err = %v (exit %d), want exit %d saying %q", err, exitCode(err), tc.exit, tc.contains)
			}
		})
	}
	if _, err := d.till.Request(""); err == nil {
		t.Error("a refused call made a request")
	}
}

func TestClientsCommands(t *testing.T) {
	d := startDaemon(t)
	number, keyFile := addClientCLI(t, d, "Till 1", "register")
	list, err := posctl(t, "-socket", d.socket, "clients", "list")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(keyFile)
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(list)
	if cs := list["clients"].([]any); len(cs) != 1 || cs[0].(map[string]any)["number"] != number || strings.Contains(buf.String(), strings.TrimSpace(string(key))) {
		t.Errorf("clients list: %v", list)
	}
	rot, err := posctl(t, "-socket", d.socket, "clients", "rotate", number, "-grace", "1h")
	if err != nil || rot["number"] != number || !strings.HasPrefix(rot["key"].(string), "sk_") {
		t.Fatalf("rotate: %v, %v", rot, err)
	}
	until, err := time.Parse(time.RFC3339, rot["previousKeyUntil"].(string))
	if err != nil || until.Sub(time.Now()) < 59*time.Minute || until.Sub(time.Now()) > time.Hour {
		t.Errorf("previousKeyUntil %v, %v: want an hour from now", until, err)
	}
	rev, err := posctl(t, "-socket", d.socket, "clients", "revoke", number)
	if err != nil || rev["revoked"] == nil {
		t.Errorf("revoke: %v, %v", rev, err)
	}
	url, ca := d.serveNetwork(t)
	if _, err := posctl(t, "-url", url, "-client", number, "-key-file", keyFile, "-cacert", ca, "status"); err == nil || !strings.Contains(err.Error(), "revoked_client") {
		t.Errorf("revoked client over the network: %v", err)
	}

	for _, tc := range []struct {
		args     []string
		exit     int
		contains string
	}{
		{[]string{"clients", "add", "-name", "x", "-role", "admin"}, 1, "bad_request"},
		{[]string{"clients", "add", "-name", "x"}, 2, "-role"},
		{[]string{"clients", "rotate", "sn_0000000000000000"}, 1, "unknown_client"},
		{[]string{"clients", "rotate", number, "-grace", "9999h"}, 1, "bad_request"},
		{[]string{"clients", "rotate", "-grace", "1h"}, 2, "NUMBER"},
		{[]string{"clients", "revoke"}, 2, "NUMBER"},
		{[]string{"clients", "frobnicate"}, 2, "unknown command"},
	} {
		_, err := posctl(t, append([]string{"-socket", d.socket}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.contains) || exitCode(err) != tc.exit {
			t.Errorf("%v: err = %v (exit %d), want exit %d saying %q", tc.args, err, exitCode(err), tc.exit, tc.contains)
		}
	}
}

// Three terminals, one down: the other two still answer, in order, and
// posctl exits 1. The fleet client was provisioned on each terminal with
// the same number and key.
func TestFleetVersionsGoesOnPastADownTerminal(t *testing.T) {
	const number, key = "sn_f1ee7f1ee7f1ee70", "sk_fleet-manager-key-0123456789abcdefgh"
	var urls []string
	var ca string
	keyFile := filepath.Join(t.TempDir(), "fleet.key")
	writeFile(t, keyFile, key+"\n")
	for i, id := range []string{"till-a", "till-b", "till-c"} {
		d := startTerminal(t, id)
		// As the terminal's operator registers it: clients add with the
		// fleet's number and key.
		if _, err := posctl(t, "-socket", d.socket, "clients", "add", "-name", "Fleet HQ", "-role", "fleet",
			"-number", number, "-key-file", keyFile); err != nil {
			t.Fatal(err)
		}
		url, caFile := d.serveNetwork(t)
		if i == 1 {
			url = "https://127.0.0.1:1" // nothing listens there
		}
		urls, ca = append(urls, url), caFile
	}

	out, err := posctlRaw(t, append([]string{"-client", number, "-key-file", keyFile, "-cacert", ca, "fleet", "versions"}, urls...)...)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "1 of 3") {
		t.Errorf("err = %v, want exit 1 naming 1 of 3", err)
	}
	var lines []map[string]any
	if err := json.Unmarshal(out, &lines); err != nil || len(lines) != 3 {
		t.Fatalf("printed %q (%v)", out, err)
	}
	for i, want := range []string{"till-a", "", "till-c"} {
		l := lines[i]
		if l["url"] != urls[i] {
			t.Errorf("line %d is for %v, want %s", i, l["url"], urls[i])
		}
		if want == "" {
			if e, _ := l["error"].(string); !strings.Contains(e, "reach posd") || l["terminal"] != nil {
				t.Errorf("down terminal: %v", l)
			}
			continue
		}
		if l["terminal"] != want || l["configVersion"] != 7.0 || l["error"] != nil {
			t.Errorf("line %d: %v, want terminal %s at version 7", i, l, want)
		}
	}
}

func TestFleetPushOnTheSocketAndTheNetwork(t *testing.T) {
	d := startDaemon(t)
	bundle := filepath.Join(t.TempDir(), "bundle.json")
	const body = `{"payload":"eyJ2ZXJzaW9uIjoxfQ==","signature":"c2ln"}`
	writeFile(t, bundle, body)
	if res, err := posctl(t, "-socket", d.socket, "fleet", "push", bundle); err != nil || res["applied"] != true {
		t.Errorf("push on the socket: %v, %v", res, err)
	}
	number, keyFile := addClientCLI(t, d, "Fleet HQ", "fleet")
	url, ca := d.serveNetwork(t)
	if res, err := posctl(t, "-url", url, "-client", number, "-key-file", keyFile, "-cacert", ca, "fleet", "push", bundle); err != nil || res["applied"] != true {
		t.Errorf("push over the network: %v, %v", res, err)
	}
	if len(d.fleet.got) != 2 || string(d.fleet.got[0]) != body || string(d.fleet.got[1]) != body {
		t.Errorf("the fleet got %q", d.fleet.got)
	}
	if _, err := posctl(t, "-socket", d.socket, "fleet", "push"); exitCode(err) != 2 {
		t.Errorf("push without a file: %v", err)
	}
}

func TestStatusAndTotalsOnTheSocket(t *testing.T) {
	d := startDaemon(t)
	if st, err := posctl(t, "-socket", d.socket, "status"); err != nil || st["terminal"] != "cli-till" {
		t.Errorf("status: %v, %v", st, err)
	}
	tot, err := posctl(t, "-socket", d.socket, "totals", "-day", "2026-11-23")
	if err != nil || fmtJSON(tot["assets"]) != "[]" || !strings.HasPrefix(tot["from"].(string), "2026-11-23T00:00:00") {
		t.Errorf("totals: %v, %v", tot, err)
	}
	csv, err := posctlRaw(t, "-socket", d.socket, "totals", "-csv")
	if err != nil || string(csv) != "from,to,asset,decimals,state,count,amount,amount_display,network\n" {
		t.Errorf("totals -csv on an empty store: %q, %v", csv, err)
	}
	if _, err := posctl(t, "-socket", d.socket, "totals", "-day", "23.11.2026"); err == nil || !strings.Contains(err.Error(), "bad_request") {
		t.Errorf("bad day: %v", err)
	}
}

// "fleet keygen" and "fleet sign" need no terminal: they go to fleetLocal
// with what follows "fleet".
func TestFleetLocalCommandsNeedNoTerminal(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "fleet.key")
	out, err := posctlRaw(t, "-socket", filepath.Join(t.TempDir(), "none.sock"), "fleet", "keygen", "-o", keyFile)
	if err != nil || len(out) == 0 {
		t.Fatalf("fleet keygen: %q, %v", out, err)
	}
	if _, err := os.Stat(keyFile); err != nil {
		t.Errorf("no key file: %v", err)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
