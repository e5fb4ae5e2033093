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
// payable. api.max_conns is 256, not the default 64: with 64 payers at
// a cap of 64, Go's client dials a 65th connection while it waits for one
// of its own to come free, and that one waits in the kernel's queue until
// posd drops an idle one (api's idle timeout, 5 s). The throughput rows
// swung from 3,500 to 100 payments a second on those waits; they measure
// the terminal's accepts, not its connection cap.
const configText = `
[terminal]
id = "posbench"
merchant_name = "Bench"
data_dir = "DATA"
request_ttl = "24h"
[api]
listen = "ADDR"
max_conns = 256
[merchant]
address = "` + benchMerchant + `"
[chain]
id = 1337
ENDPOINTS
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

// benchChainID2 is the second network's chain id in the two-network
// figures: a second dev chain's.
const benchChainID2 = 1338

// benchChains are the chains of the two-network figures, the default
// network's first.
var benchChains = []uint64{benchChainID, benchChainID2}

// networksText is configText's [chain] and [[assets]] as two
// [[networks]]: "dev-a", the one-network terminal's chain and assets, the
// default; "dev-b", a second dev chain taking ETH. No endpoints: payments
// are taken and stay queued, as on the one-network terminal.
const networksText = `
[[networks]]
name = "dev-a"
chain_id = 1337
[[networks.assets]]
symbol = "ETH"
[[networks.assets]]
symbol = "TUSD"
token = "` + benchToken + `"
decimals = 6
[[networks]]
name = "dev-b"
chain_id = 1338
[[networks.assets]]
symbol = "ETH"
`

// configForNets is posd's config for the data directory data on nets
// networks (1 or 2), no endpoints: configFor's for one, its terminal with
// networksText for two.
func configForNets(data string, nets int) (string, error) {
	switch nets {
	case 1:
		return configFor(data, ""), nil
	case 2:
		head, _, ok := strings.Cut(configText, "[chain]")
		if !ok {
			return "", fmt.Errorf("configText has no [chain]")
		}
		return strings.NewReplacer("DATA", data, "ADDR", "127.0.0.1:0").Replace(head + networksText), nil
	}
	return "", fmt.Errorf("a bench terminal has 1 or 2 networks, not %d", nets)
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
func checker() *check.Checker { return checkerOn(benchChainID) }

// checkerOn is the terminal's check for chain id.
func checkerOn(id uint64) *check.Checker {
	return check.New(check.Policy{ChainID: new(big.Int).SetUint64(id)})
}

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

// signFor signs the EIP-1559 payment of r from key at nonce on chain id
// (0: the request's own chain), as a wallet paying that option.
func signFor(r *request.Request, key *ecdsa.PrivateKey, nonce, id uint64) ([]byte, error) {
	o := paytx.Options{Type: types.DynamicFeeTxType, Nonce: nonce}
	if id != 0 {
		if _, ok := r.Option(id); !ok {
			return nil, fmt.Errorf("request %s is not offered on chain %d", r.ID, id)
		}
		o.ChainID = new(big.Int).SetUint64(id)
	}
	tx, err := paytx.Build(r, key, o)
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

func newKey() (*ecdsa.PrivateKey, error) { return crypto.GenerateKey() }
