package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/checkout"
	"showpos/terminal/httpapi"
	"showpos/terminal/payerpage"
)

// noFollow answers with a redirect instead of following it.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// shortGet asks the network API at base for path with accept.
func shortGet(t *testing.T, c *http.Client, base, path, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
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

// The request screen's short link, over real HTTP on loopback: a browser
// is sent to the payer page of the request (which answers), any other
// client to its EIP-681 URI; the path the QR code carries (upper case)
// and a typed one (lower case) both work, without authentication.
func TestShortLinkSendsBrowsersToThePageAndAppsToTheURI(t *testing.T) {
	tm := newTerminal(t)
	nw := networkServer(t, tm, httpapi.NetworkOptions{PayerPage: payerpage.Handler(payerpage.Options{})})
	doc, err := tm.till.NewRequest(context.Background(), "0.01", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	link := checkout.ShortLink(doc)
	code := checkout.ShortCode(doc.ID)
	if want := "HTTP://POS.TEST/R/" + code; link != want {
		t.Fatalf("ShortLink = %q, want %q", link, want)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, path := range []string{u.Path, "/r/" + strings.ToLower(code)} {
		resp, _ := shortGet(t, noFollow, nw.URL, path, browser)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "../pay/"+doc.ID {
			t.Fatalf("browser, %s: %d to %q; want 303 to ../pay/%s", path, resp.StatusCode, resp.Header.Get("Location"), doc.ID)
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept") || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("browser, %s: Vary %q, Cache-Control %q", path, resp.Header.Get("Vary"), resp.Header.Get("Cache-Control"))
		}
		// Followed, it is the page.
		resp, body := shortGet(t, http.DefaultClient, nw.URL, path, browser)
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/pay/"+doc.ID || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || len(body) == 0 {
			t.Fatalf("browser, %s, followed: %d %s at %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Request.URL)
		}
		for _, accept := range []string{"", "*/*", "application/json"} {
			resp, body := shortGet(t, noFollow, nw.URL, path, accept)
			var got struct{ RequestID, URI string }
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("app %q, %s: body %q: %v", accept, path, body, err)
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != doc.URI || got.RequestID != doc.ID || got.URI != doc.URI {
				t.Fatalf("app %q, %s: %d to %q, %+v; want 303 to %s", accept, path, resp.StatusCode, resp.Header.Get("Location"), got, doc.URI)
			}
			if !strings.HasPrefix(doc.URI, "ethereum:") || !strings.Contains(doc.URI, "&req=") {
				t.Fatalf("the URI %q is not the full EIP-681 URI", doc.URI)
			}
		}
	}
	// A client that follows redirects stops at the non-HTTP scheme.
	if _, err := http.Get(nw.URL + u.Path); err == nil || !strings.Contains(err.Error(), "ethereum") {
		t.Errorf("following to the EIP-681 URI: %v", err)
	}
}

// Without the payer page every client is sent to the EIP-681 URI.
func TestShortLinkWithoutThePageSendsEveryoneToTheURI(t *testing.T) {
	tm := newTerminal(t)
	nw := networkServer(t, tm, httpapi.NetworkOptions{})
	doc, err := tm.till.NewRequest(context.Background(), "0.01", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := shortGet(t, noFollow, nw.URL, "/R/"+checkout.ShortCode(doc.ID), "text/html")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != doc.URI {
		t.Fatalf("%d to %q, want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), doc.URI)
	}
}

// A code that is unknown, malformed, or whose request can no longer be
// paid (cancelled, expired) is 404 unknown_request in the API's error
// shape, to a browser as to an app; other methods are 404 not_found.
func TestShortLinkOfNoPayableRequestIs404(t *testing.T) {
	tm := newTerminal(t)
	nw := networkServer(t, tm, httpapi.NetworkOptions{PayerPage: payerpage.Handler(payerpage.Options{})})
	ctx := context.Background()
	cancelled, err := tm.till.NewRequest(ctx, "0.01", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.till.Cancel(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	expiring, err := tm.till.NewRequest(ctx, "0.02", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	tm.clock.Set(expiring.ExpiresAt)
	for name, path := range map[string]string{
		"unknown":   "/R/" + checkout.ShortCode("ffffffffff"),
		"malformed": "/R/NOT-A-CODE",
		"too long":  "/R/" + strings.Repeat("A", 4000),
		"cancelled": "/R/" + checkout.ShortCode(cancelled.ID),
		"expired":   "/R/" + checkout.ShortCode(expiring.ID),
	} {
		for _, accept := range []string{"text/html", "application/json"} {
			resp, body := shortGet(t, noFollow, nw.URL, path, accept)
			a := decodeAnswer(t, &http.Response{StatusCode: resp.StatusCode, Body: io.NopCloser(strings.NewReader(string(body)))})
			if a.status != 404 || a.code() != "unknown_request" {
				t.Errorf("%s (%s): %d %v, want 404 unknown_request", name, accept, a.status, a.body)
			}
		}
	}
	req, _ := http.NewRequest("POST", nw.URL+"/R/"+checkout.ShortCode(expiring.ID), nil)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	a := decodeAnswer(t, resp)
	if a.status != 404 || a.code() != "not_found" {
		t.Errorf("POST: %d %v, want 404 not_found", a.status, a.body)
	}
}

// sameCode gives request ids that all end with the same 5 bytes (a
// UUIDv7's short code), so that two payable requests share a short code.
type sameCode struct{ n byte }

func (p *sameCode) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = p.n
		if i >= len(b)-5 {
			b[i] = 0xab
		}
	}
	p.n++
	return len(b), nil
}

// Two payable requests with one code: 409 ambiguous_code, never either.
func TestShortLinkMatchingTwoPayableRequestsIs409(t *testing.T) {
	tm := newTerminal(t)
	key, _ := crypto.GenerateKey()
	tm.till = checkout.New(checkout.Options{Config: tm.cfg, Key: key, Store: tm.store, Clock: tm.clock, Random: &sameCode{}})
	nw := networkServer(t, tm, httpapi.NetworkOptions{PayerPage: payerpage.Handler(payerpage.Options{})})
	ctx := context.Background()
	a, err := tm.till.NewRequest(ctx, "0.01", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := tm.till.NewRequest(ctx, "0.02", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	code := checkout.ShortCode(a.ID)
	if checkout.ShortCode(b.ID) != code {
		t.Fatalf("%s and %s: want one code", a.ID, b.ID)
	}
	resp, body := shortGet(t, noFollow, nw.URL, "/R/"+code, "text/html")
	ans := decodeAnswer(t, &http.Response{StatusCode: resp.StatusCode, Body: io.NopCloser(strings.NewReader(string(body)))})
	if ans.status != http.StatusConflict || ans.code() != "ambiguous_code" || resp.Header.Get("Location") != "" {
		t.Fatalf("%d %v (Location %q), want 409 ambiguous_code", ans.status, ans.body, resp.Header.Get("Location"))
	}
}
