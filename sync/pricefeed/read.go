package pricefeed

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// aggregatorV3 is the part of Chainlink's AggregatorV3Interface
// (contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol) the
// terminal calls.
const aggregatorV3 = `[
{"type":"function","name":"decimals","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint8"}]},
{"type":"function","name":"description","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"string"}]},
{"type":"function","name":"latestRoundData","stateMutability":"view","inputs":[],"outputs":[
 {"name":"roundId","type":"uint80"},{"name":"answer","type":"int256"},{"name":"startedAt","type":"uint256"},
 {"name":"updatedAt","type":"uint256"},{"name":"answeredInRound","type":"uint80"}]}
]`

// Round is a feed's answer to latestRoundData(), as the contract gave it.
type Round struct {
	RoundID         *big.Int
	Answer          *big.Int
	StartedAt       *big.Int // unix seconds
	UpdatedAt       *big.Int // unix seconds
	AnsweredInRound *big.Int
}

// Caller is the chain access the rates need (sync/chain.Client): eth_call
// at the latest block.
type Caller interface {
	CallContract(ctx context.Context, to common.Address, data []byte) ([]byte, error)
}

// reader calls feeds through the ABI, each over its network's Caller.
type reader struct {
	abi abi.ABI
}

func newReader() (*reader, error) {
	a, err := abi.JSON(strings.NewReader(aggregatorV3))
	if err != nil {
		return nil, fmt.Errorf("pricefeed: AggregatorV3 ABI: %w", err)
	}
	return &reader{abi: a}, nil
}

func (r *reader) call(ctx context.Context, c Caller, feed common.Address, method string) ([]any, error) {
	data, err := r.abi.Pack(method)
	if err != nil {
		return nil, fmt.Errorf("pricefeed: pack %s: %w", method, err)
	}
	out, err := c.CallContract(ctx, feed, data)
	if err != nil {
		return nil, fmt.Errorf("%s() on %s: %w", method, feed.Hex(), err)
	}
	vals, err := r.abi.Unpack(method, out)
	if err != nil {
		// An address without code answers 0x: not a feed (or the wrong
		// network).
		return nil, fmt.Errorf("%s() on %s: not an AggregatorV3 answer (%d bytes): %w", method, feed.Hex(), len(out), err)
	}
	return vals, nil
}

// Decimals reads the feed's decimals().
func (r *reader) Decimals(ctx context.Context, c Caller, feed common.Address) (uint8, error) {
	vals, err := r.call(ctx, c, feed, "decimals")
	if err != nil {
		return 0, err
	}
	return vals[0].(uint8), nil
}

// Latest reads the feed's latestRoundData().
func (r *reader) Latest(ctx context.Context, c Caller, feed common.Address) (Round, error) {
	vals, err := r.call(ctx, c, feed, "latestRoundData")
	if err != nil {
		return Round{}, err
	}
	// Unpack gives uint80, int256 and uint256 as *big.Int, in order.
	return Round{RoundID: vals[0].(*big.Int), Answer: vals[1].(*big.Int), StartedAt: vals[2].(*big.Int),
		UpdatedAt: vals[3].(*big.Int), AnsweredInRound: vals[4].(*big.Int)}, nil
}
