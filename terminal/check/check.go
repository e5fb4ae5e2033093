package check

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
)

// MaxTxSize is the largest raw transaction accepted, in bytes: geth's txpool
// limit (core/txpool/legacypool txMaxSize), so nothing accepted here is
// refused by a node for its size.
const MaxTxSize = 128 << 10

// Terms is what a request asks for, with the per-asset rules from config.
type Terms struct {
	Merchant common.Address
	Token    common.Address // zero: the chain's native coin
	Symbol   string         // for messages only
	Decimals uint8          // for messages only
	Amount   *big.Int       // base units; must be positive

	// MinGas is the configured minimum gas limit. For ERC-20 it should cover
	// a transfer of this token; for native coin 0 means 21000. Whatever it
	// says, a gas limit below the transaction's intrinsic gas (21000 plus
	// calldata and access-list costs) is always refused: such a transaction
	// can never be mined.
	MinGas uint64

	MaxPayment *big.Int // per-payment cap in base units; nil: none
}

// Policy is the terminal-wide part of the check.
type Policy struct {
	ChainID *big.Int // required, positive

	// AllowOverpay lets a payment exceed the requested amount: a native value
	// or an ERC-20 transfer amount > Amount is then accepted. Without it both
	// must equal Amount exactly.
	AllowOverpay bool

	MinFeeCap *big.Int // floor for maxFeePerGas (gasPrice for legacy/0x01), in wei; nil: none

	// SettleWindow is how long an EIP-3009 authorization must stay valid
	// after it is taken ([Checker.CheckAuthorization]): the time the
	// terminal may need to come online and settle it. Zero means
	// DefaultSettleWindow; New panics on a negative one.
	SettleWindow time.Duration
}

// Payment is what an accepted check learned, for the store.
type Payment struct {
	TxHash common.Hash
	From   common.Address
	Nonce  uint64
	Type   uint8    // types.LegacyTxType, AccessListTxType or DynamicFeeTxType
	Paid   *big.Int // in the asset's base units: value for native, the transfer amount for ERC-20
	Gas    uint64
	FeeCap *big.Int // maxFeePerGas; gasPrice for legacy/0x01
	TipCap *big.Int // maxPriorityFeePerGas; gasPrice for legacy/0x01
}

// Checker checks transactions against one Policy. It is immutable and safe
// for concurrent use.
type Checker struct {
	chainID      *big.Int
	signer       types.Signer
	allowOverpay bool
	minFeeCap    *big.Int
	settleWindow time.Duration
}

// New returns a Checker for pol. It panics if pol.ChainID is nil or not
// positive (a checker without a chain would accept replayable transactions)
// or pol.SettleWindow is negative: config validation is expected to have
// refused such a config already.
func New(pol Policy) *Checker {
	if pol.ChainID == nil || pol.ChainID.Sign() <= 0 {
		panic("check: Policy.ChainID must be positive")
	}
	if pol.SettleWindow < 0 {
		panic("check: Policy.SettleWindow must not be negative")
	}
	c := &Checker{
		chainID:      new(big.Int).Set(pol.ChainID),
		allowOverpay: pol.AllowOverpay,
		settleWindow: pol.SettleWindow,
	}
	if c.settleWindow == 0 {
		c.settleWindow = DefaultSettleWindow
	}
	c.signer = types.LatestSignerForChainID(c.chainID)
	if pol.MinFeeCap != nil {
		c.minFeeCap = new(big.Int).Set(pol.MinFeeCap)
	}
	return c
}

// transferSelector is the 4-byte selector of ERC-20 transfer(address,uint256).
var transferSelector = [4]byte{0xa9, 0x05, 0x9c, 0xbb}

// transferLen is the exact length of transfer(address,uint256) calldata.
const transferLen = 4 + 32 + 32

