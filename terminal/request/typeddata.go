package request

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"slices"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// EIP-712 names. Changing any of them changes every signature.
const (
	DomainName    = "showpos"
	DomainVersion = "1"
	PrimaryType   = "PaymentRequest"
)

// types returns the EIP-712 types a request is signed with, EIP712Domain
// included as wallets expect. The field order is part of the signature.
//
// A request with a tip or a fiat price (priced) is signed with the fields
// of pricedFields appended; one without is signed exactly as before they
// existed, so its signature, its stored form and every payer app that
// checks it are unchanged.
//
// A request on more than one network (multi) is signed with one more
// field after those, options: PaymentOption[], every option primary first,
// with the type PaymentOption(uint256 chainId, address token). A request
// on one network is signed without it, as before networks existed.
func types(priced, multi bool) apitypes.Types {
	t := apitypes.Types{
		"EIP712Domain": {
			{Name: "name", Type: "string"},
			{Name: "version", Type: "string"},
			{Name: "chainId", Type: "uint256"},
		},
		PrimaryType: {
			{Name: "id", Type: "string"},
			{Name: "terminalId", Type: "string"},
			{Name: "merchant", Type: "address"},
			{Name: "token", Type: "address"},
			{Name: "asset", Type: "string"},
			{Name: "decimals", Type: "uint8"},
			{Name: "amount", Type: "uint256"},
			{Name: "memo", Type: "string"},
			{Name: "createdAt", Type: "uint64"},
			{Name: "expiresAt", Type: "uint64"},
		},
	}
	if priced {
		for _, f := range pricedFields {
			t[PrimaryType] = append(t[PrimaryType], apitypes.Type{Name: f.Name, Type: f.Type})
		}
	}
	if multi {
		t[PrimaryType] = append(t[PrimaryType], optionField)
		t[optionTypeName] = slices.Clone(optionTypes)
	}
	return t
}

// TypedData returns the EIP-712 typed data the terminal signs for r, in the
// form eth_signTypedData_v4 takes. Addresses are EIP-55 strings and every
// integer in the message is a decimal string, so no JSON reader rounds it.
func (r *Request) TypedData() apitypes.TypedData {
	amount := "0"
	if r.Amount != nil {
		amount = r.Amount.String()
	}
	td := apitypes.TypedData{
		Types:       types(r.priced(), r.multi()),
		PrimaryType: PrimaryType,
		Domain: apitypes.TypedDataDomain{
			Name:    DomainName,
			Version: DomainVersion,
			ChainId: (*math.HexOrDecimal256)(new(big.Int).SetUint64(r.ChainID)),
		},
		Message: apitypes.TypedDataMessage{
			"id":         r.ID,
			"terminalId": r.TerminalID,
			"merchant":   r.Merchant.Hex(),
			"token":      r.Asset.Token.Hex(),
			"asset":      r.Asset.Symbol,
			"decimals":   strconv.FormatUint(uint64(r.Asset.Decimals), 10),
			"amount":     amount,
			"memo":       r.Memo,
			"createdAt":  strconv.FormatInt(r.CreatedAt.Unix(), 10),
			"expiresAt":  strconv.FormatInt(r.ExpiresAt.Unix(), 10),
		},
	}
	if r.priced() {
		for k, v := range r.pricedMessage() {
			td.Message[k] = v
		}
	}
	if r.multi() {
		td.Message[optionField.Name] = r.optionsMessage()
	}
	return td
}

