// Package checkout is the terminal's till: it creates signed payment requests
// and decides, through one method, whether a signed transaction pays one.
// Every channel a payer can use (the payer HTTP API, an NFC tap, a QR shown to
// the scanner) calls Pay, so a payment is judged the same way whichever way it
// arrives.
//
// Pay runs the offline check (terminal/check) and then the store's Accept,
// which enforces the rules that depend on what is already stored (request
// state, tx hash and sender+nonce uniqueness, unsettled exposure) inside the
// same fsync'd transaction that records the payment. Pay returns success only
// after that commit: an accepted payment is on disk before anyone hears of it.
package checkout

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/outbox"
	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/config"
	"showpos/terminal/request"
)

// Store is what the till needs from the durable store.
type Store interface {
	PutRequest(ctx context.Context, r outbox.Request) error
	Request(id string) (outbox.Request, error)
	CancelRequest(ctx context.Context, id string, now time.Time) (outbox.Request, error)
	Accept(ctx context.Context, p outbox.Payment, now time.Time, maxUnsettled *big.Int) (outbox.Payment, bool, error)
	Payment(hash common.Hash) (outbox.Payment, error)
	Payments(f outbox.PaymentFilter) ([]outbox.Payment, error)
}

// Clock tells the time; tests pass a fake.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Errors for request creation; payment refusals are *check.Refusal.
var (
	ErrUnknownAsset = errors.New("unknown asset")
	ErrNoRequest    = errors.New("no payment request on screen")
)

// Paths of the payer API, put into every request so payer apps find it.
const (
	RequestPath   = "/api/showpos/getPaymentRequest"
	BroadcastPath = "/api/showpos/broadcastTx"
)

// Options configure a Service. Config, Key and Store are required.
type Options struct {
	Config *config.Config
	Key    *ecdsa.PrivateKey
	Store  Store
	Clock  Clock     // nil: the system clock
	Random io.Reader // nil: crypto/rand
	Logger *slog.Logger
}

// Service is the till.
type Service struct {
	cfg     *config.Config
	key     *ecdsa.PrivateKey
	store   Store
	clock   Clock
	random  io.Reader
	log     *slog.Logger
	checker *check.Checker

	mu      sync.Mutex
	current string                      // id of the request on screen
	terms   map[string]*request.Request // parsed requests by id, bounded
	order   []string                    // insertion order of terms, for eviction
}

// termsCacheSize bounds the parsed-request cache; a miss costs one JSON parse.
const termsCacheSize = 256

