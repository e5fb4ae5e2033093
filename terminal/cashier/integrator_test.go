package cashier_test

import (
	"context"
	"testing"
	"time"

	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/tools/paytx"
	"showpos/tools/qrread"
)

// waitQR waits until the screen shows a QR code of doc's URI.
func (s *shop) waitQR(doc *request.Document) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second) // decoding is slow on a loaded machine
	for {
		if uri, err := qrread.Read(s.board.Screen()); err == nil && uri == doc.URI {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("request %s never on screen", doc.ID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A cash register creates a request over the integrator API (the till's
// NewRequest from outside the cashier): it goes on screen at once, even
// while the cashier is keying, and is paid like a keyed one.
func TestRequestFromTheRegisterGoesOnScreenAsIfKeyed(t *testing.T) {
	s := openShop(t)
	ctx := context.Background()
	s.press("1", "2")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "12", Asset: "ETH", Hint: "OK to charge, F1 asset"}))

	doc, err := s.till.NewRequest(ctx, "7.25", "TUSD", "order 991")
	if err != nil {
		t.Fatal(err)
	}
	s.waitQR(doc)
	s.scan(s.sign(doc, paytx.Options{}))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted}))
	if d, _ := s.till.Request(doc.ID); d.Status != "paid" {
		t.Errorf("request status %q after the scan, want paid", d.Status)
	}

	// The register cancels the next one while it is on screen.
	s.press("enter") // leave the result
	next, err := s.till.NewRequest(ctx, "1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	s.waitQR(next)
	if _, err := s.till.Cancel(ctx, next.ID); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultRejected, Reason: "request cancelled"}))
}

// A new config reaches the cashier without a restart: merchant name,
// welcome line and the assets offered.
func TestReconfigureChangesTheScreens(t *testing.T) {
	s := openShop(t)
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6}
	s.c.Reconfigure(context.Background(), cashier.Setup{Merchant: "Night Shop", Welcome: "Scan or tap to pay", Assets: []asset.Asset{tusd}})
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Night Shop", Welcome: "Scan or tap to pay"}))
	s.press("4", ".", "5")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "4.5", Asset: "TUSD", Hint: "OK to charge"}))
	doc := s.charge()
	if doc.Asset.Symbol != "TUSD" || doc.AmountDisplay != "4.5" {
		t.Errorf("request %s %s, want 4.5 TUSD", doc.AmountDisplay, doc.Asset.Symbol)
	}
}

// Keyed, OK and Cancel in quick succession: the till's news of the request
// arrives after the cancel and must not put it back on screen.
func TestQuickCancelDoesNotBringTheRequestBack(t *testing.T) {
	for range 5 {
		s := openShop(t)
		s.press("1", "enter", "cancel")
		s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
		time.Sleep(50 * time.Millisecond)
		s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	}
}
