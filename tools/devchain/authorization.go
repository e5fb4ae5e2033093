package devchain

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// TokenVersion is the version of the test token's EIP-712 domain, as
// USDC's ("2"; FiatToken v2.2's version()). Its name is TokenName. The
// domain's chainId is the chain's, read by the token at every call (it is
// not cached: the code is placed at genesis without a constructor), and its
// verifyingContract is TokenAddr.
const TokenVersion = "2"

// The EIP-712 primary types of EIP-3009, with the fields the EIP states.
const (
	TransferWithAuthorization = "TransferWithAuthorization"
	ReceiveWithAuthorization  = "ReceiveWithAuthorization"
	CancelAuthorization       = "CancelAuthorization"
)

var authorizationTypes = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"},
		{Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"},
		{Name: "verifyingContract", Type: "address"},
	},
	TransferWithAuthorization: authorizationFields,
	ReceiveWithAuthorization:  authorizationFields,
	CancelAuthorization: {
		{Name: "authorizer", Type: "address"},
		{Name: "nonce", Type: "bytes32"},
	},
}

var authorizationFields = []apitypes.Type{
	{Name: "from", Type: "address"},
	{Name: "to", Type: "address"},
	{Name: "value", Type: "uint256"},
	{Name: "validAfter", Type: "uint256"},
	{Name: "validBefore", Type: "uint256"},
	{Name: "nonce", Type: "bytes32"},
}

// Authorization is an EIP-3009 authorization to move Value token units
// from From to To, valid strictly between ValidAfter and ValidBefore (unix
// seconds, compared with the block's timestamp), once per (From, Nonce).
type Authorization struct {
	From        common.Address
	To          common.Address
	Value       *big.Int
	ValidAfter  *big.Int
	ValidBefore *big.Int
	Nonce       common.Hash
}

// TokenDomain is the test token's EIP-712 domain on the chain chainID.
func TokenDomain(chainID *big.Int) apitypes.TypedDataDomain {
	return apitypes.TypedDataDomain{
		Name:              TokenName,
		Version:           TokenVersion,
		ChainId:           (*math.HexOrDecimal256)(new(big.Int).Set(chainID)),
		VerifyingContract: TokenAddr.Hex(),
	}
}

// AuthorizationTypedData is a as EIP-712 typed data of primaryType
// (TransferWithAuthorization or ReceiveWithAuthorization) over the token's
// domain on chainID: what a wallet's eth_signTypedData_v4 signs.
func AuthorizationTypedData(chainID *big.Int, primaryType string, a Authorization) apitypes.TypedData {
	return apitypes.TypedData{
		Types:       authorizationTypes,
		PrimaryType: primaryType,
		Domain:      TokenDomain(chainID),
		Message: apitypes.TypedDataMessage{
			"from":        a.From.Hex(),
			"to":          a.To.Hex(),
			"value":       bigOrZero(a.Value),
			"validAfter":  bigOrZero(a.ValidAfter),
			"validBefore": bigOrZero(a.ValidBefore),
			"nonce":       a.Nonce.Hex(),
		},
	}
}

// SignAuthorization signs a as a TransferWithAuthorization for the token on
// chainID and returns the 65-byte signature r ++ s ++ v with v 27 or 28 and
// a low s, the form the token (like FiatToken) accepts.
func SignAuthorization(key *ecdsa.PrivateKey, chainID *big.Int, a Authorization) ([]byte, error) {
	return signTyped(key, AuthorizationTypedData(chainID, TransferWithAuthorization, a))
}

// SignReceiveAuthorization is SignAuthorization for receiveWithAuthorization,
// which only a.To may submit.
func SignReceiveAuthorization(key *ecdsa.PrivateKey, chainID *big.Int, a Authorization) ([]byte, error) {
	return signTyped(key, AuthorizationTypedData(chainID, ReceiveWithAuthorization, a))
}

// SignCancelAuthorization signs CancelAuthorization(authorizer, nonce) for
// the token on chainID, authorizer being key's address.
func SignCancelAuthorization(key *ecdsa.PrivateKey, chainID *big.Int, nonce common.Hash) ([]byte, error) {
	return signTyped(key, apitypes.TypedData{
		Types:       authorizationTypes,
		PrimaryType: CancelAuthorization,
		Domain:      TokenDomain(chainID),
		Message: apitypes.TypedDataMessage{
			"authorizer": crypto.PubkeyToAddress(key.PublicKey).Hex(),
			"nonce":      nonce.Hex(),
		},
	})
}

func signTyped(key *ecdsa.PrivateKey, td apitypes.TypedData) ([]byte, error) {
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return nil, fmt.Errorf("devchain: hash %s: %w", td.PrimaryType, err)
	}
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		return nil, fmt.Errorf("devchain: sign %s: %w", td.PrimaryType, err)
	}
	sig[64] += 27 // go-ethereum's recovery id 0/1 → 27/28
	return sig, nil
}

func bigOrZero(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return new(big.Int).Set(x)
}
