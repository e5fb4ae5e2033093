package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"showpos/terminal/httpapi"
	"showpos/terminal/receipt"
	"showpos/tools/paytx"
)

// receiptServer serves tm's network API with receipts issued by its store
// and key, as posd would.
func receiptServer(t *testing.T, tm *terminal) string {
	t.Helper()
	iss, err := receipt.NewIssuer(receipt.Options{Store: tm.store, Key: tm.key, Clock: tm.clock,
		Shop: func() receipt.Shop {
			return receipt.Shop{MerchantName: "Test <Shop>", PublicURL: tm.cfg.Terminal.PublicURL}
		}})
	if err != nil {
		t.Fatal(err)
	}
	return networkServer(t, tm, httpapi.NetworkOptions{Receipts: iss}).URL
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
	if _, b := fetch(t, base+"/receipt/"+r.ID); !strings.Contains(string(b), "NOT PAID") {
		t.Errorf("the page of an unpaid request does not say NOT PAID")
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
