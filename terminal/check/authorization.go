package check

import (
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// DefaultSettleWindow is how long an authorization must stay valid after it
// is taken when Policy.SettleWindow is zero: a day, for a terminal that
// comes online only now and then to settle.
const DefaultSettleWindow = 24 * time.Hour

// AuthorizationTerms is what a request in an EIP-3009 token asks of an
// authorization: the request's Terms (Token, the token contract, must be
// set; MinGas is not used: the terminal pays the gas), the token's EIP-712
// domain and the time it is checked at.
type AuthorizationTerms struct {
	Terms
	// Domain is the token's EIP-712 domain name and version (USDC: "USD
	// Coin", "2"); chainId is the Checker's, verifyingContract Terms.Token.
	Domain Domain
	// Now is when the authorization is taken.
	Now time.Time
}

// Domain is a token's EIP-712 domain name and version.
type Domain struct{ Name, Version string }

// AuthorizedPayment is what an accepted authorization says, for the store
// and the relayer that settles it.
type AuthorizedPayment struct {
	// ID is the EIP-712 digest the payer signed: one authorization, one
	// ID, so a repeat of the same payload is recognised. It cannot be a
	// transaction hash (a digest starts from 0x1901, a transaction from
	// its own encoding).
	ID          common.Hash
	Token       common.Address
	From, To    common.Address
	Paid        *big.Int // the authorization's value, in token base units
	ValidAfter  *big.Int // unix seconds
	ValidBefore *big.Int // unix seconds
	Nonce       common.Hash
	// Signature is r || s || v with v = 27 or 28, s in the lower half of
	// the curve order: what transferWithAuthorization(…, v, r, s) takes.
	Signature [crypto.SignatureLength]byte
}

// TransferWithAuthorization is EIP-3009's primary type, as the token
// contract hashes it. The field order is part of the signature.
var transferWithAuthorizationTypes = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"},
		{Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"},
		{Name: "verifyingContract", Type: "address"},
	},
	"TransferWithAuthorization": {
		{Name: "from", Type: "address"},
		{Name: "to", Type: "address"},
		{Name: "value", Type: "uint256"},
		{Name: "validAfter", Type: "uint256"},
		{Name: "validBefore", Type: "uint256"},
		{Name: "nonce", Type: "bytes32"},
	},
}

// CheckAuthorization decides whether a, read by [ParsePaymentPayload], pays
// the request described by t. It returns either the AuthorizedPayment or an
// error that is always a *Refusal. In order it checks:
//
//  1. network: eip155:<the Checker's chain id> (a v1 name of that chain
//     too), else wrong_chain;
//  2. v2's accepted requirements: asset and domain name/version those of
//     the request's token (else wrong_asset), payTo the merchant (else
//     wrong_recipient);
//  3. signature: 65 bytes, v 27/28 or 0/1, r and s in range with s in the
//     lower half of the curve order, recovering from over the token's
//     domain (name, version, chain id, the token as verifyingContract),
//     else bad_authorization;
//  4. to: the merchant, else wrong_recipient;
//  5. value: exactly the amount (more only with Policy.AllowOverpay),
//     else underpaid or overpaid;
//  6. validAfter <= now, else authorization_not_yet_valid;
//  7. validBefore >= now + the settle window, else
//     authorization_expires_too_soon: the terminal needs that long to
//     come online and settle;
//  8. the per-payment limit, else payment_limit.
//
// Whether (token, from, nonce) was taken before (authorization_reused) is
// the store's rule, and whether the payer still holds the funds only the
// chain knows.
//
// CheckAuthorization panics on a caller's bug: a nil a, t.Amount nil or not
// positive, no t.Token, or an empty domain name or version.
func (c *Checker) CheckAuthorization(a *Authorization, t AuthorizationTerms) (AuthorizedPayment, error) {
	switch {
	case a == nil:
		panic("check: CheckAuthorization of a nil Authorization")
	case t.Amount == nil || t.Amount.Sign() <= 0:
		panic("check: Terms.Amount must be positive")
	case t.Token == (common.Address{}):
		panic("check: an authorization pays a token; Terms.Token is not set")
	case t.Domain.Name == "" || t.Domain.Version == "":
		panic("check: AuthorizationTerms.Domain needs a name and a version")
	}
	// What the signature is over.
	id, err := a.ChainID()
	if err != nil {
		return AuthorizedPayment{}, err
	}
	if new(big.Int).SetUint64(id).Cmp(c.chainID) != 0 {
		return AuthorizedPayment{}, Refuse(CodeWrongChain, "signed for network %s, this terminal is on eip155:%s", a.Network, c.chainID)
	}
	if acc := a.Accepted; acc != nil {
		if acc.Asset != t.Token {
			return AuthorizedPayment{}, Refuse(CodeWrongAsset, "accepted asset %s, the %s token contract is %s", acc.Asset.Hex(), symbol(t.Terms), t.Token.Hex())
		}
		if acc.Name != t.Domain.Name || acc.Version != t.Domain.Version {
			return AuthorizedPayment{}, Refuse(CodeWrongAsset, "signed for EIP-712 domain %s version %s, the %s token's is %q version %q",
				clip(acc.Name), clip(acc.Version), symbol(t.Terms), t.Domain.Name, t.Domain.Version)
		}
		if acc.PayTo != t.Merchant {
			return AuthorizedPayment{}, Refuse(CodeWrongRecipient, "accepted payTo %s, merchant is %s", acc.PayTo.Hex(), t.Merchant.Hex())
		}
	}

	// Who signed.
	sig, err := normaliseSignature(a.Signature)
	if err != nil {
		return AuthorizedPayment{}, err
	}
	digest, err := c.authorizationDigest(a, t)
	if err != nil { // not reachable: every field was range-checked when parsed
		return AuthorizedPayment{}, Refuse(CodeInvalidPayload, "cannot hash the authorization: %v", err)
	}
	plain := sig
	plain[crypto.RecoveryIDOffset] -= 27
	pub, err := crypto.SigToPub(digest[:], plain[:])
	if err != nil {
		return AuthorizedPayment{}, Refuse(CodeBadAuthorization, "the signature recovers no signer: %v", err)
	}
	if signer := crypto.PubkeyToAddress(*pub); signer != a.From {
		return AuthorizedPayment{}, Refuse(CodeBadAuthorization, "signed by %s, not by from %s (over the %s token's domain on chain %s)",
			signer.Hex(), a.From.Hex(), symbol(t.Terms), c.chainID)
	}

	// What it pays, to whom, when.
	if a.To != t.Merchant {
		return AuthorizedPayment{}, Refuse(CodeWrongRecipient, "authorizes a transfer to %s, merchant is %s", a.To.Hex(), t.Merchant.Hex())
	}
	if err := c.amount(a.Value, t.Terms); err != nil {
		return AuthorizedPayment{}, err
	}
	now := t.Now.Unix()
	if a.ValidAfter.Cmp(big.NewInt(now)) > 0 {
		return AuthorizedPayment{}, Refuse(CodeAuthorizationNotYetValid, "valid after %s, it is %d now", unixTime(a.ValidAfter), now)
	}
	window := c.settleWindow
	if need := t.Now.Add(window).Unix(); a.ValidBefore.Cmp(big.NewInt(need)) < 0 {
		return AuthorizedPayment{}, Refuse(CodeAuthorizationExpiresTooSoon, "valid before %s; this terminal needs it valid until at least %s (%s from now) to settle it",
			unixTime(a.ValidBefore), time.Unix(need, 0).UTC().Format(time.RFC3339), window)
	}
	if t.MaxPayment != nil && a.Value.Cmp(t.MaxPayment) > 0 {
		return AuthorizedPayment{}, Refuse(CodePaymentLimit, "payment of %s is above the limit of %s per payment",
			formatAmount(a.Value, t.Terms), formatAmount(t.MaxPayment, t.Terms))
	}
	return AuthorizedPayment{
		ID:          digest,
		Token:       t.Token,
		From:        a.From,
		To:          a.To,
		Paid:        new(big.Int).Set(a.Value),
		ValidAfter:  new(big.Int).Set(a.ValidAfter),
		ValidBefore: new(big.Int).Set(a.ValidBefore),
		Nonce:       a.Nonce,
		Signature:   sig,
	}, nil
}

