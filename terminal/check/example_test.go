package check_test

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/check"
)

func ExampleChecker_Check() {
	// The payer's phone signs 0.01 ETH to the merchant on Sepolia…
	chain, merchant := big.NewInt(11155111), common.HexToAddress("0x5eC1bA2dB0E3f2bd3C7a48fEe1D5A4c6b2a9E001")
	key, _ := crypto.HexToECDSA("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	tx := types.MustSignNewTx(key, types.LatestSignerForChainID(chain), &types.DynamicFeeTx{
		ChainID: chain, Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(30e9),
		Gas: 21000, To: &merchant, Value: big.NewInt(1e16)})
	raw, _ := tx.MarshalBinary()

	// …and the terminal checks it against two requests.
	c := check.New(check.Policy{ChainID: chain, MinFeeCap: big.NewInt(1e9)})
	terms := check.Terms{Merchant: merchant, Symbol: "ETH", Decimals: 18, Amount: big.NewInt(1e16)}
	p, err := c.Check(raw, terms)
	fmt.Println(p.From, p.Nonce, p.Paid, err)

	terms.Amount = big.NewInt(2e16)
	_, err = c.Check(raw, terms)
	var r *check.Refusal
	if errors.As(err, &r) {
		fmt.Println(r.Code, "|", r.Msg)
	}
	// Output:
	// 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23 0 10000000000000000 <nil>
	// underpaid | paid 0.01 ETH, request is 0.02 ETH
}
