package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"showpos/terminal/fleet"
)

// receiptOf fetches a request's digital receipt from the network API.
func receiptOf(t *testing.T, addr, id, query, accept string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/receipt/"+id+query, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /receipt/%s%s: %d %s", id, query, resp.StatusCode, b)
	}
	return string(b)
}

// terminal.locale = "de-AT" reaches the digital receipt through posd: the
// page a payer opens from the printed QR code is in German, while its
// signed JSON keeps the English state.
func TestPosdReceiptPageInTheShopsLanguage(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain")
	}
	_, dir, addr := startTerminalWith(t, `locale = "de-AT"`, "", "")
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	req, _ := http.NewRequest("POST", "http://posd/v1/requests", strings.NewReader(`{"amount":"0.25"}`))
	a := do(t, op, req)
	id, _ := a.body["id"].(string)
	if a.status != http.StatusCreated || id == "" {
		t.Fatalf("request: %d %s", a.status, a.raw)
	}
	page := receiptOf(t, addr, id, "", "text/html")
	for _, want := range []string{`<html lang="de">`, "UNBEZAHLT", "<dt>Betrag</dt>", "0,25 ETH", "Signiert von"} {
		if !strings.Contains(page, want) {
			t.Errorf("the receipt page lacks %q:\n%s", want, page)
		}
	}
	if js := receiptOf(t, addr, id, "?format=json", "application/json"); !strings.Contains(js, `"state":"unpaid"`) {
		t.Errorf("the signed JSON is not the English typed data: %s", js)
	}
}

// A fleet bundle setting terminal.locale changes the receipt page of the
// running terminal at its next request; the signed JSON stays the same
// bytes.
func TestFleetBundleChangesTheReceiptPagesLanguage(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon")
	}
	priv, fleetTable := fleetKeys(t)
	tm := newTerminal(t, "\n[terminal]\ndata_dir = \"DATA\"\n"+fleetTable)
	const number, key = "sn_fleet-hq", "sk_fleet-hq-service-key-0123456789abcdef"
	if a := tm.operator("POST", "/v1/clients", `{"name":"Fleet HQ","role":"fleet","number":"`+number+`","key":"`+key+`"}`); a.status != http.StatusCreated {
		t.Fatalf("fleet client: %d %s", a.status, a.raw)
	}
	r, a := tm.newRequest("1.5")
	if r == nil {
		t.Fatalf("request: %d %s", a.status, a.raw)
	}
	before := receiptOf(t, tm.addr, r.ID, "?format=json", "application/json")
	if page := receiptOf(t, tm.addr, r.ID, "", "text/html"); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "NOT PAID") || !strings.Contains(page, "1.5 ETH") {
		t.Fatalf("the English page:\n%s", page)
	}
	b := bundle(t, priv, fleet.Payload{Version: 1, Targets: fleet.Targets{Groups: []string{"cafes"}}, Config: "terminal.locale = \"fr\"\n"})
	if a := tm.send(tm.sign("POST", "/v1/fleet/bundle", b, number, key)); a.status != http.StatusOK {
		t.Fatalf("push: %d %s", a.status, a.raw)
	}
	page := receiptOf(t, tm.addr, r.ID, "", "text/html")
	for _, want := range []string{`<html lang="fr">`, "NON PAYÉ", "<dt>Montant</dt>", "1,5 ETH", "Signé par"} {
		if !strings.Contains(page, want) {
			t.Errorf("after the bundle, the receipt page lacks %q:\n%s", want, page)
		}
	}
	if after := receiptOf(t, tm.addr, r.ID, "?format=json", "application/json"); after != before {
		t.Errorf("the signed JSON changed with the language:\n%s\n%s", after, before)
	}
}
