package virtual

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"showpos/device"
	"showpos/tools/browser"
)

// TestPrinterOnThePageInRealBrowser prints a receipt and checks, through
// headless Chromium, that the page shows it as paper with its QR drawn,
// follows a second receipt live, and that its switches reach the printer
// the terminal prints on.
func TestPrinterOnThePageInRealBrowser(t *testing.T) {
	tab := browser.New(t)
	b := newBoard(t, &Opts{PrinterColumns: 32})
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if err := b.Printer().Print(ctx, receipt); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(b.URL())); err != nil {
		t.Fatal(err)
	}
	type paper struct {
		Receipts int
		Text     string
		QRWidth  int
		State    string
	}
	read := func() paper {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[paper](`(() => {
			const r = document.querySelectorAll("#paper .receipt");
			const qr = document.querySelector("#paper .receipt .qr");
			return {receipts: r.length, text: r.length ? r[0].innerText : "",
				qrwidth: qr && qr.complete ? qr.naturalWidth : 0,
				state: document.getElementById("printer-state").textContent};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	waitFor := func(what string, cond func(p paper) bool) paper {
		t.Helper()
		for {
			p := read()
			if cond(p) {
				return p
			}
			if ctx.Err() != nil {
				t.Fatalf("page never showed %s; it shows %+v", what, p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	p := waitFor("the receipt with its QR", func(p paper) bool { return p.Receipts == 1 && p.QRWidth > 0 })
	for _, want := range []string{"Café Müller", "Total" + strings.Repeat(" ", 21) + "4,50 €", strings.Repeat("-", 32)} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("paper lacks %q:\n%s", want, p.Text)
		}
	}
	if p.State != "ready" {
		t.Errorf("printer state %q, want ready", p.State)
	}

	// A second receipt arrives live, on top.
	b.Printer().Print(ctx, device.PrintJob{Lines: []device.PrintLine{{Text: "second receipt"}}})
	p = waitFor("the second receipt", func(p paper) bool { return p.Receipts == 2 })
	if !strings.Contains(p.Text, "second receipt") {
		t.Errorf("newest receipt is not on top: %q", p.Text)
	}

	// The paper-out switch: the terminal's printer refuses, the page says so.
	if err := chromedp.Do(ctx, chromedp.Click("#sw-paperOut")); err != nil {
		t.Fatal(err)
	}
	waitFor("paper out", func(p paper) bool { return p.State == "paper out" })
	if st, err := b.Printer().Status(ctx); err != nil || !st.PaperOut || st.Online {
		t.Errorf("after the switch the printer says %+v, %v", st, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SHOWPOS_SCREENSHOT_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "virtual-printer.png"), shot, 0o644)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#sw-coverOpen")); err != nil {
		t.Fatal(err)
	}
	waitFor("cover open", func(p paper) bool { return p.State == "cover open" })
	if st, _ := b.Printer().Status(ctx); !st.CoverOpen || !st.PaperOut {
		t.Errorf("after both switches the printer says %+v", st)
	}
}
