package main

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/request"
	"showpos/tools/paytx"
)

// The terminal every figure is measured on: chain 1337 (the dev chain's),
// ETH and the dev chain's TUSD token.
const (
	benchChainID  = 1337
	benchMerchant = "0x000000000000000000000000000000000000dEaD"
	benchToken    = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
)

// configText is posd's config for the benchmark; DATA and ADDR stand for
// the data directory and the network API's address, ENDPOINTS for the
// chain.rpc line (none but for the watch rows: payments are taken and
// stay queued). Requests live 24 h so those made beforehand are still
// payable.
const configText = `
[terminal]
id = "posbench"
merchant_name = "Bench"
data_dir = "DATA"
request_ttl = "24h"
[api]
listen = "ADDR"
[chain]
id = 1337
ENDPOINTS
[merchant]
address = "` + benchMerchant + `"
[[assets]]
symbol = "ETH"
[[assets]]
symbol = "TUSD"
token = "` + benchToken + `"
decimals = 6
`

// configFor is configText for the data directory data, with the chain
// endpoint rpc ("" for none).
func configFor(data, rpc string) string {
	endpoints := ""
	if rpc != "" {
		endpoints = fmt.Sprintf("rpc = [%q]", rpc)
	}
	return strings.NewReplacer("DATA", data, "ADDR", "127.0.0.1:0", "ENDPOINTS", endpoints).Replace(configText)
}

// kind is a payment asset: the native coin or the ERC-20.
type kind struct {
	Name   string
	Asset  asset.Asset
	Amount *big.Int // base units
	MinGas uint64
}

var (
	native = kind{Name: "native ETH", Asset: asset.Asset{Symbol: "ETH", Decimals: 18},
		Amount: big.NewInt(1e15)} // 0.001 ETH
	erc20 = kind{Name: "ERC-20", Asset: asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress(benchToken)},
		Amount: big.NewInt(12_500_000), MinGas: 45_000} // 12.5 TUSD; min gas as config's default
)

// terms are the check's terms for a payment of k.
func (k kind) terms() check.Terms {
	return check.Terms{Merchant: common.HexToAddress(benchMerchant), Token: k.Asset.Token, Symbol: k.Asset.Symbol,
		Decimals: k.Asset.Decimals, Amount: k.Amount, MinGas: k.MinGas}
}

// request is a request for k, as a payer's wallet sees it.
func (k kind) request() *request.Request {
	return &request.Request{Merchant: common.HexToAddress(benchMerchant), ChainID: benchChainID, Asset: k.Asset, Amount: k.Amount}
}

// checker is the terminal's check for the bench chain.
func checker() *check.Checker { return check.New(check.Policy{ChainID: big.NewInt(benchChainID)}) }

// signedTxs signs n distinct EIP-1559 payments of k, as wallets send them:
// payers keys, each with consecutive nonces.
func signedTxs(k kind, n, payers int) ([][]byte, error) {
	keys := make([]*ecdsa.PrivateKey, payers)
	for i := range keys {
		var err error
		if keys[i], err = crypto.GenerateKey(); err != nil {
			return nil, err
		}
	}
	r := k.request()
	out := make([][]byte, n)
	for i := range out {
		tx, err := paytx.Build(r, keys[i%payers], paytx.Options{Type: types.DynamicFeeTxType, Nonce: uint64(i / payers)})
		if err != nil {
			return nil, err
		}
		if out[i], err = tx.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	// Every one must pass the check, or the figures measure refusals.
	c := checker()
	for i, raw := range out {
		if _, err := c.Check(raw, k.terms()); err != nil {
			return nil, fmt.Errorf("signed %s payment %d refused: %w", k.Name, i, err)
		}
	}
	return out, nil
}

// signFor signs the EIP-1559 payment of r from key at nonce.
func signFor(r *request.Request, key *ecdsa.PrivateKey, nonce uint64) ([]byte, error) {
	tx, err := paytx.Build(r, key, paytx.Options{Type: types.DynamicFeeTxType, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

func newKey() (*ecdsa.PrivateKey, error) { return crypto.GenerateKey() }
