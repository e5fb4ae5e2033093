package chain

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// FeeHistory is a node's answer to eth_feeHistory: what the last blocks
// paid, for a sender that sets its own fees (the relayer).
type FeeHistory struct {
	OldestBlock uint64
	// BaseFees has one entry per block asked plus one: the last is the
	// base fee of the block after the newest one, the next to be mined.
	BaseFees []*big.Int
	// Rewards[i][j] is the priority fee per gas at the j-th percentile
	// asked, paid in block OldestBlock+i (zero for an empty block).
	Rewards [][]*big.Int
	// GasUsedRatio[i] is how full block OldestBlock+i was, 0 to 1.
	GasUsedRatio []float64
}

// NextBaseFee is the base fee of the next block.
func (h FeeHistory) NextBaseFee() *big.Int {
	if len(h.BaseFees) == 0 {
		return nil
	}
	return h.BaseFees[len(h.BaseFees)-1]
}

// FeeHistory asks eth_feeHistory for the blocks newest block back
// ("latest", "pending" or a 0x-hex number, as for NonceAt) with the
// priority fee at each percentile (0 to 100, ascending). Errors as for
// the other lookups; an answer without base fees (a chain before London)
// is ErrBadAnswer.
func (c *Client) FeeHistory(ctx context.Context, blocks uint64, newest string, percentiles []float64) (FeeHistory, error) {
	b, err := blockArg(newest)
	if err != nil {
		return FeeHistory{}, err
	}
	if blocks == 0 {
		return FeeHistory{}, fmt.Errorf("chain: eth_feeHistory of 0 blocks")
	}
	var res struct {
		OldestBlock  *hexutil.Uint64  `json:"oldestBlock"`
		BaseFee      []*hexutil.Big   `json:"baseFeePerGas"`
		Reward       [][]*hexutil.Big `json:"reward"`
		GasUsedRatio []float64        `json:"gasUsedRatio"`
	}
	if percentiles == nil {
		percentiles = []float64{}
	}
	if err := c.one(ctx, &res, "eth_feeHistory", hexutil.Uint64(blocks), b, percentiles); err != nil {
		return FeeHistory{}, err
	}
	if res.OldestBlock == nil || len(res.BaseFee) == 0 {
		return FeeHistory{}, fmt.Errorf("%w: eth_feeHistory without oldestBlock or baseFeePerGas", ErrBadAnswer)
	}
	out := FeeHistory{OldestBlock: uint64(*res.OldestBlock), GasUsedRatio: res.GasUsedRatio}
	for _, f := range res.BaseFee {
		if f == nil {
			return FeeHistory{}, fmt.Errorf("%w: eth_feeHistory: null base fee", ErrBadAnswer)
		}
		out.BaseFees = append(out.BaseFees, f.ToInt())
	}
	for _, row := range res.Reward {
		if len(row) != len(percentiles) {
			return FeeHistory{}, fmt.Errorf("%w: eth_feeHistory: %d rewards for %d percentiles", ErrBadAnswer, len(row), len(percentiles))
		}
		r := make([]*big.Int, len(row))
		for j, v := range row {
			if v == nil {
				return FeeHistory{}, fmt.Errorf("%w: eth_feeHistory: null reward", ErrBadAnswer)
			}
			r[j] = v.ToInt()
		}
		out.Rewards = append(out.Rewards, r)
	}
	return out, nil
}
