package store_test

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "outbox")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "pos.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	_ = s.PutRequest(ctx, store.Request{
		ID: "coffee-42", Asset: "TUSD", Amount: big.NewInt(3_500_000),
		CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute),
	})

	pay := store.Payment{
		TxHash: common.HexToHash("0x01"), RequestID: "coffee-42",
		From: common.HexToAddress("0xaa"), Nonce: 0,
		Asset: "TUSD", Amount: big.NewInt(3_500_000), Raw: []byte{0x02},
		State: store.PaymentQueued, ChainID: 8453, // Base
	}
	limit := big.NewInt(100_000_000) // at most 100 TUSD unsettled
	p, repeat, err := s.Accept(ctx, pay, now, limit)
	fmt.Println(p.Seq, p.State, repeat, err)

	// The same tx again is an idempotent repeat; a second tx is refused.
	_, repeat, _ = s.Accept(ctx, pay, now, limit)
	fmt.Println("repeat:", repeat)
	other := pay
	other.TxHash, other.Nonce = common.HexToHash("0x03"), 1
	_, _, err = s.Accept(ctx, other, now, limit)
	fmt.Println(err)

	u, _ := s.Chain(8453).Unsettled("TUSD")
	fmt.Println("unsettled:", u)
	_, _ = s.SetPaymentState(ctx, pay.TxHash, store.PaymentConfirmed, "", now.Add(time.Minute))
	u, _ = s.Chain(8453).Unsettled("TUSD")
	fmt.Println("unsettled:", u)
	// Output:
	// 1 queued false <nil>
	// repeat: true
	// accept 0x0000000000000000000000000000000000000000000000000000000000000003: request "coffee-42" paid by 0x0000000000000000000000000000000000000000000000000000000000000001: request already paid
	// unsettled: 3500000
	// unsettled: 0
}
