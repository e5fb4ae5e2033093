package main

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/chain"
	"showpos/sync/relay"
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
	j := &journal{st: st, chainID: d.node.ChainID(), relayer: key.Address, outcome: func(o relay.Outcome, p store.Payment) {
		tel.Settlement(string(o.State))
		if d.cash != nil && (o.State == relay.OutcomeFinal || o.State == relay.OutcomeFailed) {
			d.cash.Settled(p)
		}
	}}
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

// journal is the relayer's Queue and Journal (sync/relay) over the store
// (terminal/store's relay journal and authorizations): one relayer
// account on one chain. The two sides' types differ in form only; this
// converts them. An authorization's ID is its payment's hash in hex.
type journal struct {
	st      *store.Store
	chainID uint64
	relayer common.Address
	outcome func(relay.Outcome, store.Payment) // after each stored outcome
}

var (
	_ relay.Queue   = (*journal)(nil)
	_ relay.Journal = (*journal)(nil)
)

func (j *journal) Open(after string, limit int) ([]relay.Authorization, error) {
	var from common.Hash
	if after != "" {
		from = common.HexToHash(after)
	}
	ps, err := j.st.OpenAuthorizationsAfter(from, limit)
	if err != nil {
		return nil, err
	}
	out := make([]relay.Authorization, 0, len(ps))
	for _, p := range ps {
		a := p.Authorization
		out = append(out, relay.Authorization{ID: p.TxHash.Hex(), Token: a.Token, From: p.From, To: a.To, Value: p.Amount,
			ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: a.Signature[:]})
	}
	return out, nil
}

func (j *journal) Txs() ([]relay.Tx, error) {
	ts, err := j.st.RelayTxs(j.chainID, j.relayer)
	if err != nil {
		return nil, err
	}
	out := make([]relay.Tx, len(ts))
	for i, t := range ts {
		out[i] = relay.Tx{Nonce: t.Nonce, AuthID: t.AuthID.Hex(), Token: t.Token, From: t.From, AuthNonce: t.AuthNonce,
			Hashes: t.Hashes, Raw: t.Raw, Fees: relay.Fees{TipCap: t.TipCap, FeeCap: t.FeeCap}, SignedAt: t.SignedAt,
			State: relay.TxState(t.State)}
		if t.Mined {
			out[i].Block = &chain.BlockRef{Number: t.Block, Hash: t.BlockHash}
		}
	}
	return out, nil
}

func (j *journal) Record(t relay.Tx) error {
	rt := store.RelayTx{ChainID: j.chainID, Relayer: j.relayer, Nonce: t.Nonce, AuthID: common.HexToHash(t.AuthID),
		Token: t.Token, From: t.From, AuthNonce: t.AuthNonce, Hashes: t.Hashes, Raw: t.Raw,
		TipCap: t.Fees.TipCap, FeeCap: t.Fees.FeeCap, SignedAt: t.SignedAt, State: store.RelayTxState(t.State)}
	if t.Block != nil {
		rt.Mined, rt.Block, rt.BlockHash = true, t.Block.Number, t.Block.Hash
	}
	return j.st.RecordRelayTx(context.Background(), rt, time.Now())
}

func (j *journal) Report(o relay.Outcome) error {
	ro := store.RelayOutcome{AuthID: common.HexToHash(o.AuthID), State: store.RelayOutcomeState(o.State), Reason: o.Reason, Tx: o.Tx}
	if o.Block != nil {
		ro.Block, ro.BlockHash = o.Block.Number, o.Block.Hash
	}
	p, err := j.st.ReportRelayOutcome(context.Background(), ro, time.Now())
	if err != nil {
		return err
	}
	if j.outcome != nil {
		j.outcome(o, p)
	}
	return nil
}
