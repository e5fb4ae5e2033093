package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/terminal/payerpage"
	"showpos/terminal/request"
	"showpos/tools/browser"
	"showpos/tools/devchain"
)

// The wallet the payer-page tests inject into the browser before the page
// loads: an EIP-1193 provider that signs with a real key through ethers v6
// (its browser build from tools/js, injected by the test: the terminal
// never serves it), announced through EIP-6963 or set as window.ethereum.
// It cannot reach the dev chain itself (the page's CSP allows only the
// terminal), so what a wallet would ask its node the test gives it (nonce,
// fees), and what it would broadcast it hands to the test through a
// DevTools binding, which sends it to the dev chain.
//
// Modes: "sign" offers eth_signTransaction; "send" does not (4200) and
// broadcasts with eth_sendTransaction; "reject-once" declines the first
// prompt (4001) and signs the next; "underpay" signs one wei less than the
// page asked. In every mode it signs typed data (eth_signTypedData_v4, an
// EIP-3009 authorization) with ethers' Wallet.signTypedData, for its own
// account only.
const walletJS = `
(() => {
  const cfg = %s;
  const wallet = new ethers.Wallet(cfg.key);
  window.__walletCalls = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.blockedURI + ' ' + e.violatedDirective));
  let declined = false;
  const err = (code, message) => Object.assign(new Error(message), { code });
  async function sign(tx, delta) {
    return wallet.signTransaction({
      type: 2, chainId: BigInt(cfg.chainId), nonce: cfg.nonce,
      to: tx.to, value: BigInt(tx.value || '0x0') - delta, data: tx.data || '0x', gasLimit: BigInt(tx.gas),
      maxFeePerGas: BigInt(cfg.maxFee), maxPriorityFeePerGas: BigInt(cfg.tip),
    });
  }
  const provider = {
    isShowposTestWallet: true,
    async request({ method, params }) {
      window.__walletCalls.push({ method, params: params === undefined ? null : params });
      switch (method) {
      case 'eth_requestAccounts': case 'eth_accounts': return [wallet.address];
      case 'eth_chainId': return '0x' + BigInt(cfg.chainId).toString(16);
      case 'wallet_switchEthereumChain':
        if (BigInt(params[0].chainId) !== BigInt(cfg.chainId)) throw err(4902, 'Unrecognized chain ID');
        return null;
      case 'eth_signTransaction':
        if (cfg.mode === 'send') throw err(4200, 'The requested method is not supported by this Ethereum provider.');
        if (cfg.mode === 'reject-once' && !declined) { declined = true; throw err(4001, 'User rejected the request.'); }
        return sign(params[0], cfg.mode === 'underpay' ? 1n : 0n);
      case 'eth_signTypedData_v4': {
        if (cfg.mode === 'reject-once' && !declined) { declined = true; throw err(4001, 'User rejected the request.'); }
        if (String(params[0]).toLowerCase() !== wallet.address.toLowerCase()) throw err(4100, 'not this wallet\'s account');
        const td = JSON.parse(params[1]);
        const types = Object.assign({}, td.types); delete types.EIP712Domain;
        return wallet.signTypedData(td.domain, types, td.message);
      }
      case 'eth_sendTransaction': {
        const raw = await sign(params[0], 0n);
        showposWalletSend(raw);
        return ethers.Transaction.from(raw).hash;
      }
      default: throw err(4200, 'unsupported ' + method);
      }
    },
    on() {}, removeListener() {},
  };
  if (cfg.announce) {
    const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', {
      detail: Object.freeze({ info: { uuid: '6b1f0c1e-0000-4000-8000-000000000001', name: 'Test <b>Wallet</b>', icon: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg"/>', rdns: 'dev.showpos.test' }, provider }),
    }));
    window.addEventListener('eip6963:requestProvider', announce);
    announce();
  } else {
    window.ethereum = provider;
  }
})();
`

type walletConfig struct {
	Key      string `json:"key"`
	ChainID  string `json:"chainId"`
	Nonce    uint64 `json:"nonce"`
	MaxFee   string `json:"maxFee"`
	Tip      string `json:"tip"`
	Mode     string `json:"mode"`
	Announce bool   `json:"announce"`
}

// payerBrowser is headless Chromium with the test wallet in every page,
// recording each request the browser makes and sending what the wallet
// broadcasts to the dev chain.
type payerBrowser struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	urls []string
	sent chan common.Hash
}

