package devchain

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// Feed is a Chainlink-style price feed (tools/token/TestPriceFeed.sol)
// present on every dev chain from genesis, with round 1 answering Answer
// (Answer / 10^Decimals units of the quote currency for one whole unit of
// the base asset) at the time Start was called.
type Feed struct {
	Address     common.Address
	Description string // as description() returns it, e.g. "ETH / USD"
	Decimals    uint8
	Answer      int64 // round 1's answer
}

// The dev chain's feeds, at the addresses a Hardhat/Anvil deployer's 2nd,
// 3rd and 4th contracts get (the token is its 1st), 8 decimals as
// Chainlink's fiat pairs.
var (
	// FeedETHUSD prices ETH in US dollars: 3000.00.
	FeedETHUSD = Feed{common.HexToAddress("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"), "ETH / USD", 8, 3000_00000000}
	// FeedETHEUR prices ETH in euros: 2600.00.
	FeedETHEUR = Feed{common.HexToAddress("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"), "ETH / EUR", 8, 2600_00000000}
	// FeedTUSDEUR prices the test token, Test USD, in euros: 0.86.
	FeedTUSDEUR = Feed{common.HexToAddress("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"), "TUSD / EUR", 8, 86000000}
)

// Feeds returns every feed on the dev chain.
func Feeds() []Feed { return []Feed{FeedETHUSD, FeedETHEUR, FeedTUSDEUR} }

// FeedKeeperKey is the key of the account that posts rounds to the feeds
// (SetFeedRound, UpdateFeedAnswer), funded at genesis like a payer so that
// no payer's nonce moves: keccak256("showpos devnet feed keeper"). It is
// public knowledge; the feeds' setters are open to anyone anyway.
func FeedKeeperKey() *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("showpos devnet feed keeper")))
	if err != nil {
		panic(fmt.Sprintf("devchain: feed keeper key: %v", err))
	}
	return k
}

// FeedRound is one round of a feed as latestRoundData returns it; times
// are unix seconds. An AnsweredInRound below RoundID is an incomplete
// (carried-over) round.
type FeedRound struct {
	RoundID         uint64
	Answer          *big.Int
	StartedAt       uint64
	UpdatedAt       uint64
	AnsweredInRound uint64
}

// feedAccount is a feed's genesis account: its runtime code, decimals,
// description, and round 1 answering f.Answer, started and updated at.
func feedAccount(f Feed, at time.Time) types.Account {
	if len(f.Description) >= 32 {
		panic("devchain: a feed description must be under 32 bytes (a short string slot)")
	}
	// A string under 32 bytes is stored in its slot, left-aligned, with
	// twice its length in the last byte.
	var desc common.Hash
	copy(desc[:], f.Description)
	desc[31] = byte(2 * len(f.Description))
	round := big.NewInt(1)
	ts := common.BigToHash(big.NewInt(at.Unix()))
	return types.Account{
		Code: common.FromHex(feedRuntimeHex),
		Storage: map[common.Hash]common.Hash{
			slotHash(slotFeedDecimals):                  common.BigToHash(big.NewInt(int64(f.Decimals))),
			slotHash(slotFeedDescription):               desc,
			slotHash(slotFeedLatestRound):               common.BigToHash(round),
			mappingSlot(round, slotFeedAnswers):         common.BigToHash(big.NewInt(f.Answer)),
			mappingSlot(round, slotFeedStartedAt):       ts,
			mappingSlot(round, slotFeedUpdatedAt):       ts,
			mappingSlot(round, slotFeedAnsweredInRound): common.BigToHash(round),
		},
		Nonce:   1,
		Balance: new(big.Int),
	}
}

func slotHash(slot int64) common.Hash { return common.BigToHash(big.NewInt(slot)) }

// mappingSlot is where Solidity keeps m[key] for a mapping with a value
// key (an unsigned integer) at slot: keccak256(pad32(key) ++ pad32(slot)).
func mappingSlot(key *big.Int, slot int64) common.Hash {
	return crypto.Keccak256Hash(common.LeftPadBytes(key.Bytes(), 32), common.LeftPadBytes(big.NewInt(slot).Bytes(), 32))
}

var feedABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(FeedABI))
	if err != nil {
		panic(err)
	}
	return a
}()

