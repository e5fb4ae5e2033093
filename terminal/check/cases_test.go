package check

import (
	"crypto/ecdsa"
	"math"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// The fixtures: a Sepolia-like chain, a merchant, a 6-decimal token.
var (
	testChain  = big.NewInt(11155111)
	otherChain = big.NewInt(1)
	merchant   = common.HexToAddress("0x5eC1bA2dB0E3f2bd3C7a48fEe1D5A4c6b2a9E001")
	token      = common.HexToAddress("0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238")
	stranger   = common.HexToAddress("0x000000000000000000000000000000000000dEaD")

	gwei      = big.NewInt(1_000_000_000)
	ethAmount = big.NewInt(10_000_000_000_000_000) // 0.01 ETH
	usdAmount = big.NewInt(12_340_000)             // 12.34 USDC
)

func nativeTerms() Terms {
	return Terms{Merchant: merchant, Symbol: "ETH", Decimals: 18, Amount: new(big.Int).Set(ethAmount)}
}

func tokenTerms() Terms {
	return Terms{Merchant: merchant, Token: token, Symbol: "USDC", Decimals: 6, Amount: new(big.Int).Set(usdAmount), MinGas: 60_000}
}

func testPolicy() Policy { return Policy{ChainID: testChain, MinFeeCap: gwei} }

// checkCase is one row of the specification: raw bytes, terms and policy in,
// either a payment (code "") or a refusal code whose message contains msg.
type checkCase struct {
	name  string
	raw   []byte
	terms Terms
	pol   Policy
	code  Code
	msg   string

	// for accepted payments
	from  common.Address
	nonce uint64
	paid  *big.Int
	typ   uint8
	hash  common.Hash
}

// Producible lists every code Check itself can return; each must have a case.
var producible = []Code{
	CodeTxTooLarge, CodeInvalidTx, CodeUnsupportedTxType, CodeWrongChain, CodeBadSignature,
	CodeWrongRecipient, CodeUnderpaid, CodeOverpaid, CodeGasTooLow, CodeGasTooHigh, CodeUnexpectedData,
	CodeUnexpectedValue, CodeWrongTransfer, CodeFeeTooLow, CodeFeeInvalid, CodePaymentLimit,
}

func gweis(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), gwei) }
func add(x *big.Int, d int64) *big.Int {
	return new(big.Int).Add(x, big.NewInt(d))
}

// transferData is transfer(to, amount) calldata.
func transferData(to common.Address, amount *big.Int) []byte {
	d := append([]byte{0xa9, 0x05, 0x9c, 0xbb}, common.LeftPadBytes(to.Bytes(), 32)...)
	return append(d, common.LeftPadBytes(amount.Bytes(), 32)...)
}

// Transaction templates, each a valid payment of the default terms; mods
// change one thing.
func legacy(mods ...func(*types.LegacyTx)) *types.LegacyTx {
	to := merchant
	tx := &types.LegacyTx{Nonce: 7, GasPrice: gweis(2), Gas: 21000, To: &to, Value: new(big.Int).Set(ethAmount)}
	for _, m := range mods {
		m(tx)
	}
	return tx
}

func accessList(mods ...func(*types.AccessListTx)) *types.AccessListTx {
	to := merchant
	tx := &types.AccessListTx{ChainID: testChain, Nonce: 8, GasPrice: gweis(2), Gas: 21000, To: &to, Value: new(big.Int).Set(ethAmount)}
	for _, m := range mods {
		m(tx)
	}
	return tx
}

func dynamic(mods ...func(*types.DynamicFeeTx)) *types.DynamicFeeTx {
	to := merchant
	tx := &types.DynamicFeeTx{ChainID: testChain, Nonce: 9, GasTipCap: gwei, GasFeeCap: gweis(30), Gas: 21000, To: &to, Value: new(big.Int).Set(ethAmount)}
	for _, m := range mods {
		m(tx)
	}
	return tx
}

