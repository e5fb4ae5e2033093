package main

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/terminal/payerpage"
	"showpos/terminal/request"
	"showpos/tools/browser"
	"showpos/tools/jstools"
)

// A phone's camera reads the OLED's short link and opens it in the
// phone's browser, which has no wallet: the link leads to the payer page,
// which offers Open in wallet app first, its href the request's EIP-681
// URI (the one the short link sends an app to); pressing it asks for that
// navigation. The wallet app pays the URI as a standard parser reads it
// (eth-url-parser; the dev chain's payer sends the transfer), and the
// page, still open, says PAID once the terminal's watcher has seen it
// confirmed: the whole path through the real daemon and a real chain.
func TestOLEDShortLinkOpensTheWalletApp(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	js := jstools.Dir(t, "eth-url-parser")
	node, addr, doc, link := oledRequest(t, "0.02")
	if !strings.Contains(link, "/R/") {
		t.Fatalf("the OLED shows %q, want a short link", link)
	}

	tab := browser.New(t)
	ctx, cancel := context.WithTimeout(tab, 120*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	type view struct {
		Path, State, Href, Note string
		Primary, Hidden         bool
	}
	read := func() view {
		t.Helper()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		  const a = document.getElementById('wallet-app');
		  return JSON.stringify({Path: location.pathname, State: document.getElementById('state').textContent,
		    Href: a.getAttribute('href') || '', Primary: a.classList.contains('primary'), Hidden: a.hidden,
		    Note: document.getElementById('wallet-app-note').textContent});
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		var v view
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	waitState := func(want string) view {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			v := read()
			if strings.HasPrefix(v.State, want) {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page says %q, want %q", v.State, want)
			}
		}
	}
	v := waitState("Ready to pay")
	if v.Path != payerpage.Prefix+doc.ID || v.Hidden || !v.Primary || v.Href != doc.URI || !strings.Contains(v.Note, "No wallet in this browser") {
		t.Fatalf("the short link opened %+v; want the payer page of %s offering Open in wallet app first, href %s", v, doc.ID, doc.URI)
	}

	asked := make(chan string, 4)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := chromedp.Listen(lctx, func(ev any) {
		if e, ok := ev.(*page.EventFrameRequestedNavigation); ok {
			select {
			case asked <- e.URL:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#wallet-app"))); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-asked:
		if u != doc.URI {
			t.Fatalf("pressing the link navigates to %q, want %q", u, doc.URI)
		}
	case <-ctx.Done():
		t.Fatal("pressing the link asked for no navigation")
	}
	waitState("Pay in your wallet app")

	// The wallet app: it reads the URI with a standard EIP-681 parser and
	// sends what it says.
	out, err := exec.CommandContext(ctx, "node", filepath.Join(js, "check.js"), "uri", v.Href).Output()
	if err != nil {
		t.Fatalf("eth-url-parser: %v", err)
	}
	var uri struct {
		Target     string `json:"target_address"`
		ChainID    string `json:"chain_id"`
		Parameters struct {
			Value string `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(out, &uri); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	value, ok := new(big.Int).SetString(uri.Parameters.Value, 10)
	if !ok || uri.ChainID != node.ChainID().String() || !common.IsHexAddress(uri.Target) {
		t.Fatalf("eth-url-parser reads %s; want a transfer on chain %s", out, node.ChainID())
	}
	eth, err := ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer eth.Close()
	payer := node.Payers()[0]
	nonce, err := eth.PendingNonceAt(ctx, payer.Address)
	if err != nil {
		t.Fatal(err)
	}
	head, err := eth.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	to := common.HexToAddress(uri.Target)
	tip := big.NewInt(1e9)
	tx, err := types.SignNewTx(payer.Key, types.LatestSignerForChainID(node.ChainID()), &types.DynamicFeeTx{
		ChainID: node.ChainID(), Nonce: nonce, To: &to, Value: value, Gas: 21000,
		GasTipCap: tip, GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eth.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	waitState("PAID")
	r, err := http.Get("http://" + addr + "/api/showpos/getPaymentRequest?id=" + doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r.Body)
	r.Body.Close()
	got, err := request.ParseDocument(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if got.Status != "paid" || got.PaidTx != tx.Hash().Hex() {
		t.Errorf("request after PAID: %q, paid by %s; want paid by the wallet app's %s", got.Status, got.PaidTx, tx.Hash())
	}
}
