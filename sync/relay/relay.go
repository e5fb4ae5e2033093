package relay

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock"
	"showpos/sync/chain"
)

// Authorization is one EIP-3009 authorization to settle with
// transferWithAuthorization on Token.
type Authorization struct {
	ID          string // the store's name for it (its payment); opaque here, unique
	Token       common.Address
	From        common.Address
	To          common.Address
	Value       *big.Int
	ValidAfter  *big.Int // unix seconds; the token wants block.timestamp > ValidAfter
	ValidBefore *big.Int // unix seconds; the token wants block.timestamp < ValidBefore
	Nonce       [32]byte
	Signature   []byte // 65 bytes r ‖ s ‖ v, v 27/28 or 0/1
}

// Queue is where the authorizations to settle come from.
type Queue interface {
	// Open returns up to limit authorizations without a final outcome
	// (neither OutcomeFinal nor OutcomeFailed reported for them), in the
	// order they were accepted, starting after the one whose ID is after
	// ("" for the first). Those a transaction in the Journal carries are
	// returned too; the relayer skips them.
	Open(after string, limit int) ([]Authorization, error)
}

// TxState is where a relayer transaction stands.
type TxState string

// Transaction states. Sent and Mined are live (Journal.Txs returns them);
// Final and Dropped are ended.
const (
	TxSent    TxState = "sent"    // signed and recorded; sent, or to be sent again
	TxMined   TxState = "mined"   // a receipt in a canonical block, not final yet
	TxFinal   TxState = "final"   // ended: its block is final (the outcome is reported first)
	TxDropped TxState = "dropped" // ended: another transaction took its nonce; its authorization waits for a new one (or failed, reported first)
)

// Tx is one relayer transaction: one nonce, one authorization, and every
// hash it was signed under as its fees were bumped (op-service/txmgr's
// "one logical transaction, many hashes").
type Tx struct {
	Nonce     uint64
	AuthID    string
	Token     common.Address
	From      common.Address // the authorization's, to find its AuthorizationUsed event
	AuthNonce [32]byte
	Hashes    []common.Hash // every hash signed, oldest first; the last is Raw's
	Raw       []byte        // the latest signed transaction, sent as is
	Fees      Fees          // Raw's
	SignedAt  time.Time     // when Raw was signed: the stuck delay counts from here
	State     TxState
	Block     *chain.BlockRef // the block it was mined in (Mined, Final)
}

// OutcomeState is what became of an authorization.
type OutcomeState string

// Outcome states. Final and Failed are final: the Queue stops returning
// the authorization.
const (
	OutcomeConfirmed   OutcomeState = "confirmed"   // settled in a canonical block, not final yet
	OutcomeUnconfirmed OutcomeState = "unconfirmed" // its block was reorganised away; it will be mined again
	OutcomeFinal       OutcomeState = "final"       // settled, block final
	OutcomeFailed      OutcomeState = "failed"      // will never settle; Reason says why
)

// Outcome is reported to the Journal for an authorization.
type Outcome struct {
	AuthID string
	State  OutcomeState
	Reason string          // for Failed: one of the Reason constants
	Tx     common.Hash     // the transaction that settled or failed it; zero when none was sent
	Block  *chain.BlockRef // its block, when mined
}

// Journal is the relayer's durable memory. Record is called for every
// transaction BEFORE it is sent, so a restart knows every hash that may be
// on chain; Report before a transaction is ended, so an authorization is
// never taken up again once settled.
type Journal interface {
	// Txs returns the live transactions (TxSent, TxMined), in nonce order.
	Txs() ([]Tx, error)
	// Record stores t durably, keyed by its Nonce: a new one, a new hash
	// of the same nonce (a fee bump), or a state change.
	Record(t Tx) error
	// Report stores an outcome durably. Reporting the same outcome twice
	// is harmless (a crash between Report and Record repeats it).
	Report(o Outcome) error
}

// Chain is what the relayer needs of one network (a *chain.Client).
type Chain interface {
	ChainID() uint64
	Account(ctx context.Context, addr, token common.Address, tx common.Hash) (chain.Account, error)
	NonceAt(ctx context.Context, addr common.Address, block string) (uint64, error)
	FeeHistory(ctx context.Context, blocks uint64, newest string, percentiles []float64) (chain.FeeHistory, error)
	Call(ctx context.Context, msg chain.CallMsg, block string) ([]byte, error)
	SendBatch(ctx context.Context, raws [][]byte) ([]error, error)
	Receipts(ctx context.Context, hashes []common.Hash) ([]*types.Receipt, error)
	Canonical(ctx context.Context, numbers []uint64) (chain.Canonical, error)
}

