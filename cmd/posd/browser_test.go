package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"showpos/tools/browser"
	"showpos/tools/paytx"
	"showpos/tools/qrread"
)

// A sale as a cashier sees it in a browser: the whole daemon on the
// simulated board, its page in headless Chromium; keys are clicked on the
// page, the QR is read off the browser's own screenshot, and the page
// turns to PAID once the payment is confirmed on the dev chain.
func TestSaleInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain and a browser")
	}
	tab := browser.New(t)
	node, simURL, addr := startSimTerminal(t)

	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(simURL+"/")); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"0", ".", "3", "enter"} {
		clicked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector('[data-key="`+k+`"]'); if (!b) return false; b.click(); return true })()`))
		if err != nil || !clicked {
			t.Fatalf("click %q: %v (found %v)", k, err, clicked)
		}
		time.Sleep(100 * time.Millisecond) // a person's pace; the page sends keys in order anyway
	}

	// The QR, as the browser shows it.
	var uri string
	for deadline := time.Now().Add(15 * time.Second); uri == ""; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no readable QR in the browser")
		}
		shot := screenshot(t, ctx)
		uri, _ = qrread.Read(shot)
	}
	doc := fetchRequest(t, addr)
	if doc.URI != uri || doc.AmountDisplay != "0.3" {
		t.Fatalf("browser shows %q; the request on screen is %q for %s", uri, doc.URI, doc.AmountDisplay)
	}

	tx, err := paytx.Build(doc.Request(), node.Payers()[0].Key, paytx.Options{FeeCap: big.NewInt(50e9)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	body, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err := http.Post("http://"+addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// PAID fills the screen green: read it where the page shows the screen.
	rect, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ X, Y, W, H float64 }](`(() => { const r = document.querySelector('img').getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height} })()`))
	if err != nil || rect.W == 0 {
		t.Fatalf("screen element: %+v %v", rect, err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		shot := screenshot(t, ctx)
		r, g, b, _ := shot.At(int(rect.X+rect.W*0.05), int(rect.Y+rect.H*0.05)).RGBA()
		if g>>8 > 100 && r>>8 < 80 && b>>8 < 80 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser never showed PAID (corner pixel %d,%d,%d)", r>>8, g>>8, b>>8)
		}
	}
}

func screenshot(t *testing.T, ctx context.Context) image.Image {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