// New returns a till.
func New(o Options) *Service {
	s := &Service{
		cfg:    o.Config,
		key:    o.Key,
		store:  o.Store,
		clock:  o.Clock,
		random: o.Random,
		log:    o.Logger,
		terms:  make(map[string]*request.Request),
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.checker = check.New(check.Policy{
		ChainID:      new(big.Int).SetUint64(o.Config.ChainID),
		AllowOverpay: o.Config.Payments.AllowOverpay,
		MinFeeCap:    o.Config.Payments.MinFeeCap,
	})
	return s
}

// Signer is the terminal's address: the key that signs its requests.
func (s *Service) Signer() common.Address { return crypto.PubkeyToAddress(s.key.PublicKey) }

// NewRequest creates, signs and durably stores a payment request for amount
// (a decimal string in the asset's unit) of the asset with the given symbol
// ("" means the default asset), and puts it on screen.
func (s *Service) NewRequest(ctx context.Context, amount, symbol, memo string) (*request.Document, error) {
	a := s.cfg.Assets[0]
	if symbol != "" {
		var ok bool
		if a, ok = s.cfg.Asset(symbol); !ok {
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
		TerminalID: s.cfg.Terminal.ID,
		Merchant:   s.cfg.Merchant,
		ChainID:    s.cfg.ChainID,
		Asset:      a.Asset,
		Amount:     units,
		Memo:       memo,
		Now:        s.clock.Now(),
		TTL:        s.cfg.Terminal.RequestTTL,
	}, s.random)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	sig, err := request.Sign(r, s.key)
	if err != nil {
		return nil, fmt.Errorf("sign request %s: %w", r.ID, err)
	}
	doc, err := request.NewDocument(r, sig, s.requestURL(r.ID), s.cfg.Terminal.PublicURL+BroadcastPath)
	if err != nil {
		return nil, fmt.Errorf("request %s document: %w", r.ID, err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode request %s: %w", r.ID, err)
	}
	err = s.store.PutRequest(ctx, outbox.Request{
		ID:        r.ID,
		Asset:     a.Symbol,
		Amount:    units,
		CreatedAt: r.CreatedAt,
		ExpiresAt: r.ExpiresAt,
		Status:    outbox.RequestPending,
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
	doc.Status = string(outbox.RequestPending)
	return doc, nil
}

func (s *Service) requestURL(id string) string {
	return s.cfg.Terminal.PublicURL + RequestPath + "?id=" + id
}

// Request returns the request document with its current status; id ""
// means the request on screen.
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
		return nil, err
	}
	return s.document(rec)
}

// Cancel cancels a pending request.
func (s *Service) Cancel(ctx context.Context, id string) (*request.Document, error) {
	rec, err := s.store.CancelRequest(ctx, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	s.log.Info("payment request cancelled", "request", id)
	return s.document(rec)
}

func (s *Service) document(rec outbox.Request) (*request.Document, error) {
	doc, err := request.ParseDocument(rec.Doc)
	if err != nil {
		return nil, fmt.Errorf("stored request %s: %w", rec.ID, err)
	}
	doc.Status = string(rec.StatusAt(s.clock.Now()))
	if rec.PaidTx != (common.Hash{}) {
		doc.PaidTx = rec.PaidTx.Hex()
	}
	return doc, nil
}

// Receipt is the answer to an accepted payment.
type Receipt struct {
	RequestID string
	TxHash    common.Hash
	From      common.Address
	Status    outbox.PaymentState
	// Repeat is true when this exact transaction had already been accepted
	// for this request: the answer is the earlier one.
	Repeat bool
}

// MarshalJSON gives the payer API's answer, addresses in EIP-55 form:
// {"requestId","txHash","from","status"}.
func (r Receipt) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		RequestID string              `json:"requestId"`
		TxHash    string              `json:"txHash"`
		From      string              `json:"from"`
		Status    outbox.PaymentState `json:"status"`
	}{r.RequestID, r.TxHash.Hex(), r.From.Hex(), r.Status})
}

// Pay decides whether raw, a signed transaction, pays request requestID, and
// if it does stores it durably before returning. A refusal is a
// *check.Refusal with a stable code and changes nothing. Any other error
// (the store failing) means the payment was not accepted.
func (s *Service) Pay(ctx context.Context, requestID string, raw []byte) (Receipt, error) {
	if len(raw) > check.MaxTxSize {
		return Receipt{}, check.Refuse(check.CodeTxTooLarge, "transaction is %d bytes, at most %d", len(raw), check.MaxTxSize)
	}
	// A payer's retry of a payment already taken gets the earlier answer
	// without paying for signature recovery again. A well-formed signed
	// transaction's hash is the Keccak-256 of its encoding.
	if p, err := s.store.Payment(crypto.Keccak256Hash(raw)); err == nil {
		if p.RequestID != requestID {
			return Receipt{}, check.Refuse(check.CodeTxReused, "transaction %s already paid another request", p.TxHash.Hex())
		}
		return receipt(p, true), nil
	} else if !errors.Is(err, outbox.ErrUnknownPayment) {
		return Receipt{}, fmt.Errorf("pay %s: %w", requestID, err)
	}

	req, err := s.lookup(requestID)
	if err != nil {
		return Receipt{}, err
	}
	a, ok := s.cfg.Asset(req.Asset.Symbol)
	if !ok || a.Token != req.Asset.Token {
		return Receipt{}, check.Refuse(check.CodeUnknownRequest, "request %s is for %s, which this terminal no longer takes", requestID, req.Asset.Symbol)
	}
	terms := check.Terms{
		Merchant:   req.Merchant,
		Token:      req.Asset.Token,
		Symbol:     req.Asset.Symbol,
		Decimals:   req.Asset.Decimals,
		Amount:     req.Amount,
		MinGas:     a.MinGas,
		MaxPayment: a.MaxPayment,
	}
	pay, err := s.checker.Check(raw, terms)
	if err != nil {
		return Receipt{}, err
	}
	stored, repeat, err := s.store.Accept(ctx, outbox.Payment{
		TxHash:    pay.TxHash,
		RequestID: requestID,
		From:      pay.From,
		Nonce:     pay.Nonce,
		Asset:     a.Symbol,
		Amount:    pay.Paid,
		Raw:       raw,
		State:     outbox.PaymentQueued,
	}, s.clock.Now(), a.MaxUnsettled)
	if err != nil {
		return Receipt{}, refusal(err, requestID, pay, a)
	}
	if !repeat {
		s.log.Info("payment accepted", "request", requestID, "tx", stored.TxHash.Hex(), "from", stored.From.Hex(),
			"nonce", stored.Nonce, "asset", a.Symbol, "amount", asset.FormatAmount(stored.Amount, a.Decimals))
	}
	return receipt(stored, repeat), nil
}

