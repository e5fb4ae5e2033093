package cashier_test

import (
	"context"
	"testing"

	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/locale"
	"showpos/terminal/screen"
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
