package configtest_test

import (
	"math/big"
	"testing"

	"showpos/terminal/config/configtest"
)

func TestOverridesKeepTheRestOfTheFixture(t *testing.T) {
	cfg := configtest.New(t, `
[terminal]
id = "unit-till"
[[assets]]
symbol = "TUSD"
max_payment = "10"
[[assets]]
symbol = "DAI"
token = "0x0000000000000000000000000000000000000Da1"
decimals = 18
`)
	if cfg.Terminal.ID != "unit-till" || cfg.ChainID != configtest.ChainID || cfg.Merchant.Hex() != configtest.Merchant {
		t.Errorf("terminal %q chain %d merchant %s", cfg.Terminal.ID, cfg.ChainID, cfg.Merchant.Hex())
	}
	if len(cfg.Assets) != 3 || cfg.Assets[0].Symbol != "ETH" || cfg.Assets[2].Symbol != "DAI" {
		t.Fatalf("assets %+v", cfg.Assets)
	}
	tusd := cfg.Assets[1]
	if tusd.Symbol != "TUSD" || tusd.Token.Hex() != configtest.Token || tusd.Decimals != 6 ||
		tusd.MaxPayment == nil || tusd.MaxPayment.Cmp(big.NewInt(10_000_000)) != 0 {
		t.Errorf("TUSD %+v", tusd)
	}
	if plain := configtest.New(t, ""); plain.Terminal.ID != "test-till" || len(plain.Assets) != 2 {
		t.Errorf("fixture alone: %q, %d assets", plain.Terminal.ID, len(plain.Assets))
	}
}

func TestAnInlineAssetArrayReplacesTheFixturesAssets(t *testing.T) {
	cfg := configtest.New(t, `assets = [{ symbol = "ETH", max_payment = "0.5" }]`)
	if len(cfg.Assets) != 1 || cfg.Assets[0].Symbol != "ETH" || cfg.Assets[0].MaxPayment == nil {
		t.Errorf("assets %+v, want ETH alone with its limit", cfg.Assets)
	}
	if cfg.Terminal.ID != "test-till" || cfg.ChainID != configtest.ChainID {
		t.Errorf("terminal %q chain %d: the rest of the fixture is lost", cfg.Terminal.ID, cfg.ChainID)
	}
}
