package receipt_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
	"showpos/terminal/receipt"
)

// A terminal signs a receipt; anyone holding its JSON checks who signed it.
func ExampleSign() {
	key, _ := crypto.HexToECDSA("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	s, err := receipt.Sign(receipt.Receipt{
		RequestID: "4f1c2b7a9e0d8c3b6a5f4e3d2c1b0a99", TerminalID: "till-1", MerchantName: "Test Shop",
		ChainID: 1337, Time: time.Date(2026, 12, 7, 9, 41, 5, 0, time.UTC), State: receipt.StateUnpaid, Reason: "expired",
		Asset: asset.Asset{Symbol: "ETH", Decimals: 18}, Amount: big.NewInt(1e16),
	}, key)
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(s)

	d, err := receipt.ParseJSON(b)
	fmt.Println(d.Signer.Hex(), err)
	fmt.Println(d.TypedData.Message["state"], d.TypedData.Message["reason"])
	// Output:
	// 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23 <nil>
	// unpaid expired
}
