package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device/clock"
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
// ("" means the default asset), and puts it on screen. It is Make of an
// Order with no fiat amount and no tip.
func (s *Service) NewRequest(ctx context.Context, amount, symbol, memo string) (*request.Document, error) {
	return s.Make(ctx, Order{Amount: amount, Symbol: symbol, Memo: memo})
}

// Make creates, signs and durably stores the payment request o asks for,
// and puts it on screen. An amount keyed in the shop's currency is
// converted at the asset's current rate (Rates), rounded up by less than
// one base unit (fiat.ToBase), and the request carries both, with the rate,
// its source and time, and the tip, all signed. A refused order stores
// nothing.
func (s *Service) Make(ctx context.Context, o Order) (*request.Document, error) {
	if s.signerErr != nil {
		return nil, fmt.Errorf("new request: %w", s.signerErr)
	}
	cfg := s.Config()
	symbol := o.Symbol
	if symbol == "" {
		symbol = cfg.Assets[0].Symbol
	}
	// The asset as its primary network has it prices the request; one
	// symbol has one number of decimals on every network (config).
	all := cfg.Offers(symbol)
	if len(all) == 0 {
		return nil, fmt.Errorf("new request: %w %q", ErrUnknownAsset, o.Symbol)
	}
	a := all[0].Asset
	pr, err := s.price(cfg, a, o)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	units, memo := pr.units, o.Memo
	if a.MaxPayment != nil && units.Cmp(a.MaxPayment) > 0 {
		return nil, check.Refuse(check.CodePaymentLimit, "%s %s is above this terminal's limit of %s %s per payment on %s",
			asset.FormatAmount(units, a.Decimals), a.Symbol, asset.FormatAmount(a.MaxPayment, a.Decimals), a.Symbol, all[0].Network.Name)
	}
	// A transfer on chain is told to pay this request by its amount alone:
	// the store holds each pending amount unique, and the till asks it for
	// the smallest free amount from the one keyed, up to a tail the screen
	// does not show (Tail). Two requests racing for one amount: the store
	// gives it to one, and the other looks above it, within the tail.
	var (
		r   *request.Request
		doc *request.Document
	)
	from := units
	retired := 0 // tries that met a chain just retired
	for {
		now := s.clock.Now()
		room := new(big.Int).Sub(new(big.Int).Add(units, Tail(a.Decimals)), from)
		amount, ok, err := s.store.FreeAmount(a.Symbol, from, room, now)
		if err != nil {
			return nil, fmt.Errorf("new request: %w", err)
		}
		if !ok {
			return nil, check.Refuse(check.CodeAmountInUse, "%s %s and every amount up to %s more are held by other pending requests; wait for one to be paid, cancelled or expire",
				asset.FormatAmount(units, a.Decimals), a.Symbol, asset.FormatAmount(new(big.Int).Sub(Tail(a.Decimals), big.NewInt(1)), a.Decimals))
		}
		if r, doc, err = s.storeRequest(ctx, cfg, offered(cfg, symbol, amount), amount, pr, memo, now); err == nil {
			break
		} else if errors.Is(err, store.ErrChainRetired) && retired < 3 {
			// A bundle removing a network is being applied: the store took
			// its chain out of service a moment before the till's config
			// follows. Offer the networks of the config as it is now.
			retired++
			if err := clock.Sleep(ctx, 10*time.Millisecond); err != nil {
				return nil, fmt.Errorf("new request: %w", err)
			}
			cfg = s.Config()
			continue
		} else if !errors.Is(err, store.ErrAmountTaken) {
			return nil, err
		}
		// Another request took it meanwhile: look above it.
		from = amount.Add(amount, big.NewInt(1))
	}
	s.mu.Lock()
	s.current = r.ID
	s.remember(r)
	s.mu.Unlock()
	s.log.Info("payment request created", "request", r.ID, "asset", a.Symbol, "network", r.Network, "also", len(r.Also),
		"amount", asset.FormatAmount(r.Amount, a.Decimals), "keyed", pr.keyed, "tip", asset.FormatAmount(r.Tip, a.Decimals), "expires", r.ExpiresAt)
	doc.Status = string(store.RequestPending)
	doc.Certificate = certificate(cfg)
	s.fillOffers(cfg, doc)
	if s.onRequest != nil {
		s.onRequest(doc)
	}
	return doc, nil
}

