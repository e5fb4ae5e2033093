package receipt_test

import (
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
	"showpos/terminal/receipt"
)

// termKey is a fixed terminal key, so goldens and signatures are stable.
func termKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.HexToECDSA("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var t0 = time.Date(2026, 12, 7, 9, 41, 5, 0, time.UTC)

var tusd = asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}

// paidTUSD is a receipt of a handed-over TUSD payment with a tip, keyed
// in euros.
func paidTUSD() receipt.Receipt {
	return receipt.Receipt{
		RequestID:    "4f1c2b7a9e0d8c3b6a5f4e3d2c1b0a99",
		TerminalID:   "till-1",
		MerchantName: "Café Lumière, 12 Rue des Lilas",
		Merchant:     common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
		ChainID:      1337,
		Time:         t0,
		State:        receipt.StatePaid,
		Asset:        tusd,
		Amount:       big.NewInt(5_175_000),
		Tip:          big.NewInt(675_000),
		FiatAmount:   "4.75",
		Currency:     "EUR",
		Rate:         "0.917874",
		Memo:         "order 1182",
		Method:       receipt.MethodHandover,
		TxHash:       common.HexToHash("0x9c3e5d0b7f2a41e8c6d95b3a0f1e2d7c4b8a69f0e1d2c3b4a5968778695a4b3c"),
		From:         common.HexToAddress("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
		Link:         "https://pos.example/receipt/4f1c2b7a9e0d8c3b6a5f4e3d2c1b0a99",
	}
}
