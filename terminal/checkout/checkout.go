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
	"errors"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"showpos/sync/outbox"
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
	// OnAccept, if set, is called after each newly accepted payment is
	// durable (the broadcaster's kick). It must not block.
	OnAccept func(Receipt)
}

// Service is the till.
type Service struct {
	cfg     *config.Config
	key     *ecdsa.PrivateKey
	store   Store
	clock   Clock
	random  io.Reader
	log     *slog.Logger
	accept  func(Receipt)
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
		accept: o.OnAccept,
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
