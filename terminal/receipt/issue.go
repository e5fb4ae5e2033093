package receipt

import (
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock"
	"showpos/terminal/fiat"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

// Store is what receipts are built from: the stored request (its signed
// document) and the payment that paid it. *store.Store is one.
type Store interface {
	Request(id string) (store.Request, error)
	Payment(hash common.Hash) (store.Payment, error)
}

// Shop is what the running config says of the shop: read at every
// receipt, since a fleet bundle may change it.
type Shop struct {
	MerchantName string
	PublicURL    string // the receipt's link is PublicURL + Path + id
}

// Options configure an Issuer. Store, Key and Shop are required.
type Options struct {
	Store Store
	Key   *ecdsa.PrivateKey // the terminal key
	Shop  func() Shop
	Clock clock.Clock // nil: clock.System; dates a rejection and an unpaid request's status
}

// Issuer builds and signs the terminal's receipts. It is safe for
// concurrent use.
type Issuer struct {
	o      Options
	signer common.Address
}

// ErrNoPayment: a receipt for a paid or accepted result was asked for a
// request the store holds no payment for.
var ErrNoPayment = errors.New("receipt: no payment stored for the request")

// NewIssuer checks o's key and returns an Issuer.
func NewIssuer(o Options) (*Issuer, error) {
	if o.Store == nil || o.Shop == nil {
		return nil, errors.New("receipt: an issuer needs a store and the shop")
	}
	if o.Key == nil || o.Key.D == nil || o.Key.Curve == nil || o.Key.Curve.Params().N.Cmp(crypto.S256().Params().N) != 0 {
		return nil, fmt.Errorf("new issuer: %w", ErrKey)
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	return &Issuer{o: o, signer: crypto.PubkeyToAddress(o.Key.PublicKey)}, nil
}

// Signer is the address receipts are signed by: the terminal's.
func (i *Issuer) Signer() common.Address { return i.signer }

// Receipt is request id's receipt as the terminal holds it now: paid,
// accepted or rejected by its payment's state, or unpaid with the
// request's status as the reason. An unknown id wraps
// store.ErrUnknownRequest.
func (i *Issuer) Receipt(id string) (Signed, error) {
	r, _, err := i.build(id)
	if err != nil {
		return Signed{}, err
	}
	return i.sign(r)
}

// ForResult is the receipt of the result the cashier was shown for
// request id. Where a payment is stored its state decides (a result shown
// ACCEPTED that has since confirmed prints PAID); a REJECTED result with
// no payment (a refusal, which the terminal does not keep) is dated now
// and carries reason. A PAID or ACCEPTED result with no payment stored
// wraps ErrNoPayment.
func (i *Issuer) ForResult(id string, shown State, reason string) (Signed, error) {
	r, paid, err := i.build(id)
	if err != nil {
		return Signed{}, err
	}
	if !paid {
		if shown != StateRejected {
			return Signed{}, fmt.Errorf("receipt of %s shown %s: %w", id, shown, ErrNoPayment)
		}
		r.State, r.Reason, r.Time = StateRejected, reason, i.o.Clock.Now()
	}
	return i.sign(r)
}

// StateFor is the receipt state of a result the cashier shows: PAID is
// paid; ACCEPTED and SEEN (on chain, confirming) are accepted; REJECTED is
// rejected.
func StateFor(k screen.ResultKind) State {
	switch k {
	case screen.ResultPaid:
		return StatePaid
	case screen.ResultAccepted, screen.ResultSeen:
		return StateAccepted
	}
	return StateRejected
}

func (i *Issuer) sign(r Receipt) (Signed, error) {
	s, err := Sign(r, i.o.Key)
	if err != nil {
		return Signed{}, fmt.Errorf("receipt of %s: %w", r.RequestID, err)
	}
	return s, nil
}

// build reads request id and its payment and makes the unsigned receipt;
// paid reports whether a payment was found. A paid receipt names the chain
// and token of the network the payment was made on (one of the request's
// signed options); an unpaid one the request's primary network.
func (i *Issuer) build(id string) (r Receipt, paid bool, err error) {
	rec, err := i.o.Store.Request(id)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("receipt of %s: %w", id, err)
	}
	doc, err := request.ParseStoredParts(rec.Doc, rec.DocShared)
	if err != nil || doc.ID != rec.ID {
		return Receipt{}, false, fmt.Errorf("receipt of %s: stored request unreadable (%v): %w", id, err, store.ErrCorrupt)
	}
	shop := i.o.Shop()
	r = Receipt{
		RequestID:    doc.ID,
		TerminalID:   doc.TerminalID,
		MerchantName: shop.MerchantName,
		Merchant:     doc.Merchant,
		ChainID:      doc.ChainID,
		Asset:        doc.Asset,
		Amount:       doc.Amount,
		Memo:         doc.Memo,
		Link:         LinkFor(shop.PublicURL, doc.ID),
		Tip:          doc.Tip,
	}
	if f := doc.Fiat; f != nil {
		// The request was keyed in the shop's currency: its signed price.
		c, err := fiat.Lookup(f.Rate.Currency)
		if err != nil {
			return Receipt{}, false, fmt.Errorf("receipt of %s: stored price: %w", id, err)
		}
		r.FiatAmount, r.Currency, r.Rate = c.Format(f.Amount), c.Code, f.Rate.Price()
	}
	if rec.PaidTx == (common.Hash{}) {
		r.State, r.Reason, r.Time = StateUnpaid, string(rec.StatusAt(i.o.Clock.Now())), doc.CreatedAt
		return r, false, nil
	}
	p, err := i.o.Store.Payment(rec.PaidTx)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("receipt of %s: payment %s: %w", id, rec.PaidTx.Hex(), err)
	}
	if o, ok := doc.Request().Option(r.ChainID); ok {
		r.Network = o.Network
	}
	if p.ChainID != 0 && p.ChainID != r.ChainID {
		// Paid on another network the request offered: the receipt names
		// that chain and the asset's token on it, as the payer paid it.
		o, ok := doc.Request().Option(p.ChainID)
		if !ok {
			return Receipt{}, false, fmt.Errorf("receipt of %s: payment %s on chain %d, which the request does not offer: %w",
				id, rec.PaidTx.Hex(), p.ChainID, store.ErrCorrupt)
		}
		r.ChainID, r.Asset.Token, r.Network = o.ChainID, o.Token, o.Network
	}
	r.Time, r.Amount, r.From = p.AcceptedAt, p.Amount, p.From
	r.Method = string(p.Source)
	if r.Method == "" {
		r.Method = MethodHandover
	}
	r.TxHash = p.TxHash
	if a := p.Authorization; a != nil {
		// Its TxHash is the authorization's own digest, which no explorer
		// knows: the chain knows it by payer and nonce, and by the
		// relayer's transaction once settled.
		r.TxHash, r.AuthNonce = a.Settlement, a.Nonce
	}
	switch p.State {
	case store.PaymentConfirmed, store.PaymentFinal:
		r.State = StatePaid
	case store.PaymentFailed:
		r.State, r.Reason = StateRejected, p.Reason
	default: // queued, broadcast, seen
		r.State = StateAccepted
	}
	return r, true, nil
}
