package pricefeed_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"showpos/device/clock/clocktest"
	"showpos/sync/chain"
	"showpos/sync/pricefeed"
	"showpos/terminal/config"
	"showpos/tools/devchain"
)

// twoNetworks is a terminal on the dev chain (1337, the default) and a
// second dev chain (1338): ETH is taken on both and priced by the feed on
// the default one; TUSD is taken on both and priced by the feed on the
// second alone; WETH is only on the second, priced there.
const twoNetworks = `
[terminal]
id = "till-2"
currency = "EUR"
[merchant]
address = "0x000000000000000000000000000000000000dEaD"

[[networks]]
name = "dev"
chain_id = 1337
[[networks.assets]]
symbol = "ETH"
price_feed = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
price_heartbeat = "1h"
[[networks.assets]]
symbol = "TUSD"
token = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6

[[networks]]
name = "second"
chain_id = 1338
[[networks.assets]]
symbol = "ETH"
price_feed = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
price_heartbeat = "1h"
[[networks.assets]]
symbol = "TUSD"
token = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
price_feed = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
price_heartbeat = "1h"
`

func parse(t *testing.T, text string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The sources of a terminal on two networks: each priced symbol once, read
// on the network that prices it first in config order (the default first).
func TestSourcesOfEveryNetwork(t *testing.T) {
	got := pricefeed.SourcesOf(parse(t, twoNetworks))
	want := []struct {
		symbol  string
		network string
		chainID uint64
		feed    string
	}{
		{"ETH", "dev", 1337, devchain.FeedETHEUR.Address.Hex()},
		{"TUSD", "second", 1338, devchain.FeedTUSDEUR.Address.Hex()},
	}
	if len(got) != len(want) {
		t.Fatalf("%d sources %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if g := got[i]; g.Symbol != w.symbol || g.Network != w.network || g.ChainID != w.chainID || g.Feed.Hex() != w.feed || g.Currency != "EUR" {
			t.Errorf("source %d: %+v, want %s on %s (%d) from %s", i, g, w.symbol, w.network, w.chainID, w.feed)
		}
	}
}

// A feed is read on its own network's chain: with the same feed contracts
// on two dev chains answering differently, TUSD (priced on the second
// network) takes the second chain's answer and ETH (priced on the
// default) the first's. A network that is not running has no caller: its
// feed has no rate, and says why, while the other's goes on.
func TestAFeedIsReadOnItsNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clients := map[uint64]pricefeed.Caller{}
	chains := map[uint64]*devchain.Chain{}
	for _, id := range []uint64{1337, 1338} {
		dc, err := devchain.Start(ctx, devchain.Options{Payers: 1, ChainID: id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dc.Close() })
		c, err := chain.New(chain.Options{Endpoints: []string{dc.Endpoint()}, ChainID: id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients[id], chains[id] = c, dc
	}
	// The second chain's TUSD / EUR answers 0.91, the first's stays 0.86.
	if err := chains[1338].UpdateFeedAnswer(ctx, devchain.FeedTUSDEUR.Address, big.NewInt(91000000)); err != nil {
		t.Fatal(err)
	}
	if err := chains[1337].UpdateFeedAnswer(ctx, devchain.FeedETHEUR.Address, big.NewInt(2700_00000000)); err != nil {
		t.Fatal(err)
	}
	running := map[uint64]bool{1337: true, 1338: true}
	clk := clocktest.NewFake(time.Now())
	r, err := pricefeed.New(pricefeed.Options{Sources: pricefeed.SourcesOf(parse(t, twoNetworks)), Clock: clk,
		Caller: func(id uint64) pricefeed.Caller {
			if !running[id] {
				return nil
			}
			return clients[id]
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.Refresh(ctx)
	for _, tc := range []struct {
		symbol string
		answer int64
	}{
		{"TUSD", 91000000},
		{"ETH", 2700_00000000},
	} {
		if q, err := r.Latest(tc.symbol); err != nil || q.Answer.Int64() != tc.answer {
			t.Errorf("%s: %+v, %v; want %d", tc.symbol, q, err, tc.answer)
		}
	}
	for _, st := range r.Status() {
		if want := map[string]uint64{"ETH": 1337, "TUSD": 1338}[st.Symbol]; st.ChainID != want || !st.Usable {
			t.Errorf("status %+v, want chain %d, usable", st, want)
		}
	}

	// The second network stops; a source on a network never started is
	// the same.
	running[1338] = false
	if err := r.Reconfigure(nil); err != nil { // forget TUSD's round
		t.Fatal(err)
	}
	if err := r.Reconfigure(pricefeed.SourcesOf(parse(t, twoNetworks))); err != nil {
		t.Fatal(err)
	}
	r.Refresh(ctx)
	if _, err := r.Latest("TUSD"); !errors.Is(err, pricefeed.ErrNoRate) || !strings.Contains(err.Error(), "network second (chain 1338) is not running") {
		t.Errorf("TUSD on a stopped network: %v", err)
	}
	if q, err := r.Latest("ETH"); err != nil || q.Answer.Int64() != 2700_00000000 {
		t.Errorf("ETH on the running network: %+v, %v", q, err)
	}
}