// Check decides whether raw, a signed transaction in its binary (EIP-2718)
// encoding, pays the request described by t. It returns either the Payment or
// an error that is always a *Refusal (match with errors.As); the first failing
// step of the order in the package documentation decides the code.
//
// Check panics if t.Amount is nil or not positive (a caller bug, not a payer's).
func (c *Checker) Check(raw []byte, t Terms) (Payment, error) {
	if t.Amount == nil || t.Amount.Sign() <= 0 {
		panic("check: Terms.Amount must be positive")
	}
	tx, err := decode(raw)
	if err != nil {
		return Payment{}, err
	}
	value, feeCap, tipCap := tx.Value(), tx.GasFeeCap(), tx.GasTipCap()
	if err := rangeCheck(tx, value, feeCap, tipCap); err != nil {
		return Payment{}, err
	}

	// Chain id, before paying for recovery.
	if id := tx.ChainId(); id.Cmp(c.chainID) != 0 {
		return Payment{}, Refuse(CodeWrongChain, "signed for chain %s, this terminal is on chain %s", id, c.chainID)
	}
	from, err := types.Sender(c.signer, tx)
	if err != nil {
		return Payment{}, Refuse(CodeBadSignature, "cannot recover the sender: %v", err)
	}

	// What is paid, to whom.
	var paid *big.Int
	if t.Token == (common.Address{}) {
		paid, err = c.native(tx, value, t)
	} else {
		paid, err = c.erc20(tx, value, t)
	}
	if err != nil {
		return Payment{}, err
	}

	// Gas, fees, limit.
	data := tx.Data()
	minGas := intrinsicGas(data, tx.AccessList())
	if tx.Gas() < minGas {
		return Payment{}, Refuse(CodeGasTooLow, "gas limit %d is below the %d this transaction needs", tx.Gas(), minGas)
	}
	if tx.Gas() < t.MinGas {
		return Payment{}, Refuse(CodeGasTooLow, "gas limit %d is below the minimum %d for %s payments", tx.Gas(), t.MinGas, symbol(t))
	}
	if tx.Gas() > params.MaxTxGas {
		// geth refuses it at the txpool (EIP-7825, core/txpool/validation.go):
		// acknowledged, it could never be mined.
		return Payment{}, Refuse(CodeGasTooHigh, "gas limit %d is above the network's per-transaction cap of %d", tx.Gas(), params.MaxTxGas)
	}
	if tipCap.Cmp(feeCap) > 0 {
		return Payment{}, Refuse(CodeFeeInvalid, "priority fee %s wei per gas is above the max fee %s wei per gas", tipCap, feeCap)
	}
	if c.minFeeCap != nil && feeCap.Cmp(c.minFeeCap) < 0 {
		what := "max fee"
		if tx.Type() != types.DynamicFeeTxType {
			what = "gas price"
		}
		return Payment{}, Refuse(CodeFeeTooLow, "%s %s wei per gas is below this terminal's floor of %s wei", what, feeCap, c.minFeeCap)
	}
	if t.MaxPayment != nil && paid.Cmp(t.MaxPayment) > 0 {
		return Payment{}, Refuse(CodePaymentLimit, "payment of %s is above the limit of %s per payment",
			formatAmount(paid, t), formatAmount(t.MaxPayment, t))
	}

	return Payment{
		TxHash: tx.Hash(),
		From:   from,
		Nonce:  tx.Nonce(),
		Type:   tx.Type(),
		Paid:   paid,
		Gas:    tx.Gas(),
		FeeCap: feeCap,
		TipCap: tipCap,
	}, nil
}

