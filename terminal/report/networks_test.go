package report_test

import (
	"strings"
	"testing"

	"showpos/terminal/checkout"
	"showpos/terminal/report"
)

// A printed report names the network beside each asset: USDC taken on two
// networks is two sums, each under "USDC" and its network; a Z stored
// before networks (no network in its JSON) prints the asset alone, as it
// did. No line is wider than the paper.
func TestPrintedReportNamesEachAssetsNetwork(t *testing.T) {
	sum := func(n int, amount string) checkout.Sum { return checkout.Sum{Count: n, AmountDisplay: amount} }
	z := report.Report{Kind: report.KindZ, Number: 3, Terminal: "till-7", Totals: checkout.Totals{Assets: []checkout.AssetTotal{
		{Asset: "USDC", Network: "base", ChainID: 8453, Taken: sum(2, "12.5")},
		{Asset: "USDC", Network: "arbitrum", ChainID: 42161, Taken: sum(1, "3")},
		{Asset: "ETH", Taken: sum(1, "0.01")},
	}}}
	for _, cols := range []int{32, 48} {
		text := report.Text(z.Job(cols), cols)
		lines := strings.Split(text, "\n")
		var heads []string
		for i, l := range lines {
			if len([]rune(l)) > cols {
				t.Errorf("%d columns: line %d is too wide: %q", cols, i, l)
			}
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "taken ") && !strings.HasPrefix(l, "-") {
				heads = append(heads, strings.Join(strings.Fields(l), " "))
			}
		}
		want := []string{"USDC base", "USDC arbitrum", "ETH"}
		if strings.Join(heads, "|") != strings.Join(want, "|") {
			t.Errorf("%d columns: asset lines %q, want %q\n%s", cols, heads, want, text)
		}
	}
}
