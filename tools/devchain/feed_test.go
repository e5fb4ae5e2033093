package devchain

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// The feeds sit at the addresses a Hardhat/Anvil deployer's 2nd to 4th
// contracts get, as the token sits at its 1st.
func TestFeedAddressesAreTheDeployersNextContracts(t *testing.T) {
	deployer := common.HexToAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266") // Hardhat account #0
	if got := crypto.CreateAddress(deployer, 0); got != TokenAddr {
		t.Fatalf("nonce 0 makes %s, the token is at %s", got, TokenAddr)
	}
	for i, f := range Feeds() {
		if got := crypto.CreateAddress(deployer, uint64(i+1)); got != f.Address {
			t.Errorf("%s at %s, the deployer's nonce %d makes %s", f.Description, f.Address, i+1, got)
		}
	}
}

func callFeed(t *testing.T, ec *ethclient.Client, feed common.Address, method string, args ...any) ([]any, error) {
	t.Helper()
	data, err := feedABI.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ec.CallContract(context.Background(), ethereum.CallMsg{To: &feed, Data: data}, nil)
	if err != nil {
		return nil, err
	}
	vals, err := feedABI.Unpack(method, out)
	if err != nil {
		t.Fatalf("unpack %s: %v", method, err)
	}
	return vals, nil
}

func latestRound(t *testing.T, ec *ethclient.Client, feed common.Address) FeedRound {
	t.Helper()
	v, err := callFeed(t, ec, feed, "latestRoundData")
	if err != nil {
		t.Fatalf("latestRoundData: %v", err)
	}
	return FeedRound{RoundID: v[0].(*big.Int).Uint64(), Answer: v[1].(*big.Int), StartedAt: v[2].(*big.Int).Uint64(),
		UpdatedAt: v[3].(*big.Int).Uint64(), AnsweredInRound: v[4].(*big.Int).Uint64()}
}

// Every feed answers as an AggregatorV3 from genesis: its decimals,
// description, version, and round 1 answered when Start ran.
func TestFeedsAnswerFromGenesis(t *testing.T) {
	c := startChain(t, Options{Payers: 1})
	ec := dial(t, c)
	at := uint64(c.FeedsStarted().Unix())
	if d := time.Since(c.FeedsStarted()); d < 0 || d > time.Minute {
		t.Fatalf("FeedsStarted %v is not about now", c.FeedsStarted())
	}
	for _, f := range Feeds() {
		if v, err := callFeed(t, ec, f.Address, "decimals"); err != nil || v[0].(uint8) != f.Decimals {
			t.Errorf("%s decimals() = %v, %v", f.Description, v, err)
		}
		if v, err := callFeed(t, ec, f.Address, "description"); err != nil || v[0].(string) != f.Description {
			t.Errorf("%s description() = %v, %v", f.Description, v, err)
		}
		if v, err := callFeed(t, ec, f.Address, "version"); err != nil || v[0].(*big.Int).Sign() != 0 {
			t.Errorf("%s version() = %v, %v", f.Description, v, err)
		}
		r := latestRound(t, ec, f.Address)
		if r.RoundID != 1 || r.Answer.Int64() != f.Answer || r.StartedAt != at || r.UpdatedAt != at || r.AnsweredInRound != 1 {
			t.Errorf("%s latestRoundData() = %+v, want round 1 answering %d at %d", f.Description, r, f.Answer, at)
		}
	}
}

// The setters make the rounds a terminal must judge: any round with any
// fields (setRoundData), and a fresh complete round at the block's time
// (updateAnswer). getRoundData reverts for a round never set, as
// Chainlink's aggregators do.
func TestFeedSettersMakeRounds(t *testing.T) {
	c := startChain(t, Options{Payers: 1})
	ec := dial(t, c)
	ctx := context.Background()
	f := FeedETHUSD.Address

	incomplete := FeedRound{RoundID: 7, Answer: big.NewInt(-5), StartedAt: 100, UpdatedAt: 200, AnsweredInRound: 6}
	if err := c.SetFeedRound(ctx, f, incomplete); err != nil {
		t.Fatal(err)
	}
	if got := latestRound(t, ec, f); got.RoundID != 7 || got.Answer.Int64() != -5 || got.StartedAt != 100 || got.UpdatedAt != 200 || got.AnsweredInRound != 6 {
		t.Fatalf("after setRoundData: %+v", got)
	}

	if err := c.UpdateFeedAnswer(ctx, f, big.NewInt(3100_00000000)); err != nil {
		t.Fatal(err)
	}
	got := latestRound(t, ec, f)
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.RoundID != 8 || got.Answer.Int64() != 3100_00000000 || got.UpdatedAt != head.Time || got.AnsweredInRound != 8 {
		t.Fatalf("after updateAnswer: %+v (head time %d)", got, head.Time)
	}
	if v, err := callFeed(t, ec, f, "getRoundData", big.NewInt(7)); err != nil || v[1].(*big.Int).Int64() != -5 {
		t.Fatalf("getRoundData(7) = %v, %v", v, err)
	}
	if _, err := callFeed(t, ec, f, "getRoundData", big.NewInt(3)); err == nil || !strings.Contains(err.Error(), "No data present") {
		t.Fatalf("getRoundData of a round never set: %v, want the revert No data present", err)
	}
	// The other feeds are untouched.
	if r := latestRound(t, ec, FeedETHEUR.Address); r.RoundID != 1 {
		t.Fatalf("ETH / EUR moved: %+v", r)
	}
}
