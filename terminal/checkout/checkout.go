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
//
// Between the two, when the payment's network has a Preflight and answers
// within its preflight_budget, the chain is asked whether the transaction
// can be mined as it is: the sender's pending nonce (nonce_used, nonce_gap)
// and its balances (insufficient_funds). A chain that does not answer in
// time refuses nothing: the payment is judged as it is offline.
//
// A terminal may take payments on several networks (config [[networks]]).
// A request is offered on every network that takes its asset, the default
// network's first (its primary option), all under one signature; a
// payment on any of them pays it once. The chain a transaction is signed
// for, or an authorization's network, picks the request's option on that
// network, and the payment is judged by that network's checker, fee floor
// and the asset as that network has it (token, gas, limits).
package checkout

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device/clock"
	"showpos/terminal/check"
	"showpos/terminal/config"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// Store is what the till needs from the durable store.
type Store interface {
	PutRequest(ctx context.Context, r store.Request) error
	Request(id string) (store.Request, error)
	PendingRequests(from time.Time, match func(id string) bool, limit int) ([]store.Request, error)
	CancelRequest(ctx context.Context, id string, now time.Time) (store.Request, error)
	AcceptLimited(ctx context.Context, p store.Payment, now time.Time, lim store.Limits) (store.Payment, bool, error)
	AcceptAuthorization(ctx context.Context, p store.Payment, now time.Time, lim store.Limits) (store.Payment, bool, error)
	Payment(hash common.Hash) (store.Payment, error)
	// Chain is one chain's view: its sender+nonce index (pre-flight).
	Chain(id uint64) *store.ChainStore
	Payments(f store.PaymentFilter) ([]store.Payment, error)
	FreeAmount(asset string, amount, room *big.Int, now time.Time) (*big.Int, bool, error)
}

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
	Clock  clock.Clock // nil: clock.System
	Random io.Reader   // nil: crypto/rand
	Logger *slog.Logger
	// OnAccept, if set, is called after each newly accepted payment is
	// durable (the broadcaster's kick). It must not block.
	OnAccept func(Receipt)
	// OnRefuse, if set, is called with the code of each refused payment
	// (metrics). It must not block.
	OnRefuse func(check.Code)
	// OnRequest, if set, is called after a request is created or cancelled
	// through the till (doc.Status says which), so the screen can follow
	// requests an integrator makes. It must not block.
	OnRequest func(*request.Document)
	// Preflights, if set, gives the pre-flight of the network on a chain
	// id (nil: none for it), asked about each handed-over payment on that
	// chain that passed the offline check, within the network's
	// preflight_budget (see Pay); OnPreflight, if set, is told each
	// outcome with the network's name (metrics: PreflightOK,
	// PreflightRefused, PreflightSkipped).
	// It must not block.
	Preflights  func(chainID uint64) Preflight
	OnPreflight func(network, outcome string)
	// Rates, if set, gives the current rate of each asset in the shop's
	// currency (terminal.currency), for amounts keyed in it. Without it
	// such amounts are refused (rate_unavailable).
	Rates Rates
}

// Service is the till.
type Service struct {
	rules       atomic.Pointer[rules]
	signer      *request.Signer // nil when signerErr says why
	signerErr   error
	store       Store
	clock       clock.Clock
	random      io.Reader
	log         *slog.Logger
	accept      func(Receipt)
	onRefuse    func(check.Code)
	onRequest   func(*request.Document)
	pre         func(chainID uint64) Preflight
	onPreflight func(network, outcome string)
	rates       Rates

	mu      sync.Mutex
	current string                      // id of the request on screen
	terms   map[string]*request.Request // parsed requests by id, bounded
	order   []string                    // insertion order of terms, for eviction
	domains map[domainKey]DomainVerdict // by chain and asset (SetDomainVerdict)

	watch watchers // Watch (watch.go)
}

// termsCacheSize bounds the parsed-request cache; a miss costs one store
// read and one parse of the stored document.
const termsCacheSize = 256

// New returns a till.
func New(o Options) *Service {
	s := &Service{
		store:       o.Store,
		clock:       o.Clock,
		random:      o.Random,
		log:         o.Logger,
		accept:      o.OnAccept,
		onRefuse:    o.OnRefuse,
		onRequest:   o.OnRequest,
		pre:         o.Preflights,
		onPreflight: o.OnPreflight,
		rates:       o.Rates,
		terms:       make(map[string]*request.Request),
		watch:       watchers{max: MaxWatchers},
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// A key that cannot sign (missing, not secp256k1, or whose public half
	// is not its private key's) makes every NewRequest fail with it.
	s.signer, s.signerErr = request.NewSigner(o.Key)
	s.Reconfigure(o.Config)
	return s
}

// rules are what the till judges by: the running config and, for each of
// its networks, the checker built from it. They change together,
// atomically, so a payment is judged wholly by the old config or wholly by
// the new one.
type rules struct {
	cfg  *config.Config
	nets []network // config order, the default network first
}

// network is one configured network with its checker: the chain id it
// takes transactions for and its fee floor.
type network struct {
	config.Network
	checker *check.Checker
}

// network returns the configured network on chain id.
func (r *rules) network(chainID uint64) (*network, bool) {
	for i := range r.nets {
		if r.nets[i].ChainID == chainID {
			return &r.nets[i], true
		}
	}
	return nil, false
}

// Reconfigure makes cfg the till's running config (a fleet bundle or a
// reload). Requests already made keep the terms they were signed with; new
// requests, limits, the networks and the assets taken follow cfg at once.
// cfg must not be modified afterwards.
func (s *Service) Reconfigure(cfg *config.Config) {
	r := &rules{cfg: cfg}
	for _, n := range cfg.Networks {
		r.nets = append(r.nets, network{Network: n, checker: check.New(check.Policy{
			ChainID:      new(big.Int).SetUint64(n.ChainID),
			AllowOverpay: cfg.Payments.AllowOverpay,
			MinFeeCap:    n.FeeFloor,
			SettleWindow: cfg.Payments.SettleWindow,
		})})
	}
	s.rules.Store(r)
}

// Config returns the till's running config; do not modify it.
func (s *Service) Config() *config.Config { return s.rules.Load().cfg }