// CheckPaymentPayload is ParsePaymentPayload then CheckAuthorization: what
// a payer's x402 payload, as received, is worth.
func (c *Checker) CheckPaymentPayload(raw []byte, t AuthorizationTerms) (AuthorizedPayment, error) {
	a, err := ParsePaymentPayload(raw)
	if err != nil {
		return AuthorizedPayment{}, err
	}
	return c.CheckAuthorization(a, t)
}

// authorizationDigest is the EIP-712 digest of a's TransferWithAuthorization
// over the token's domain on the Checker's chain, as go-ethereum's apitypes
// (eth_signTypedData_v4) computes it.
func (c *Checker) authorizationDigest(a *Authorization, t AuthorizationTerms) (common.Hash, error) {
	td := apitypes.TypedData{
		Types:       transferWithAuthorizationTypes,
		PrimaryType: "TransferWithAuthorization",
		Domain: apitypes.TypedDataDomain{
			Name:              t.Domain.Name,
			Version:           t.Domain.Version,
			ChainId:           (*math.HexOrDecimal256)(c.chainID),
			VerifyingContract: t.Token.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"from":        a.From.Hex(),
			"to":          a.To.Hex(),
			"value":       a.Value,
			"validAfter":  a.ValidAfter,
			"validBefore": a.ValidBefore,
			"nonce":       a.Nonce[:],
		},
	}
	h, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return common.Hash{}, fmt.Errorf("EIP-712 hash: %w", err)
	}
	return common.BytesToHash(h), nil
}

// normaliseSignature accepts a 65-byte r || s || v with v 27/28 or 0/1 and
// r, s in range, s low (so one authorization has one signature), and
// returns it with v = 27 or 28.
func normaliseSignature(b []byte) ([crypto.SignatureLength]byte, error) {
	var sig [crypto.SignatureLength]byte
	if len(b) != crypto.SignatureLength {
		return sig, Refuse(CodeBadAuthorization, "signature is %d bytes; a payer's key signs 65 (r, s, v); smart-wallet signatures cannot be checked offline", len(b))
	}
	copy(sig[:], b)
	v := sig[crypto.RecoveryIDOffset]
	switch v {
	case 0, 1:
		sig[crypto.RecoveryIDOffset] = v + 27
	case 27, 28:
	default:
		return sig, Refuse(CodeBadAuthorization, "signature v is %d; want 27 or 28 (or 0 or 1)", v)
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(0, r, s, false) {
		return sig, Refuse(CodeBadAuthorization, "signature r or s is out of range")
	}
	if !crypto.ValidateSignatureValues(0, r, s, true) {
		return sig, Refuse(CodeBadAuthorization, "signature s is in the upper half of the curve order; only low-s signatures are taken (EIP-2)")
	}
	return sig, nil
}

// unixTime writes a unix time for a message: its date when it has one.
func unixTime(v *big.Int) string {
	if v.IsInt64() && v.Int64() < 1<<40 {
		return fmt.Sprintf("%s (%s)", v, time.Unix(v.Int64(), 0).UTC().Format(time.RFC3339))
	}
	return v.String()
}
