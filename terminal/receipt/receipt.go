package receipt

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"showpos/terminal/asset"
)

// EIP-712 names. The domain is the payment requests' (package request);
// the primary type is the receipts' own. Changing any of them changes
// every signature.
const (
	DomainName    = "showpos"
	DomainVersion = "1"
	PrimaryType   = "Receipt"
)

// State is what a receipt says of the payment.
type State string

// States; see the package documentation.
const (
	StatePaid     State = "paid"
	StateAccepted State = "accepted"
	StateRejected State = "rejected"
	StateUnpaid   State = "unpaid"
)

// Method is how the payment reached the terminal (store.PaymentSource's
// values), "" for none.
const (
	MethodHandover      = "handover"
	MethodChain         = "chain"
	MethodAuthorization = "authorization"
)

// Errors.
var (
	ErrKey       = errors.New("receipt: not a usable secp256k1 key")
	ErrSignature = errors.New("receipt: bad signature")
	ErrReceipt   = errors.New("receipt: malformed")
)

// Receipt is what a receipt says. Everything but Link is signed.
type Receipt struct {
	RequestID    string
	TerminalID   string
	MerchantName string
	Merchant     common.Address // the account paid
	ChainID      uint64
	Time         time.Time // UTC whole seconds
	State        State
	Reason       string // why rejected, or an unpaid request's status
	Asset        asset.Asset
	Amount       *big.Int // base units: what was paid, or asked when unpaid
	// Tip is the part of Amount that is a tip (base units); nil or zero:
	// none.
	Tip *big.Int
	// FiatAmount, Currency and Rate are the request's amount in the shop's
	// currency (decimal string, tip included), its ISO 4217 code and the
	// rate used (currency units per whole asset unit, decimal string); all
	// "" when the request was keyed in the asset.
	FiatAmount string
	Currency   string
	Rate       string
	Memo       string
	// Method is how the payment came: MethodHandover, MethodChain,
	// MethodAuthorization, or "" (no payment).
	Method string
	// TxHash is the paying transaction's hash; for an authorization, the
	// relayer's settling transaction once known (zero before).
	TxHash common.Hash
	// From is the payer's account (zero: no payment).
	From common.Address
	// AuthNonce is an authorization's nonce: with From and the token it
	// names the authorization on chain (authorizationState). Zero for a
	// transaction.
	AuthNonce common.Hash
	// Link is the digital receipt's address, <public_url>/receipt/<id>.
	// Not signed: where the receipt is served is not a claim about it.
	Link string
	// Network is the terminal's name for ChainID ("arbitrum") where the
	// request named its networks; "" otherwise. Not signed, as a request's
	// network names are not: a chain is named by its id.
	Network string
}

// Path is where the payer API serves a request's receipt: Path + id.
const Path = "/receipt/"

// LinkFor is the digital receipt's address under publicURL.
func LinkFor(publicURL, requestID string) string { return publicURL + Path + requestID }

func types() apitypes.Types {
	return apitypes.Types{
		"EIP712Domain": {
			{Name: "name", Type: "string"},
			{Name: "version", Type: "string"},
			{Name: "chainId", Type: "uint256"},
		},
		PrimaryType: {
			{Name: "requestId", Type: "string"},
			{Name: "terminalId", Type: "string"},
			{Name: "merchantName", Type: "string"},
			{Name: "merchant", Type: "address"},
			{Name: "state", Type: "string"},
			{Name: "reason", Type: "string"},
			{Name: "time", Type: "uint64"},
			{Name: "asset", Type: "string"},
			{Name: "token", Type: "address"},
			{Name: "decimals", Type: "uint8"},
			{Name: "amount", Type: "uint256"},
			{Name: "tip", Type: "uint256"},
			{Name: "fiatAmount", Type: "string"},
			{Name: "currency", Type: "string"},
			{Name: "rate", Type: "string"},
			{Name: "memo", Type: "string"},
			{Name: "method", Type: "string"},
			{Name: "txHash", Type: "bytes32"},
			{Name: "from", Type: "address"},
			{Name: "authNonce", Type: "bytes32"},
		},
	}
}

func decimal(v *big.Int) string {
	if v == nil {
		return "0"
	}
	return v.String()
}

