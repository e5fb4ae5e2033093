package pricefeed_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/pricefeed"
	"showpos/terminal/config/configtest"
)

// The config's price keys become sources: a feed with its limits, a peg,
// nothing for an asset without either.
func TestSourcesOfConfig(t *testing.T) {
	cfg := configtest.New(t, `
[terminal]
currency = "EUR"
[[assets]]
symbol = "ETH"
price_feed = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
price_heartbeat = "1h"
[[assets]]
symbol = "TUSD"
peg = "0.86"
[[assets]]
symbol = "DAI"
token = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
decimals = 18
`)
	got := pricefeed.SourcesOf(cfg)
	if len(got) != 2 {
		t.Fatalf("%d sources, want ETH and TUSD: %+v", len(got), got)
	}
	eth, tusd := got[0], got[1]
	if eth.Symbol != "ETH" || eth.Currency != "EUR" || eth.ChainID != configtest.ChainID || eth.Network != "chain-1337" || eth.Feed != common.HexToAddress("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0") ||
		eth.Heartbeat != time.Hour || eth.MaxRateAge != 75*time.Minute || eth.PegAnswer != nil {
		t.Errorf("ETH %+v", eth)
	}
	if tusd.Symbol != "TUSD" || tusd.Currency != "EUR" || tusd.PegAnswer.Cmp(big.NewInt(86)) != 0 || tusd.PegDecimals != 2 || tusd.Feed != (common.Address{}) {
		t.Errorf("TUSD %+v", tusd)
	}
	r, err := pricefeed.New(pricefeed.Options{Sources: got[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if q, err := r.Latest("TUSD"); err != nil || q.Answer.Int64() != 86 || q.Decimals != 2 {
		t.Fatalf("the peg 0.86: %+v, %v", q, err)
	}
	// Without chain endpoints a feed has no rate, and says why.
	r, err = pricefeed.New(pricefeed.Options{Sources: got})
	if err != nil {
		t.Fatal(err)
	}
	r.Refresh(context.Background())
	if _, err := r.Latest("ETH"); !errors.Is(err, pricefeed.ErrNoRate) || !strings.Contains(err.Error(), "chain.rpc") {
		t.Fatalf("a feed without a chain: %v", err)
	}
}
