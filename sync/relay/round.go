package relay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/chain"
)

// feeBlocks is how many recent blocks eth_feeHistory is asked about.
const feeBlocks = 5

// Errors a round reports (in Status.LastError) while it waits.
var (
	ErrFeesAboveCap = errors.New("relay: the next block's base fee is above MaxFeePerGas; settlements wait")
	ErrLowBalance   = errors.New("relay: the relayer's balance does not cover the gas of the next settlement; fund it")
)

// Round does one pass: it reads the relayer's account and the fees, follows
// every live transaction (receipts, reorgs, a nonce taken by another
// transaction, stuck ones replaced), then signs and records new
// settlements and sends everything due in one batch, in nonce order. Run
// calls it; tests call it directly. Rounds never overlap.
func (r *Relayer) Round(ctx context.Context) error {
	_, err := r.runRound(ctx)
	return err
}

// progress is what a round did, for Run's pace (nextPause).
type progress struct {
	unmined int // transactions sent and not mined when it ended
	mined   int // transactions unmined when it started that it found mined, or ended
	sent    int // transactions it sent: new ones, replacements, the same again
}

func (r *Relayer) runRound(ctx context.Context) (progress, error) {
	r.round.Lock()
	defer r.round.Unlock()
	p, err := r.doRound(ctx)
	r.mu.Lock()
	r.st.At = r.o.Clock.Now()
	r.st.LastError = ""
	if err != nil {
		r.st.LastError = err.Error()
	}
	r.st.Nonce = r.next
	r.mu.Unlock()
	return p, err
}

func (r *Relayer) doRound(ctx context.Context) (progress, error) {
	var p progress
	now := r.o.Clock.Now()
	c := r.o.Chain
	// The mined count is read before the receipts: a nonce counted here
	// whose transaction has none of our hashes was taken by another one.
	mined, err := c.NonceAt(ctx, r.addr, "latest")
	if err != nil {
		return p, fmt.Errorf("relay: nonce: %w", err)
	}
	acct, err := c.Account(ctx, r.addr, common.Address{}, common.Hash{})
	if err != nil {
		return p, fmt.Errorf("relay: account: %w", err)
	}
	hist, err := c.FeeHistory(ctx, feeBlocks, "latest", []float64{r.o.TipPercentile})
	if err != nil {
		return p, fmt.Errorf("relay: fees: %w", err)
	}
	fees, feesOK := suggestFees(hist, r.o.MinTip, r.o.MaxFeePerGas)
	r.health(acct.Balance, fees.FeeCap)

	txs, err := r.o.Journal.Txs()
	if err != nil {
		return p, fmt.Errorf("relay: journal: %w", err)
	}
	if !r.synced {
		r.next = acct.Nonce
		r.synced = true
		r.log.Info("relay: nonce from the chain", "pending", acct.Nonce, "live", len(txs))
	}
	unmined := make(map[uint64]bool, len(txs))
	for _, t := range txs {
		r.next = max(r.next, t.Nonce+1)
		if t.State == TxSent {
			unmined[t.Nonce] = true
		}
	}

	live, due, err := r.follow(ctx, txs, mined, fees, now)
	if err != nil {
		return p, err
	}
	p.mined = len(unmined)
	for _, t := range live {
		if t.State == TxSent {
			p.unmined++
			if unmined[t.Nonce] {
				p.mined--
			}
		}
	}
	fresh, prepErr := r.prepare(ctx, live, fees, feesOK, acct.Balance, now)
	due = append(due, fresh...)
	p.unmined += len(fresh)
	r.mu.Lock()
	r.st.InFlight = len(live) + len(fresh)
	r.mu.Unlock()
	if err := r.send(ctx, due); err != nil {
		return p, err
	}
	p.sent = len(due)
	return p, prepErr
}

// health updates the balance part of Status.
func (r *Relayer) health(balance, feeCap *big.Int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Balance = new(big.Int).Set(balance)
	r.st.FeeCap = new(big.Int).Set(feeCap)
	r.st.Covers = r.covers(balance, feeCap)
	r.st.Low = r.st.Covers < r.o.LowCovers
}

