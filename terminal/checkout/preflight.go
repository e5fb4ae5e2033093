package checkout

import (
	"context"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/store"
)

// Preflight is what the till asks one network about a handed-over
// payment's sender before accepting it (the online pre-flight). A
// terminal on several networks has one per network (Options.Preflights). sync/preflight
// implements it over a sync/chain client.
type Preflight interface {
	// Sender returns what the network says now of q.From, in one round
	// trip. Any error means the network could not say (offline, slow,
	// answering nonsense): the till then accepts on the offline check
	// alone. ctx carries the budget. An error wrapping
	// ErrPreflightOffline says the network is known to be offline and
	// nothing was asked.
	Sender(ctx context.Context, q SenderQuery) (SenderState, error)
}

// ErrPreflightOffline is a Preflight's answer while its network is known
// to be offline (nothing asked). The till counts the payment skipped as
// for any failure, but does not log it: offline is the terminal's normal
// state for hours, and the network's client logs going offline and back.
var ErrPreflightOffline = errors.New("pre-flight: network offline")

// SenderQuery is what the pre-flight asks.
type SenderQuery struct {
	From  common.Address
	Token common.Address // the payment's ERC-20 contract; zero: native
	Tx    common.Hash    // the payment itself: a node may know it already
}

// SenderState is a network's answer.
type SenderState struct {
	Nonce        uint64   // the sender's pending nonce (eth_getTransactionCount "pending")
	Balance      *big.Int // native balance, wei
	TokenBalance *big.Int // balanceOf(From) of Token; nil when Token is zero
	TxKnown      bool     // the node already has the payment, in its pool or in a block
}

// Pre-flight outcomes, for Options.OnPreflight (metrics).
const (
	PreflightOK      = "ok"      // the chain answered and the payment can be mined as it is
	PreflightRefused = "refused" // the chain answered and it cannot: refused with a code
	PreflightSkipped = "skipped" // the chain did not answer in the budget: accepted offline
)

// maxHeldAhead bounds how many of the sender's nonces between its pending
// nonce and the payment's the till looks for among the payments it holds.
const maxHeldAhead = 16

// preflight asks the pre-flight of o's network, within that network's
// budget, whether pay can be mined as it is. It returns nil (go on and
// store it), or a *check.Refusal: nonce_used, nonce_gap,
// insufficient_funds. A network that does not answer in time, or fails,
// refuses nothing: that is counted as skipped (and logged, unless the
// network is known offline: ErrPreflightOffline), and the payment is
// judged as offline. A network without a pre-flight is not asked.
func (s *Service) preflight(ctx context.Context, o option, pay check.Payment) error {
	budget := o.net.Chain.PreflightBudget
	if s.pre == nil || budget <= 0 {
		return nil
	}
	pre := s.pre(o.ChainID)
	if pre == nil {
		return nil
	}
	a := o.asset
	// This very transaction is stored already: the store answers it (the
	// earlier receipt, or tx_reused), whatever the chain says of it now.
	if _, err := s.store.Payment(pay.TxHash); err == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	st, err := pre.Sender(cctx, SenderQuery{From: pay.From, Token: a.Token, Tx: pay.TxHash})
	if err == nil && (st.Balance == nil || (a.Token != (common.Address{}) && st.TokenBalance == nil)) {
		err = errors.New("the answer has no balance")
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the payer went away: nothing to decide
		}
		if !errors.Is(err, ErrPreflightOffline) {
			s.log.Info("pre-flight skipped: accepting on the offline check", "tx", pay.TxHash.Hex(), "network", o.net.Name, "budget", budget, "err", err)
		}
		s.preflightOutcome(o.net.Name, PreflightSkipped)
		return nil
	}
	if r := s.judge(o, pay, st); r != nil {
		s.log.Info("pre-flight refused", "tx", pay.TxHash.Hex(), "network", o.net.Name, "from", pay.From.Hex(), "code", r.Code, "why", r.Msg)
		s.preflightOutcome(o.net.Name, PreflightRefused)
		return r
	}
	s.preflightOutcome(o.net.Name, PreflightOK)
	return nil
}

func (s *Service) preflightOutcome(network, o string) {
	if s.onPreflight != nil {
		s.onPreflight(network, o)
	}
}

// judge decides the pre-flight from the network's answer st.
func (s *Service) judge(o option, pay check.Payment, st SenderState) *check.Refusal {
	a := o.asset
	if st.TxKnown {
		return nil // on its way already: its nonce and funds are spoken for by itself
	}
	switch {
	case pay.Nonce < st.Nonce:
		return check.Refuse(check.CodeNonceUsed, "nonce %d of %s is used: its next nonce on %s is %d", pay.Nonce, pay.From.Hex(), o.net.Name, st.Nonce)
	case pay.Nonce > st.Nonce && !s.heldUpTo(o.ChainID, pay.From, st.Nonce, pay.Nonce):
		return check.Refuse(check.CodeNonceGap, "nonce %d of %s leaves a gap: its next nonce on %s is %d", pay.Nonce, pay.From.Hex(), o.net.Name, st.Nonce)
	}
	gas := new(big.Int).Mul(new(big.Int).SetUint64(pay.Gas), pay.FeeCap)
	if a.Token == (common.Address{}) {
		need := new(big.Int).Add(pay.Paid, gas)
		if st.Balance.Cmp(need) < 0 {
			return check.Refuse(check.CodeInsufficientFunds, "%s holds %s %s, the payment and its gas need %s", pay.From.Hex(),
				asset.FormatAmount(st.Balance, a.Decimals), o.label(), asset.FormatAmount(need, a.Decimals))
		}
		return nil
	}
	if st.TokenBalance.Cmp(pay.Paid) < 0 {
		return check.Refuse(check.CodeInsufficientFunds, "%s holds %s %s, the payment is %s", pay.From.Hex(),
			asset.FormatAmount(st.TokenBalance, a.Decimals), o.label(), asset.FormatAmount(pay.Paid, a.Decimals))
	}
	if st.Balance.Cmp(gas) < 0 {
		return check.Refuse(check.CodeInsufficientFunds, "%s holds %s wei on %s, the gas may cost %s wei", pay.From.Hex(), st.Balance, o.net.Name, gas)
	}
	return nil
}

// heldUpTo reports whether the till holds an open (queued or broadcast)
// payment of from on chain id at every nonce in [next, nonce): they go to
// the chain before this one, so nonce is no gap. A payment held on another
// chain fills no gap on this one. (Their cost is not taken from the
// balance judged: a payer short of money for all of them is caught by the
// node when they are sent.)
func (s *Service) heldUpTo(chainID uint64, from common.Address, next, nonce uint64) bool {
	if nonce-next > maxHeldAhead {
		return false
	}
	for n := next; n < nonce; n++ {
		p, err := s.store.Chain(chainID).PaymentBySenderNonce(from, n)
		if err != nil || (p.State != store.PaymentQueued && p.State != store.PaymentBroadcast) {
			return false
		}
	}
	return true
}