// decode is Check's first three steps (size, decoding, type): the
// transaction raw is, or the *Refusal Check would answer for it.
func decode(raw []byte) (*types.Transaction, error) {
	if len(raw) > MaxTxSize {
		return nil, Refuse(CodeTxTooLarge, "transaction is %d bytes, at most %d", len(raw), MaxTxSize)
	}
	if len(raw) == 0 {
		return nil, Refuse(CodeInvalidTx, "empty transaction")
	}
	if b := raw[0]; b <= 0x7f && b != types.AccessListTxType && b != types.DynamicFeeTxType &&
		b != types.BlobTxType && b != types.SetCodeTxType {
		// geth reads the envelope's type byte before anything else, too.
		return nil, Refuse(CodeUnsupportedTxType, "unknown transaction type 0x%02x", b)
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, decodeRefusal(err, raw[0])
	}
	switch tx.Type() {
	case types.LegacyTxType:
		if !tx.Protected() {
			return nil, Refuse(CodeUnsupportedTxType, "unprotected legacy transaction (no EIP-155 chain id)")
		}
		// v in 29..34 is "protected" to geth but names no chain: (v-35)/2 underflows.
		if v, _, _ := tx.RawSignatureValues(); v.BitLen() <= 8 && v.Uint64() < 35 {
			return nil, Refuse(CodeBadSignature, "invalid signature v value %d", v.Uint64())
		}
	case types.AccessListTxType, types.DynamicFeeTxType:
	case types.BlobTxType:
		return nil, Refuse(CodeUnsupportedTxType, "blob transaction (type 3)")
	case types.SetCodeTxType:
		return nil, Refuse(CodeUnsupportedTxType, "set-code transaction (type 4)")
	default: // not reachable with go-ethereum v1.17; kept for future types
		return nil, Refuse(CodeUnsupportedTxType, "unknown transaction type 0x%02x", tx.Type())
	}
	return tx, nil
}

// ChainIDOf returns the chain id raw, a signed transaction in its binary
// encoding, is signed for, read as [Checker.Check] reads it: what it
// refuses in its first three steps (size, decoding, type) is refused here
// with the same *Refusal, so a terminal on several chains can pick the
// chain's Checker before it checks. A chain id above 2^64-1, which no
// chain a terminal is configured for has, is refused wrong_chain.
func ChainIDOf(raw []byte) (uint64, error) {
	tx, err := decode(raw)
	if err != nil {
		return 0, err
	}
	id := tx.ChainId()
	if !id.IsUint64() {
		return 0, Refuse(CodeWrongChain, "signed for chain %s", id)
	}
	return id.Uint64(), nil
}

// native checks a payment in the chain's coin and returns the amount paid.
func (c *Checker) native(tx *types.Transaction, value *big.Int, t Terms) (*big.Int, error) {
	to := tx.To()
	if to == nil {
		return nil, Refuse(CodeWrongRecipient, "contract creation, not a payment to merchant %s", t.Merchant.Hex())
	}
	if *to != t.Merchant {
		return nil, Refuse(CodeWrongRecipient, "sent to %s, merchant is %s", to.Hex(), t.Merchant.Hex())
	}
	if err := c.amount(value, t); err != nil {
		return nil, err
	}
	if n := len(tx.Data()); n != 0 {
		return nil, Refuse(CodeUnexpectedData, "%s payments carry no data; this one has %s", symbol(t), plural(n, "byte"))
	}
	return value, nil
}

// erc20 checks a token transfer and returns the amount transferred.
func (c *Checker) erc20(tx *types.Transaction, value *big.Int, t Terms) (*big.Int, error) {
	to := tx.To()
	if to == nil {
		return nil, Refuse(CodeWrongRecipient, "contract creation, not a transfer on token contract %s", t.Token.Hex())
	}
	if *to != t.Token {
		return nil, Refuse(CodeWrongRecipient, "sent to %s, the %s token contract is %s", to.Hex(), symbol(t), t.Token.Hex())
	}
	if value.Sign() != 0 {
		return nil, Refuse(CodeUnexpectedValue, "%s transfers send no native coin; this one sends %s wei", symbol(t), value)
	}
	data := tx.Data()
	if len(data) != transferLen {
		return nil, Refuse(CodeWrongTransfer, "calldata is %d bytes, transfer(address,uint256) is %d", len(data), transferLen)
	}
	if [4]byte(data[:4]) != transferSelector {
		return nil, Refuse(CodeWrongTransfer, "function selector 0x%x is not transfer (0xa9059cbb)", data[:4])
	}
	word := data[4:36]
	if !allZero(word[:12]) {
		return nil, Refuse(CodeWrongTransfer, "recipient word has non-zero padding")
	}
	if rcpt := common.BytesToAddress(word[12:]); rcpt != t.Merchant {
		return nil, Refuse(CodeWrongTransfer, "transfer to %s, merchant is %s", rcpt.Hex(), t.Merchant.Hex())
	}
	amount := new(big.Int).SetBytes(data[36:transferLen])
	if err := c.amount(amount, t); err != nil {
		return nil, err
	}
	return amount, nil
}

