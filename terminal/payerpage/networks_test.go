package payerpage_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	"showpos/terminal/payerpage"
	"showpos/terminal/request"
	"showpos/tools/browser"
)

// The second network of twoNetworkDocument: chain 1338, where the same
// TUSD has another contract.
const (
	otherChain = 1338
	otherName  = "arbitrum"
)

var otherToken = common.HexToAddress("0xaf88d065e77c8cC2239327C5EDb3A432268e5831")

// twoNetworkDocument is a request for 1.25 TUSD on chain 1337 ("base")
// and on chain 1338 ("arbitrum"), made by request.New with Also and signed
// once by a fresh terminal key's request.Signer: exactly the document the
// terminal serves for a request on two networks, with each offer's x402
// requirements filled in as the till does. edit may change the JSON after
// signing. It returns the id, the JSON and each network's EIP-681 URI.
func twoNetworkDocument(t *testing.T, edit func(map[string]any)) (string, []byte, [2]string) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := request.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	merchant := common.HexToAddress("0x00000000000000000000000000000000000bEEF1")
	amount := big.NewInt(1250000)
	r, err := request.New(request.Params{
		TerminalID: "till-01", Merchant: merchant, ChainID: 1337, Network: "base",
		Also:  []request.Option{{Network: otherName, ChainID: otherChain, Token: otherToken}},
		Asset: tusd, Amount: amount, Memo: "order 7",
		Now: time.Now(), TTL: 5 * time.Minute,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	requestURL := "http://127.0.0.1/api/showpos/getPaymentRequest?id=" + r.ID
	doc, err := s.Document(r, requestURL, "http://127.0.0.1/api/showpos/broadcastTx")
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Offers) != 2 {
		t.Fatalf("the document offers %d networks, want 2", len(doc.Offers))
	}
	x402 := func(o request.Offer) *request.PaymentRequirements {
		return &request.PaymentRequirements{Scheme: "exact", Network: fmt.Sprintf("eip155:%d", o.ChainID), Amount: amount,
			Asset: o.Token, PayTo: merchant, MaxTimeoutSeconds: 87000, Name: "Test USD", Version: "2"}
	}
	doc.Status = "pending"
	doc.X402 = x402(doc.Offers[0])
	for i := range doc.Offers {
		doc.Offers[i].X402 = x402(doc.Offers[i])
	}
	uris := [2]string{doc.Offers[0].URI, doc.Offers[1].URI}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return r.ID, raw, uris
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID, out, uris
}

// networksView is what the page shows of the networks and the ways to pay.
type networksView struct {
	State    string   `json:"state"`
	Sig      string   `json:"sig"`
	Networks []string `json:"networks"` // button texts, the pressed one with a leading "*"
	Chain    string   `json:"chain"`
	Href     string   `json:"href"`
	Note     string   `json:"note"`
	Sign     bool     `json:"sign"` // Sign to pay offered
	X402     string   `json:"x402"`
}

