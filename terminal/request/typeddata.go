package request

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"math/big"
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
func types() apitypes.Types {
	return apitypes.Types{
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
}

// TypedData returns the EIP-712 typed data the terminal signs for r, in the
// form eth_signTypedData_v4 takes. Addresses are EIP-55 strings and every
// integer in the message is a decimal string, so no JSON reader rounds it.
func (r *Request) TypedData() apitypes.TypedData {
	amount := "0"
	if r.Amount != nil {
		amount = r.Amount.String()
	}
	return apitypes.TypedData{
		Types:       types(),
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
}

// Hash returns the EIP-712 digest of r, the 32 bytes that Sign signs.
func (r *Request) Hash() (common.Hash, error) {
	if err := r.Validate(); err != nil {
		return common.Hash{}, err
	}
	h, _, err := apitypes.TypedDataAndHash(r.TypedData())
	if err != nil {
		return common.Hash{}, fmt.Errorf("hash request %s: %w", r.ID, err)
	}
	return common.BytesToHash(h), nil
}

// Sign signs r's EIP-712 digest with the terminal key and returns 65 bytes
// r||s||v with v = 27 or 28, as wallets produce and ethers' verifyTypedData
// reads. It refuses an invalid request.
func Sign(r *Request, key *ecdsa.PrivateKey) ([]byte, error) {
	if key == nil || key.D == nil || key.Curve == nil || key.Curve.Params().N.Cmp(crypto.S256().Params().N) != 0 {
		return nil, fmt.Errorf("sign request: %w: want a secp256k1 private key", ErrKey)
	}
	h, err := r.Hash()
	if err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	sig, err := crypto.Sign(h[:], key)
	if err != nil {
		return nil, fmt.Errorf("sign request %s: %w: %w", r.ID, ErrKey, err)
	}
	sig[crypto.RecoveryIDOffset] += 27
	return sig, nil
}

// recoverSigner returns the address whose key made sig over hash. It accepts
// only the form Sign produces: 65 bytes, v = 27 or 28, s in the lower half of
// the curve order (so a signature has one valid encoding).
func recoverSigner(hash common.Hash, sig []byte) (common.Address, error) {
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, fmt.Errorf("%w: %d bytes, want %d", ErrSignature, len(sig), crypto.SignatureLength)
	}
	v := sig[crypto.RecoveryIDOffset]
	if v != 27 && v != 28 {
		return common.Address{}, fmt.Errorf("%w: v = %d, want 27 or 28", ErrSignature, v)
	}
	rr, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(v-27, rr, s, true) {
		return common.Address{}, fmt.Errorf("%w: r or s out of range", ErrSignature)
	}
	plain := bytes.Clone(sig)
	plain[crypto.RecoveryIDOffset] -= 27
	pub, err := crypto.SigToPub(hash[:], plain)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}