// isTypedData reports whether td is exactly what r.TypedData() returns (as
// reflect.DeepEqual would say, up to how the chain id's big.Int is held),
// without building it: Compact checks every document it stores with it.
// Keep it in step with types and TypedData; the tests compare the two.
func (r *Request) isTypedData(td apitypes.TypedData) bool {
	want := types(r.priced(), r.multi())
	if td.PrimaryType != PrimaryType || len(td.Types) != len(want) {
		return false
	}
	for name, fields := range want {
		if got, ok := td.Types[name]; !ok || !slices.Equal(got, fields) {
			return false
		}
	}
	dom := td.Domain
	if dom.Name != DomainName || dom.Version != DomainVersion || dom.VerifyingContract != "" || dom.Salt != "" ||
		dom.ChainId == nil || !(*big.Int)(dom.ChainId).IsUint64() || (*big.Int)(dom.ChainId).Uint64() != r.ChainID {
		return false
	}
	m := td.Message
	amount := "0"
	if r.Amount != nil {
		amount = r.Amount.String()
	}
	if r.priced() {
		for k, v := range r.pricedMessage() {
			if !isString(m[k], v) {
				return false
			}
		}
	}
	if r.multi() && !r.isOptionsMessage(m[optionField.Name]) {
		return false
	}
	return len(m) == len(want[PrimaryType]) &&
		isString(m["id"], r.ID) &&
		isString(m["terminalId"], r.TerminalID) &&
		isString(m["merchant"], r.Merchant.Hex()) &&
		isString(m["token"], r.Asset.Token.Hex()) &&
		isString(m["asset"], r.Asset.Symbol) &&
		isString(m["decimals"], strconv.FormatUint(uint64(r.Asset.Decimals), 10)) &&
		isString(m["amount"], amount) &&
		isString(m["memo"], r.Memo) &&
		isString(m["createdAt"], strconv.FormatInt(r.CreatedAt.Unix(), 10)) &&
		isString(m["expiresAt"], strconv.FormatInt(r.ExpiresAt.Unix(), 10))
}

// isString reports whether v is the string s.
func isString(v any, s string) bool {
	got, ok := v.(string)
	return ok && got == s
}

// Hash returns the EIP-712 digest of r, the 32 bytes that Sign signs.
func (r *Request) Hash() (common.Hash, error) {
	_, h, err := r.typedDataAndHash()
	return h, err
}

// typedDataAndHash validates r and returns its typed data and the EIP-712
// digest of that same typed data, so a caller that needs both builds and
// hashes it once.
func (r *Request) typedDataAndHash() (apitypes.TypedData, common.Hash, error) {
	if err := r.Validate(); err != nil {
		return apitypes.TypedData{}, common.Hash{}, err
	}
	td := r.TypedData()
	h, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return apitypes.TypedData{}, common.Hash{}, fmt.Errorf("hash request %s: %w", r.ID, err)
	}
	return td, common.BytesToHash(h), nil
}

// Sign signs r's EIP-712 digest with the terminal key and returns 65 bytes
// r||s||v with v = 27 or 28, as wallets produce and ethers' verifyTypedData
// reads. It refuses an invalid request.
func Sign(r *Request, key *ecdsa.PrivateKey) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	h, err := r.Hash()
	if err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	sig, err := signHash(h, key)
	if err != nil {
		return nil, fmt.Errorf("sign request %s: %w", r.ID, err)
	}
	return sig, nil
}

// checkKey accepts a secp256k1 private key.
func checkKey(key *ecdsa.PrivateKey) error {
	if key == nil || key.D == nil || key.Curve == nil || key.Curve.Params().N.Cmp(crypto.S256().Params().N) != 0 {
		return fmt.Errorf("%w: want a secp256k1 private key", ErrKey)
	}
	return nil
}

// signHash signs hash with key (checked by checkKey) and returns r||s||v
// with v = 27 or 28.
func signHash(hash common.Hash, key *ecdsa.PrivateKey) ([]byte, error) {
	sig, err := crypto.Sign(hash[:], key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	sig[crypto.RecoveryIDOffset] += 27
	return sig, nil
}

// recoverSigner returns the address whose key made sig over hash. It accepts
// only the form Sign produces: 65 bytes, v = 27 or 28, s in the lower half of
// the curve order (so a signature has one valid encoding).
func recoverSigner(hash common.Hash, sig []byte) (common.Address, error) {
	if err := checkSignatureForm(sig); err != nil {
		return common.Address{}, err
	}
	plain := bytes.Clone(sig)
	plain[crypto.RecoveryIDOffset] -= 27
	pub, err := crypto.SigToPub(hash[:], plain)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// checkSignatureForm accepts the form Sign produces: 65 bytes, v = 27 or 28,
// r and s in range with s in the lower half of the curve order. It does not
// recover the signer (no elliptic-curve work).
func checkSignatureForm(sig []byte) error {
	if len(sig) != crypto.SignatureLength {
		return fmt.Errorf("%w: %d bytes, want %d", ErrSignature, len(sig), crypto.SignatureLength)
	}
	v := sig[crypto.RecoveryIDOffset]
	if v != 27 && v != 28 {
		return fmt.Errorf("%w: v = %d, want 27 or 28", ErrSignature, v)
	}
	rr, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(v-27, rr, s, true) {
		return fmt.Errorf("%w: r or s out of range", ErrSignature)
	}
	return nil
}