func ethersBrowserBuild(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "..", "tools", "js", "node_modules", "ethers", "dist", "ethers.umd.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("SHOWPOS_REQUIRE_JS") == "1" {
			t.Fatalf("ethers' browser build is needed (SHOWPOS_REQUIRE_JS=1): %v; run: npm ci --prefix tools/js", err)
		}
		t.Skipf("ethers' browser build not installed (%v); run: npm ci --prefix tools/js", err)
	}
	return string(b)
}

func newPayerBrowser(t *testing.T, node *devchain.Chain, mode string, announce bool) *payerBrowser {
	t.Helper()
	ethersJS := ethersBrowserBuild(t)
	tab := browser.New(t)
	ctx, cancel := context.WithTimeout(tab, 120*time.Second)
	t.Cleanup(cancel)
	b := &payerBrowser{t: t, ctx: ctx, sent: make(chan common.Hash, 4)}

	payer := node.Payers()[0]
	eth, err := ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	nonce, err := eth.PendingNonceAt(ctx, payer.Address)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(walletConfig{
		Key: hexutil.Encode(crypto.FromECDSA(payer.Key)), ChainID: node.ChainID().String(), Nonce: nonce,
		MaxFee: "50000000000", Tip: "1000000000", Mode: mode, Announce: announce,
	})

	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			if d := ev.ExceptionDetails; d != nil {
				msg := d.Text
				if d.Exception != nil {
					msg += " " + d.Exception.Description
				}
				t.Logf("page exception: %s (%s:%d)", msg, d.URL, d.LineNumber)
			}
		}
	}()
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	bindings := chromedp.Events(ctx, runtime.BindingCalled)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.urls = append(b.urls, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range bindings {
			if err != nil {
				return
			}
			if ev.Name != "showposWalletSend" {
				continue
			}
			tx := new(types.Transaction)
			raw, err := hexutil.Decode(ev.Payload)
			if err == nil {
				err = tx.UnmarshalBinary(raw)
			}
			if err == nil {
				err = eth.SendTransaction(ctx, tx)
			}
			if err != nil {
				t.Errorf("the wallet's broadcast: %v", err)
				continue
			}
			b.sent <- tx.Hash()
		}
	}()
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: "showposWalletSend"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: ethersJS}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(walletJS, cfg)}); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *payerBrowser) open(url string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url)); err != nil {
		b.t.Fatal(err)
	}
}

func (b *payerBrowser) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (b *payerBrowser) text(id string) string {
	return b.eval(`(document.getElementById(` + jsString(id) + `) || {}).textContent || ''`)
}

// waitState waits until the page's state line starts with want (within
// 60 s, a bound for a hung page, not a timing goal).
func (b *payerBrowser) waitState(want string) {
	b.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := b.text("state")
		if strings.HasPrefix(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.mu.Lock()
			urls := strings.Join(b.urls, " ")
			b.mu.Unlock()
			b.t.Fatalf("page state %q (%s), want %q; wallet calls %s; CSP violations %s; requests %s", got, b.text("detail"), want,
				b.eval(`JSON.stringify(window.__walletCalls)`), b.eval(`JSON.stringify(window.__csp)`), urls)
		}
	}
}

func (b *payerBrowser) clickPay() {
	b.t.Helper()
	if got := b.eval(`(() => { const p = document.getElementById('pay'); if (p.disabled) return 'disabled'; p.click(); return 'clicked' })()`); got != "clicked" {
		b.t.Fatalf("Pay is %s (state %q: %s)", got, b.text("state"), b.text("detail"))
	}
}