func readNetworks(t *testing.T, ctx context.Context) networksView {
	t.Helper()
	var v networksView
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		  const e = (id) => document.getElementById(id);
		  const box = e('networks');
		  return JSON.stringify({state: e('state').textContent, sig: e('sig').textContent,
		    networks: box.hidden ? [] : Array.from(box.children, (b) => (b.getAttribute('aria-pressed') === 'true' ? '*' : '') + b.textContent),
		    chain: e('chain').textContent, href: e('wallet-app').getAttribute('href') || '', note: e('wallet-app-note').textContent,
		    sign: !e('sign').hidden && !e('sign').disabled, x402: e('x402').textContent});
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

// chooseNetwork presses the page's button of network name.
func chooseNetwork(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
	  const b = Array.from(document.getElementById('networks').children).find((b) => b.textContent === `+jsString(name)+`);
	  if (!b) return false;
	  b.click();
	  return true;
	})()`))
	if err != nil || !ok {
		t.Fatalf("no button for network %s (%v)", name, err)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// A request on two networks: the page verifies the one signature over
// both, offers a button per signed network (the request's own chosen),
// and the choice changes what it pays: Open in wallet app links the
// chosen network's EIP-681 URI (rebuilt from the signed terms on that
// network and taken only when it is the same), Sign to pay uses that
// network's x402 requirements, and Pay switches the wallet to that chain
// and sends that network's token contract. A network the JSON serves
// but the signature does not name is not offered; a network whose served
// URI or x402 is not the signed terms' is offered without that way.
func TestPayerChoosesTheNetwork(t *testing.T) {
	docs, ids, uris := map[string][]byte{}, map[string]string{}, map[string][2]string{}
	add := func(name string, edit func(map[string]any)) {
		id, raw, u := twoNetworkDocument(t, edit)
		docs[id], ids[name], uris[name] = raw, id, u
	}
	offer := func(m map[string]any, i int) map[string]any { return m["options"].([]any)[i].(map[string]any) }
	add("two networks", nil)
	add("an unsigned third network served", func(m map[string]any) {
		m["options"] = append(m["options"].([]any), map[string]any{"network": "evil", "chainId": 1, "token": otherToken.Hex(),
			"uri": "ethereum:" + otherToken.Hex() + "@1/transfer?address=0x00000000000000000000000000000000000bad01&uint256=1250000"})
	})
	add("arbitrum's uri not its signed terms", func(m map[string]any) {
		offer(m, 1)["uri"] = strings.Replace(offer(m, 1)["uri"].(string), "uint256=1250000", "uint256=1250001", 1)
	})
	add("arbitrum's x402 on base's token", func(m map[string]any) {
		offer(m, 1)["x402"].(map[string]any)["asset"] = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	})
	add("a signed network changed after signing", func(m map[string]any) {
		td := m["typedData"].(map[string]any)["message"].(map[string]any)
		td["options"].([]any)[1].(map[string]any)["chainId"] = "1"
	})
	mux := http.NewServeMux()
	mux.Handle(payerpage.Prefix, payerpage.Handler(payerpage.Options{}))
	mux.HandleFunc("/api/showpos/getPaymentRequest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(docs[r.URL.Query().Get("id")])
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tab := browser.New(t)
	ctx, cancel := context.WithTimeout(tab, 120*time.Second)
	defer cancel()
	open := func(t *testing.T, ctx context.Context, name string) networksView {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+payerpage.Prefix+ids[name])); err != nil {
			t.Fatal(err)
		}
		v := readNetworks(t, ctx)
		if v.State != "Ready to pay" || !strings.HasPrefix(v.Sig, "verifies") {
			t.Fatalf("page %+v: want the two-network request verified and ready", v)
		}
		return v
	}

	t.Run("the choice changes the link and the x402 terms", func(t *testing.T) {
		u := uris["two networks"]
		if u[0] == u[1] || !strings.Contains(u[1], "@1338/") {
			t.Fatalf("the two networks' URIs %q are not distinct", u)
		}
		v := open(t, ctx, "two networks")
		if want := []string{"*base", "arbitrum"}; strings.Join(v.Networks, ",") != strings.Join(want, ",") ||
			v.Chain != "base (chain id 1337)" || v.Href != u[0] || !v.Sign {
			t.Errorf("page %+v: want base chosen of %q, its URI linked, sign to pay offered", v, want)
		}
		for _, step := range []struct {
			network, chain, href string
			pressed              []string
		}{
			{"arbitrum", "arbitrum (chain id 1338)", u[1], []string{"base", "*arbitrum"}},
			{"base", "base (chain id 1337)", u[0], []string{"*base", "arbitrum"}},
		} {
			chooseNetwork(t, ctx, step.network)
			v := readNetworks(t, ctx)
			if strings.Join(v.Networks, ",") != strings.Join(step.pressed, ",") || v.Chain != step.chain || v.Href != step.href || !v.Sign || v.X402 != "" {
				t.Errorf("after choosing %s the page shows %+v; want %s chosen, chain %q, link %q, sign to pay offered", step.network, v, step.network, step.chain, step.href)
			}
		}
	})
	t.Run("only signed networks are offered", func(t *testing.T) {
		v := open(t, ctx, "an unsigned third network served")
		if strings.Join(v.Networks, ",") != "*base,arbitrum" {
			t.Errorf("networks %q, want base and arbitrum only", v.Networks)
		}
	})
	t.Run("a signed network changed after signing does not verify", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+payerpage.Prefix+ids["a signed network changed after signing"])); err != nil {
			t.Fatal(err)
		}
		v := readNetworks(t, ctx)
		if v.State != "Do not pay: the signature does not verify" || v.Href != "" || len(v.Networks) != 0 {
			t.Errorf("page %+v: want it refused, no network offered", v)
		}
	})
	t.Run("a served uri that is not the network's signed terms is not linked", func(t *testing.T) {
		v := open(t, ctx, "arbitrum's uri not its signed terms")
		if v.Href != uris["arbitrum's uri not its signed terms"][0] {
			t.Errorf("base's link %q, want its URI", v.Href)
		}
		chooseNetwork(t, ctx, "arbitrum")
		v = readNetworks(t, ctx)
		if v.Href != "" || !strings.Contains(v.Note, "is not the one its signed terms give") || !strings.Contains(v.Note, "@1338/") {
			t.Errorf("page %+v: want no link on arbitrum, the note giving its signed URI", v)
		}
	})
	t.Run("a network's x402 terms are checked on that network", func(t *testing.T) {
		v := open(t, ctx, "arbitrum's x402 on base's token")
		if !v.Sign {
			t.Errorf("page %+v: want sign to pay on base", v)
		}
		chooseNetwork(t, ctx, "arbitrum")
		v = readNetworks(t, ctx)
		if v.Sign || !strings.Contains(v.X402, "the signed token is "+otherToken.Hex()) {
			t.Errorf("page %+v: want sign to pay withheld on arbitrum, naming its signed token", v)
		}
	})

	// Pay on the chosen network: the wallet is switched to its chain and
	// asked to send its token contract the signed amount.
	t.Run("pay uses the chosen network", func(t *testing.T) {
		wallet, closeTab := chromedp.NewContext(ctx)
		defer closeTab()
		const recording = `window.__walletCalls = [];
