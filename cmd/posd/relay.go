package main

import (
	"fmt"
	"math/big"
	"path/filepath"

	"showpos/sync/relay"
	"showpos/sync/relay/relaystore"
	"showpos/terminal/config"
	"showpos/terminal/httpapi"
	"showpos/terminal/relaykey"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
)

// relayKeyName is the relayer's key file in the data dir.
const relayKeyName = "relayer.key"

// newRelayer builds the relayer of this chain client: it settles the
// store's authorizations from the account whose key is relayer.key in the
// data dir (made at first start). Outcomes move the authorizations in the
// store, are counted in the metrics and shown to the cashier like the
// broadcaster's.
func (d *daemon) newRelayer(cfg *config.Config, st *store.Store, tel *telemetry.Telemetry) (*relay.Relayer, error) {
	path := filepath.Join(cfg.Terminal.DataDir, relayKeyName)
	key, created, err := relaykey.LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	log := d.log.With("part", "relay")
	if created {
		log.Warn("created the relayer key: fund its address with the network's coin to settle authorizations", "path", path, "address", key.Address.Hex())
	}
	j := relaystore.New(st, d.node.ChainID(), key.Address, func(o relay.Outcome, p store.Payment) {
		tel.Settlement(string(o.State))
		if d.cash != nil && (o.State == relay.OutcomeFinal || o.State == relay.OutcomeFailed) {
			d.cash.Settled(p)
		}
	})
	r, err := relay.New(relay.Options{Key: key.Private, Chain: d.node, Queue: j, Journal: j,
		MaxFeePerGas: cfg.Relay.MaxFeePerGas, StuckAfter: cfg.Relay.StuckAfter, LowCovers: cfg.Relay.LowCovers,
		FinalDepth: cfg.Chain.FinalDepth, Every: cfg.Relay.Poll, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("relayer: %w", err)
	}
	log.Info("relayer", "address", key.Address.Hex(), "max_fee_gwei", new(big.Int).Quo(cfg.Relay.MaxFeePerGas, big.NewInt(1e9)))
	return r, nil
}

// relayerStatus is the relayer's part of GET /v1/status.
func relayerStatus(r *relay.Relayer) *httpapi.Relayer {
	s := r.Status()
	out := &httpapi.Relayer{Address: s.Address, ChainID: s.ChainID, FeeCap: s.FeeCap.String(), Covers: s.Covers,
		Low: s.Low, InFlight: s.InFlight, Nonce: s.Nonce, LastError: s.LastError, LastRound: s.At}
	if s.Balance != nil {
		out.Balance = s.Balance.String()
	}
	return out
}

// relayerHealth is the relayer's gauges.
func relayerHealth(r *relay.Relayer) telemetry.Relayer {
	s := r.Status()
	h := telemetry.Relayer{Covers: s.Covers, Low: s.Low, InFlight: s.InFlight}
	if s.Balance != nil {
		h.BalanceWei, _ = new(big.Float).SetInt(s.Balance).Float64()
	}
	return h
}