// Defaults for zero Options fields.
const (
	DefaultGasLimit      = 120_000 // transferWithAuthorization uses about 86,000 on FiatToken v2.2 and the test token
	DefaultStuckAfter    = 3 * time.Minute
	DefaultExpiryMargin  = 2 * time.Minute
	DefaultEvery         = 15 * time.Second
	DefaultFollowUp      = time.Second
	DefaultMaxInFlight   = 16 // geth keeps 16 executable transactions per account for sure (txpool AccountSlots)
	DefaultFinalDepth    = 64
	DefaultTipPercentile = 50
	DefaultLowCovers     = 20
)

// Options configure a Relayer. Key, Chain, Queue, Journal and MaxFeePerGas
// are required.
type Options struct {
	Key     *ecdsa.PrivateKey // the relayer account's (terminal/relaykey)
	Chain   Chain
	Queue   Queue
	Journal Journal
	// MaxFeePerGas caps the fee cap of every transaction, bumps included,
	// in wei: the most the merchant pays per gas.
	MaxFeePerGas *big.Int
	// MinTip is the least priority fee per gas offered; nil means 1 gwei.
	MinTip *big.Int
	// TipPercentile is the percentile of recent blocks' priority fees
	// offered (eth_feeHistory); 0 means 50.
	TipPercentile float64
	// GasLimit is each settlement's gas limit; 0 means DefaultGasLimit.
	GasLimit uint64
	// StuckAfter is how long a transaction may stay unmined before it is
	// replaced with fees 10% higher (or sent again unchanged when the cap
	// allows no bump); 0 means DefaultStuckAfter.
	StuckAfter time.Duration
	// ExpiryMargin: an authorization whose ValidBefore is closer than
	// this is not sent (it could not be mined in time) and fails with
	// ReasonExpired; 0 means DefaultExpiryMargin.
	ExpiryMargin time.Duration
	// MaxInFlight bounds the transactions sent and not mined yet: no new
	// one is signed while that many wait; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// FinalDepth is how deep a block must be to be final on a node
	// without the finalized tag; 0 means DefaultFinalDepth.
	FinalDepth uint64
	// LowCovers: Status.Low when the balance covers fewer settlements; 0
	// means DefaultLowCovers.
	LowCovers uint64
	// Every is Run's pause between rounds while no settlement waits to be
	// mined; Kick starts one sooner. 0 means DefaultEvery.
	Every time.Duration
	// FollowUp is Run's least pause after a round that leaves settlements
	// sent and not mined: the next round reads their receipts and sends
	// the next ones, so a backlog drains at the chain's pace, not one
	// MaxInFlight per Every. The pause doubles after each such round that
	// found nothing newly mined and halves after one that did, between
	// FollowUp and Every. 0 means DefaultFollowUp; more than Every means
	// Every.
	FollowUp time.Duration
	Clock    clock.Clock  // nil: clock.System
	Logger   *slog.Logger // nil discards
}

// ErrBadOptions is returned by New for missing or wrong Options.
var ErrBadOptions = errors.New("relay: bad options")

// Status is the relayer's health, for status and metrics.
type Status struct {
	Address  common.Address
	ChainID  uint64
	Balance  *big.Int // wei, at the pending block; nil before the first round reached the node
	FeeCap   *big.Int // the fee cap a settlement is sent with now (MaxFeePerGas before the first look)
	Covers   uint64   // settlements Balance pays for: Balance / (GasLimit × FeeCap)
	Low      bool     // Covers < LowCovers (or Balance not known)
	InFlight int      // live transactions
	Nonce    uint64   // the next nonce it will use
	// LastError is the last round's trouble ("" when it went through):
	// the relayer waits and tries again; payments keep being taken.
	LastError string
	At        time.Time // when the last round ended
}

// Relayer settles authorizations on one chain from one account. Its
// nonce, fees and balance are its own: a terminal on several chains runs
// one Relayer per chain client.
type Relayer struct {
	o    Options
	addr common.Address
	sign types.Signer
	log  *slog.Logger
	kick chan struct{}

	round  sync.Mutex // one round at a time; guards the fields below
	next   uint64     // the next nonce; valid when synced
	synced bool       // next was read from the chain (at start, after "nonce too low")
	resent bool       // live transactions were sent again once since start

	mu sync.Mutex
	st Status
}

