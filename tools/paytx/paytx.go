// Package paytx builds and signs the transaction that pays a payment
// request, as a payer's wallet would: a value transfer to the merchant for
// the native coin, or an ERC-20 transfer(merchant, amount) call to the token.
// The payer simulator and the tests use it; the terminal itself never signs
// payments.
package paytx

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/terminal/request"
)

// Options shape the transaction. The zero value pays the request exactly
// with an EIP-155 legacy transaction at nonce 0. The fields after Amount
// exist to build wrong payments on purpose (tests, the payer simulator).
type Options struct {
	Type   uint8    // types.LegacyTxType (EIP-155), types.AccessListTxType or types.DynamicFeeTxType
	Nonce  uint64   //
	Gas    uint64   // 0: DefaultNativeGas or DefaultTokenGas
	FeeCap *big.Int // maxFeePerGas, or gasPrice for legacy and 0x01; nil: DefaultFeeCap
	TipCap *big.Int // maxPriorityFeePerGas; nil: DefaultTipCap
	Amount *big.Int // nil: the request's amount

	ChainID *big.Int        // nil: the request's chain
	To      *common.Address // nil: the merchant (native) or the token
	Data    []byte          // nil: none for native, transfer calldata for a token
	Value   *big.Int        // nil: the amount (native) or zero (token)
}

// Defaults a wallet would pick on a quiet chain.
var (
	DefaultFeeCap = big.NewInt(2_000_000_000) // 2 gwei
	DefaultTipCap = big.NewInt(1_000_000_000) // 1 gwei
)

const (
	DefaultNativeGas = 21_000
	DefaultTokenGas  = 65_000
)

// TransferData is the calldata of ERC-20 transfer(to, amount).
func TransferData(to common.Address, amount *big.Int) []byte {
	data := make([]byte, 4+32+32)
	copy(data, []byte{0xa9, 0x05, 0x9c, 0xbb})
	copy(data[4+12:], to.Bytes())
	amount.FillBytes(data[4+32:])
	return data
}

// Build signs a transaction paying r with key.
func Build(r *request.Request, key *ecdsa.PrivateKey, o Options) (*types.Transaction, error) {
	amount := o.Amount
	if amount == nil {
		amount = r.Amount
	}
	chainID := o.ChainID
	if chainID == nil {
		chainID = new(big.Int).SetUint64(r.ChainID)
	}
	feeCap, tipCap := o.FeeCap, o.TipCap
	if feeCap == nil {
		feeCap = DefaultFeeCap
	}
	if tipCap == nil {
		tipCap = DefaultTipCap
	}
	to, value, data, gas := r.Merchant, amount, o.Data, o.Gas
	if !r.Asset.Native() {
		to, value = r.Asset.Token, new(big.Int)
		if data == nil {
			data = TransferData(r.Merchant, amount)
		}
		if gas == 0 {
			gas = DefaultTokenGas
		}
	} else if gas == 0 {
		gas = DefaultNativeGas
	}
	if o.To != nil {
		to = *o.To
	}
	if o.Value != nil {
		value = o.Value
	}
	var inner types.TxData
	switch o.Type {
	case types.LegacyTxType:
		inner = &types.LegacyTx{Nonce: o.Nonce, GasPrice: feeCap, Gas: gas, To: &to, Value: value, Data: data}
	case types.AccessListTxType:
		inner = &types.AccessListTx{ChainID: chainID, Nonce: o.Nonce, GasPrice: feeCap, Gas: gas, To: &to, Value: value, Data: data}
	case types.DynamicFeeTxType:
		inner = &types.DynamicFeeTx{ChainID: chainID, Nonce: o.Nonce, GasFeeCap: feeCap, GasTipCap: tipCap, Gas: gas, To: &to, Value: value, Data: data}
	default:
		return nil, fmt.Errorf("paytx: transaction type %d is not one a payment uses", o.Type)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), inner)
	if err != nil {
		return nil, fmt.Errorf("paytx: sign: %w", err)
	}
	return tx, nil
}