// amount compares what is paid with what is asked.
func (c *Checker) amount(paid *big.Int, t Terms) error {
	switch d := paid.Cmp(t.Amount); {
	case d < 0:
		return Refuse(CodeUnderpaid, "paid %s, request is %s", formatAmount(paid, t), formatAmount(t.Amount, t))
	case d > 0 && !c.allowOverpay:
		return Refuse(CodeOverpaid, "paid %s, request is %s; overpayment is not accepted", formatAmount(paid, t), formatAmount(t.Amount, t))
	}
	return nil
}

// rangeCheck refuses field values that RLP can carry but the chain cannot:
// amounts over 256 bits and the one nonce that can never be used (EIP-2681).
// RLP has no negative integers, so Sign() < 0 cannot happen; it is checked
// anyway in case a future decoder changes.
func rangeCheck(tx *types.Transaction, value, feeCap, tipCap *big.Int) error {
	for _, f := range [...]struct {
		name string
		v    *big.Int
	}{{"value", value}, {"max fee", feeCap}, {"priority fee", tipCap}} {
		if f.v.Sign() < 0 || f.v.BitLen() > 256 {
			return Refuse(CodeInvalidTx, "%s out of range", f.name)
		}
	}
	if tx.Nonce() == math.MaxUint64 {
		return Refuse(CodeInvalidTx, "nonce 2^64-1 can never be used")
	}
	return nil
}

// decodeRefusal explains why UnmarshalBinary failed.
func decodeRefusal(err error, typ byte) *Refusal {
	switch {
	case errors.Is(err, types.ErrTxTypeNotSupported):
		return Refuse(CodeUnsupportedTxType, "unknown transaction type 0x%02x", typ)
	case errors.Is(err, rlp.ErrMoreThanOneValue):
		return Refuse(CodeInvalidTx, "trailing bytes after the transaction")
	case errors.Is(err, rlp.ErrValueTooLarge), errors.Is(err, io.ErrUnexpectedEOF):
		return Refuse(CodeInvalidTx, "truncated transaction (%v)", err)
	}
	return Refuse(CodeInvalidTx, "cannot decode transaction: %v", err)
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// Gas costs for intrinsicGas (go-ethereum params, Prague rules).
const (
	txGas                 = 21000
	txDataZeroGas         = 4
	txDataNonZeroGas      = 16 // EIP-2028
	txAccessListAddrGas   = 2400
	txAccessListKeyGas    = 1900
	txCostFloorPerToken   = 10 // EIP-7623
	txTokenPerNonZeroByte = 4
)

// intrinsicGas is the least gas a call transaction with this data and access
// list can be mined with: the larger of the standard intrinsic gas and the
// EIP-7623 calldata floor. Sizes are bounded by MaxTxSize, so nothing overflows.
func intrinsicGas(data []byte, al types.AccessList) uint64 {
	z := uint64(bytes.Count(data, zeroByte))
	nz := uint64(len(data)) - z
	gas := txGas + z*txDataZeroGas + nz*txDataNonZeroGas
	for _, tuple := range al {
		gas += txAccessListAddrGas + uint64(len(tuple.StorageKeys))*txAccessListKeyGas
	}
	floor := txGas + txCostFloorPerToken*(z+nz*txTokenPerNonZeroByte)
	return max(gas, floor)
}

var zeroByte = []byte{0}
