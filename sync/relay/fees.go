package relay

import (
	"math/big"
	"slices"

	"showpos/sync/chain"
)

// Fees are the two EIP-1559 fee fields of a transaction, in wei per gas.
type Fees struct {
	TipCap *big.Int // max priority fee per gas
	FeeCap *big.Int // max fee per gas
}

// suggestFees turns a fee history into fees for a transaction sent now:
// the tip is the median, over the blocks asked, of the priority fee paid
// at Options.TipPercentile, at least minTip; the fee cap is twice the next
// block's base fee plus the tip (room for six full blocks of base fee
// rises, as go-ethereum's and ethers' defaults), at most maxFee. ok is
// false when even maxFee is below the next base fee plus minTip: nothing
// sent now would be mined.
func suggestFees(h chain.FeeHistory, minTip, maxFee *big.Int) (f Fees, ok bool) {
	base := h.NextBaseFee()
	if base == nil {
		base = new(big.Int)
	}
	var tips []*big.Int
	for _, row := range h.Rewards {
		if len(row) > 0 {
			tips = append(tips, row[0])
		}
	}
	tip := new(big.Int).Set(minTip)
	if len(tips) > 0 {
		slices.SortFunc(tips, func(a, b *big.Int) int { return a.Cmp(b) })
		if med := tips[len(tips)/2]; med.Cmp(tip) > 0 {
			tip.Set(med)
		}
	}
	fee := new(big.Int).Add(new(big.Int).Lsh(base, 1), tip)
	if fee.Cmp(maxFee) > 0 {
		fee.Set(maxFee)
	}
	if tip.Cmp(fee) > 0 {
		tip.Set(fee)
	}
	floor := new(big.Int).Add(base, minTip)
	return Fees{TipCap: tip, FeeCap: fee}, fee.Cmp(floor) >= 0
}

// priceBump is geth's replacement rule (txpool.Config.PriceBump): a
// transaction replaces a pending one of the same nonce only if both fee
// fields are at least 10% higher.
const priceBump = 10

// bumped returns x raised by priceBump percent, rounded up, so that it
// passes geth's check (which rounds its threshold down) for every x, 1
// wei included.
func bumped(x *big.Int) *big.Int {
	n := new(big.Int).Mul(x, big.NewInt(100+priceBump))
	q, r := new(big.Int).QuoRem(n, big.NewInt(100), new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// bumpFees returns the fees to replace a stuck transaction sent with old:
// each field the larger of the suggestion now and old raised by 10%; the
// fee cap at most maxFee and the tip at most the fee cap. ok is false when
// the cap leaves either field short of the 10% a node requires: the
// transaction cannot be replaced and is sent again unchanged instead.
func bumpFees(old, now Fees, maxFee *big.Int) (Fees, bool) {
	minTip, minFee := bumped(old.TipCap), bumped(old.FeeCap)
	tip := maxBig(now.TipCap, minTip)
	fee := maxBig(now.FeeCap, minFee)
	if fee.Cmp(maxFee) > 0 {
		fee = new(big.Int).Set(maxFee)
	}
	if tip.Cmp(fee) > 0 {
		tip = new(big.Int).Set(fee)
	}
	if fee.Cmp(minFee) < 0 || tip.Cmp(minTip) < 0 {
		return old, false
	}
	return Fees{TipCap: tip, FeeCap: fee}, true
}

func maxBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}
