package payerpage_test

import (
	"context"
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
	"showpos/terminal/fiat"
	"showpos/terminal/payerpage"
	"showpos/terminal/request"
	"showpos/tools/browser"
)

// pricedDocument is a request of 4.95 EUR (0.45 tip) in ETH at 2500 EUR
// per ETH, signed by a fresh key, as the payer API serves it; edit may
// change its JSON after signing.
func pricedDocument(t *testing.T, edit func(map[string]any)) (string, []byte) {
	t.Helper()
	key, _ := crypto.GenerateKey()
	s, err := request.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	eur, _ := fiat.Lookup("EUR")
	rate := fiat.Rate{Answer: big.NewInt(250000000000), Decimals: 8, Currency: "EUR", Source: "peg", At: time.Now().UTC().Truncate(time.Second)}
	eth := asset.Asset{Symbol: "ETH", Decimals: 18}
	price := &request.Fiat{Amount: big.NewInt(495), Tip: big.NewInt(45), Rate: rate}
	r, err := request.New(request.Params{
		TerminalID: "till-01", Merchant: common.HexToAddress("0x00000000000000000000000000000000000bEEF1"), ChainID: 1337,
		Asset: eth, Amount: fiat.ToBase(price.Amount, eur, rate, 18), Tip: fiat.ToBase(price.Tip, eur, rate, 18), Fiat: price,
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
	raw, _ := json.Marshal(doc)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	return r.ID, out
}

// The page shows the signed fiat price beside the asset amount, read
// from the signed typed data; a price changed after signing does not
// verify, and the page refuses to pay.
func TestPageShowsTheSignedFiatPrice(t *testing.T) {
	docs, ids := map[string][]byte{}, map[string]string{}
	for name, edit := range map[string]func(map[string]any){
		"priced": nil,
		"tampered": func(m map[string]any) {
			m["typedData"].(map[string]any)["message"].(map[string]any)["fiatAmount"] = "0.95"
		},
	} {
		id, raw := pricedDocument(t, edit)
		docs[id], ids[name] = raw, id
	}
	mux := http.NewServeMux()
	mux.Handle(payerpage.Prefix, payerpage.Handler(payerpage.Options{MerchantName: func() string { return "Corner Coffee" }}))
	mux.HandleFunc("/api/showpos/getPaymentRequest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(docs[r.URL.Query().Get("id")])
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tab := browser.New(t)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	for _, tc := range []struct{ id, state, amount, fiat string }{
		{"priced", "Ready to pay", "0.00198", "= EUR 4.95 (tip EUR 0.45), at 2500.00000000 EUR per ETH"},
		{"tampered", "Do not pay: the signature does not verify", "0.00198", "= EUR 0.95 (tip EUR 0.45), at 2500.00000000 EUR per ETH"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+payerpage.Prefix+ids[tc.id])); err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => {
				  const t = (id) => document.getElementById(id).textContent;
				  return {state: t('state'), amount: t('amount'), fiat: t('fiat'), hidden: String(document.getElementById('fiat').hidden)};
				})()`))
				if err != nil {
					t.Fatal(err)
				}
				got = v
				if !strings.HasPrefix(got["state"], "Loading") || time.Now().After(deadline) {
					break
				}
			}
			if got["state"] != tc.state || got["amount"] != tc.amount || got["fiat"] != tc.fiat || got["hidden"] != "false" {
				t.Errorf("page shows %q; want state %q, amount %q, fiat %q", got, tc.state, tc.amount, tc.fiat)
			}
		})
	}
}
