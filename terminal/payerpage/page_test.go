package payerpage_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"showpos/terminal/payerpage"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// Every file the page loads is served, as JavaScript where it is script,
// with the headers that keep the page to its own origin.
func TestAssetsServedWithHeaders(t *testing.T) {
	srv := httptest.NewServer(payerpage.Handler(payerpage.Options{}))
	defer srv.Close()
	for _, tc := range []struct{ path, ctype string }{
		{"/pay/abc", "text/html; charset=utf-8"},
		{"/pay/", "text/html; charset=utf-8"},
		{"/pay/assets/page.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/eip712.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/page.css", "text/css; charset=utf-8"},
		{"/pay/assets/vendor/secp256k1/index.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/vendor/ed25519/index.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/vendor/hashes/sha3.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/vendor/hashes/sha2.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/vendor/hashes/_md.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/vendor/hashes/_u64.js", "text/javascript; charset=utf-8"},
		{"/pay/assets/vendor/hashes/utils.js", "text/javascript; charset=utf-8"},
	} {
		resp, body := get(t, srv.URL+tc.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || body == "" {
			t.Errorf("%s: %d %q (%d bytes), want 200 %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), tc.ctype)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != payerpage.CSP || !strings.HasPrefix(got, "default-src 'none'") {
			t.Errorf("%s: CSP %q", tc.path, got)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %s %q, want %q", tc.path, h, got, want)
			}
		}
	}
}