window.ethereum = { request: async (a) => {
  window.__walletCalls.push(a);
  if (a.method === 'eth_requestAccounts') return ['0x00000000000000000000000000000000000000a1'];
  if (a.method === 'wallet_switchEthereumChain') return null;
  throw Object.assign(new Error('declined'), { code: 4001 });
} };`
		if _, err := chromedp.Call(wallet, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recording}); err != nil {
			t.Fatal(err)
		}
		open(t, wallet, "two networks")
		chooseNetwork(t, wallet, "arbitrum")
		if err := chromedp.Do(wallet, chromedp.Click(chromedp.CSS("#pay"))); err != nil {
			t.Fatal(err)
		}
		var calls []struct {
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			raw, err := chromedp.Run(wallet, chromedp.Evaluate[string](`JSON.stringify(window.__walletCalls)`))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(raw), &calls); err != nil {
				t.Fatal(err)
			}
			if len(calls) >= 3 || time.Now().After(deadline) {
				break
			}
		}
		if len(calls) < 3 || calls[1].Method != "wallet_switchEthereumChain" || calls[2].Method != "eth_signTransaction" {
			t.Fatalf("the wallet was asked %+v; want accounts, switch, sign", calls)
		}
		var sw struct{ ChainID string }
		var tx struct{ To, ChainID string }
		json.Unmarshal(calls[1].Params[0], &sw)
		json.Unmarshal(calls[2].Params[0], &tx)
		if sw.ChainID != "0x53a" || tx.ChainID != "0x53a" || !strings.EqualFold(tx.To, otherToken.Hex()) {
			t.Errorf("switched to %s and sent %+v; want chain 0x53a (1338) and arbitrum's token %s", sw.ChainID, tx, otherToken.Hex())
		}
	})
}
