package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

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
	get := func(query, accept string) string {
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
	page := get("", "text/html")
	for _, want := range []string{`<html lang="de">`, "UNBEZAHLT", "<dt>Betrag</dt>", "0,25 ETH", "Signiert von"} {
		if !strings.Contains(page, want) {
			t.Errorf("the receipt page lacks %q:\n%s", want, page)
		}
	}
	if js := get("?format=json", "application/json"); !strings.Contains(js, `"state":"unpaid"`) {
		t.Errorf("the signed JSON is not the English typed data: %s", js)
	}
}
