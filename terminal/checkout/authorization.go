package checkout

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/config"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// PayAuthorization decides whether payload, an x402 "exact" payment
// payload carrying a signed EIP-3009 transferWithAuthorization (v1 or v2,
// see check.ParsePaymentPayload), pays request requestID, and if it does
// stores it durably (source authorization, state queued) before
// returning; the relayer settles it later. It is Pay for an authorization:
// the same answers (a *check.Refusal with a stable code that changes
// nothing; the same payload again for the same request is a repeat with
// the earlier answer), the same per-payment, per-payer and exposure limits
// (the money is unsettled until the relayer settles it). Receipt.TxHash is
// the authorization's ID.
//
// The request's asset must take authorizations (config authorization =
// "eip3009"), else the payment is refused wrong_asset. The chain is not
// asked (no pre-flight): the check is wholly offline.
func (s *Service) PayAuthorization(ctx context.Context, requestID string, payload []byte) (Receipt, error) {
	rec, err := s.payAuthorization(ctx, requestID, payload)
	s.counted(err)
	return rec, err
}

func (s *Service) payAuthorization(ctx context.Context, requestID string, payload []byte) (Receipt, error) {
	if len(payload) > check.MaxPaymentPayloadSize {
		return Receipt{}, check.Refuse(check.CodeInvalidPayload, "payment payload is %d bytes, at most %d", len(payload), check.MaxPaymentPayloadSize)
	}
	req, rules, a, err := s.payable(requestID)
	if err != nil {
		return Receipt{}, err
	}
	if !a.Authorizes() {
		return Receipt{}, check.Refuse(check.CodeWrongAsset, "request %s is for %s, which this terminal takes by transaction only, not by an EIP-3009 authorization", requestID, a.Symbol)
	}
	if s.domainRefused(a) {
		return Receipt{}, check.Refuse(check.CodeWrongAsset, "the %s token's EIP-712 domain on chain is not the configured %q version %q; this terminal takes %s by transaction until its operator fixes the config", a.Symbol, a.DomainName, a.DomainVersion, a.Symbol)
	}
	now := s.clock.Now()
	pay, err := rules.checker.CheckPaymentPayload(payload, check.AuthorizationTerms{
		Terms: check.Terms{
			Merchant:   req.Merchant,
			Token:      req.Asset.Token,
			Symbol:     req.Asset.Symbol,
			Decimals:   req.Asset.Decimals,
			Amount:     req.Amount,
			MaxPayment: a.MaxPayment,
		},
		Domain: check.Domain{Name: a.DomainName, Version: a.DomainVersion},
		Now:    now,
	})
	if err != nil {
		return Receipt{}, err
	}
	stored, repeat, err := s.store.AcceptAuthorization(ctx, store.Payment{
		TxHash:    pay.ID,
		RequestID: requestID,
		From:      pay.From,
		Asset:     a.Symbol,
		Amount:    pay.Paid,
		State:     store.PaymentQueued,
		ChainID:   req.ChainID,
		Authorization: &store.Authorization{
			Token: pay.Token, To: pay.To, ValidAfter: pay.ValidAfter, ValidBefore: pay.ValidBefore,
			Nonce: pay.Nonce, Signature: pay.Signature,
		},
	}, now, store.Limits{Unsettled: a.MaxUnsettled, PerPayer: a.MaxUnsettledPerPayer})
	if err != nil {
		return Receipt{}, authorizationRefusal(err, requestID, pay, a)
	}
	rec := receipt(stored, repeat)
	s.changed(stored.RequestID)
	if !repeat {
		s.log.Info("payment accepted", "request", requestID, "authorization", stored.TxHash.Hex(), "from", stored.From.Hex(),
			"nonce", pay.Nonce.Hex(), "asset", a.Symbol, "amount", asset.FormatAmount(stored.Amount, a.Decimals),
			"valid_before", pay.ValidBefore.String())
		if s.accept != nil {
			s.accept(rec)
		}
	}
	return rec, nil
}

// authorizationRefusal is refusal for an authorization: the store's rules
// as codes, told with the authorization's terms.
func authorizationRefusal(err error, id string, pay check.AuthorizedPayment, a config.Asset) error {
	switch r := refusal(err, id, check.Payment{TxHash: pay.ID, From: pay.From}, a).(type) {
	case *check.Refusal:
		switch r.Code {
		case check.CodeAuthorizationReused:
			r.Msg = fmt.Sprintf("%s has already authorized a payment with nonce %s; sign a new authorization", pay.From.Hex(), pay.Nonce.Hex())
		case check.CodeTxReused:
			r.Msg = fmt.Sprintf("authorization %s already paid another request", pay.ID.Hex())
		}
		return r
	default:
		return r
	}
}

// AdvertiseSlack is what a request's maxTimeoutSeconds adds to the settle
// window: x402 clients sign validBefore = their now + maxTimeoutSeconds,
// and the check wants at least the terminal's now + the window when the
// authorization arrives, so the slack covers the time from signing to
// handing over and a phone's clock running behind the terminal's.
const AdvertiseSlack = 10 * time.Minute

// requirements are the x402 payment requirements a request advertises when
// its asset takes authorizations under cfg (and its domain is not known to
// be wrong: SetDomainVerdict), else nil; maxTimeoutSeconds is
// the settle window plus AdvertiseSlack.
func (s *Service) requirements(cfg *config.Config, doc *request.Document) *request.PaymentRequirements {
	a, ok := cfg.Asset(doc.Asset.Symbol)
	if !ok || !a.Authorizes() || a.Token != doc.Asset.Token || doc.Amount == nil || s.domainRefused(a) {
		return nil
	}
	return &request.PaymentRequirements{
		Scheme:            "exact",
		Network:           "eip155:" + strconv.FormatUint(cfg.ChainID, 10),
		Amount:            doc.Amount,
		Asset:             a.Token,
		PayTo:             doc.Merchant,
		MaxTimeoutSeconds: uint64((cfg.Payments.SettleWindow + AdvertiseSlack) / time.Second),
		Name:              a.DomainName,
		Version:           a.DomainVersion,
	}
}
