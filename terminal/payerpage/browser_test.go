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
		Asset: asset.Asset{Symbol: "ETH", Decimals: 18}, Amount: big.NewInt(5e16), Memo: "order 7",
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