// storeRequest makes, signs and stores the request for amount of the
// asset nets offer, payable on each of them (the first its primary).
func (s *Service) storeRequest(ctx context.Context, cfg *config.Config, nets []config.NetAsset, amount *big.Int, pr priced, memo string, now time.Time) (*request.Request, *request.Document, error) {
	primary := nets[0]
	var also []request.Option
	chains := []uint64{primary.Network.ChainID}
	for _, na := range nets[1:] {
		also = append(also, request.Option{Network: na.Network.Name, ChainID: na.Network.ChainID, Token: na.Asset.Token})
		chains = append(chains, na.Network.ChainID)
	}
	a := primary.Asset
	r, err := request.New(request.Params{
		TerminalID: cfg.Terminal.ID,
		Merchant:   cfg.Merchant,
		ChainID:    primary.Network.ChainID,
		Asset:      a.Asset,
		Amount:     amount,
		Memo:       memo,
		Now:        now,
		TTL:        cfg.Terminal.RequestTTL,
		Tip:        pr.tip,
		Fiat:       pr.fiat,
		Network:    primary.Network.Name,
		Also:       also,
	}, s.random)
	if err != nil {
		return nil, nil, fmt.Errorf("new request: %w", err)
	}
	doc, err := s.signer.Document(r, requestURL(cfg, r.ID), cfg.Terminal.PublicURL+BroadcastPath)
	if err != nil {
		return nil, nil, fmt.Errorf("new request: %w", err)
	}
	// The store keeps the compact form (about 260 bytes, not the 1.9 KB
	// JSON document), split: the part this terminal's requests share
	// (terminal id, merchant, signer, URLs) is kept once, the request's
	// own part (about 145 bytes) with it. document and lookup rebuild the
	// same document from the two.
	raw, shared, err := doc.CompactParts()
	if err != nil {
		return nil, nil, fmt.Errorf("new request: %w", err)
	}
	err = s.store.PutRequest(ctx, store.Request{
		ID:        r.ID,
		Asset:     a.Symbol,
		Amount:    amount,
		CreatedAt: r.CreatedAt,
		ExpiresAt: r.ExpiresAt,
		Status:    store.RequestPending,
		Doc:       raw,
		DocShared: shared,
		Chains:    chains,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store request %s: %w", r.ID, err)
	}
	return r, doc, nil
}

// Tail is how far above the keyed amount, exclusive, a request's amount may
// go to be unique among the pending requests of its asset (in base units):
// 1000 for an asset of 9 decimals or more (at most 999 wei of ETH; the
// screen shows such amounts to decimals-3 places, ShownAmount), 100 for 4
// to 8 decimals (at most 0.000099 of a 6-decimal token, which the screen
// does show), none for 3 or fewer (a second pending request of the same
// amount is refused, amount_in_use). The payer's wallet pays the amount
// the QR code and the signed request carry, tail included: a transfer of
// that exact amount is what pays it.
func Tail(decimals uint8) *big.Int {
	switch {
	case decimals >= 9:
		return big.NewInt(1000)
	case decimals >= 4:
		return big.NewInt(100)
	}
	return big.NewInt(1)
}

// ShownAmount is amount as a screen shows it: for an asset of 9 decimals
// or more without its last 3 digits (where Tail puts the part that makes
// it unique: "0.05" for 0.050000000000000002 ETH), otherwise whole.
func ShownAmount(amount *big.Int, decimals uint8) string {
	if amount == nil || decimals < 9 {
		return asset.FormatAmount(amount, decimals)
	}
	cut := new(big.Int).Sub(amount, new(big.Int).Mod(amount, big.NewInt(1000)))
	return asset.FormatAmount(cut, decimals)
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
	s.changed(id)
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
// its current status. rec.Doc is the compact form (split from its shared
// part, rec.DocShared, since schema 14), or for requests made before it
// the JSON document: request.ParseStoredParts reads them all.
func (s *Service) document(rec store.Request) (*request.Document, error) {
	doc, err := storedDocument(rec)
	if err != nil {
		return nil, err
	}
	doc.Status = string(rec.StatusAt(s.clock.Now()))
	doc.Certificate = certificate(s.Config())
	s.fillOffers(s.Config(), doc)
	if rec.PaidTx != (common.Hash{}) {
		doc.PaidTx = rec.PaidTx.Hex()
		// Where the payment is, so a payer's page says PAID when it is
		// confirmed, not when a transfer is first seen. A lookup that fails
		// leaves it out: the status says paid all the same.
		if p, err := s.store.Payment(rec.PaidTx); err == nil {
			doc.PaidState = string(p.State)
		}
	}
	return doc, nil
}

// storedDocument rebuilds the signed document the store keeps for rec. A
// record that does not parse, or names another request, is damage in the
// store (store.ErrCorrupt), not the caller's mistake: the parser's own
// error kinds (an amount, a memo refused) are reported as text only, so
// no one answers a payer "invalid amount" for a damaged record.
func storedDocument(rec store.Request) (*request.Document, error) {
	doc, err := request.ParseStoredParts(rec.Doc, rec.DocShared)
	if err != nil {
		return nil, fmt.Errorf("stored request %s: %v: %w", rec.ID, err, store.ErrCorrupt)
	}
	if doc.ID != rec.ID {
		return nil, fmt.Errorf("stored request %s holds the document of request %s: %w", rec.ID, doc.ID, store.ErrCorrupt)
	}
	return doc, nil
}
