package relay

import (
	"math/big"
	"testing"

	"showpos/sync/chain"
)

func fees(tip, cap int64) Fees { return Fees{TipCap: big.NewInt(tip), FeeCap: big.NewInt(cap)} }

// The replacement rule: both fields at least 10% up (rounded up, so 1 wei
// becomes 2), the suggestion now when higher, never above the cap; no
// bump when the cap leaves either field short.
func TestBumpFees(t *testing.T) {
	cases := []struct {
		name     string
		old, now Fees
		cap      int64
		want     Fees
		ok       bool
	}{
		{"ten percent up when the market is flat", fees(100, 1000), fees(100, 1000), 10_000, fees(110, 1100), true},
		{"rounded up: 1 wei becomes 2", fees(1, 1), fees(1, 1), 10_000, fees(2, 2), true},
		{"rounded up: 15 becomes 17", fees(15, 15), fees(1, 1), 10_000, fees(17, 17), true},
		{"the market's fee when it rose more", fees(100, 1000), fees(500, 3000), 10_000, fees(500, 3000), true},
		{"fee cap clipped to the cap, still 10% up", fees(100, 1000), fees(100, 5000), 1200, fees(110, 1200), true},
		{"cap leaves the fee short: no bump", fees(100, 1000), fees(100, 1000), 1099, fees(100, 1000), false},
		{"already at the cap: no bump", fees(100, 1000), fees(100, 1000), 1000, fees(100, 1000), false},
		{"tip equal to fee cap, both exactly 10% up at the cap", fees(1000, 1000), fees(1000, 1000), 1100, fees(1100, 1100), true},
		{"market tip above the bumped fee cap: tip clipped to it", fees(100, 1000), fees(5000, 1000), 1200, fees(1100, 1100), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := bumpFees(tc.old, tc.now, big.NewInt(tc.cap))
			if ok != tc.ok || got.TipCap.Cmp(tc.want.TipCap) != 0 || got.FeeCap.Cmp(tc.want.FeeCap) != 0 {
				t.Fatalf("bumpFees = %v/%v %v, want %v/%v %v", got.TipCap, got.FeeCap, ok, tc.want.TipCap, tc.want.FeeCap, tc.ok)
			}
			if ok && (got.FeeCap.Cmp(big.NewInt(tc.cap)) > 0 || got.TipCap.Cmp(got.FeeCap) > 0) {
				t.Fatalf("bumped past the cap or tip above fee: %v/%v", got.TipCap, got.FeeCap)
			}
			if ok {
				// geth's own check: new ≥ old × 110 / 100 (rounded down).
				for _, p := range [][2]*big.Int{{got.TipCap, tc.old.TipCap}, {got.FeeCap, tc.old.FeeCap}} {
					th := new(big.Int).Div(new(big.Int).Mul(p[1], big.NewInt(110)), big.NewInt(100))
					if p[0].Cmp(th) < 0 || p[0].Cmp(p[1]) <= 0 {
						t.Fatalf("%v does not replace %v under geth's rule", p[0], p[1])
					}
				}
			}
		})
	}
}

// Fees from eth_feeHistory: median tip at the percentile (at least the
// minimum), twice the next base fee plus the tip, clipped to the cap; not
// sendable when the cap is below the next base fee plus the minimum tip.
func TestSuggestFees(t *testing.T) {
	hist := func(next int64, tips ...int64) chain.FeeHistory {
		h := chain.FeeHistory{BaseFees: []*big.Int{big.NewInt(next), big.NewInt(next)}}
		for _, tip := range tips {
			h.Rewards = append(h.Rewards, []*big.Int{big.NewInt(tip)})
		}
		return h
	}
	cases := []struct {
		name   string
		h      chain.FeeHistory
		minTip int64
		cap    int64
		want   Fees
		ok     bool
	}{
		{"median tip", hist(100, 5, 50, 7), 1, 10_000, fees(7, 207), true},
		{"minimum tip over empty blocks", hist(100, 0, 0, 0), 3, 10_000, fees(3, 203), true},
		{"clipped to the cap", hist(100, 5), 1, 150, fees(5, 150), true},
		{"cap below the next base fee", hist(100, 5), 1, 100, fees(5, 100), false},
		{"tip clipped to a tiny cap", hist(1, 500), 1, 10, fees(10, 10), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := suggestFees(tc.h, big.NewInt(tc.minTip), big.NewInt(tc.cap))
			if ok != tc.ok || got.TipCap.Cmp(tc.want.TipCap) != 0 || got.FeeCap.Cmp(tc.want.FeeCap) != 0 {
				t.Fatalf("suggestFees = %v/%v %v, want %v/%v %v", got.TipCap, got.FeeCap, ok, tc.want.TipCap, tc.want.FeeCap, tc.ok)
			}
		})
	}
}

// Abort rules: what a node's refusal of a send makes the relayer do.
func TestSendErrorAction(t *testing.T) {
	cases := []struct {
		msg  string
		want sendAction
	}{
		{"already known", sendOK},
		{"known transaction: 0xabc", sendOK},
		{"nonce too low: next nonce 2, tx nonce 1", sendResync},
		{"OldNonce", sendResync},
		{"replacement transaction underpriced", sendUnderfee},
		{"transaction underpriced: tip needed 1, tip permitted 0", sendUnderfee},
		{"max fee per gas less than block base fee: address 0x…, maxFeePerGas: 1, baseFee: 7", sendUnderfee},
		{"insufficient funds for gas * price + value: balance 0, tx cost 10", sendNoFunds},
		{"intrinsic gas too low", sendRetry},
		{"txpool is full", sendRetry},
	}
	for _, tc := range cases {
		if got := sendErrorAction(tc.msg); got != tc.want {
			t.Errorf("%q → %d, want %d", tc.msg, got, tc.want)
		}
	}
}

// Revert messages: the token's permanent refusals fail the authorization
// with their reason; others wait.
func TestRevertReason(t *testing.T) {
	cases := []struct{ msg, want string }{
		{"execution reverted: FiatTokenV2: authorization is used or canceled", ReasonUsed},
		{"execution reverted: FiatTokenV2: authorization is expired", ReasonExpired},
		{"execution reverted: FiatTokenV2: authorization is not yet valid", reasonNotYetValid},
		{"execution reverted: insufficient balance", ReasonBalance},
		{"execution reverted: ERC20: transfer amount exceeds balance", ReasonBalance},
		{"execution reverted: FiatTokenV2: invalid signature", ReasonBad},
		{"execution reverted: ECRecover: invalid signature 'v' value", ReasonBad},
		{"execution reverted: Pausable: paused", reasonUnknownRevert},
		{"execution reverted", reasonUnknownRevert},
	}
	for _, tc := range cases {
		if got := revertReason(tc.msg); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.msg, got, tc.want)
		}
	}
}

// v as 0/1 is sent as 27/28: the token takes only those.
func TestCalldataRaisesV(t *testing.T) {
	sig := make([]byte, 65)
	a := Authorization{ID: "x", Value: big.NewInt(1), ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(9), Signature: sig}
	for _, v := range []struct{ in, out byte }{{0, 27}, {1, 28}, {27, 27}, {28, 28}} {
		sig[64] = v.in
		data, err := transferCalldata(a)
		if err != nil {
			t.Fatal(err)
		}
		// selector, 6 words, then v as the 7th word.
		if got := data[4+6*32+31]; got != v.out {
			t.Errorf("v %d sent as %d, want %d", v.in, got, v.out)
		}
	}
	a.Signature = sig[:64]
	if _, err := transferCalldata(a); err == nil {
		t.Error("a 64-byte signature encoded, want an error")
	}
}
