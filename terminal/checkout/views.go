package checkout

import (
	"fmt"
	"time"

	"showpos/sync/outbox"
	"showpos/terminal/asset"
)

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
