package cashier

import (
	"slices"
	"testing"
	"time"

	"showpos/terminal/checkout"
	"showpos/terminal/locale"
	"showpos/terminal/report"
	"showpos/terminal/screen"
)

// networksTill answers Totals with its rows.
type networksTill struct {
	fitTill
	rows []checkout.AssetTotal
}

func (t networksTill) Totals(time.Time, time.Time) (checkout.Totals, error) {
	return checkout.Totals{Assets: t.rows}, nil
}

func usdcOn(network string, chainID uint64, display string, n int) checkout.AssetTotal {
	return checkout.AssetTotal{Asset: "USDC", Network: network, ChainID: chainID, Decimals: 6,
		Taken: checkout.Sum{Count: n, AmountDisplay: display}}
}

// The today page and the X/Z report page: one line per asset and
// network. On a terminal with more than one network every line names its
// network, so USDC on two networks is two lines the cashier can tell
// apart; with one network the lines read as they always did. Every line
// fits every screen the terminal ships with, uncut, for the network names
// and amounts of a busy day.
func TestTotalsLinesNameTheirNetwork(t *testing.T) {
	two := func() []NetworkState { return []NetworkState{{"base", true}, {"arbitrum", true}} }
	for _, tc := range []struct {
		name     string
		networks func() []NetworkState
		rows     []checkout.AssetTotal
		want     []string
	}{
		{"one network: unlabelled", nil,
			[]checkout.AssetTotal{usdcOn("base", 8453, "12.5", 3)},
			[]string{"12.5 USDC (3)"}},
		{"two networks: each line labelled", two,
			[]checkout.AssetTotal{usdcOn("base", 8453, "12.5", 3), usdcOn("arbitrum", 42161, "7", 1)},
			[]string{"12.5 USDC base (3)", "7 USDC arbitrum (1)"}},
		{"two networks, sales on one: still labelled", two,
			[]checkout.AssetTotal{usdcOn("arbitrum", 42161, "7", 1)},
			[]string{"7 USDC arbitrum (1)"}},
		{"rows on two chains with no network states: labelled", nil,
			[]checkout.AssetTotal{usdcOn("base", 8453, "12.5", 3), usdcOn("chain-10", 10, "1", 1)},
			[]string{"12.5 USDC base (3)", "1 USDC chain-10 (1)"}},
		{"a long day on a long name: the count gives way", two,
			[]checkout.AssetTotal{usdcOn("optimism", 10, "12345.67", 1234)},
			[]string{"12345.67 USDC optimism"}},
		{"a name too long for the row is cut, the amount never", two,
			[]checkout.AssetTotal{usdcOn("polygon-zkevm-cardona", 2442, "1234.56", 12)},
			[]string{"1234.56 USDC polygon-…"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fitCashier(t, locale.English)
			c.o.Till, c.o.Networks = networksTill{rows: tc.rows}, tc.networks
			c.menuPage = 1
			today := c.menu()
			c.mode, c.report = modeReport, report.Report{Kind: report.KindX, Totals: checkout.Totals{Assets: tc.rows}}
			books := c.booksScreen()
			if !slices.Equal(today.Lines, tc.want) {
				t.Errorf("today page %q, want %q", today.Lines, tc.want)
			}
			if got := books.Lines[:len(tc.want)]; !slices.Equal(got, tc.want) {
				t.Errorf("report page %q, want %q first", books.Lines, tc.want)
			}
			for _, size := range fitSizes {
				r, err := screen.New(size)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range today.Lines {
					r.Menu(screen.Menu{Title: today.Title, Hint: today.Hint, Lines: []string{l}})
					if cut := r.Cut(); len(cut) > 0 {
						t.Errorf("%v: %q cut (%q)", size, l, cut)
					}
				}
			}
		})
	}
}