// follow judges every live transaction by its receipts and the canonical
// chain, and returns those still live and those to send now (again, or
// replaced with higher fees).
func (r *Relayer) follow(ctx context.Context, txs []Tx, mined uint64, fees Fees, now time.Time) (live, due []Tx, err error) {
	if len(txs) == 0 {
		r.resent = true
		return nil, nil, nil
	}
	var hashes []common.Hash
	for _, t := range txs {
		hashes = append(hashes, t.Hashes...)
	}
	receipts, err := r.o.Chain.Receipts(ctx, hashes)
	if err != nil {
		return nil, nil, fmt.Errorf("relay: receipts: %w", err)
	}
	found := make([]*types.Receipt, len(txs))
	var heights []uint64
	k := 0
	for i, t := range txs {
		for range t.Hashes {
			if rc := receipts[k]; rc != nil && rc.BlockNumber != nil {
				found[i] = rc
				heights = append(heights, rc.BlockNumber.Uint64())
			}
			k++
		}
	}
	var canon chain.Canonical
	if len(heights) > 0 {
		slices.Sort(heights)
		heights = slices.Compact(heights)
		if canon, err = r.o.Chain.Canonical(ctx, heights); err != nil {
			return nil, nil, fmt.Errorf("relay: canonical headers: %w", err)
		}
	}
	for i, t := range txs {
		var ended bool
		if rc := found[i]; rc != nil {
			ended, err = r.judgeMined(ctx, &t, rc, heights, canon)
			if err != nil {
				return nil, nil, err
			}
			if !ended {
				live = append(live, t)
			}
			continue
		}
		if t.State == TxMined {
			// Its block was reorganised away (TxNotMined): it goes back
			// to the pool's care, and the payment back to waiting.
			r.log.Warn("relay: settlement's block left the chain", "auth", t.AuthID, "nonce", t.Nonce)
			if err := r.o.Journal.Report(Outcome{AuthID: t.AuthID, State: OutcomeUnconfirmed}); err != nil {
				return nil, nil, fmt.Errorf("relay: journal: %w", err)
			}
			t.State, t.Block = TxSent, nil
			if err := r.o.Journal.Record(t); err != nil {
				return nil, nil, fmt.Errorf("relay: journal: %w", err)
			}
			if mined <= t.Nonce {
				// A node that lost the block does not put its
				// transactions back in the pool: send it again now.
				live, due = append(live, t), append(due, t)
				continue
			}
		}
		if mined > t.Nonce {
			if err := r.dropped(ctx, t); err != nil {
				return nil, nil, err
			}
			continue
		}
		live = append(live, t)
		switch {
		case !r.resent:
			due = append(due, t) // once after start: a crash may have come between Record and send
		case now.Sub(t.SignedAt) >= r.o.StuckAfter:
			nt, err := r.replace(t, fees, now)
			if err != nil {
				return nil, nil, err
			}
			live[len(live)-1] = nt
			due = append(due, nt)
		}
	}
	return live, due, nil
}

// judgeMined handles a transaction with a receipt. It reports whether the
// transaction ended.
func (r *Relayer) judgeMined(ctx context.Context, t *Tx, rc *types.Receipt, heights []uint64, canon chain.Canonical) (bool, error) {
	n := rc.BlockNumber.Uint64()
	i, _ := slices.BinarySearch(heights, n)
	if h := canon.Headers[i]; h == nil || h.Hash != rc.BlockHash {
		return false, nil // that node's view is behind or on another fork: wait
	}
	ref := &chain.BlockRef{Number: n, Hash: rc.BlockHash}
	final := canon.Latest.Number+1 >= n+r.o.FinalDepth
	if canon.Finalized != nil {
		final = final || canon.Finalized.Number >= n
	}
	moved := t.State != TxMined || t.Block == nil || *t.Block != *ref
	settled := rc.Status == types.ReceiptStatusSuccessful && usedIn(rc, t.Token, t.From, t.AuthNonce)
	if moved {
		if settled {
			if err := r.o.Journal.Report(Outcome{AuthID: t.AuthID, State: OutcomeConfirmed, Tx: rc.TxHash, Block: ref}); err != nil {
				return false, fmt.Errorf("relay: journal: %w", err)
			}
		}
		t.State, t.Block = TxMined, ref
		if err := r.o.Journal.Record(*t); err != nil {
			return false, fmt.Errorf("relay: journal: %w", err)
		}
	}
	if !final {
		return false, nil
	}
	o := Outcome{AuthID: t.AuthID, State: OutcomeFinal, Tx: rc.TxHash, Block: ref}
	if !settled {
		reason, retry, err := r.revertCause(ctx, *t)
		if err != nil {
			return false, err
		}
		if retry {
			// It would go through now (the payer topped up): the
			// authorization waits for a new transaction.
			r.log.Info("relay: reverted settlement would pass now; trying again", "auth", t.AuthID)
			t.State = TxDropped
			if err := r.o.Journal.Record(*t); err != nil {
				return false, fmt.Errorf("relay: journal: %w", err)
			}
			return true, nil
		}
		o.State, o.Reason = OutcomeFailed, reason
	}
	if err := r.o.Journal.Report(o); err != nil {
		return false, fmt.Errorf("relay: journal: %w", err)
	}
	t.State = TxFinal
	if err := r.o.Journal.Record(*t); err != nil {
		return false, fmt.Errorf("relay: journal: %w", err)
	}
	r.log.Info("relay: settlement final", "auth", t.AuthID, "state", o.State, "reason", o.Reason, "tx", rc.TxHash)
	return true, nil
}