func erc20Dynamic(mods ...func(*types.DynamicFeeTx)) *types.DynamicFeeTx {
	return dynamic(append([]func(*types.DynamicFeeTx){func(tx *types.DynamicFeeTx) {
		tx.To = &token
		tx.Value = new(big.Int)
		tx.Gas = 65_000
		tx.Data = transferData(merchant, usdAmount)
	}}, mods...)...)
}

// payer signs transactions with a freshly generated key.
type payer struct {
	tb   testing.TB
	key  *ecdsa.PrivateKey
	addr common.Address
}

func newPayer(tb testing.TB) *payer {
	key, err := crypto.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return &payer{tb: tb, key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

func (p *payer) sign(s types.Signer, data types.TxData) *types.Transaction {
	p.tb.Helper()
	tx, err := types.SignNewTx(p.key, s, data)
	if err != nil {
		p.tb.Fatal(err)
	}
	return tx
}

func encode(tb testing.TB, tx *types.Transaction) []byte {
	tb.Helper()
	raw, err := tx.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func (p *payer) raw(s types.Signer, data types.TxData) []byte {
	p.tb.Helper()
	return encode(p.tb, p.sign(s, data))
}

// accepted makes a row for a transaction that pays terms.
func (p *payer) accepted(name string, s types.Signer, data types.TxData, terms Terms, pol Policy, paid *big.Int) checkCase {
	p.tb.Helper()
	tx := p.sign(s, data)
	return checkCase{name: name, raw: encode(p.tb, tx), terms: terms, pol: pol,
		from: p.addr, nonce: tx.Nonce(), paid: paid, typ: tx.Type(), hash: tx.Hash()}
}

// resigned signs a dynamic-fee tx, then lets mut change the signature values.
func (p *payer) resigned(data *types.DynamicFeeTx, mut func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int)) []byte {
	p.tb.Helper()
	v, r, s := p.sign(types.NewLondonSigner(data.ChainID), data).RawSignatureValues()
	data.V, data.R, data.S = mut(new(big.Int).Set(v), new(big.Int).Set(r), new(big.Int).Set(s))
	return encode(p.tb, types.NewTx(data))
}

func (p *payer) resignedLegacy(data *types.LegacyTx, mut func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int)) []byte {
	p.tb.Helper()
	v, r, s := p.sign(types.NewEIP155Signer(testChain), data).RawSignatureValues()
	data.V, data.R, data.S = mut(new(big.Int).Set(v), new(big.Int).Set(r), new(big.Int).Set(s))
	return encode(p.tb, types.NewTx(data))
}

// exactSize signs a native payment carrying data, padded so the encoding is
// exactly n bytes.
func (p *payer) exactSize(n int) []byte {
	p.tb.Helper()
	pad := n - 200
	for i := range 100 { // r and s are sometimes a byte short: try another nonce
		raw := p.raw(types.NewLondonSigner(testChain), dynamic(func(tx *types.DynamicFeeTx) {
			tx.Data = make([]byte, pad)
			tx.Gas = 5_000_000
			tx.Nonce = uint64(i)
		}))
		if len(raw) == n {
			return raw
		}
		pad += n - len(raw)
	}
	p.tb.Fatalf("cannot build a %d-byte transaction", n)
	return nil
}

// withPolicy returns testPolicy changed by f.
func withPolicy(f func(*Policy)) Policy {
	pol := testPolicy()
	f(&pol)
	return pol
}

func withTerms(t Terms, f func(*Terms)) Terms {
	f(&t)
	return t
}

// checkCases is the specification of Check. The fuzz target is seeded from it.
func checkCases(tb testing.TB) []checkCase {
	p := newPayer(tb)
	secpN := crypto.S256().Params().N
	eip155 := types.NewEIP155Signer(testChain)
	eip2930 := types.NewEIP2930Signer(testChain)
	london := types.NewLondonSigner(testChain)
	latest := types.LatestSignerForChainID(testChain)
	native, tok, pol := nativeTerms(), tokenTerms(), testPolicy()
	overpay := withPolicy(func(p *Policy) { p.AllowOverpay = true })
	valid := p.raw(london, dynamic())

	u256 := func(b *big.Int) *uint256.Int { return uint256.MustFromBig(b) }
	blob := func() *types.BlobTx {
		return &types.BlobTx{ChainID: u256(testChain), Nonce: 1, GasTipCap: u256(gwei), GasFeeCap: u256(gweis(30)),
			Gas: 21000, To: merchant, Value: u256(ethAmount), BlobFeeCap: uint256.NewInt(1),
			BlobHashes: []common.Hash{{0x01}}}
	}
	auth, err := types.SignSetCode(p.key, types.SetCodeAuthorization{ChainID: *u256(testChain), Address: stranger, Nonce: 2})
	if err != nil {
		tb.Fatal(err)
	}
	setCode := &types.SetCodeTx{ChainID: u256(testChain), Nonce: 1, GasTipCap: u256(gwei), GasFeeCap: u256(gweis(30)),
		Gas: 50_000, To: merchant, Value: u256(ethAmount), AuthList: []types.SetCodeAuthorization{auth}}
	alist := types.AccessList{{Address: token, StorageKeys: []common.Hash{{0x01}}}}
	overWord := new(big.Int).Lsh(big.NewInt(1), 300)

	cases := []checkCase{
		// Accepted: all three types, native and ERC-20.
		p.accepted("legacy EIP-155 native payment accepted", eip155, legacy(), native, pol, ethAmount),
		p.accepted("access-list native payment with its list accepted", eip2930, accessList(func(tx *types.AccessListTx) {
			tx.AccessList, tx.Gas = alist, 21000+2400+1900
		}), native, pol, ethAmount),
		p.accepted("dynamic-fee native payment accepted", london, dynamic(), native, pol, ethAmount),
		p.accepted("dynamic-fee signed by the latest signer accepted", latest, dynamic(), native, pol, ethAmount),
		p.accepted("dynamic-fee ERC-20 transfer accepted", london, erc20Dynamic(), tok, pol, usdAmount),
		p.accepted("legacy ERC-20 transfer accepted", eip155, legacy(func(tx *types.LegacyTx) {
			tx.To, tx.Value, tx.Gas, tx.Data = &token, new(big.Int), 65_000, transferData(merchant, usdAmount)
		}), tok, pol, usdAmount),
		p.accepted("access-list ERC-20 transfer accepted", eip2930, accessList(func(tx *types.AccessListTx) {
			tx.To, tx.Value, tx.Gas, tx.Data = &token, new(big.Int), 65_000, transferData(merchant, usdAmount)
		}), tok, pol, usdAmount),
		p.accepted("native overpayment accepted when the policy allows it", london, dynamic(func(tx *types.DynamicFeeTx) {
			tx.Value = add(ethAmount, 1)
		}), native, overpay, add(ethAmount, 1)),
		p.accepted("ERC-20 overpayment accepted when the policy allows it", london, erc20Dynamic(func(tx *types.DynamicFeeTx) {
			tx.Data = transferData(merchant, add(usdAmount, 1))
		}), tok, overpay, add(usdAmount, 1)),
		p.accepted("payment exactly at the per-payment limit accepted", london, dynamic(),
			withTerms(native, func(t *Terms) { t.MaxPayment = ethAmount }), pol, ethAmount),
		p.accepted("any fee accepted without a fee floor", london, dynamic(func(tx *types.DynamicFeeTx) {
			tx.GasFeeCap, tx.GasTipCap = big.NewInt(1), new(big.Int)
		}), native, Policy{ChainID: testChain}, ethAmount),
		p.accepted("gas above the configured minimum accepted", london, dynamic(func(tx *types.DynamicFeeTx) { tx.Gas = 30_000 }),
			withTerms(native, func(t *Terms) { t.MinGas = 30_000 }), pol, ethAmount),
		p.accepted("native gas exactly at the per-transaction cap accepted", london, dynamic(func(tx *types.DynamicFeeTx) {
			tx.Gas = params.MaxTxGas
		}), native, pol, ethAmount),
		p.accepted("ERC-20 gas exactly at the per-transaction cap accepted", london, erc20Dynamic(func(tx *types.DynamicFeeTx) {
			tx.Gas = params.MaxTxGas
		}), tok, pol, usdAmount),

		// tx_too_large
		{name: "over 128 KiB refused before decoding", raw: append(append([]byte{}, valid...), make([]byte, MaxTxSize)...),
			terms: native, pol: pol, code: CodeTxTooLarge, msg: "at most 131072"},
		{name: "exactly 128 KiB passes the size check", raw: p.exactSize(MaxTxSize),
			terms: native, pol: pol, code: CodeUnexpectedData, msg: "carry no data"},

		// invalid_tx
		{name: "empty input refused", raw: nil, terms: native, pol: pol, code: CodeInvalidTx, msg: "empty"},
		{name: "trailing garbage refused", raw: append(append([]byte{}, valid...), 0x00), terms: native, pol: pol, code: CodeInvalidTx, msg: "trailing"},
		{name: "trailing garbage after legacy refused", raw: append(p.raw(eip155, legacy()), 0xc0), terms: native, pol: pol, code: CodeInvalidTx, msg: "trailing"},
		{name: "truncated dynamic-fee refused", raw: valid[:len(valid)-5], terms: native, pol: pol, code: CodeInvalidTx, msg: "truncated"},
		{name: "truncated legacy refused", raw: func() []byte { r := p.raw(eip155, legacy()); return r[:len(r)-1] }(),
			terms: native, pol: pol, code: CodeInvalidTx, msg: "truncated"},
		{name: "lone type byte refused", raw: []byte{0x02}, terms: native, pol: pol, code: CodeInvalidTx, msg: "too short"},
		{name: "empty RLP list refused", raw: []byte{0xc0}, terms: native, pol: pol, code: CodeInvalidTx, msg: "decode"},
		{name: "RLP string instead of list refused", raw: []byte{0x83, 1, 2, 3}, terms: native, pol: pol, code: CodeInvalidTx, msg: "decode"},
		{name: "value over 256 bits refused", raw: p.raw(eip155, legacy(func(tx *types.LegacyTx) { tx.Value = overWord })),
			terms: native, pol: pol, code: CodeInvalidTx, msg: "value out of range"},
		{name: "max fee over 256 bits refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.GasFeeCap = overWord })),
			terms: native, pol: pol, code: CodeInvalidTx, msg: "max fee out of range"},
		{name: "nonce 2^64-1 refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.Nonce = math.MaxUint64 })),
			terms: native, pol: pol, code: CodeInvalidTx, msg: "nonce"},

		// unsupported_tx_type
		{name: "blob tx signed by the Cancun signer refused by name", raw: p.raw(types.NewCancunSigner(testChain), blob()),
			terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "blob transaction (type 3)"},
		{name: "blob tx signed by the latest signer refused by name", raw: p.raw(latest, blob()),
			terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "blob"},
		{name: "set-code tx refused by name", raw: p.raw(latest, setCode),
			terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "set-code transaction (type 4)"},
		{name: "unprotected legacy tx refused", raw: p.raw(types.HomesteadSigner{}, legacy()),
			terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "unprotected legacy transaction (no EIP-155 chain id)"},
		{name: "unknown type 0x05 refused naming the byte", raw: append([]byte{0x05}, valid[1:]...),
			terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "unknown transaction type 0x05"},
		{name: "lone unknown type byte refused naming it", raw: []byte{0x05}, terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "0x05"},
		{name: "type 0x00 envelope refused", raw: append([]byte{0x00}, valid[1:]...), terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "0x00"},
		{name: "type 0x7f envelope refused", raw: []byte{0x7f, 0xc0}, terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "0x7f"},
		{name: "blob tx for another chain refused for its type first", raw: p.raw(types.NewCancunSigner(otherChain), func() *types.BlobTx {
			b := blob()
			b.ChainID = u256(otherChain)
			return b
		}()), terms: native, pol: pol, code: CodeUnsupportedTxType, msg: "blob"},

		// wrong_chain
		{name: "legacy tx signed for another chain refused", raw: p.raw(types.NewEIP155Signer(otherChain), legacy()),
			terms: native, pol: pol, code: CodeWrongChain, msg: "chain 1,"},
		{name: "access-list tx for another chain refused", raw: p.raw(types.NewEIP2930Signer(otherChain), accessList(func(tx *types.AccessListTx) {
			tx.ChainID = otherChain
		})), terms: native, pol: pol, code: CodeWrongChain, msg: "chain 1,"},
		{name: "dynamic-fee tx for another chain refused", raw: p.raw(types.NewLondonSigner(otherChain), dynamic(func(tx *types.DynamicFeeTx) {
			tx.ChainID = otherChain
		})), terms: native, pol: pol, code: CodeWrongChain, msg: "signed for chain 1, this terminal is on chain 11155111"},
		{name: "chain checked before the signature", raw: p.resigned(dynamic(func(tx *types.DynamicFeeTx) { tx.ChainID = otherChain }),
			func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int) { return v, new(big.Int), s }),
			terms: native, pol: pol, code: CodeWrongChain, msg: "chain 1"},

		// bad_signature
		{name: "zero r refused", raw: p.resigned(dynamic(), func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int) { return v, new(big.Int), s }),
			terms: native, pol: pol, code: CodeBadSignature, msg: "recover"},
		{name: "r not below the curve order refused", raw: p.resigned(dynamic(), func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int) {
			return v, new(big.Int).Set(secpN), s
		}), terms: native, pol: pol, code: CodeBadSignature, msg: "recover"},
		{name: "high-s (malleated) signature refused", raw: p.resigned(dynamic(), func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int) {
			return new(big.Int).Xor(v, big.NewInt(1)), r, new(big.Int).Sub(secpN, s)
		}), terms: native, pol: pol, code: CodeBadSignature, msg: "recover"},
		{name: "typed tx with y-parity 2 refused", raw: p.resigned(dynamic(), func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int) {
			return big.NewInt(2), r, s
		}), terms: native, pol: pol, code: CodeBadSignature, msg: "recover"},
		{name: "legacy tx with zero s refused", raw: p.resignedLegacy(legacy(), func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int) {
			return v, r, new(big.Int)
		}), terms: native, pol: pol, code: CodeBadSignature, msg: "recover"},
		{name: "legacy tx with v 30 refused", raw: p.resignedLegacy(legacy(), func(v, r, s *big.Int) (*big.Int, *big.Int, *big.Int) {
			return big.NewInt(30), r, s
		}), terms: native, pol: pol, code: CodeBadSignature, msg: "v value 30"},

		// wrong_recipient
		{name: "native payment to someone else refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.To = &stranger })),
			terms: native, pol: pol, code: CodeWrongRecipient, msg: "merchant is " + merchant.Hex()},
		{name: "native contract creation refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.To = nil })),
			terms: native, pol: pol, code: CodeWrongRecipient, msg: "contract creation"},
		{name: "ERC-20 transfer sent to the merchant instead of the token refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.To = &merchant })),
			terms: tok, pol: pol, code: CodeWrongRecipient, msg: "token contract is " + token.Hex()},
		{name: "ERC-20 contract creation refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.To = nil })),
			terms: tok, pol: pol, code: CodeWrongRecipient, msg: "contract creation"},
		{name: "native coin sent for a token request refused", raw: valid, terms: tok, pol: pol, code: CodeWrongRecipient, msg: "token contract"},
		{name: "recipient checked before the amount", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.To, tx.Value = &stranger, big.NewInt(1) })),
			terms: native, pol: pol, code: CodeWrongRecipient, msg: "sent to"},

		// underpaid / overpaid
		{name: "native underpayment refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.Value = add(ethAmount, -1) })),
			terms: native, pol: overpay, code: CodeUnderpaid, msg: "paid 0.009999999999999999 ETH, request is 0.01 ETH"},
		{name: "native zero value refused as underpaid", raw: p.raw(eip155, legacy(func(tx *types.LegacyTx) { tx.Value = new(big.Int) })),
			terms: native, pol: pol, code: CodeUnderpaid, msg: "paid 0 ETH"},
		{name: "ERC-20 underpayment refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.Data = transferData(merchant, add(usdAmount, -1)) })),
			terms: tok, pol: overpay, code: CodeUnderpaid, msg: "paid 12.339999 USDC, request is 12.34 USDC"},
		{name: "native overpayment refused by default", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.Value = add(ethAmount, 1) })),
			terms: native, pol: pol, code: CodeOverpaid, msg: "overpayment is not accepted"},
		{name: "ERC-20 overpayment refused by default", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.Data = transferData(merchant, add(usdAmount, 1)) })),
			terms: tok, pol: pol, code: CodeOverpaid, msg: "paid 12.340001 USDC"},

		// unexpected_data / unexpected_value
		{name: "native payment with data refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.Data, tx.Gas = []byte{0x00}, 30_000 })),
			terms: native, pol: pol, code: CodeUnexpectedData, msg: "ETH payments carry no data; this one has 1 byte"},
		{name: "ERC-20 transfer with native value refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.Value = big.NewInt(1) })),
			terms: tok, pol: pol, code: CodeUnexpectedValue, msg: "sends 1 wei"},

		// wrong_transfer
		{name: "ERC-20 with another selector (approve) refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) {
			copy(tx.Data, []byte{0x09, 0x5e, 0xa7, 0xb3})
		})), terms: tok, pol: pol, code: CodeWrongTransfer, msg: "selector 0x095ea7b3"},
		{name: "ERC-20 transfer to another address refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) {
			tx.Data = transferData(stranger, usdAmount)
		})), terms: tok, pol: pol, code: CodeWrongTransfer, msg: "merchant is"},
		{name: "ERC-20 recipient word with dirty padding refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) {
			tx.Data[4] = 0x01
		})), terms: tok, pol: pol, code: CodeWrongTransfer, msg: "padding"},
		{name: "ERC-20 calldata of 69 bytes refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) {
			tx.Data = append(tx.Data, 0x00)
		})), terms: tok, pol: pol, code: CodeWrongTransfer, msg: "calldata is 69 bytes"},
		{name: "ERC-20 calldata of 67 bytes refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) {
			tx.Data = tx.Data[:67]
		})), terms: tok, pol: pol, code: CodeWrongTransfer, msg: "calldata is 67 bytes"},
		{name: "ERC-20 call without calldata refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.Data = nil })),
			terms: tok, pol: pol, code: CodeWrongTransfer, msg: "calldata is 0 bytes"},

		// gas_too_low
		{name: "native gas below 21000 refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.Gas = 20_999 })),
			terms: native, pol: pol, code: CodeGasTooLow, msg: "gas limit 20999 is below the 21000"},
		{name: "native gas below the configured minimum refused", raw: valid,
			terms: withTerms(native, func(t *Terms) { t.MinGas = 30_000 }), pol: pol, code: CodeGasTooLow, msg: "minimum 30000"},
		{name: "access list not covered by the gas limit refused", raw: p.raw(eip2930, accessList(func(tx *types.AccessListTx) { tx.AccessList = alist })),
			terms: native, pol: pol, code: CodeGasTooLow, msg: "25300"},
		{name: "ERC-20 gas below the configured minimum refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.Gas = 40_000 })),
			terms: tok, pol: pol, code: CodeGasTooLow, msg: "minimum 60000 for USDC payments"},
		{name: "ERC-20 gas below the calldata floor refused without a configured minimum", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.Gas = 21_000 })),
			terms: withTerms(tok, func(t *Terms) { t.MinGas = 0 }), pol: pol, code: CodeGasTooLow, msg: "this transaction needs"},

		// gas_too_high: geth refuses gas > params.MaxTxGas (EIP-7825), so such a payment could never be mined.
		{name: "native gas one above the per-transaction cap refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.Gas = params.MaxTxGas + 1 })),
			terms: native, pol: pol, code: CodeGasTooHigh, msg: "gas limit 16777217 is above the network's per-transaction cap of 16777216"},
		{name: "legacy native gas far above the per-transaction cap refused", raw: p.raw(eip155, legacy(func(tx *types.LegacyTx) { tx.Gas = 20_000_000 })),
			terms: native, pol: pol, code: CodeGasTooHigh, msg: "gas limit 20000000 is above the network's per-transaction cap of 16777216"},
		{name: "ERC-20 gas one above the per-transaction cap refused", raw: p.raw(london, erc20Dynamic(func(tx *types.DynamicFeeTx) { tx.Gas = params.MaxTxGas + 1 })),
			terms: tok, pol: pol, code: CodeGasTooHigh, msg: "gas limit 16777217 is above the network's per-transaction cap of 16777216"},
		{name: "gas cap checked before fees", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) {
			tx.Gas, tx.GasFeeCap, tx.GasTipCap = params.MaxTxGas+1, big.NewInt(1), new(big.Int)
		})), terms: native, pol: pol, code: CodeGasTooHigh, msg: "cap of 16777216"},

		// fee_invalid / fee_too_low
		{name: "priority fee above max fee refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) { tx.GasTipCap = gweis(31) })),
			terms: native, pol: pol, code: CodeFeeInvalid, msg: "priority fee 31000000000 wei per gas is above the max fee 30000000000"},
		{name: "max fee below the floor refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) {
			tx.GasFeeCap, tx.GasTipCap = add(gwei, -1), new(big.Int)
		})), terms: native, pol: pol, code: CodeFeeTooLow, msg: "max fee 999999999 wei"},
		{name: "legacy gas price below the floor refused", raw: p.raw(eip155, legacy(func(tx *types.LegacyTx) { tx.GasPrice = add(gwei, -1) })),
			terms: native, pol: pol, code: CodeFeeTooLow, msg: "gas price 999999999 wei"},
		{name: "access-list gas price below the floor refused", raw: p.raw(eip2930, accessList(func(tx *types.AccessListTx) { tx.GasPrice = big.NewInt(0) })),
			terms: native, pol: pol, code: CodeFeeTooLow, msg: "gas price 0 wei"},

		// payment_limit
		{name: "native overpayment above the per-payment limit refused", raw: p.raw(london, dynamic(func(tx *types.DynamicFeeTx) {
			tx.Value = new(big.Int).Mul(ethAmount, big.NewInt(2))
		})), terms: withTerms(native, func(t *Terms) { t.MaxPayment = new(big.Int).Add(ethAmount, big.NewInt(5e15)) }),
			pol: overpay, code: CodePaymentLimit, msg: "payment of 0.02 ETH is above the limit of 0.015 ETH"},
		{name: "ERC-20 request above the per-payment limit refused", raw: p.raw(london, erc20Dynamic()),
			terms: withTerms(tok, func(t *Terms) { t.MaxPayment = big.NewInt(10_000_000) }), pol: pol, code: CodePaymentLimit, msg: "limit of 10 USDC"},
	}
	return cases
}

func londonSigner() types.Signer { return types.NewLondonSigner(testChain) }
