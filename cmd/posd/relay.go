package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"

	"showpos/sync/chain"
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

// loadRelayerKey reads relayer.key in the data dir, made at first start:
// the account every network's relayer settles from (the same address on
// every network, funded on each with that network's coin). Read once, at
// start: a key that cannot be read stops the start, as it always has,
// and a network added later by a bundle cannot fail on it.
func loadRelayerKey(cfg *config.Config, log *slog.Logger) (*relaykey.Key, error) {
	path := filepath.Join(cfg.Terminal.DataDir, relayKeyName)
	key, created, err := relaykey.LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created the relayer key: fund its address with each network's coin to settle authorizations", "path", path, "address", key.Address.Hex())
	}
	return &key, nil
}

// newRelayer builds the relayer of one network: it settles that chain's
// authorizations from the relayer key's account. Outcomes move the
// authorizations in the store, are counted in the metrics and shown to
// the cashier like the broadcaster's.
func (d *daemon) newRelayer(nc config.Network, node *chain.Client, tel *telemetry.Telemetry) (*relay.Relayer, error) {
	key := d.relayKey
	log := d.log.With("part", "relay", "network", nc.Name)
	j := relaystore.New(d.store.Chain(nc.ChainID).Committed(), key.Address, func(o relay.Outcome, p store.Payment) {
		tel.Settlement(nc.Name, string(o.State))
		if d.cash != nil && (o.State == relay.OutcomeFinal || o.State == relay.OutcomeFailed) {
			d.cash.Settled(p)
		}
	})
	r, err := relay.New(relay.Options{Key: key.Private, Chain: node, Queue: j, Journal: j,
		MaxFeePerGas: nc.Relay.MaxFeePerGas, StuckAfter: nc.Relay.StuckAfter, LowCovers: nc.Relay.LowCovers,
		FinalDepth: nc.Chain.FinalDepth, Every: nc.Relay.Poll, FollowUp: nc.Relay.FollowUp, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("relayer on %s: %w", nc.Name, err)
	}
	log.Info("relayer", "address", key.Address.Hex(), "max_fee_gwei", new(big.Int).Quo(nc.Relay.MaxFeePerGas, big.NewInt(1e9)))
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

// relayGate runs the relayer's loop (relay.Run) only while the config
// names chain endpoints: with none there is nothing to settle against,
// and every round would only warn so (each relay.poll, forever). A config
// applied later that names some starts the loop; one that takes them away
// stops it. Authorizations are taken and wait meanwhile.
type relayGate struct {
	r   *relay.Relayer
	log *slog.Logger
	mu  sync.Mutex // one configured at a time, so the latest one wins
	set chan bool  // the latest config's: whether it names endpoints
}

// newRelayGate is the gate of r under the first config's endpoints.
func newRelayGate(r *relay.Relayer, endpoints []string, log *slog.Logger) *relayGate {
	g := &relayGate{r: r, log: log, set: make(chan bool, 1)}
	g.set <- len(endpoints) > 0
	return g
}

// configured is told the endpoints of each config applied: it opens or
// closes the gate and asks for a round now (a new config may bring the
// chain back). It never blocks.
func (g *relayGate) configured(endpoints []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.set: // not read yet: replaced by this one
	default:
	}
	g.set <- len(endpoints) > 0
	g.r.Kick()
}

// run runs the relayer's rounds while the gate is open, until ctx ends.
// The loop it starts is stopped and waited for before run returns.
func (g *relayGate) run(ctx context.Context) {
	for {
		if !g.await(ctx, true) {
			return
		}
		g.log.Info("relayer started: chain.rpc names endpoints")
		loopCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = g.r.Run(loopCtx)
		}()
		open := g.await(ctx, false)
		stop()
		<-done
		if !open {
			return
		}
		g.log.Info("relayer paused: no chain.rpc endpoints; authorizations wait")
	}
}

// await returns true once the gate is set to want, false when ctx ends.
func (g *relayGate) await(ctx context.Context, want bool) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case on := <-g.set:
			if on == want {
				return true
			}
		}
	}
}
