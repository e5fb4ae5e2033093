package payerpage_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
	"showpos/terminal/fleet"
	"showpos/terminal/payerpage"
	"showpos/terminal/request"
	"showpos/tools/browser"
)

// signedDocument is a request signed by a fresh terminal key, as the payer
// API serves it, with cert (nil: none) beside it; edit may change its JSON
// after signing.
func signedDocument(t *testing.T, cert func(signer common.Address, merchant common.Address) []byte, edit func(map[string]any)) (string, []byte) {
	t.Helper()
	return signedDocumentIn(t, asset.Asset{Symbol: "ETH", Decimals: 18}, big.NewInt(5e16), cert, edit)
}

// signedDocumentIn is signedDocument for amount of a; a token's request
// advertises x402 requirements as the terminal derives them.
func signedDocumentIn(t *testing.T, a asset.Asset, amount *big.Int, cert func(signer common.Address, merchant common.Address) []byte, edit func(map[string]any)) (string, []byte) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := request.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	merchant := common.HexToAddress("0x00000000000000000000000000000000000bEEF1")
	r, err := request.New(request.Params{
		TerminalID: "till-01", Merchant: merchant, ChainID: 1337,
		Asset: a, Amount: amount, Memo: "order 7",
		Now: time.Now(), TTL: 5 * time.Minute,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := s.Document(r, "http://127.0.0.1/api/showpos/getPaymentRequest?id="+r.ID, "http://127.0.0.1/api/showpos/broadcastTx")
	if err != nil {
		t.Fatal(err)
	}
	doc.Status = "pending"
	if !a.Native() {
		doc.X402 = &request.PaymentRequirements{
			Scheme: "exact", Network: "eip155:1337", Amount: amount, Asset: a.Token, PayTo: merchant,
			MaxTimeoutSeconds: 87000, Name: "Test USD", Version: "2",
		}
	}
	if cert != nil {
		doc.Certificate = cert(s.Address(), merchant)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	return r.ID, out
}

// The page checks for itself what the terminal serves: a document whose
// signed message was changed after signing DOES NOT VERIFY and cannot be
// paid; a fleet certificate that vouches for the request's terminal,
// signer and merchant shows the fleet key and the merchant name it gives
// (as text); one for another signer, or not signed by the key it names,
// does not check and the page refuses to pay.
func TestPageChecksSignatureAndCertificate(t *testing.T) {
	fleetKey := ed25519.NewKeyFromSeed(make([]byte, 32))
	otherKey := ed25519.NewKeyFromSeed([]byte(strings.Repeat("x", 32)))
	certify := func(key ed25519.PrivateKey, name string, forSigner *common.Address) func(common.Address, common.Address) []byte {
		return func(signer, merchant common.Address) []byte {
			if forSigner != nil {
				signer = *forSigner
			}
			raw, err := fleet.Certify(key, fleet.Certificate{Terminal: "till-01", Signer: signer, Merchant: merchant, MerchantName: name, Expires: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
	}
	stranger := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	forged := func(signer, merchant common.Address) []byte {
		// Signed by another key, naming the fleet's.
		var env map[string][]byte
		good := certify(fleetKey, "", nil)(signer, merchant)
		_ = json.Unmarshal(good, &env)
		env["signature"] = ed25519.Sign(otherKey, env["payload"])
		raw, _ := json.Marshal(env)
		return raw
	}
	name := `Night <b>Cafe</b>`
	docs, ids := map[string][]byte{}, map[string]string{}
	for name, d := range map[string]struct {
		cert func(common.Address, common.Address) []byte
		edit func(map[string]any)
	}{
		"plain": {nil, nil},
		"tampered": {nil, func(m map[string]any) {
			m["typedData"].(map[string]any)["message"].(map[string]any)["memo"] = "order 8"
		}},
		"certified": {certify(fleetKey, name, nil), nil},
		"other":     {certify(fleetKey, "", &stranger), nil},
		"forged":    {forged, nil},
	} {
		id, raw := signedDocument(t, d.cert, d.edit)
		docs[id], ids[name] = raw, id
	}
	mux := http.NewServeMux()
	mux.Handle(payerpage.Prefix, payerpage.Handler(payerpage.Options{MerchantName: func() string { return "Config Name" }}))
	mux.HandleFunc("/api/showpos/getPaymentRequest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(docs[r.URL.Query().Get("id")])
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tab := browser.New(t)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	fingerprint := hexString(fleetKey.Public().(ed25519.PublicKey))[:8]
	for _, tc := range []struct {
		id                              string
		state, sig, cert, merchant, pay string
	}{
		{"plain", "Ready to pay", "verifies", "no certificate", "Config Name", "false"},
		{"tampered", "Do not pay: the signature does not verify", "DOES NOT VERIFY", "no certificate", "Config Name", "true"},
		{"certified", "Ready to pay", "verifies", "certified by fleet key " + fingerprint, name, "false"},
		{"other", "Do not pay: the fleet certificate does not check", "verifies", "CERTIFICATE DOES NOT CHECK: it vouches for signer", "Config Name", "true"},
		{"forged", "Do not pay: the fleet certificate does not check", "verifies", "CERTIFICATE DOES NOT CHECK: its signature does not verify", "Config Name", "true"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+payerpage.Prefix+ids[tc.id])); err != nil {
				t.Fatal(err)
			}
			read := func() map[string]string {
				v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
				  const t = (id) => document.getElementById(id).textContent;
				  return {state: t('state'), sig: t('sig'), cert: t('cert'), merchant: t('merchant'), pay: String(document.getElementById('pay').disabled)};
				})()`))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			var got map[string]string
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				got = read()
				if !strings.HasPrefix(got["state"], "Loading") || time.Now().After(deadline) {
					break
				}
			}
			if got["state"] != tc.state || !strings.HasPrefix(got["sig"], tc.sig) || !strings.HasPrefix(got["cert"], tc.cert) ||
				got["merchant"] != tc.merchant || got["pay"] != tc.pay {
				t.Errorf("page shows %q; want state %q, sig %q…, cert %q…, merchant %q, pay disabled %s", got, tc.state, tc.sig, tc.cert, tc.merchant, tc.pay)
			}
		})
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// stubWallet records what the page asks a wallet, and answers nothing.
const stubWallet = `window.__walletCalls = [];
window.ethereum = { request: async (a) => { window.__walletCalls.push(a.method); throw Object.assign(new Error('stub'), { code: 4200 }); } };`

// A token request's x402 requirements are not signed by the terminal: the
// page offers "Sign to pay (no gas)" first only when they say what the
// signed request says (amount, token, merchant, chain, the exact scheme, a
// token domain); when any disagrees it does not offer it, says which term,
// signs nothing when pressed, and still pays the signed terms by
// transaction. A native-coin request carrying x402 is refused too.
func TestPageOffersSignToPayOnlyForTheSignedTerms(t *testing.T) {
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	set := func(k string, v any) func(map[string]any) {
		return func(m map[string]any) { m["x402"].(map[string]any)[k] = v }
	}
	docs := map[string][]byte{}
	cases := []struct {
		name string
		a    asset.Asset
		edit func(map[string]any)
		note string // "" : offered
	}{
		{"agrees", tusd, nil, ""},
		{"amount", tusd, set("amount", "1250001"), "amount 1250001, the signed amount is 1250000"},
		{"asset", tusd, set("asset", "0x000000000000000000000000000000000000bad1"), "asset 0x000000000000000000000000000000000000bad1"},
		{"payTo", tusd, set("payTo", "0x000000000000000000000000000000000000bad2"), "payTo 0x000000000000000000000000000000000000bad2"},
		{"network", tusd, set("network", "eip155:1"), "network eip155:1, the signed chain is eip155:1337"},
		{"scheme", tusd, set("scheme", "upto"), "scheme upto"},
		{"amount as a number", tusd, set("amount", 1250000), "amount 1250000"},
		{"no domain", tusd, set("extra", map[string]any{}), "no token domain"},
		{"endless", tusd, set("maxTimeoutSeconds", 1e9), "maxTimeoutSeconds"},
		{"native coin", asset.Asset{Symbol: "ETH", Decimals: 18}, func(m map[string]any) {
			m["x402"] = map[string]any{"scheme": "exact", "network": "eip155:1337", "amount": "1250000",
				"asset": "0x0000000000000000000000000000000000000000", "payTo": "0x00000000000000000000000000000000000bEEF1",
				"maxTimeoutSeconds": 87000, "extra": map[string]any{"name": "x", "version": "1"}}
		}, "the native coin takes no authorization"},
	}
	ids := map[string]string{}
	for _, c := range cases {
		id, raw := signedDocumentIn(t, c.a, big.NewInt(1250000), nil, c.edit)
		docs[id], ids[c.name] = raw, id
	}
	mux := http.NewServeMux()
	mux.Handle(payerpage.Prefix, payerpage.Handler(payerpage.Options{}))
	mux.HandleFunc("/api/showpos/getPaymentRequest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(docs[r.URL.Query().Get("id")])
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tab := browser.New(t)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stubWallet}); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+payerpage.Prefix+ids[c.name])); err != nil {
				t.Fatal(err)
			}
			read := func() map[string]string {
				v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
				  const e = (id) => document.getElementById(id);
				  return {state: e('state').textContent, note: e('x402').textContent,
				    sign: e('sign').textContent, signHidden: String(e('sign').hidden), signDisabled: String(e('sign').disabled),
				    pay: e('pay').textContent, payDisabled: String(e('pay').disabled)};
				})()`))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			var got map[string]string
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				got = read()
				if !strings.HasPrefix(got["state"], "Loading") || time.Now().After(deadline) {
					break
				}
			}
			if got["state"] != "Ready to pay" || got["payDisabled"] != "false" {
				t.Fatalf("page %q: want Ready to pay, Pay enabled", got)
			}
			if c.note == "" {
				if got["signHidden"] != "false" || got["signDisabled"] != "false" || got["sign"] != "Sign to pay (no gas)" ||
					got["pay"] != "Pay by transaction" || got["note"] != "" {
					t.Errorf("page %q: want Sign to pay (no gas) offered first, Pay by transaction second", got)
				}
				return
			}
			if got["signHidden"] != "true" || got["signDisabled"] != "true" || got["pay"] != "Pay" ||
				!strings.HasPrefix(got["note"], "Sign to pay is not offered: ") || !strings.Contains(got["note"], c.note) {
				t.Errorf("page %q: want sign to pay withheld, the note naming %q", got, c.note)
			}
			calls, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('sign').click(); JSON.stringify(window.__walletCalls)`))
			if err != nil || calls != "[]" {
				t.Errorf("pressing the withheld Sign to pay asked the wallet %s (%v)", calls, err)
			}
		})
	}
}
