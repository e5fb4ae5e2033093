package checkout

import (
	"context"
	"log/slog"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/store"
)

// ChainStore is what a Ledger needs from the store: the watcher's cursor
// and the chain writes that say what they did (terminal/store chain.go).
type ChainStore interface {
	WatchCursor() (store.WatchCursor, bool, error)
	RecordRangeOutcome(ctx context.Context, next store.WatchCursor, ts []store.Transfer) (store.Recorded, error)
	RewindOutcome(ctx context.Context, c store.WatchCursor) (store.Rewound, error)
	SettleOutcome(ctx context.Context, confirmed, final uint64) ([]store.Payment, error)
}

// Unmatched is money that reached the merchant on chain and paid no
// request, as the cashier and the metrics hear of it.
type Unmatched struct {
	TxHash        common.Hash
	From          common.Address
	Asset         string
	Amount        *big.Int
	AmountDisplay string // in whole units, e.g. "0.049"
	Reason        string // store.Unmatched*
	RequestID     string // the request of that amount, when one was near
}

// LedgerOptions wire a Ledger. Store is required; every callback may be
// nil and must not block.
type LedgerOptions struct {
	Store ChainStore
	// Till gives the assets' decimals (nil: amounts shown in base units)
	// and is told of each request a transfer paid, to wake its watchers
	// (Service.Watch).
	Till   *Service
	Logger *slog.Logger
	// OnAccept is called with each payment a transfer made (state seen),
	// like the till's OnAccept for a handed-over one: the cashier shows
	// SEEN for the request on screen.
	OnAccept func(Receipt)
	// OnUnmatched is called with each unmatched receipt recorded.
	OnUnmatched func(Unmatched)
	// OnSettle is called with each chain payment Settle moved (confirmed,
	// final): the cashier's Settled shows PAID for the one on screen.
	OnSettle func(store.Payment)
	// OnRewind is called with each chain payment a reorg took back.
	OnRewind func(store.Payment)
}

// Ledger is the chain watcher's Ledger (sync/watch) over the store, telling
// the till's listeners what each write did. Its methods have the
// contract's shapes with the store's types: the daemon's adapter converts
// watch.Transfer and watch.Cursor field for field.
type Ledger struct {
	o   LedgerOptions
	log *slog.Logger
}

// NewLedger returns a Ledger.
func NewLedger(o LedgerOptions) *Ledger {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ledger{o: o, log: log}
}

// WatchCursor returns the watcher's cursor; ok is false before its first
// range.
func (l *Ledger) WatchCursor() (store.WatchCursor, bool, error) { return l.o.Store.WatchCursor() }

// RecordRange records a range of transfers (store.Store.RecordRange) and
// then tells the listeners of the payments and unmatched receipts it made.
func (l *Ledger) RecordRange(ctx context.Context, next store.WatchCursor, ts []store.Transfer) error {
	out, err := l.o.Store.RecordRangeOutcome(ctx, next, ts)
	if err != nil {
		return err
	}
	for _, p := range out.Payments {
		l.log.Info("payment seen on chain", "request", p.RequestID, "tx", p.TxHash.Hex(), "from", p.From.Hex(),
			"asset", p.Asset, "amount", l.display(p.Asset, p.Amount), "block", p.Delivery.Block)
		if l.o.Till != nil {
			l.o.Till.changed(p.RequestID)
		}
		if l.o.OnAccept != nil {
			l.o.OnAccept(Receipt{RequestID: p.RequestID, TxHash: p.TxHash, From: p.From, Status: p.State, Source: store.SourceChain})
		}
	}
	for _, u := range out.Unmatched {
		v := Unmatched{TxHash: u.TxHash, From: u.From, Asset: u.Asset, Amount: u.Amount,
			AmountDisplay: l.display(u.Asset, u.Amount), Reason: u.Reason, RequestID: u.RequestID}
		l.log.Warn("unmatched receipt on chain", "tx", u.TxHash.Hex(), "from", u.From.Hex(), "asset", u.Asset,
			"amount", v.AmountDisplay, "reason", u.Reason, "near_request", u.RequestID, "block", u.Delivery.Block)
		if l.o.OnUnmatched != nil {
			l.o.OnUnmatched(v)
		}
	}
	return nil
}

// Rewind takes back what blocks above c.Height recorded
// (store.Store.Rewind) and tells the listeners.
func (l *Ledger) Rewind(ctx context.Context, c store.WatchCursor) error {
	out, err := l.o.Store.RewindOutcome(ctx, c)
	if err != nil {
		return err
	}
	for _, p := range out.Payments {
		l.log.Warn("chain payment taken back: its block was reorganised away", "request", p.RequestID, "tx", p.TxHash.Hex(), "block", p.Delivery.Block)
		if l.o.OnRewind != nil {
			l.o.OnRewind(p)
		}
	}
	for _, u := range out.Unmatched {
		l.log.Info("unmatched receipt taken back: its block was reorganised away", "tx", u.TxHash.Hex(), "block", u.Delivery.Block)
	}
	return nil
}

// Settle moves chain payments to confirmed and final (store.Store.Settle)
// and tells the listeners of each one moved.
func (l *Ledger) Settle(ctx context.Context, confirmed, final uint64) error {
	moved, err := l.o.Store.SettleOutcome(ctx, confirmed, final)
	if err != nil {
		return err
	}
	for _, p := range moved {
		if l.o.OnSettle != nil {
			l.o.OnSettle(p)
		}
	}
	return nil
}

func (l *Ledger) display(symbol string, amount *big.Int) string {
	if l.o.Till != nil {
		if a, ok := l.o.Till.Config().Asset(symbol); ok {
			return asset.FormatAmount(amount, a.Decimals)
		}
	}
	return amount.String()
}