// TypedData is the EIP-712 typed data Sign signs, in the form
// eth_signTypedData_v4 takes: addresses EIP-55, hashes 0x-hex, every
// integer a decimal string (no JSON reader rounds it).
func (r *Receipt) TypedData() apitypes.TypedData {
	return apitypes.TypedData{
		Types:       types(),
		PrimaryType: PrimaryType,
		Domain: apitypes.TypedDataDomain{
			Name:    DomainName,
			Version: DomainVersion,
			ChainId: (*math.HexOrDecimal256)(new(big.Int).SetUint64(r.ChainID)),
		},
		Message: apitypes.TypedDataMessage{
			"requestId":    r.RequestID,
			"terminalId":   r.TerminalID,
			"merchantName": r.MerchantName,
			"merchant":     r.Merchant.Hex(),
			"state":        string(r.State),
			"reason":       r.Reason,
			"time":         strconv.FormatInt(r.Time.Unix(), 10),
			"asset":        r.Asset.Symbol,
			"token":        r.Asset.Token.Hex(),
			"decimals":     strconv.FormatUint(uint64(r.Asset.Decimals), 10),
			"amount":       decimal(r.Amount),
			"tip":          decimal(r.Tip),
			"fiatAmount":   r.FiatAmount,
			"currency":     r.Currency,
			"rate":         r.Rate,
			"memo":         r.Memo,
			"method":       r.Method,
			"txHash":       r.TxHash.Hex(),
			"from":         r.From.Hex(),
			"authNonce":    r.AuthNonce.Hex(),
		},
	}
}

// validate refuses what would sign a receipt no one can read back.
func (r *Receipt) validate() error {
	switch {
	case r.RequestID == "":
		return fmt.Errorf("%w: no request id", ErrReceipt)
	case r.ChainID == 0 || r.ChainID > 1<<53-1:
		return fmt.Errorf("%w: chain id %d, want 1 to 2^53-1 (as requests)", ErrReceipt, r.ChainID)
	case r.Time.Unix() < 0:
		return fmt.Errorf("%w: time %s before 1970", ErrReceipt, r.Time)
	case r.Amount != nil && (r.Amount.Sign() < 0 || r.Amount.BitLen() > 256):
		return fmt.Errorf("%w: amount %s out of range", ErrReceipt, r.Amount)
	case r.Tip != nil && (r.Tip.Sign() < 0 || r.Tip.BitLen() > 256):
		return fmt.Errorf("%w: tip %s out of range", ErrReceipt, r.Tip)
	}
	switch r.State {
	case StatePaid, StateAccepted, StateRejected, StateUnpaid:
	default:
		return fmt.Errorf("%w: state %q", ErrReceipt, r.State)
	}
	return nil
}

// Hash is the EIP-712 digest Sign signs.
func (r *Receipt) Hash() (common.Hash, error) {
	if err := r.validate(); err != nil {
		return common.Hash{}, err
	}
	h, _, err := apitypes.TypedDataAndHash(r.TypedData())
	if err != nil {
		return common.Hash{}, fmt.Errorf("hash receipt of %s: %w", r.RequestID, err)
	}
	return common.BytesToHash(h), nil
}

// Signed is a receipt with the terminal's signature over its typed data.
type Signed struct {
	Receipt
	Signature []byte         // 65 bytes r||s||v, v = 27 or 28
	Signer    common.Address // the terminal's address
}

// Sign signs r with key (the terminal key). The same receipt and key
// always give the same signature (RFC 6979).
func Sign(r Receipt, key *ecdsa.PrivateKey) (Signed, error) {
	if key == nil || key.D == nil || key.Curve == nil || key.Curve.Params().N.Cmp(crypto.S256().Params().N) != 0 {
		return Signed{}, fmt.Errorf("sign receipt: %w", ErrKey)
	}
	r.Time = r.Time.UTC().Truncate(time.Second)
	h, err := r.Hash()
	if err != nil {
		return Signed{}, fmt.Errorf("sign receipt: %w", err)
	}
	sig, err := crypto.Sign(h[:], key)
	if err != nil {
		return Signed{}, fmt.Errorf("sign receipt of %s: %w: %w", r.RequestID, ErrKey, err)
	}
	sig[crypto.RecoveryIDOffset] += 27
	return Signed{Receipt: r, Signature: sig, Signer: crypto.PubkeyToAddress(key.PublicKey)}, nil
}

