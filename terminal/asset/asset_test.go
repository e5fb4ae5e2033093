package asset

import (
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestNative(t *testing.T) {
	eth := Asset{Symbol: "ETH", Decimals: 18}
	tusd := Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	if !eth.Native() {
		t.Error("asset with zero token address is not native")
	}
	if tusd.Native() {
		t.Error("asset with a token address is native")
	}
	if got, want := tusd.String(), "TUSD (0x5FbDB2315678afecb367f032d93F642f64180aa3)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		asset Asset
		ok    bool
	}{
		{"ether", Asset{Symbol: "ETH", Decimals: 18}, true},
		{"token with dot and non-ASCII", Asset{Symbol: "USD₮0.e", Decimals: 6}, true},
		{"max decimals", Asset{Symbol: "X", Decimals: MaxDecimals}, true},
		{"empty symbol", Asset{Decimals: 18}, false},
		{"long symbol", Asset{Symbol: strings.Repeat("A", MaxSymbolLength+1)}, false},
		{"space in symbol", Asset{Symbol: "US D"}, false},
		{"control in symbol", Asset{Symbol: "USD\x07"}, false},
		{"bidi override in symbol", Asset{Symbol: "USD\u202e"}, false},
		{"invalid UTF-8 symbol", Asset{Symbol: "US\xff"}, false},
		{"too many decimals", Asset{Symbol: "X", Decimals: MaxDecimals + 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.asset.Validate()
			if tc.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrAsset) {
				t.Fatalf("Validate = %v, want ErrAsset", err)
			}
		})
	}
}