func receipt(p outbox.Payment, repeat bool) Receipt {
	return Receipt{RequestID: p.RequestID, TxHash: p.TxHash, From: p.From, Status: p.State, Repeat: repeat}
}

// refusal turns the store's rule violations into coded refusals; any other
// store error passes through (the payment was not stored).
func refusal(err error, id string, pay check.Payment, a config.Asset) error {
	switch {
	case errors.Is(err, outbox.ErrUnknownRequest):
		return check.Refuse(check.CodeUnknownRequest, "no payment request %s", id)
	case errors.Is(err, outbox.ErrExpired):
		return check.Refuse(check.CodeExpired, "payment request %s has expired", id)
	case errors.Is(err, outbox.ErrCancelled):
		return check.Refuse(check.CodeCancelled, "payment request %s was cancelled", id)
	case errors.Is(err, outbox.ErrAlreadyPaid):
		return check.Refuse(check.CodeAlreadyPaid, "payment request %s is already paid by another transaction", id)
	case errors.Is(err, outbox.ErrTxReused):
		return check.Refuse(check.CodeTxReused, "transaction %s already paid another request", pay.TxHash.Hex())
	case errors.Is(err, outbox.ErrNonceConflict):
		return check.Refuse(check.CodeNonceConflict, "sender %s nonce %d is already queued in another transaction", pay.From.Hex(), pay.Nonce)
	case errors.Is(err, outbox.ErrExposureLimit):
		return check.Refuse(check.CodeExposureLimit, "too much %s is waiting to settle; the terminal takes more once it is online (limit %s %s)",
			a.Symbol, asset.FormatAmount(a.MaxUnsettled, a.Decimals), a.Symbol)
	}
	return fmt.Errorf("pay %s: %w", id, err)
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
	if errors.Is(err, outbox.ErrUnknownRequest) {
		return nil, check.Refuse(check.CodeUnknownRequest, "no payment request %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("pay %s: %w", id, err)
	}
	doc, err := request.ParseDocument(rec.Doc)
	if err != nil {
		return nil, fmt.Errorf("stored request %s: %w", id, err)
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

// PaymentView is a stored payment as the operator sees it.
type PaymentView struct {
	TxHash        string              `json:"txHash"`
	RequestID     string              `json:"requestId"`
	From          string              `json:"from"` // EIP-55
	Nonce         uint64              `json:"nonce"`
	Asset         string              `json:"asset"`
	Amount        string              `json:"amount"`
	AmountDisplay string              `json:"amountDisplay"`
	State         outbox.PaymentState `json:"state"`
	Reason        string              `json:"reason,omitempty"`
	AcceptedAt    time.Time           `json:"acceptedAt"`
	UpdatedAt     time.Time           `json:"updatedAt"`
	Seq           uint64              `json:"seq"`
}

// Payments lists stored payments in acceptance order.
func (s *Service) Payments(f outbox.PaymentFilter) ([]PaymentView, error) {
	ps, err := s.store.Payments(f)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	out := make([]PaymentView, len(ps))
	for i, p := range ps {
		var decimals uint8
		if a, ok := s.cfg.Asset(p.Asset); ok {
			decimals = a.Decimals
		}
		out[i] = PaymentView{
			TxHash: p.TxHash.Hex(), RequestID: p.RequestID, From: p.From.Hex(), Nonce: p.Nonce, Asset: p.Asset,
			Amount: p.Amount.String(), AmountDisplay: asset.FormatAmount(p.Amount, decimals),
			State: p.State, Reason: p.Reason, AcceptedAt: p.AcceptedAt, UpdatedAt: p.UpdatedAt, Seq: p.Seq,
		}
	}
	return out, nil
}
