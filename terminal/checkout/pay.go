package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// Receipt is the answer to an accepted payment.
type Receipt struct {
	RequestID string
	TxHash    common.Hash
	From      common.Address
	Status    store.PaymentState
	// Source is how the payment came: handover (Pay), authorization
	// (PayAuthorization) or chain (a transfer the watcher saw, Ledger).
	// Not in the payer API's answer. For an authorization, TxHash is the
	// authorization's ID (the EIP-712 digest the payer signed).
	Source store.PaymentSource
	// Repeat is true when this exact transaction had already been accepted
	// for this request: the answer is the earlier one.
	Repeat bool
}

// MarshalJSON gives the payer API's answer, addresses in EIP-55 form:
// {"requestId","txHash","from","status"}.
func (r Receipt) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		RequestID string             `json:"requestId"`
		TxHash    string             `json:"txHash"`
		From      string             `json:"from"`
		Status    store.PaymentState `json:"status"`
	}{r.RequestID, r.TxHash.Hex(), r.From.Hex(), r.Status})
}

// Pay decides whether raw, a signed transaction, pays request requestID, and
// if it does stores it durably before returning. A refusal is a
// *check.Refusal with a stable code and changes nothing. Any other error
// (the store failing) leaves the outcome for the payer to learn by sending
// the same transaction again, which is always safe.
//
// The same transaction again for the same request is not an error: it gets
// the earlier answer (Receipt.Repeat). Only the store decides that, inside
// its write path, so a repeat is never answered before the first payment's
// commit is on disk.
//
// An EIP-3009 authorization (an x402 payment payload) is PayAuthorization's.
func (s *Service) Pay(ctx context.Context, requestID string, raw []byte) (Receipt, error) {
	rec, err := s.pay(ctx, requestID, raw)
	s.counted(err)
	return rec, err
}

// counted tells the till's listener (metrics) of err if it is a refusal.
func (s *Service) counted(err error) {
	var r *check.Refusal
	if s.onRefuse != nil && errors.As(err, &r) {
		s.onRefuse(r.Code)
	}
}

func (s *Service) pay(ctx context.Context, requestID string, raw []byte) (Receipt, error) {
	if len(raw) > check.MaxTxSize {
		return Receipt{}, check.Refuse(check.CodeTxTooLarge, "transaction is %d bytes, at most %d", len(raw), check.MaxTxSize)
	}
	req, err := s.lookup(requestID)
	if err != nil {
		return Receipt{}, err
	}
	// The chain the transaction is signed for picks the request's option
	// on it, and with it the network's checker and the asset as that
	// network has it (token, gas, limits).
	chainID, err := check.ChainIDOf(raw)
	if err != nil {
		return Receipt{}, err
	}
	rules := s.rules.Load()
	o, err := rules.optionOn(req, chainID)
	if err != nil {
		return Receipt{}, err
	}
	a := o.asset
	terms := check.Terms{
		Merchant:   req.Merchant,
		Token:      o.Token,
		Symbol:     req.Asset.Symbol,
		Decimals:   req.Asset.Decimals,
		Amount:     req.Amount,
		MinGas:     a.MinGas,
		MaxPayment: a.MaxPayment,
	}
	pay, err := o.net.checker.Check(raw, terms)
	if err != nil {
		return Receipt{}, err
	}
	if err := s.preflight(ctx, o, pay); err != nil {
		return Receipt{}, err
	}
	stored, repeat, err := s.store.AcceptLimited(ctx, store.Payment{
		TxHash:    pay.TxHash,
		RequestID: requestID,
		From:      pay.From,
		Nonce:     pay.Nonce,
		Asset:     a.Symbol,
		Amount:    pay.Paid,
		Raw:       raw,
		State:     store.PaymentQueued,
		ChainID:   chainID,
	}, s.clock.Now(), store.Limits{Unsettled: a.MaxUnsettled, PerPayer: a.MaxUnsettledPerPayer})
	if err != nil {
		return Receipt{}, refusal(err, requestID, pay, o)
	}
	rec := receipt(stored, repeat)
	s.changed(stored.RequestID)
	if !repeat {
		s.log.Info("payment accepted", "request", requestID, "tx", stored.TxHash.Hex(), "from", stored.From.Hex(),
			"nonce", stored.Nonce, "asset", a.Symbol, "network", o.net.Name, "amount", asset.FormatAmount(stored.Amount, a.Decimals))
		if s.accept != nil {
			s.accept(rec)
		}
	}
	return rec, nil
}

func receipt(p store.Payment, repeat bool) Receipt {
	return Receipt{RequestID: p.RequestID, TxHash: p.TxHash, From: p.From, Status: p.State, Source: p.Source, Repeat: repeat}
}

// refusal turns the store's rule violations into coded refusals
// (storeRules), told as a payment's on option o (its asset and network
// named); any other store error passes through (the payment was not
// stored).
func refusal(err error, id string, pay check.Payment, o option) error {
	r := storeRefusal(err, func(c check.Code) string {
		a := o.asset
		switch c {
		case check.CodeUnknownRequest:
			return fmt.Sprintf("no payment request %s", id)
		case check.CodeExpired:
			return fmt.Sprintf("payment request %s has expired", id)
		case check.CodeCancelled:
			return fmt.Sprintf("payment request %s was cancelled", id)
		case check.CodeAlreadyPaid:
			return fmt.Sprintf("payment request %s is already paid by another transaction", id)
		case check.CodeTxReused:
			return fmt.Sprintf("transaction %s already paid another request", pay.TxHash.Hex())
		case check.CodeWrongChain:
			return fmt.Sprintf("this terminal no longer takes payments on %s: pay request %s on another network it offers", o.net.Name, id)
		case check.CodeNonceConflict:
			return fmt.Sprintf("sender %s nonce %d on %s is already used by another payment (waiting to settle, or mined)", pay.From.Hex(), pay.Nonce, o.net.Name)
		case check.CodeExposureLimit:
			return fmt.Sprintf("too much %s is waiting to settle; the terminal takes more once it is online (limit %s %s)",
				o.label(), asset.FormatAmount(a.MaxUnsettled, a.Decimals), a.Symbol)
		case check.CodePayerLimit:
			return fmt.Sprintf("too much %s from %s is waiting to settle; it takes more once it is online (limit %s %s)",
				o.label(), pay.From.Hex(), asset.FormatAmount(a.MaxUnsettledPerPayer, a.Decimals), a.Symbol)
		}
		return string(c)
	})
	if r == nil {
		return fmt.Errorf("pay %s: %w", id, err)
	}
	return r
}

// lookup returns the parsed request, from the cache or the store.
func (s *Service) lookup(id string) (*request.Request, error) {
	s.mu.Lock()
	r, ok := s.terms[id]
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	rec, err := s.store.Request(id)
	if err != nil {
		// Of the store's rules, reading a request meets only an unknown id.
		return nil, refusal(err, id, check.Payment{}, option{})
	}
	doc, err := storedDocument(rec) // compact, or JSON from before it
	if err != nil {
		return nil, fmt.Errorf("pay %s: %w", id, err)
	}
	r = doc.Request()
	s.mu.Lock()
	s.remember(r)
	s.mu.Unlock()
	return r, nil
}

// remember caches r; s.mu is held.
func (s *Service) remember(r *request.Request) {
	if _, ok := s.terms[r.ID]; ok {
		return
	}
	if len(s.order) >= termsCacheSize {
		delete(s.terms, s.order[0])
		s.order = s.order[1:]
	}
	s.terms[r.ID] = r
	s.order = append(s.order, r.ID)
}
