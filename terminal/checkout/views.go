package checkout

import (
	"fmt"
	"github.com/ethereum/go-ethereum/common"
	"time"

	"showpos/terminal/asset"
	"showpos/terminal/config"
	"showpos/terminal/store"
)

// PaymentView is a stored payment as the operator sees it.
type PaymentView struct {
	TxHash string `json:"txHash"`
	// Source is how it came: "handover" (a signed transaction handed
	// over), "authorization" (an EIP-3009 authorization the relayer
	// settles) or "chain" (a transfer seen on chain; unmatched receipts
	// too).
	Source        store.PaymentSource `json:"source"`
	RequestID     string              `json:"requestId"` // "" for an unmatched receipt near no request
	From          string              `json:"from"`      // EIP-55
	Nonce         uint64              `json:"nonce"`
	Asset         string              `json:"asset"`
	Amount        string              `json:"amount"`
	AmountDisplay string              `json:"amountDisplay"`
	State         store.PaymentState  `json:"state"`
	Reason        string              `json:"reason,omitempty"`
	AcceptedAt    time.Time           `json:"acceptedAt"`
	UpdatedAt     time.Time           `json:"updatedAt"`
	Seq           uint64              `json:"seq"`
	// Block and BlockHash name the canonical block it is in, once mined
	// (checked against the canonical chain until final).
	Block     uint64 `json:"block,omitempty"`
	BlockHash string `json:"blockHash,omitempty"`
	// Reorgs counts the times a block it was in was lost (it was sent
	// again); ReorgNote says what happened the last time.
	Reorgs    int    `json:"reorgs,omitempty"`
	ReorgNote string `json:"reorgNote,omitempty"`
	// Settlement is, for an authorization, the relayer's transaction that
	// settled (or failed) it, once the relayer reported one.
	Settlement string `json:"settlement,omitempty"`
	// AcknowledgedAt is, for an unmatched receipt, when the operator
	// acknowledged it (AckUnmatched); absent until then.
	AcknowledgedAt time.Time `json:"acknowledgedAt,omitzero"`
}

// Payments lists stored payments in acceptance order; with state
// unmatched, the unmatched receipts in the order recorded (see
// store.Store.Payments).
func (s *Service) Payments(f store.PaymentFilter) ([]PaymentView, error) {
	ps, err := s.store.Payments(f)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	cfg := s.Config()
	out := make([]PaymentView, len(ps))
	for i, p := range ps {
		out[i] = s.view(cfg, p)
	}
	return out, nil
}

// PaymentView is one stored payment as Payments shows it (a failure's
// payment, say).
func (s *Service) PaymentView(p store.Payment) PaymentView { return s.view(s.Config(), p) }

func (s *Service) view(cfg *config.Config, p store.Payment) PaymentView {
	decimals := s.decimals(cfg, p)
	v := PaymentView{
		TxHash: p.TxHash.Hex(), Source: p.Source, RequestID: p.RequestID, From: p.From.Hex(), Nonce: p.Nonce, Asset: p.Asset,
		Amount: p.Amount.String(), AmountDisplay: asset.FormatAmount(p.Amount, decimals),
		State: p.State, Reason: p.Reason, AcceptedAt: p.AcceptedAt, UpdatedAt: p.UpdatedAt, Seq: p.Seq,
		Block: p.Delivery.Block, Reorgs: p.Delivery.Reorgs, ReorgNote: p.Delivery.ReorgNote,
		AcknowledgedAt: p.AckedAt,
	}
	if p.Delivery.BlockHash != (common.Hash{}) {
		v.BlockHash = p.Delivery.BlockHash.Hex()
	}
	if a := p.Authorization; a != nil && a.Settlement != (common.Hash{}) {
		v.Settlement = a.Settlement.Hex()
	}
	return v
}

// decimals of a stored payment's asset: from the running config, or, for
// an asset a later config dropped, from the request it paid.
func (s *Service) decimals(cfg *config.Config, p store.Payment) uint8 {
	if a, ok := cfg.Asset(p.Asset); ok {
		return a.Decimals
	}
	if p.RequestID == "" {
		return 0
	}
	if r, err := s.lookup(p.RequestID); err == nil {
		return r.Asset.Decimals
	}
	return 0
}
