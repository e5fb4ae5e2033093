package checkout

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/config"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// Signer is the terminal's address: the key that signs its requests (the
// zero address if that key cannot sign; NewRequest says why).
func (s *Service) Signer() common.Address {
	if s.signer == nil {
		return common.Address{}
	}
	return s.signer.Address()
}

// NewRequest creates, signs and durably stores a payment request for amount
// (a decimal string in the asset's unit) of the asset with the given symbol
// ("" means the default asset), and puts it on screen.
func (s *Service) NewRequest(ctx context.Context, amount, symbol, memo string) (*request.Document, error) {
	if s.signerErr != nil {
		return nil, fmt.Errorf("new request: %w", s.signerErr)
	}
	cfg := s.Config()
	a := cfg.Assets[0]
	if symbol != "" {
		var ok bool
		if a, ok = cfg.Asset(symbol); !ok {
			return nil, fmt.Errorf("new request: %w %q", ErrUnknownAsset, symbol)
		}
	}
	units, err := asset.ParseAmount(amount, a.Decimals)
	if err != nil {
		return nil, fmt.Errorf("new request: amount %q: %w", amount, err)
	}
	if a.MaxPayment != nil && units.Cmp(a.MaxPayment) > 0 {
		return nil, check.Refuse(check.CodePaymentLimit, "%s %s is above this terminal's limit of %s %s per payment",
			asset.FormatAmount(units, a.Decimals), a.Symbol, asset.FormatAmount(a.MaxPayment, a.Decimals), a.Symbol)
	}
	r, err := request.New(request.Params{
		TerminalID: cfg.Terminal.ID,
		Merchant:   cfg.Merchant,
		ChainID:    cfg.ChainID,
		Asset:      a.Asset,
		Amount:     units,
		Memo:       memo,
		Now:        s.clock.Now(),
		TTL:        cfg.Terminal.RequestTTL,
	}, s.random)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	doc, err := s.signer.Document(r, requestURL(cfg, r.ID), cfg.Terminal.PublicURL+BroadcastPath)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	// The store keeps the compact form (about 260 bytes, not the 1.9 KB
	// JSON document); document and lookup rebuild the same document from it.
	raw, err := doc.Compact()
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	err = s.store.PutRequest(ctx, store.Request{
		ID:        r.ID,
		Asset:     a.Symbol,
		Amount:    units,
		CreatedAt: r.CreatedAt,
		ExpiresAt: r.ExpiresAt,
		Status:    store.RequestPending,
		Doc:       raw,
	})
	if err != nil {
		return nil, fmt.Errorf("store request %s: %w", r.ID, err)
	}
	s.mu.Lock()
	s.current = r.ID
	s.remember(r)
	s.mu.Unlock()
	s.log.Info("payment request created", "request", r.ID, "asset", a.Symbol,
		"amount", asset.FormatAmount(units, a.Decimals), "expires", r.ExpiresAt)
	doc.Status = string(store.RequestPending)
	doc.Certificate = certificate(cfg)
	if s.onRequest != nil {
		s.onRequest(doc)
	}
	return doc, nil
}

// certificate is the fleet's certificate the config holds, served with
// every document (a renewed one with old requests too: it vouches for the
// key, not for one request).
func certificate(cfg *config.Config) json.RawMessage {
	if cfg.Terminal.Certificate == "" {
		return nil
	}
	return json.RawMessage(cfg.Terminal.Certificate)
}

func requestURL(cfg *config.Config, id string) string {
	return cfg.Terminal.PublicURL + RequestPath + "?id=" + id
}

// Request returns the request document with its current status; id ""
// means the request on screen (ErrNoRequest if there is none). An unknown
// id is a *check.Refusal (unknown_request).
func (s *Service) Request(id string) (*request.Document, error) {
	if id == "" {
		s.mu.Lock()
		id = s.current
		s.mu.Unlock()
		if id == "" {
			return nil, ErrNoRequest
		}
	}
	rec, err := s.store.Request(id)
	if err != nil {
		return nil, requestRefusal(err)
	}
	return s.document(rec)
}

// Cancel cancels a pending request. A request already cancelled is
// answered as it is; one that cannot be cancelled is a *check.Refusal
// (unknown_request, already_paid, expired).
func (s *Service) Cancel(ctx context.Context, id string) (*request.Document, error) {
	rec, err := s.store.CancelRequest(ctx, id, s.clock.Now())
	if err != nil {
		return nil, requestRefusal(err)
	}
	s.log.Info("payment request cancelled", "request", id)
	doc, err := s.document(rec)
	if err != nil {
		return nil, err
	}
	if s.onRequest != nil {
		s.onRequest(doc)
	}
	return doc, nil
}

// document rebuilds the stored request's document, as first served, with
// its current status. rec.Doc is the compact form, or for requests made
// before it the JSON document: request.ParseStored reads both.
func (s *Service) document(rec store.Request) (*request.Document, error) {
	doc, err := storedDocument(rec)
	if err != nil {
		return nil, err
	}
	doc.Status = string(rec.StatusAt(s.clock.Now()))
	doc.Certificate = certificate(s.Config())
	if rec.PaidTx != (common.Hash{}) {
		doc.PaidTx = rec.PaidTx.Hex()
	}
	return doc, nil
}

// storedDocument rebuilds the signed document the store keeps for rec. A
// record that does not parse, or names another request, is damage in the
// store (store.ErrCorrupt), not the caller's mistake: the parser's own
// error kinds (an amount, a memo refused) are reported as text only, so
// no one answers a payer "invalid amount" for a damaged record.
func storedDocument(rec store.Request) (*request.Document, error) {
	doc, err := request.ParseStored(rec.Doc)
	if err != nil {
		return nil, fmt.Errorf("stored request %s: %v: %w", rec.ID, err, store.ErrCorrupt)
	}
	if doc.ID != rec.ID {
		return nil, fmt.Errorf("stored request %s holds the document of request %s: %w", rec.ID, doc.ID, store.ErrCorrupt)
	}
	return doc, nil
}