// SetFeedRound makes r the latest round of the feed at feed
// (setRoundData), in a transaction from the feed keeper, and returns once
// it is mined.
func (c *Chain) SetFeedRound(ctx context.Context, feed common.Address, r FeedRound) error {
	if r.Answer == nil {
		return fmt.Errorf("%w: FeedRound without an answer", ErrBadOptions)
	}
	data, err := feedABI.Pack("setRoundData", new(big.Int).SetUint64(r.RoundID), r.Answer,
		new(big.Int).SetUint64(r.StartedAt), new(big.Int).SetUint64(r.UpdatedAt), new(big.Int).SetUint64(r.AnsweredInRound))
	if err != nil {
		return fmt.Errorf("devchain: pack setRoundData: %w", err)
	}
	return c.keeperCall(ctx, feed, data)
}

// UpdateFeedAnswer starts the feed's next round, complete, answering
// answer at the block's time (updateAnswer), and returns once it is mined:
// what a live feed's transmission does.
func (c *Chain) UpdateFeedAnswer(ctx context.Context, feed common.Address, answer *big.Int) error {
	data, err := feedABI.Pack("updateAnswer", answer)
	if err != nil {
		return fmt.Errorf("devchain: pack updateAnswer: %w", err)
	}
	return c.keeperCall(ctx, feed, data)
}

// HeartbeatFeed posts the feed's latest answer again as a new round at
// the block's time, as a live feed does when its heartbeat passes without
// a price move: cmd/devnet calls it so a long-running demo keeps a fresh
// rate.
func (c *Chain) HeartbeatFeed(ctx context.Context, feed common.Address) error {
	ec, err := ethclient.DialContext(ctx, c.endpoint)
	if err != nil {
		return fmt.Errorf("devchain: feed heartbeat: %w", err)
	}
	defer ec.Close()
	data, err := feedABI.Pack("latestAnswer")
	if err != nil {
		return fmt.Errorf("devchain: pack latestAnswer: %w", err)
	}
	out, err := ec.CallContract(ctx, ethereum.CallMsg{To: &feed, Data: data}, nil)
	if err != nil {
		return fmt.Errorf("devchain: latestAnswer of %s: %w", feed.Hex(), err)
	}
	vals, err := feedABI.Unpack("latestAnswer", out)
	if err != nil {
		return fmt.Errorf("devchain: latestAnswer of %s: %w", feed.Hex(), err)
	}
	return c.UpdateFeedAnswer(ctx, feed, vals[0].(*big.Int))
}

// keeperCall sends data to the feed from the keeper and waits for a
// successful receipt. Calls are one at a time (the keeper's nonce).
func (c *Chain) keeperCall(ctx context.Context, to common.Address, data []byte) error {
	c.keeperMu.Lock()
	defer c.keeperMu.Unlock()
	ec, err := ethclient.DialContext(ctx, c.endpoint)
	if err != nil {
		return fmt.Errorf("devchain: feed keeper: %w", err)
	}
	defer ec.Close()
	key := FeedKeeperKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil {
		return fmt.Errorf("devchain: feed keeper nonce: %w", err)
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("devchain: feed keeper head: %w", err)
	}
	tip := big.NewInt(1e9)
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(c.chainID), &types.DynamicFeeTx{
		ChainID:   c.chainID,
		Nonce:     nonce,
		GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip),
		Gas:       200_000,
		To:        &to,
		Data:      data,
	})
	if err != nil {
		return fmt.Errorf("devchain: feed keeper sign: %w", err)
	}
	if err := ec.SendTransaction(ctx, tx); err != nil {
		return fmt.Errorf("devchain: feed keeper send: %w", err)
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		rc, err := ec.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			if rc.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("devchain: feed keeper transaction %s reverted", tx.Hash().Hex())
			}
			// geth indexes a block's receipts a moment before it makes
			// the block its head: wait for the head, so a call at
			// "latest" made next reads the new round.
			if n, err := ec.BlockNumber(ctx); err == nil && n >= rc.BlockNumber.Uint64() {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devchain: feed keeper transaction %s: %w", tx.Hash().Hex(), ctx.Err())
		case <-tick.C:
		}
	}
}
