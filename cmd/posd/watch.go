package main

import (
	"context"

	"showpos/sync/chain"
	"showpos/sync/watch"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
)

// newWatcher builds the chain watcher: transfers that wallets send
// straight to the merchant are recorded through the till's Ledger, which
// matches them to requests; the cashier hears of each (SEEN, then PAID;
// money that paid no request; a payment a reorg took back) and the
// metrics count them.
func (d *daemon) newWatcher(cfg *config.Config, nc config.Network, node *chain.Client, tel *telemetry.Telemetry) (*watch.Watcher, error) {
	log := d.log.With("part", "watch", "network", nc.Name)
	l := checkout.NewLedger(checkout.LedgerOptions{Store: d.store.Chain(nc.ChainID), Till: d.till, Logger: log,
		OnAccept: func(r checkout.Receipt) {
			tel.ChainPayment(nc.Name)
			if d.cash != nil {
				d.cash.Accepted(r)
			}
		},
		OnUnmatched: func(u checkout.Unmatched) {
			tel.Unmatched(nc.Name, u.Reason)
			if d.cash != nil {
				d.cash.Unmatched(u)
			}
		},
		OnSettle: func(p store.Payment) {
			if d.cash != nil {
				d.cash.Settled(p)
			}
		},
		OnRewind: func(p store.Payment) {
			if d.cash != nil {
				d.cash.Undone(p)
			}
		},
	})
	return watch.New(watch.Options{
		Ledger: ledger{l}, Chain: node, Merchant: cfg.Merchant, Assets: networkAssets(nc),
		Confirmations: nc.Chain.Confirmations, FinalDepth: nc.Chain.FinalDepth,
		Poll: cfg.Watch.Poll, MaxRange: cfg.Watch.MaxRange, MaxLookback: cfg.Watch.MaxLookback,
		Logger:  log,
		OnRound: func(r watch.Report) { tel.WatchRound(nc.Name, r.Calls, r.Blocks, r.Transfers, r.Lag()) },
	})
}

// ledger is the chain watcher's Ledger (sync/watch) over the till's
// (terminal/checkout.Ledger, which writes the store and tells the cashier
// and the metrics). The two sides' types are the same field for field;
// this converts them.
type ledger struct{ l *checkout.Ledger }

var _ watch.Ledger = ledger{}

func (a ledger) WatchCursor() (watch.Cursor, bool, error) {
	c, ok, err := a.l.WatchCursor()
	return watch.Cursor(c), ok, err
}

func (a ledger) RecordRange(ctx context.Context, next watch.Cursor, ts []watch.Transfer) error {
	out := make([]store.Transfer, len(ts))
	for i, t := range ts {
		out[i] = store.Transfer(t)
	}
	return a.l.RecordRange(ctx, store.WatchCursor(next), out)
}

func (a ledger) Rewind(ctx context.Context, c watch.Cursor) error {
	return a.l.Rewind(ctx, store.WatchCursor(c))
}

func (a ledger) Settle(ctx context.Context, confirmed, final uint64) error {
	return a.l.Settle(ctx, confirmed, final)
}