// New checks o and builds a Relayer; it makes no call.
func New(o Options) (*Relayer, error) {
	switch {
	case o.Key == nil, o.Chain == nil, o.Queue == nil, o.Journal == nil:
		return nil, fmt.Errorf("%w: Key, Chain, Queue and Journal are required", ErrBadOptions)
	case o.MaxFeePerGas == nil || o.MaxFeePerGas.Sign() <= 0:
		return nil, fmt.Errorf("%w: MaxFeePerGas must be set", ErrBadOptions)
	case o.Every < 0 || o.FollowUp < 0:
		return nil, fmt.Errorf("%w: Every and FollowUp must not be negative (a round without pause)", ErrBadOptions)
	}
	if o.MinTip == nil {
		o.MinTip = big.NewInt(1e9)
	}
	if o.TipPercentile == 0 {
		o.TipPercentile = DefaultTipPercentile
	}
	if o.GasLimit == 0 {
		o.GasLimit = DefaultGasLimit
	}
	if o.StuckAfter == 0 {
		o.StuckAfter = DefaultStuckAfter
	}
	if o.ExpiryMargin == 0 {
		o.ExpiryMargin = DefaultExpiryMargin
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.FinalDepth == 0 {
		o.FinalDepth = DefaultFinalDepth
	}
	if o.LowCovers == 0 {
		o.LowCovers = DefaultLowCovers
	}
	if o.Every == 0 {
		o.Every = DefaultEvery
	}
	if o.FollowUp == 0 {
		o.FollowUp = DefaultFollowUp
	}
	o.FollowUp = min(o.FollowUp, o.Every)
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Relayer{
		o:    o,
		addr: crypto.PubkeyToAddress(o.Key.PublicKey),
		sign: types.LatestSignerForChainID(new(big.Int).SetUint64(o.Chain.ChainID())),
		log:  o.Logger.With("relayer", crypto.PubkeyToAddress(o.Key.PublicKey), "chainId", o.Chain.ChainID()),
		kick: make(chan struct{}, 1),
	}
	r.st = Status{Address: r.addr, ChainID: o.Chain.ChainID(), FeeCap: new(big.Int).Set(o.MaxFeePerGas), Low: true}
	return r, nil
}

// Address is the relayer account's address: the one to fund.
func (r *Relayer) Address() common.Address { return r.addr }

// Status returns the health seen by the last round.
func (r *Relayer) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	if st.Balance != nil {
		st.Balance = new(big.Int).Set(st.Balance)
	}
	st.FeeCap = new(big.Int).Set(st.FeeCap)
	return st
}

// Kick asks Run for a round now (a new authorization, the chain back
// online). It never blocks.
func (r *Relayer) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run does rounds until ctx ends: one at once, then one every
// Options.Every or on Kick while no settlement waits to be mined. While
// some do (a backlog going out MaxInFlight at a time, or one just sent),
// the next round comes after a follow-up pause (nextPause), to read their
// receipts and send the next ones. A round's trouble is logged and kept in
// Status, never returned: the relayer waits Every and tries again. It
// returns ctx's error; it starts no goroutine.
func (r *Relayer) Run(ctx context.Context) error {
	pause := r.o.FollowUp
	for {
		p, err := r.runRound(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("relay: round", "err", err)
		}
		var wait time.Duration
		wait, pause = nextPause(p, err != nil, pause, r.o.FollowUp, r.o.Every)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-r.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// nextPause is Run's wait after a round that did p (failed: returned an
// error), and the follow-up pause it keeps for the next. A failed round,
// or one that leaves nothing sent and unmined, waits every: offline
// nothing spins, and idle rounds stay at the poll. Otherwise the round
// after comes one follow-up pause later: halved (down to followUp) when
// this one found transactions newly mined, doubled (up to every) when it
// found none mined and sent none (a block slower than the pause, or a
// transaction lost until StuckAfter), kept when it only sent. So the
// pause settles near the chain's block time and the rounds stay within
// about two per block.
func nextPause(p progress, failed bool, pause, followUp, every time.Duration) (wait, next time.Duration) {
	switch {
	case failed || p.unmined == 0:
		return every, pause
	case p.mined > 0:
		pause = max(pause/2, followUp)
	case p.sent == 0:
		pause = min(pause*2, every)
	}
	return pause, pause
}

// covers is how many settlements balance pays for at feeCap.
func (r *Relayer) covers(balance, feeCap *big.Int) uint64 {
	per := new(big.Int).Mul(new(big.Int).SetUint64(r.o.GasLimit), feeCap)
	if per.Sign() <= 0 {
		return 0
	}
	n := new(big.Int).Quo(balance, per)
	if !n.IsUint64() {
		return ^uint64(0)
	}
	return n.Uint64()
}

// A *chain.Client is the Chain a Relayer is given.
var _ Chain = (*chain.Client)(nil)
