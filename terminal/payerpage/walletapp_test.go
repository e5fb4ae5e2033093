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

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/payerpage"
	"showpos/tools/browser"
)

// walletAppView is what the page shows of its "Open in wallet app" link.
type walletAppView struct {
	State   string `json:"state"`
	Href    string `json:"href"` // "" : no href
	Hidden  bool   `json:"hidden"`
	Primary bool   `json:"primary"`
	Note    string `json:"note"`
}

// readWalletApp waits for the page to load its request and reads the link.
func readWalletApp(t *testing.T, ctx context.Context) walletAppView {
	t.Helper()
	var v walletAppView
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		  const a = document.getElementById('wallet-app');
		  return JSON.stringify({state: document.getElementById('state').textContent, href: a.getAttribute('href') || '',
		    hidden: a.hidden, primary: a.classList.contains('primary'), note: document.getElementById('wallet-app-note').textContent});
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(v.State, "Loading") || time.Now().After(deadline) {
			return v
		}
	}
}

// A phone's camera opens the short link in a browser with no wallet in
// it. The page then offers "Open in wallet app" first: a link whose href
// is exactly the request's EIP-681 URI (the one the terminal signed the
// terms of, which the page rebuilt from the signed terms before trusting
// it), which the phone hands to its wallet app; with a wallet in the page
// the link is the second way. A token request that takes authorizations
// says the wallet app pays by a transaction, with gas. A request whose
// signature does not verify, whose uri is not the signed terms', or that
// can no longer be paid has no link.
func TestPageOffersTheEIP681URIToTheWalletApp(t *testing.T) {
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	eth := asset.Asset{Symbol: "ETH", Decimals: 18}
	other := "ethereum:0x00000000000000000000000000000000000bad01@1337?value=50000000000000000"
	cases := []struct {
		name   string
		a      asset.Asset
		edit   func(map[string]any)
		wallet bool   // a wallet injected in the page
		link   bool   // the link is offered
		note   string // in the note beside it
	}{
		{name: "coin, no wallet", a: eth, link: true, note: "No wallet in this browser"},
		{name: "token, no wallet", a: tusd, link: true, note: "pays by a transaction"},
		{name: "coin, wallet in the page", a: eth, wallet: true, link: true},
		{name: "token, wallet in the page", a: tusd, wallet: true, link: true, note: "pays by a transaction"},
		{name: "signature does not verify", a: eth, edit: func(m map[string]any) {
			m["typedData"].(map[string]any)["message"].(map[string]any)["memo"] = "order 8"
		}},
		{name: "uri not the signed terms", a: eth, edit: func(m map[string]any) { m["uri"] = other },
			note: "is not the one its signed terms give"},
		{name: "uri with another req link", a: eth, edit: func(m map[string]any) {
			m["uri"] = strings.Replace(m["uri"].(string), "req=http", "req=https", 1)
		}, note: "is not the one its signed terms give"},
		{name: "paid", a: eth, edit: func(m map[string]any) { m["status"] = "paid" }},
	}
	docs, ids, uris := map[string][]byte{}, map[string]string{}, map[string]string{}
	for _, c := range cases {
		amount := big.NewInt(5e16)
		if !c.a.Native() {
			amount = big.NewInt(1250000)
		}
		id, raw := signedDocumentIn(t, c.a, amount, nil, c.edit)
		var m struct{ URI string }
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		docs[id], ids[c.name], uris[c.name] = raw, id, m.URI
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
	plain, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	withWallet, closeTab := chromedp.NewContext(plain)
	defer closeTab()
	if _, err := chromedp.Call(withWallet, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stubWallet}); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := plain
			if c.wallet {
				ctx = withWallet
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+payerpage.Prefix+ids[c.name])); err != nil {
				t.Fatal(err)
			}
			got := readWalletApp(t, ctx)
			if !c.link {
				if !got.Hidden || got.Href != "" {
					t.Errorf("page %+v: want no wallet-app link", got)
				}
			} else {
				if got.Hidden || got.Href != uris[c.name] || !strings.HasPrefix(got.Href, "ethereum:") {
					t.Errorf("page %+v: want the link shown with href %q", got, uris[c.name])
				}
				if got.Primary == c.wallet {
					t.Errorf("page %+v: want the link primary %v (wallet in the page %v)", got, !c.wallet, c.wallet)
				}
			}
			if !strings.Contains(got.Note, c.note) {
				t.Errorf("note %q, want it to say %q", got.Note, c.note)
			}
			if c.a == tusd && c.note != "" && (!strings.Contains(got.Note, "gas") || !strings.Contains(got.Note, "wallet's browser")) {
				t.Errorf("note %q: want it to say the wallet app pays gas and signing needs a wallet's browser", got.Note)
			}
		})
	}

	// Pressing the link navigates to the EIP-681 URI (Chromium has no
	// handler for ethereum: and stays on the page; a phone hands it to
	// the wallet app): the page's Content-Security-Policy, which allows
	// nothing to load, does not stop a navigation.
	t.Run("pressing the link navigates to the URI", func(t *testing.T) {
		const name = "token, no wallet"
		if err := chromedp.Do(plain, chromedp.Navigate(srv.URL+payerpage.Prefix+ids[name])); err != nil {
			t.Fatal(err)
		}
		if got := readWalletApp(t, plain); got.Hidden {
			t.Fatalf("page %+v: no link to press", got)
		}
		asked := make(chan *page.EventFrameRequestedNavigation, 4)
		lctx, stop := context.WithCancel(plain)
		defer stop()
		if err := chromedp.Listen(lctx, func(ev any) {
			if e, ok := ev.(*page.EventFrameRequestedNavigation); ok {
				select {
				case asked <- e:
				default:
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(plain, chromedp.Click(chromedp.CSS("#wallet-app"))); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-asked:
			if e.URL != uris[name] || e.Reason != page.ClientNavigationReasonAnchorClick {
				t.Errorf("navigation to %q (%s), want %q by the link", e.URL, e.Reason, uris[name])
			}
		case <-time.After(20 * time.Second):
			t.Fatal("pressing the link asked for no navigation")
		}
		v, err := chromedp.Run(plain, chromedp.Evaluate[string](`location.pathname + ' ' + document.getElementById('state').textContent`))
		if err != nil || v != payerpage.Prefix+ids[name]+" Pay in your wallet app" {
			t.Errorf("after the link the page is %q (%v), want it still there saying Pay in your wallet app", v, err)
		}
	})
}
