package check_test

import (
	"errors"
	"fmt"
	"math/big"
	"time"

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

func ExampleChecker_CheckAuthorization() {
	// A payer's x402 client hands over an EIP-3009 authorization of 12.34
	// USDC to the merchant on Sepolia, valid until 25 hours after now…
	payload := []byte(`{"x402Version":1,"scheme":"exact","network":"eip155:11155111","payload":{
	  "signature":"0x04a1cb4fd8cc345ef739a7b10cdb611f157c1cf3569514b176944f4a334fdf5849290ef6590d458d4371fd5a073eb9bcb61f1c2e06569f4231ff6f693f319b161b",
	  "authorization":{"from":"0x2c7536E3605D9C16a7a3D7b1898e529396a65c23","to":"0x5EC1ba2DB0E3f2Bd3c7A48fEe1d5A4C6B2a9E001",
	    "value":"12340000","validAfter":"0","validBefore":"1800090000",
	    "nonce":"0x0b87a87514c60c2332d08122be1be90339700fa864e24b02865e1550ccd00239"}}}`)
	a, err := check.ParsePaymentPayload(payload)
	if err != nil {
		fmt.Println(err)
		return
	}

	// …and the terminal checks it, offline, against the request.
	c := check.New(check.Policy{ChainID: big.NewInt(11155111)}) // settle window: a day
	terms := check.AuthorizationTerms{
		Terms: check.Terms{
			Merchant: common.HexToAddress("0x5eC1bA2dB0E3f2bd3C7a48fEe1D5A4c6b2a9E001"),
			Token:    common.HexToAddress("0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"),
			Symbol:   "USDC", Decimals: 6, Amount: big.NewInt(12_340_000),
		},
		Domain: check.Domain{Name: "USD Coin", Version: "2"},
		Now:    time.Unix(1_800_000_000, 0),
	}
	p, err := c.CheckAuthorization(a, terms)
	fmt.Println(p.From, p.Paid, p.Nonce, err)

	// Two hours later it would no longer last the settle window.
	terms.Now = terms.Now.Add(2 * time.Hour)
	_, err = c.CheckAuthorization(a, terms)
	var r *check.Refusal
	if errors.As(err, &r) {
		fmt.Println(r.Code)
	}
	// Output:
	// 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23 12340000 0x0b87a87514c60c2332d08122be1be90339700fa864e24b02865e1550ccd00239 <nil>
	// authorization_expires_too_soon
}