// onlyFrom fails unless every request the browser made went to origin.
func (b *payerBrowser) onlyFrom(origin string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.urls) == 0 {
		b.t.Fatal("no request recorded")
	}
	for _, u := range b.urls {
		if !strings.HasPrefix(u, origin+"/") {
			b.t.Errorf("the page asked %s, outside %s", u, origin)
		}
	}
	if v := b.eval(`JSON.stringify(window.__csp)`); v != "[]" {
		b.t.Errorf("CSP violations: %s", v)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// newPageRequest makes a request with memo on the operator socket.
func newPageRequest(t *testing.T, dir, amount, memo string) *request.Document {
	t.Helper()
	return newRequestOf(t, dir, map[string]string{"amount": amount, "memo": memo})
}

// newRequestOf makes the request fields describe on the operator socket.
func newRequestOf(t *testing.T, dir string, fields map[string]string) *request.Document {
	t.Helper()
	body, _ := json.Marshal(fields)
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	req, _ := http.NewRequest("POST", "http://posd/v1/requests", strings.NewReader(string(body)))
	a := do(t, op, req)
	if a.status != http.StatusCreated {
		t.Fatalf("new request: %d %s", a.status, a.raw)
	}
	doc, err := request.ParseDocument(a.raw)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// A wallet that signs without broadcasting (eth_signTransaction): the page
// verifies the terminal's signature itself, shows the signed terms, switches
// the wallet to the request's chain, hands the raw transaction to
// broadcastTx (ACCEPTED) and follows it to PAID once the broadcaster has it
// confirmed on the dev chain. Nothing is loaded from anywhere but the
// terminal.
func TestPayerPageSignedHandover(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	node, dir, addr := startChainTerminal(t, "")
	b := newPayerBrowser(t, node, "sign", true)
	doc := newPageRequest(t, dir, "0.02", "table 4")

	b.open("http://" + addr + payerpage.Prefix + doc.ID)
	b.waitState("Ready to pay")
	for id, want := range map[string]string{
		"amount": "0.02", "asset": "ETH", "memo": "table 4", "to": doc.Merchant.Hex(),
		"merchant": "Sale Test", "signer": doc.Signer.Hex(),
		"sig": "verifies (EIP-712, checked on this phone)",
	} {
		if got := b.text(id); got != want {
			t.Errorf("#%s shows %q, want %q", id, got, want)
		}
	}
	if cd := b.text("countdown"); !strings.Contains(cd, ":") {
		t.Errorf("countdown shows %q", cd)
	}

	b.clickPay()
	b.waitState("ACCEPTED")
	b.waitState("PAID")

	calls := b.eval(`JSON.stringify(window.__walletCalls.map(c => c.method))`)
	if want := `["eth_requestAccounts","wallet_switchEthereumChain","eth_signTransaction"]`; calls != want {
		t.Errorf("wallet calls %s, want %s", calls, want)
	}
	chain := b.eval(`window.__walletCalls[1].params[0].chainId`)
	if want := fmt.Sprintf("0x%x", node.ChainID()); chain != want {
		t.Errorf("switched the wallet to %s, want %s", chain, want)
	}
	got := fetchRequest(t, addr)
	if got.Status != "paid" {
		t.Errorf("request status %q after PAID", got.Status)
	}
	b.onlyFrom("http://" + addr)
}

// A wallet without eth_signTransaction (as most are) sends the transfer
// itself through the window.ethereum provider: the transaction is mined on
// the dev chain, the page says SENT and follows the request, and the
// terminal's chain watcher sees the transfer: the request is paid by it
// and the page says PAID once it is confirmed.
func TestPayerPageWalletSends(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	node, dir, addr := startChainTerminal(t, "")
	b := newPayerBrowser(t, node, "send", false)
	doc := newPageRequest(t, dir, "0.03", "")

	b.open("http://" + addr + payerpage.Prefix + doc.ID)
	b.waitState("Ready to pay")
	b.clickPay()
	b.waitState("SENT")
	var hash common.Hash
	select {
	case hash = <-b.sent:
	case <-b.ctx.Done():
		t.Fatal("the wallet never broadcast")
	}
	eth, err := ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer eth.Close()
	var rcpt *types.Receipt
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if rcpt, err = eth.TransactionReceipt(b.ctx, hash); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wallet's transaction %s was never mined: %v", hash, err)
		}
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt status %d", rcpt.Status)
	}
	tx, _, err := eth.TransactionByHash(b.ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if *tx.To() != doc.Merchant || tx.Value().Cmp(big.NewInt(3e16)) != 0 {
		t.Errorf("the wallet sent %s wei to %s, want 0.03 ETH to %s", tx.Value(), tx.To(), doc.Merchant)
	}
	if !strings.Contains(b.text("detail"), hash.Hex()) {
		t.Errorf("the page names %q, not the sent transaction %s", b.text("detail"), hash)
	}
	calls := b.eval(`JSON.stringify(window.__walletCalls.map(c => c.method))`)
	if want := `["eth_requestAccounts","wallet_switchEthereumChain","eth_signTransaction","eth_sendTransaction"]`; calls != want {
		t.Errorf("wallet calls %s, want %s", calls, want)
	}
	b.waitState("PAID")
	got := fetchRequest(t, addr)
	if got.Status != "paid" || got.PaidTx != hash.Hex() || (got.PaidState != "confirmed" && got.PaidState != "final") {
		t.Errorf("request after PAID: status %q, paid by %s (%q), want the wallet's %s confirmed", got.Status, got.PaidTx, got.PaidState, hash)
	}
	b.onlyFrom("http://" + addr)
}

// A refusal reaches the payer with the terminal's code: a wallet that signs
// one wei less than the request gets REJECTED: underpaid, and Pay is there
// to try again.
func TestPayerPageShowsRefusal(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	node, dir, addr := startChainTerminal(t, "")
	b := newPayerBrowser(t, node, "underpay", true)
	doc := newPageRequest(t, dir, "0.01", "")

	b.open("http://" + addr + payerpage.Prefix + doc.ID)
	b.waitState("Ready to pay")
	b.clickPay()
	b.waitState("REJECTED: underpaid")
	if d := b.text("detail"); d == "" {
		t.Error("no message beside the code")
	}
	if b.eval(`String(document.getElementById('pay').disabled)`) != "false" {
		t.Error("Pay is disabled after a refusal")
	}
}

// A payer who declines the wallet's prompt (EIP-1193 4001) is told so,
// nothing is paid, and Pay works again: the second prompt, accepted, pays.
func TestPayerPageWalletDeclines(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	node, dir, addr := startChainTerminal(t, "")
	b := newPayerBrowser(t, node, "reject-once", true)
	doc := newPageRequest(t, dir, "0.01", "")

	b.open("http://" + addr + payerpage.Prefix + doc.ID)
	b.waitState("Ready to pay")
	b.clickPay()
	b.waitState("You declined in your wallet")
	if got := fetchRequest(t, addr); got.Status != "pending" {
		t.Fatalf("request %s after a declined prompt", got.Status)
	}
	b.clickPay()
	b.waitState("ACCEPTED")
}

// The memo and the merchant's name are text, never markup: a memo that is
// an HTML element with a script handler shows as those characters, and no
// element is made of it. The page's own EIP-712 digest equals ethers v6's,
// and a served document whose signature is not its signer's shows DOES NOT
// VERIFY and cannot be paid.
func TestPayerPageTextAndSignature(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	node, dir, addr := startChainTerminal(t, "")
	b := newPayerBrowser(t, node, "sign", true)
	memo := `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`
	doc := newPageRequest(t, dir, "0.01", memo)

	b.open("http://" + addr + payerpage.Prefix + doc.ID)
	b.waitState("Ready to pay")
	if got := b.text("memo"); got != memo {
		t.Errorf("memo shows %q, want the characters %q", got, memo)
	}
	if n := b.eval(`String(document.querySelectorAll('img, script:not([src])').length + document.getElementById('memo').children.length)`); n != "0" {
		t.Errorf("the memo made %s elements", n)
	}
	if v := b.eval(`String(window.__pwned)`); v != "undefined" {
		t.Errorf("the memo's script ran: %s", v)
	}

	// The page's digest against ethers', in the same browser.
	js := `(async () => {
	  const m = await import('/pay/assets/eip712.js');
	  const r = await (await fetch('/api/showpos/getPaymentRequest?id=` + doc.ID + `')).json();
	  const td = r.typedData;
	  const types = Object.assign({}, td.types); delete types.EIP712Domain;
	  const mine = Array.from(m.digest(td), x => x.toString(16).padStart(2, '0')).join('');
	  const theirs = ethers.TypedDataEncoder.hash(td.domain, types, td.message).slice(2);
	  return mine === theirs ? 'same' : mine + ' != ' + theirs;
	})()`
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil || got != "same" {
		t.Errorf("the page's EIP-712 digest against ethers: %q %v", got, err)
	}
	b.onlyFrom("http://" + addr)
}

// A browser that opens a request's URL (the req link in its QR) is sent to
// the payer page; a wallet or app asking for JSON gets the request as
// before. The page carries its CSP from the running daemon.
func TestRequestURLOpensThePayerPage(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain")
	}
	_, dir, addr := startChainTerminal(t, "")
	doc := newPageRequest(t, dir, "0.01", "")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		accept, wantType, wantLocation string
		wantStatus                     int
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", "/pay/" + doc.ID, http.StatusSeeOther},
		{"application/json", "application/json", "", http.StatusOK},
		{"*/*", "application/json", "", http.StatusOK},
		{"", "application/json", "", http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", doc.RequestURL, nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || resp.Header.Get("Location") != tc.wantLocation ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) {
			t.Errorf("Accept %q: %d %q Location %q, want %d %q %q", tc.accept, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Location"), tc.wantStatus, tc.wantType, tc.wantLocation)
		}
	}
	resp, err := http.Get("http://" + addr + "/pay/" + doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != payerpage.CSP {
		t.Errorf("page: %d CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

// startAuthorizingTerminal is startChainTerminal with the dev chain's token
// (TUSD) taking EIP-3009 authorizations beside ETH, as configs/sim.toml has it.
func startAuthorizingTerminal(t *testing.T) (*devchain.Chain, string, string) {
	t.Helper()
	return startTerminalOnChain(t, fmt.Sprintf(`
[[assets]]
symbol = "TUSD"
authorization = "eip3009"
domain_name = %q
domain_version = %q
`, devchain.TokenName, devchain.TokenVersion), "")
}

// operatorPayments lists the terminal's payments (GET /v1/payments).
func operatorPayments(t *testing.T, dir string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://posd/v1/payments", nil)
	a := do(t, unixClient(filepath.Join(dir, "data", "posd.sock")), req)
	var out struct{ Payments []map[string]any }
	if a.status != http.StatusOK || json.Unmarshal(a.raw, &out) != nil {
		t.Fatalf("payments: %d %s", a.status, a.raw)
	}
	return out.Payments
}

// broadcastCalls counts the browser's requests to broadcastTx.
func (b *payerBrowser) broadcastCalls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, u := range b.urls {
		if strings.HasSuffix(u, "/api/showpos/broadcastTx") {
			n++
		}
	}
	return n
}

// A request in a token that takes EIP-3009 authorizations offers "Sign to
// pay (no gas)" first: the wallet signs the TransferWithAuthorization the
// page built from the signed terms (ethers' signTypedData, checked back in
// the page), the terminal takes it offline (ACCEPTED, 202) and stores it
// as an authorization, queued for its relayer, and the page keeps
// following it (the same payload again answers its state). Nothing is
// loaded from anywhere but the terminal.
func TestPayerPageSignsAuthorization(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	node, dir, addr := startAuthorizingTerminal(t)
	b := newPayerBrowser(t, node, "sign", true)
	doc := newRequestOf(t, dir, map[string]string{"amount": "1.25", "asset": "TUSD"})
	if doc.X402 == nil {
		t.Fatal("the TUSD request advertises no x402 requirements")
	}

	b.open("http://" + addr + payerpage.Prefix + doc.ID)
	b.waitState("Ready to pay")
	if got := b.eval(`(() => { const s = document.getElementById('sign'); return [s.hidden, s.disabled, s.textContent, document.getElementById('pay').textContent].join('|') })()`); got != "false|false|Sign to pay (no gas)|Pay by transaction" {
		t.Fatalf("sign button hidden|disabled|label|pay label: %s", got)
	}
	before := time.Now().Unix()
	if got := b.eval(`(() => { const s = document.getElementById('sign'); s.click(); return 'clicked' })()`); got != "clicked" {
		t.Fatal(got)
	}
	b.waitState("ACCEPTED")
	after := time.Now().Unix()

	calls := b.eval(`JSON.stringify(window.__walletCalls.map(c => c.method))`)
	if want := `["eth_requestAccounts","wallet_switchEthereumChain","eth_signTypedData_v4"]`; calls != want {
		t.Fatalf("wallet calls %s, want %s", calls, want)
	}
	payer := node.Payers()[0].Address
	if got := b.eval(`window.__walletCalls[2].params[0]`); !strings.EqualFold(got, payer.Hex()) {
		t.Errorf("asked %s to sign, want the wallet's account %s", got, payer)
	}
	var td struct {
		PrimaryType string
		Domain      struct {
			Name, Version     string
			ChainID           json.Number
			VerifyingContract string
		}
		Message struct{ From, To, Value, ValidAfter, ValidBefore, Nonce string }
	}
	if err := json.Unmarshal([]byte(b.eval(`window.__walletCalls[2].params[1]`)), &td); err != nil {
		t.Fatal(err)
	}
	d, m := td.Domain, td.Message
	if td.PrimaryType != "TransferWithAuthorization" || d.Name != devchain.TokenName || d.Version != devchain.TokenVersion ||
		d.ChainID.String() != node.ChainID().String() || !strings.EqualFold(d.VerifyingContract, devchain.TokenAddr.Hex()) {
		t.Errorf("signed domain %+v (%s), want %s %s chain %s token %s", d, td.PrimaryType, devchain.TokenName, devchain.TokenVersion, node.ChainID(), devchain.TokenAddr)
	}
	va, _ := new(big.Int).SetString(m.ValidAfter, 10)
	vb, _ := new(big.Int).SetString(m.ValidBefore, 10)
	timeout := int64(doc.X402.MaxTimeoutSeconds)
	if !strings.EqualFold(m.From, payer.Hex()) || !strings.EqualFold(m.To, doc.Merchant.Hex()) || m.Value != "1250000" ||
		va == nil || va.Int64() > before || vb == nil || vb.Int64() < before+timeout || vb.Int64() > after+timeout ||
		len(m.Nonce) != 66 || m.Nonce == "0x"+strings.Repeat("0", 64) {
		t.Errorf("signed message %+v; want from %s to %s value 1250000, validAfter ≤ %d, validBefore now+%d, a 32-byte nonce", m, payer, doc.Merchant, before, timeout)
	}

	ps := operatorPayments(t, dir)
	if len(ps) != 1 || ps[0]["source"] != "authorization" || ps[0]["state"] != "queued" || ps[0]["requestId"] != doc.ID {
		t.Fatalf("payments %v, want one authorization for %s, queued", ps, doc.ID)
	}
	if got := fetchRequest(t, addr); got.Status != "paid" || got.PaidState != "queued" {
		t.Errorf("request %q (%q) after ACCEPTED", got.Status, got.PaidState)
	}
	// The page asks again with the same payload; the relayer is not wired
	// into posd yet, so the answer is queued and the page says ACCEPTED.
	for deadline := time.Now().Add(30 * time.Second); b.broadcastCalls() < 3; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the page asked broadcastTx %d times, never again after ACCEPTED", b.broadcastCalls())
		}
	}
	if st := b.text("state"); st != "ACCEPTED" {
		t.Errorf("page says %q while the store has the authorization queued", st)
	}
	if ps := operatorPayments(t, dir); len(ps) != 1 {
		t.Errorf("%d payments after the page asked again, want the one", len(ps))
	}
	b.onlyFrom("http://" + addr)
}

// A payer who declines the signature prompt (4001) is told so, nothing is
// stored, and Sign to pay works again: the second prompt, accepted, pays.
func TestPayerPageAuthorizationDeclined(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	node, dir, addr := startAuthorizingTerminal(t)
	b := newPayerBrowser(t, node, "reject-once", true)
	doc := newRequestOf(t, dir, map[string]string{"amount": "2", "asset": "TUSD"})

	b.open("http://" + addr + payerpage.Prefix + doc.ID)
	b.waitState("Ready to pay")
	sign := `(() => { const s = document.getElementById('sign'); if (s.hidden || s.disabled) return 'unavailable'; s.click(); return 'clicked' })()`
	if got := b.eval(sign); got != "clicked" {
		t.Fatalf("Sign to pay is %s", got)
	}
	b.waitState("You declined in your wallet")
	if d := b.text("detail"); !strings.Contains(d, "Nothing was signed") {
		t.Errorf("detail %q", d)
	}
	if got := fetchRequest(t, addr); got.Status != "pending" {
		t.Fatalf("request %s after a declined prompt", got.Status)
	}
	if ps := operatorPayments(t, dir); len(ps) != 0 {
		t.Fatalf("payments %v after a declined prompt", ps)
	}
	if got := b.eval(sign); got != "clicked" {
		t.Fatalf("Sign to pay is %s after a declined prompt", got)
	}
	b.waitState("ACCEPTED")
	if ps := operatorPayments(t, dir); len(ps) != 1 || ps[0]["source"] != "authorization" {
		t.Errorf("payments %v, want the authorization", ps)
	}
	b.onlyFrom("http://" + addr)
}