// Verify recomputes the digest of s's receipt and checks that its
// signature was made by s.Signer. The caller still compares Signer with
// the terminal address it trusts.
func (s Signed) Verify() error {
	got, err := Recover(s.Receipt.TypedData(), s.Signature)
	if err != nil {
		return err
	}
	if got != s.Signer {
		return fmt.Errorf("%w: made by %s, not %s", ErrSignature, got.Hex(), s.Signer.Hex())
	}
	return nil
}

// Recover returns the address whose key signed td (a receipt's typed data,
// e.g. read from the JSON) with sig: 65 bytes, v = 27 or 28, s in the
// lower half of the curve order.
func Recover(td apitypes.TypedData, sig []byte) (common.Address, error) {
	if td.PrimaryType != PrimaryType {
		return common.Address{}, fmt.Errorf("%w: primary type %q, want %q", ErrReceipt, td.PrimaryType, PrimaryType)
	}
	h, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %w", ErrReceipt, err)
	}
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, fmt.Errorf("%w: %d bytes, want %d", ErrSignature, len(sig), crypto.SignatureLength)
	}
	v := sig[crypto.RecoveryIDOffset]
	if (v != 27 && v != 28) || !crypto.ValidateSignatureValues(v-27, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64]), true) {
		return common.Address{}, fmt.Errorf("%w: not r||s||v with v 27 or 28 and a low s", ErrSignature)
	}
	plain := bytes.Clone(sig)
	plain[crypto.RecoveryIDOffset] -= 27
	pub, err := crypto.SigToPub(h, plain)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// MarshalJSON is the receipt as GET /receipt/{id}?format=json serves it:
//
//	{"typedData": {…exactly what was signed…}, "signature": "0x…",
//	 "signer": "0x…", "link": "https://…/receipt/<id>"}
//
// The typed data carries every field; a verifier needs nothing else.
func (s Signed) MarshalJSON() ([]byte, error) {
	td := s.Receipt.TypedData()
	return json.Marshal(struct {
		TypedData wireTypedData `json:"typedData"`
		Signature string        `json:"signature"`
		Signer    string        `json:"signer"`
		Link      string        `json:"link,omitempty"`
	}{wireTypedData{
		Types: td.Types, PrimaryType: td.PrimaryType, Message: td.Message,
		Domain: wireDomain{Name: td.Domain.Name, Version: td.Domain.Version, ChainID: json.Number(strconv.FormatUint(s.ChainID, 10))},
	}, hexutil.Encode(s.Signature), s.Signer.Hex(), s.Link})
}

// wireTypedData is apitypes.TypedData as wallets and ethers take it: the
// domain without the empty verifyingContract and salt (an empty string is
// no address to them), the chain id a JSON number (the request's rules
// keep it below 2^53). apitypes.TypedData reads it back.
type wireTypedData struct {
	Types       apitypes.Types            `json:"types"`
	PrimaryType string                    `json:"primaryType"`
	Domain      wireDomain                `json:"domain"`
	Message     apitypes.TypedDataMessage `json:"message"`
}

type wireDomain struct {
	Name    string      `json:"name"`
	Version string      `json:"version"`
	ChainID json.Number `json:"chainId"`
}

// MaxJSONSize bounds what ParseJSON reads; a receipt's JSON is about 2 KiB.
const MaxJSONSize = 16 << 10

// Document is a receipt as its JSON carries it.
type Document struct {
	TypedData apitypes.TypedData
	Signature []byte
	Signer    common.Address
	Link      string
}

// ParseJSON reads a receipt's JSON (what MarshalJSON writes) and checks
// that its signature over its typed data was made by its signer. The
// caller still compares Signer with the terminal it trusts.
func ParseJSON(b []byte) (Document, error) {
	if len(b) > MaxJSONSize {
		return Document{}, fmt.Errorf("%w: %d bytes, at most %d", ErrReceipt, len(b), MaxJSONSize)
	}
	var raw struct {
		TypedData apitypes.TypedData `json:"typedData"`
		Signature hexutil.Bytes      `json:"signature"`
		Signer    common.Address     `json:"signer"`
		Link      string             `json:"link"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Document{}, fmt.Errorf("%w: %w", ErrReceipt, err)
	}
	got, err := Recover(raw.TypedData, raw.Signature)
	if err != nil {
		return Document{}, err
	}
	if got != raw.Signer {
		return Document{}, fmt.Errorf("%w: made by %s, not %s", ErrSignature, got.Hex(), raw.Signer.Hex())
	}
	return Document{TypedData: raw.TypedData, Signature: raw.Signature, Signer: raw.Signer, Link: raw.Link}, nil
}