// revertCause finds why a mined settlement reverted, asking the chain as
// it is now: the authorization used (by someone else: ours reverted), or
// the token's revert message when the call is made again. retry is true
// when the call would pass now.
func (r *Relayer) revertCause(ctx context.Context, t Tx) (reason string, retry bool, err error) {
	used, err := r.authUsed(ctx, t.Token, t.From, t.AuthNonce, "latest")
	if err != nil || used {
		return ReasonUsed, false, err
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(t.Raw); err != nil {
		return "", false, fmt.Errorf("relay: journal holds an undecodable transaction at nonce %d: %w", t.Nonce, err)
	}
	msg, err := r.simulate(ctx, t.Token, tx.Data(), "latest")
	switch {
	case err != nil:
		return "", false, err
	case msg == "":
		return "", true, nil
	}
	switch reason := revertReason(msg); reason {
	case ReasonUsed, ReasonBalance, ReasonExpired, ReasonBad:
		return reason, false, nil
	}
	return ReasonReverted, false, nil
}

// dropped ends a transaction whose nonce another transaction took. Its
// authorization fails if the payer used it elsewhere, else waits for a
// new transaction.
func (r *Relayer) dropped(ctx context.Context, t Tx) error {
	used, err := r.authUsed(ctx, t.Token, t.From, t.AuthNonce, "latest")
	if err != nil {
		return err
	}
	if used {
		if err := r.o.Journal.Report(Outcome{AuthID: t.AuthID, State: OutcomeFailed, Reason: ReasonUsed}); err != nil {
			return fmt.Errorf("relay: journal: %w", err)
		}
	}
	r.log.Warn("relay: another transaction took a settlement's nonce", "auth", t.AuthID, "nonce", t.Nonce, "usedElsewhere", used)
	t.State = TxDropped
	if err := r.o.Journal.Record(t); err != nil {
		return fmt.Errorf("relay: journal: %w", err)
	}
	return nil
}

// replace signs a stuck transaction again with the same nonce and fees
// 10% higher (bumpFees), records the new hash beside the old ones, and
// returns it to send. When the cap allows no bump it returns t unchanged,
// to be sent again as it is.
func (r *Relayer) replace(t Tx, now Fees, at time.Time) (Tx, error) {
	nf, ok := bumpFees(t.Fees, now, r.o.MaxFeePerGas)
	if !ok {
		r.log.Warn("relay: stuck settlement at the fee cap; sending it again unchanged", "auth", t.AuthID, "nonce", t.Nonce, "feeCap", t.Fees.FeeCap)
		return t, nil
	}
	var old types.Transaction
	if err := old.UnmarshalBinary(t.Raw); err != nil {
		return t, fmt.Errorf("relay: journal holds an undecodable transaction at nonce %d: %w", t.Nonce, err)
	}
	tx, raw, err := r.signTx(t.Nonce, t.Token, old.Data(), nf)
	if err != nil {
		return t, err
	}
	t.Hashes = append(slices.Clone(t.Hashes), tx.Hash())
	t.Raw, t.Fees, t.SignedAt = raw, nf, at
	if err := r.o.Journal.Record(t); err != nil {
		return t, fmt.Errorf("relay: journal: %w", err)
	}
	r.log.Info("relay: stuck settlement replaced", "auth", t.AuthID, "nonce", t.Nonce, "tx", tx.Hash(), "feeCap", nf.FeeCap, "tip", nf.TipCap)
	return t, nil
}

// prepare signs and records settlements for open authorizations no live
// transaction carries, until MaxInFlight wait or the balance is spent. Its
// error (fees above the cap, balance too low, a queue or node failure)
// leaves what it prepared to be sent.
func (r *Relayer) prepare(ctx context.Context, live []Tx, fees Fees, feesOK bool, balance *big.Int, now time.Time) ([]Tx, error) {
	carried := make(map[string]bool, len(live))
	waiting := 0
	spent := new(big.Int)
	for _, t := range live {
		carried[t.AuthID] = true
		if t.State == TxSent {
			waiting++
			spent.Add(spent, new(big.Int).Mul(new(big.Int).SetUint64(r.o.GasLimit), t.Fees.FeeCap))
		}
	}
	var out []Tx
	after := ""
	limit := 2 * r.o.MaxInFlight
	for waiting < r.o.MaxInFlight {
		auths, err := r.o.Queue.Open(after, limit)
		if err != nil {
			return out, fmt.Errorf("relay: queue: %w", err)
		}
		for _, a := range auths {
			after = a.ID
			if carried[a.ID] || waiting >= r.o.MaxInFlight {
				continue
			}
			reason, ok, err := r.check(ctx, a, now)
			if err != nil {
				return out, err
			}
			if reason != "" {
				r.log.Info("relay: authorization failed before sending", "auth", a.ID, "reason", reason)
				if err := r.o.Journal.Report(Outcome{AuthID: a.ID, State: OutcomeFailed, Reason: reason}); err != nil {
					return out, fmt.Errorf("relay: journal: %w", err)
				}
				continue
			}
			if !ok {
				continue
			}
			if !feesOK {
				return out, ErrFeesAboveCap
			}
			cost := new(big.Int).Mul(new(big.Int).SetUint64(r.o.GasLimit), fees.FeeCap)
			if new(big.Int).Add(spent, cost).Cmp(balance) > 0 {
				return out, ErrLowBalance
			}
			data, err := transferCalldata(a)
			if err != nil {
				return out, err
			}
			tx, raw, err := r.signTx(r.next, a.Token, data, fees)
			if err != nil {
				return out, err
			}
			t := Tx{Nonce: r.next, AuthID: a.ID, Token: a.Token, From: a.From, AuthNonce: a.Nonce,
				Hashes: []common.Hash{tx.Hash()}, Raw: raw, Fees: fees, SignedAt: now, State: TxSent}
			if err := r.o.Journal.Record(t); err != nil {
				return out, fmt.Errorf("relay: journal: %w", err)
			}
			r.next++
			spent.Add(spent, cost)
			waiting++
			carried[a.ID] = true
			out = append(out, t)
		}
		if len(auths) < limit {
			break
		}
	}
	return out, nil
}

// check decides what to do with an open authorization before a
// transaction is signed for it: fail it (reason), send it (ok), or let it
// wait (neither). It asks the token at the pending block, so nothing is
// sent that would only revert and cost gas.
func (r *Relayer) check(ctx context.Context, a Authorization, now time.Time) (reason string, ok bool, err error) {
	deadline := new(big.Int).SetInt64(now.Add(r.o.ExpiryMargin).Unix())
	if bigOr0(a.ValidBefore).Cmp(deadline) <= 0 {
		return ReasonExpired, false, nil
	}
	if bigOr0(a.ValidAfter).Cmp(big.NewInt(now.Unix())) >= 0 {
		return "", false, nil // not valid yet: wait
	}
	used, err := r.authUsed(ctx, a.Token, a.From, a.Nonce, "pending")
	if err != nil {
		return "", false, err
	}
	if used {
		return ReasonUsed, false, nil
	}
	data, err := transferCalldata(a)
	if err != nil {
		return ReasonBad, false, nil
	}
	msg, err := r.simulate(ctx, a.Token, data, "pending")
	if err != nil || msg == "" {
		return "", err == nil, err
	}
	switch reason := revertReason(msg); reason {
	case ReasonUsed, ReasonBalance, ReasonExpired, ReasonBad:
		return reason, false, nil
	case reasonUnknownRevert:
		r.log.Warn("relay: settlement would revert for a reason not known here; waiting", "auth", a.ID, "revert", msg)
	}
	return "", false, nil
}

// authUsed asks the token's authorizationState(from, nonce).
func (r *Relayer) authUsed(ctx context.Context, tok, from common.Address, nonce [32]byte, block string) (bool, error) {
	out, err := r.o.Chain.Call(ctx, chain.CallMsg{To: &tok, Data: stateCalldata(from, nonce)}, block)
	if err != nil {
		return false, fmt.Errorf("relay: authorizationState: %w", err)
	}
	if len(out) != 32 {
		return false, fmt.Errorf("relay: authorizationState answered %d bytes", len(out))
	}
	return out[31] == 1, nil
}

// simulate runs a settlement with eth_call from the relayer and returns
// the revert message ("" when it passes). Errors are those that are not a
// revert: the node or the link failed.
func (r *Relayer) simulate(ctx context.Context, tok common.Address, data []byte, block string) (string, error) {
	_, err := r.o.Chain.Call(ctx, chain.CallMsg{From: r.addr, To: &tok, Gas: r.o.GasLimit, Data: data}, block)
	var ne *chain.NodeError
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &ne) && (ne.Code == 3 || strings.Contains(strings.ToLower(ne.Message), "revert")):
		return ne.Message + revertData(ne.Data), nil
	}
	return "", fmt.Errorf("relay: eth_call: %w", err)
}

