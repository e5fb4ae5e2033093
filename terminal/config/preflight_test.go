package config

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestPreflightKeys: chain.preflight_budget defaults to 800ms, "0s" turns
// the pre-flight off, and max_unsettled_per_payer is an amount in the
// asset's decimals, absent meaning no cap.
func TestPreflightKeys(t *testing.T) {
	cases := []struct {
		name       string
		from, to   string // replace in good
		wantBudget time.Duration
		wantPayer  *big.Int // TUSD's cap
		wantInErr  string
	}{
		{name: "defaults", wantBudget: DefaultPreflightBudget},
		{name: "a budget", from: "id = 1337", to: "id = 1337\npreflight_budget = \"300ms\"", wantBudget: 300 * time.Millisecond},
		{name: "zero turns it off", from: "id = 1337", to: "id = 1337\npreflight_budget = \"0s\"", wantBudget: 0},
		{name: "negative budget", from: "id = 1337", to: "id = 1337\npreflight_budget = \"-1s\"", wantInErr: "chain.preflight_budget"},
		{name: "budget past ten seconds", from: "id = 1337", to: "id = 1337\npreflight_budget = \"11s\"", wantInErr: "chain.preflight_budget"},
		{name: "a per-payer cap", from: `max_unsettled = "2000.25"`, to: `max_unsettled = "2000.25"` + "\nmax_unsettled_per_payer = \"50.5\"",
			wantBudget: DefaultPreflightBudget, wantPayer: big.NewInt(50_500_000)},
		{name: "a per-payer cap finer than the asset", from: `max_unsettled = "2000.25"`, to: "max_unsettled_per_payer = \"0.0000001\"",
			wantInErr: "max_unsettled_per_payer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.from, tc.to, 1)
			c, err := Parse([]byte(src))
			if tc.wantInErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantInErr) {
					t.Fatalf("err = %v, want ErrInvalid naming %q", err, tc.wantInErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Chain.PreflightBudget != tc.wantBudget {
				t.Errorf("preflight budget %s, want %s", c.Chain.PreflightBudget, tc.wantBudget)
			}
			tusd, _ := c.Asset("TUSD")
			if (tusd.MaxUnsettledPerPayer == nil) != (tc.wantPayer == nil) ||
				(tc.wantPayer != nil && tusd.MaxUnsettledPerPayer.Cmp(tc.wantPayer) != 0) {
				t.Errorf("TUSD max_unsettled_per_payer %v, want %v", tusd.MaxUnsettledPerPayer, tc.wantPayer)
			}
			if eth, _ := c.Asset("ETH"); eth.MaxUnsettledPerPayer != nil {
				t.Errorf("ETH max_unsettled_per_payer %v, want none", eth.MaxUnsettledPerPayer)
			}
		})
	}
}
