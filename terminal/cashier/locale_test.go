package cashier_test

import (
	"context"
	"math/big"
	"testing"

	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/locale"
	"showpos/terminal/screen"
	"showpos/tools/paytx"
)

// A new terminal.locale reaches the screens without a restart: the idle
// screen and the amount keyed (decimal comma, thousands grouped) speak
// German at once, and English again when switched back.
func TestReconfigureSwitchesTheLanguage(t *testing.T) {
	s := openShop(t)
	de, _ := locale.Parse("de")
	german, err := screen.New(screen.Size{W: 320, H: 240})
	if err != nil {
		t.Fatal(err)
	}
	german.SetLocale(de)
	english, err := screen.New(screen.Size{W: 320, H: 240})
	if err != nil {
		t.Fatal(err)
	}
	eth := []asset.Asset{{Symbol: "ETH", Decimals: 18}}
	s.c.Reconfigure(context.Background(), cashier.Setup{Merchant: "Test Shop", Assets: eth, Locale: de})
	s.waitScreen(german.Idle(screen.Idle{Merchant: "Test Shop"}))
	s.press("1", "2", "3", "4", ".", "5")
	s.waitScreen(german.Amount(screen.Amount{Entry: "1.234,5", Asset: "ETH", Hint: "OK kassieren"}))
	s.press("cancel")
	s.c.Reconfigure(context.Background(), cashier.Setup{Merchant: "Test Shop", Assets: eth})
	s.waitScreen(english.Idle(screen.Idle{Merchant: "Test Shop"}))
}

// In German the refusal and the receipt page say it in German, and the
// reason handed to the printer (which signs it on the receipt) stays
// English, the same words for every reader.
func TestARefusalInGermanSignsItsReasonInEnglish(t *testing.T) {
	de, _ := locale.Parse("de")
	var s *shop
	rec := &recordingReceipts{shop: func() *shop { return s }, calls: make(chan printed, 16)}
	s = openShopWith(t, func(o *cashier.Options) { o.Receipts, o.Locale = rec, de })
	doc := s.charge("5")
	s.scan(s.sign(doc, paytx.Options{Value: big.NewInt(1)}))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultRejected, Reason: "zu wenig bezahlt"}))
	s.press("enter")
	s.press("F2", "F2", "F2", "F2", "F2", "F2")
	s.waitScreen(s.screens.Menu(screen.Menu{Title: "BELEG", Hint: "F3 Druck  CANCEL zurück",
		Lines: []string{"zuletzt: ABGELEHNT, zu wenig bezahlt", "Anfrage " + "…" + doc.ID[len(doc.ID)-8:]}}))
	s.press("F3")
	if p := rec.next(t); p.requestID != doc.ID || p.kind != screen.ResultRejected || p.reason != "underpaid" {
		t.Errorf("printed %s %s %q, want %s rejected underpaid", p.requestID, p.kind, p.reason, doc.ID)
	}
}