// revertData decodes an Error(string) revert payload, for nodes whose
// message does not carry the reason.
func revertData(d any) string {
	s, ok := d.(string)
	if !ok {
		return ""
	}
	b, err := hexutil.Decode(s)
	if err != nil || len(b) < 4+64 {
		return ""
	}
	msg, err := abi.UnpackRevert(b)
	if err != nil {
		return ""
	}
	return " (" + msg + ")"
}

// signTx signs a settlement to tok.
func (r *Relayer) signTx(nonce uint64, tok common.Address, data []byte, f Fees) (*types.Transaction, []byte, error) {
	tx, err := types.SignNewTx(r.o.Key, r.sign, &types.DynamicFeeTx{
		ChainID: r.sign.ChainID(), Nonce: nonce, GasTipCap: f.TipCap, GasFeeCap: f.FeeCap,
		Gas: r.o.GasLimit, To: &tok, Data: data,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("relay: sign nonce %d: %w", nonce, err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("relay: encode nonce %d: %w", nonce, err)
	}
	return tx, raw, nil
}

// send sends due transactions in one batch, in nonce order, and acts on
// the nodes' answers (classify.go).
func (r *Relayer) send(ctx context.Context, due []Tx) error {
	if len(due) == 0 {
		return nil
	}
	slices.SortFunc(due, func(a, b Tx) int { return cmp.Compare(a.Nonce, b.Nonce) })
	raws := make([][]byte, len(due))
	for i, t := range due {
		raws[i] = t.Raw
	}
	errs, err := r.o.Chain.SendBatch(ctx, raws)
	if err != nil {
		r.resent = false // some may not have gone: send every live one next round
		return fmt.Errorf("relay: send: %w", err)
	}
	r.resent = true
	var first error
	for i, e := range errs {
		if e == nil {
			continue
		}
		var ne *chain.NodeError
		if !errors.As(e, &ne) {
			r.resent = false
			first = firstErr(first, fmt.Errorf("relay: send nonce %d: %w", due[i].Nonce, e))
			continue
		}
		switch sendErrorAction(ne.Message) {
		case sendOK:
		case sendResync:
			r.resent = false
			r.synced = false
			r.log.Warn("relay: nonce too low; reading it from the chain again", "nonce", due[i].Nonce, "node", ne.Message)
			first = firstErr(first, fmt.Errorf("relay: send nonce %d: %w", due[i].Nonce, e))
		case sendNoFunds:
			// Not in the node's pool: sent again next round, not only once
			// it is stuck (a pool that has not yet seen a funding block
			// refuses it so for a moment).
			r.resent = false
			first = firstErr(first, fmt.Errorf("%w: %v", ErrLowBalance, e))
		case sendUnderfee:
			// Waits for StuckAfter, when it is replaced with higher fees.
			first = firstErr(first, fmt.Errorf("relay: send nonce %d: %w", due[i].Nonce, e))
		default:
			r.resent = false
			first = firstErr(first, fmt.Errorf("relay: send nonce %d: %w", due[i].Nonce, e))
		}
	}
	return first
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
