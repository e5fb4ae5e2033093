package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"showpos/terminal/httpapi"
	"showpos/terminal/locale"
	"showpos/terminal/receipt"
	"showpos/tools/paytx"
)

// receiptServer serves tm's network API with receipts issued by its store
// and key, as posd would.
func receiptServer(t *testing.T, tm *terminal) string {
	t.Helper()
	return receiptServerIn(t, tm, nil)
}

// receiptServerIn is receiptServer with the page in the language loc
// gives at each request, as posd gives terminal.locale.
func receiptServerIn(t *testing.T, tm *terminal, loc func() locale.Locale) string {
	t.Helper()
	iss, err := receipt.NewIssuer(receipt.Options{Store: tm.store, Key: tm.key, Clock: tm.clock,
		Shop: func() receipt.Shop {
			return receipt.Shop{MerchantName: "Test <Shop>", PublicURL: tm.cfg.Terminal.PublicURL}
		}})
	if err != nil {
		t.Fatal(err)
	}
	return networkServer(t, tm, httpapi.NetworkOptions{Receipts: iss, Locale: loc}).URL
}

func fetch(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestReceiptJSONIsSignedByTheTerminal(t *testing.T) {
	tm := newTerminal(t)
	base := receiptServer(t, tm)
	r := tm.request("0.01", "ETH")
	tx := sign(t, r, newKey(t), paytx.Options{})
	if a := tm.broadcast(r.ID, tx); a.status != http.StatusAccepted {
		t.Fatalf("broadcast: %d %v", a.status, a.body)
	}
	for _, how := range []struct {
		name, query string
		header      []string
	}{
		{"format=json", "?format=json", nil},
		{"Accept: application/json", "", []string{"Accept", "application/json"}},
	} {
		t.Run(how.name, func(t *testing.T) {
			resp, b := fetch(t, base+"/receipt/"+r.ID+how.query, how.header...)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
			d, err := receipt.ParseJSON(b)
			if err != nil {
				t.Fatal(err)
			}
			if d.Signer != tm.till.Signer() {
				t.Errorf("signed by %s, the terminal is %s", d.Signer.Hex(), tm.till.Signer().Hex())
			}
			m := d.TypedData.Message
			if m["state"] != "accepted" || m["txHash"] != tx.Hash().Hex() || m["requestId"] != r.ID || m["merchantName"] != "Test <Shop>" ||
				m["method"] != "handover" || d.Link != "http://pos.test/receipt/"+r.ID {
				t.Errorf("receipt says %v, link %q", m, d.Link)
			}
		})
	}
	// Rebuilt at every call from the same stored data: the same signature.
	_, a := fetch(t, base+"/receipt/"+r.ID+"?format=json")
	_, b := fetch(t, base+"/receipt/"+r.ID+"?format=json")
	if string(a) != string(b) {
		t.Errorf("two answers differ:\n%s\n%s", a, b)
	}
}

// A person gets a page that loads nothing from anywhere, shows the state,
// the signer and the signature, and says how to check them.
func TestReceiptPageForPeople(t *testing.T) {
	tm := newTerminal(t)
	base := receiptServer(t, tm)
	r := tm.request("12.5", "TUSD")
	if a := tm.broadcast(r.ID, sign(t, r, newKey(t), paytx.Options{})); a.status != http.StatusAccepted {
		t.Fatalf("broadcast: %d %v", a.status, a.body)
	}
	_, jb := fetch(t, base+"/receipt/"+r.ID+"?format=json")
	d, err := receipt.ParseJSON(jb)
	if err != nil {
		t.Fatal(err)
	}
	resp, b := fetch(t, base+"/receipt/"+r.ID, "Accept", "text/html,application/xhtml+xml,application/json;q=0.9")
	page := string(b)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`name="viewport"`, "ACCEPTED — WILL SETTLE", "12.5 TUSD", "Test &lt;Shop&gt;", r.ID,
		d.Signer.Hex(), "0x" + strings.ToLower(strings.TrimPrefix(hexOf(d.Signature), "0x")), "verifyTypedData", `href="?format=json"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, external := range []string{"src=", "http://", "https://", "<script", "<link"} {
		if strings.Contains(page, external) {
			t.Errorf("the page holds %q: it must load nothing", external)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: CSP %q", csp)
	}
	// The style the page holds is the one its policy lets a browser apply.
	_, style, _ := strings.Cut(page, "<style>")
	style, _, _ = strings.Cut(style, "</style>")
	sum := sha256.Sum256([]byte(style))
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("the page's style is not the one its CSP allows (%q)", csp)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := []byte("0x")
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// A request with no payment has a receipt that says so: unpaid, with the
// request's status, signed like any other.
func TestReceiptOfAnUnpaidRequest(t *testing.T) {
	tm := newTerminal(t)
	base := receiptServer(t, tm)
	r := tm.request("0.02", "ETH")
	resp, b := fetch(t, base+"/receipt/"+r.ID+"?format=json")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	d, err := receipt.ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if m := d.TypedData.Message; m["state"] != "unpaid" || m["reason"] != "pending" || m["txHash"] != "0x0000000000000000000000000000000000000000000000000000000000000000" {
		t.Errorf("an unpaid request's receipt says %v", m)
	}
	if _, b := fetch(t, base+"/receipt/"+r.ID); !strings.Contains(string(b), "NOT PAID") || !strings.Contains(string(b), `<p class="reason">pending</p>`) {
		t.Errorf("the page of an unpaid request does not say NOT PAID, pending:\n%s", b)
	}
}

// A German shop's payer reads that the request is not paid, and why, in
// German.
func TestReceiptOfAnUnpaidRequestInGerman(t *testing.T) {
	tm := newTerminal(t)
	de, _ := locale.Parse("de")
	base := receiptServerIn(t, tm, func() locale.Locale { return de })
	r := tm.request("0.02", "ETH")
	_, b := fetch(t, base+"/receipt/"+r.ID)
	for _, want := range []string{`<div class="state unpaid">UNBEZAHLT</div>`, `<p class="reason">offen</p>`, "<dt>Betrag</dt><dd class=\"big\">0,02 ETH</dd>"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the German page of an unpaid request lacks %q:\n%s", want, b)
		}
	}
}

// The page speaks terminal.locale as it is at each request (a fleet bundle
// changes it live): the state, the labels, amounts with the language's
// decimal comma, the time in its layout, and lang= for the browser; only
// the page changes, the signed JSON is the same bytes in every language,
// and the page's style stays the one its CSP allows.
func TestReceiptPageSpeaksTheTerminalsLanguage(t *testing.T) {
	tm := newTerminal(t)
	var cur atomic.Pointer[locale.Locale]
	cur.Store(&locale.English)
	base := receiptServerIn(t, tm, func() locale.Locale { return *cur.Load() })
	r := tm.request("12.5", "TUSD")
	if a := tm.broadcast(r.ID, sign(t, r, newKey(t), paytx.Options{})); a.status != http.StatusAccepted {
		t.Fatalf("broadcast: %d %v", a.status, a.body)
	}
	_, english := fetch(t, base+"/receipt/"+r.ID+"?format=json")
	for _, tc := range []struct {
		lang          string
		want, wantNot []string
	}{
		{"en", []string{`<html lang="en">`, "ACCEPTED — WILL SETTLE", "<dt>Amount</dt><dd class=\"big\">12.5 TUSD</dd>",
			"<dt>Paid to</dt>", "<dt>Network</dt><dd>chain 1337</dd>", "<dt>Method</dt><dd>handover</dd>", "· 2026-11-23 12:00:00 UTC</p>",
			"<dt>Signed by</dt>", "(the terminal)", "<dt>Signature</dt>", "How to check it:", `<a href="?format=json">its JSON</a>`},
			[]string{"ANGENOMMEN", "12,5"}},
		{"de", []string{`<html lang="de">`, "ANGENOMMEN — WIRD VERBUCHT", "<dt>Betrag</dt><dd class=\"big\">12,5 TUSD</dd>",
			"<dt>Bezahlt an</dt>", "<dt>Netzwerk</dt><dd>Chain 1337</dd>", "<dt>Methode</dt><dd>Übergabe</dd>", "· 23.11.2026 12:00:00 UTC</p>",
			"<dt>Anfrage</dt>", "<dt>Bezahlt von</dt>", "<dt>Transaktion</dt>", "<dt>Signiert von</dt>", "(dem Terminal)", "<dt>Signatur</dt>",
			"So prüfen Sie ihn:", `<a href="?format=json">sein JSON</a>`, "<title>Beleg " + r.ID + "</title>"},
			[]string{`lang="en"`, "ACCEPTED", "WILL SETTLE", "12.5", "Amount", "Paid to", "Paid by", "Network", "Signed by", "How to check", "its JSON", "handover"}},
		{"fr", []string{`<html lang="fr">`, "ACCEPTÉ — SERA RÉGLÉ", "<dt>Montant</dt><dd class=\"big\">12,5 TUSD</dd>",
			"<dt>Payé à</dt>", "<dt>Réseau</dt>", "· 23/11/2026 12:00:00 UTC</p>", "<dt>Signé par</dt>", "Comment le vérifier"},
			[]string{"ACCEPTED", "12.5", "Amount", "How to check"}},
		{"es", []string{`<html lang="es">`, "ACEPTADO — SE LIQUIDARÁ", "<dt>Importe</dt><dd class=\"big\">12,5 TUSD</dd>",
			"<dt>Pagado a</dt>", "<dt>Red</dt>", "· 23/11/2026 12:00:00 UTC</p>", "<dt>Firmado por</dt>", "Cómo comprobarlo"},
			[]string{"ACCEPTED", "12.5", "Amount", "How to check"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			l, err := locale.Parse(tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			cur.Store(&l) // as a fleet bundle setting terminal.locale would, the server running
			resp, b := fetch(t, base+"/receipt/"+r.ID, "Accept", "text/html")
			page := string(b)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			for _, want := range tc.want {
				if !strings.Contains(page, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			for _, not := range tc.wantNot {
				if strings.Contains(page, not) {
					t.Errorf("the page says %q", not)
				}
			}
			if t.Failed() {
				t.Logf("the page:\n%s", page)
			}
			_, style, _ := strings.Cut(page, "<style>")
			style, _, _ = strings.Cut(style, "</style>")
			sum := sha256.Sum256([]byte(style))
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
				t.Errorf("the page's style is not the one its CSP allows (%q)", csp)
			}
			if _, js := fetch(t, base+"/receipt/"+r.ID+"?format=json"); string(js) != string(english) {
				t.Errorf("the signed JSON changed with the language:\n%s\nin English:\n%s", js, english)
			}
		})
	}
}

func TestReceiptRouteErrors(t *testing.T) {
	tm := newTerminal(t)
	base := receiptServer(t, tm)
	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown id", "GET", "/receipt/0123456789abcdef0123456789abcdef", 404, "unknown_request"},
		{"unknown id, page asked", "GET", "/receipt/00ff", 404, "unknown_request"},
		{"id too long", "GET", "/receipt/" + strings.Repeat("a", 65), 400, "bad_request"},
		{"no id", "GET", "/receipt/", 404, "not_found"},
		{"a deeper path", "GET", "/receipt/abc/def", 404, "not_found"},
		{"POST", "POST", "/receipt/abc", 405, "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, nil)
			req.Header.Set("Accept", "text/html")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			a := decodeAnswer(t, resp)
			if a.status != tc.status || a.code() != tc.code {
				t.Errorf("%s %s: %d %v, want %d %s", tc.method, tc.path, a.status, a.body, tc.status, tc.code)
			}
		})
	}
}
