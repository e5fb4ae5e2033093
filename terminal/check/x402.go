package check

import (
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/strictjson"
)

// MaxPaymentPayloadSize is the largest x402 payment payload accepted, in
// bytes. An "exact" payload is under 1 KiB; a v2 payload also echoes the
// requirements it accepted and may carry a resource description and
// extensions, which the bound leaves room for.
const MaxPaymentPayloadSize = 16 << 10

// Bounds on single fields: a number may carry leading zeros (clients pad),
// but not without end; a signature longer than maxSignatureHex digits is
// refused before it is decoded.
const (
	maxNumberLen    = 100  // characters of a decimal or 0x-hex number, prefix included
	maxNetworkLen   = 64   // CAIP-2 allows 8 + 1 + 32 characters; v1 names are shorter
	maxSignatureHex = 1024 // hex digits; an EOA signature is 130, longer ones are refused by CheckAuthorization
)

// Authorization is an EIP-3009 transferWithAuthorization read from an x402
// "exact" payment payload, v1 or v2, every field decoded but nothing yet
// checked against a request: [Checker.CheckAuthorization] does that.
type Authorization struct {
	// X402Version is the payload's x402Version: 1 or 2.
	X402Version int
	// Network is the network the payload names, as sent: "eip155:<id>"
	// (v2's accepted.network, or v1's network), or a v1 name ("base").
	Network string

	// Accepted is v2's accepted requirements; nil in v1, which carries
	// none.
	Accepted *Accepted

	// The authorization, as signed.
	From, To    common.Address
	Value       *big.Int // token base units
	ValidAfter  *big.Int // unix seconds
	ValidBefore *big.Int // unix seconds
	Nonce       common.Hash

	// Signature is the signature as sent (65 bytes for an EOA: r, s, v).
	Signature []byte
}

// Accepted is the part of x402 v2's PaymentRequirements the check uses:
// what the payer's client says it accepted, which must be what the
// terminal asked.
type Accepted struct {
	Asset  common.Address
	PayTo  common.Address
	Amount *big.Int
	// Name and Version are extra.name and extra.version: the token's
	// EIP-712 domain the client signed over.
	Name, Version string
}

// The x402 JSON shapes. Member names are exact (strictjson); fields the
// check does not use but x402 defines (v2's resource and extensions) are
// taken as any JSON value.
type (
	wirePayload struct {
		X402Version *int            `json:"x402Version"`
		Scheme      *string         `json:"scheme"`   // v1
		Network     *string         `json:"network"`  // v1
		Accepted    *wireAccepted   `json:"accepted"` // v2
		Resource    json.RawMessage `json:"resource"` // v2, optional
		Extensions  json.RawMessage `json:"extensions"`
		Payload     *wireExact      `json:"payload"`
	}
	wireAccepted struct {
		Scheme            *string         `json:"scheme"`
		Network           *string         `json:"network"`
		Amount            json.RawMessage `json:"amount"`
		Asset             *string         `json:"asset"`
		PayTo             *string         `json:"payTo"`
		MaxTimeoutSeconds json.RawMessage `json:"maxTimeoutSeconds"`
		Extra             *wireExtra      `json:"extra"`
	}
	wireExtra struct {
		Name                *string `json:"name"`
		Version             *string `json:"version"`
		AssetTransferMethod *string `json:"assetTransferMethod"`
	}
	wireExact struct {
		Signature     *string            `json:"signature"`
		Authorization *wireAuthorization `json:"authorization"`
	}
	wireAuthorization struct {
		From        *string         `json:"from"`
		To          *string         `json:"to"`
		Value       json.RawMessage `json:"value"`
		ValidAfter  json.RawMessage `json:"validAfter"`
		ValidBefore json.RawMessage `json:"validBefore"`
		Nonce       *string         `json:"nonce"`
	}
)

// ParsePaymentPayload reads an x402 payment payload for the "exact" scheme
// on EVM, as a payer's client sends it (the JSON, not the base64 of an
// X-PAYMENT header):
//
//	v1: {"x402Version":1, "scheme":"exact", "network", "payload"}
//	v2: {"x402Version":2, "accepted":{"scheme":"exact", "network", "amount",
//	     "asset", "payTo", "maxTimeoutSeconds", "extra":{"name","version"}},
//	     "payload", "resource"?, "extensions"?}
//
// where payload is {"signature", "authorization":{"from", "to", "value",
// "validAfter", "validBefore", "nonce"}}. The JSON is read strictly (member
// names exact, none twice, nothing unknown: terminal/strictjson) and is at
// most [MaxPaymentPayloadSize] bytes.
//
// Numbers (value, validAfter, validBefore, amount) are taken as x402 clients
// write them: a decimal string, a 0x- or 0X-prefixed hex string, or a JSON
// integer; leading zeros are allowed, up to 100 characters, and the value
// must fit in 256 bits. Addresses are 40 hex digits, the nonce 64, the
// signature an even number, each with an optional 0x or 0X; a mixed-case
// address must be a valid EIP-55 checksum.
//
// Every error is a *Refusal with CodeInvalidPayload naming the field.
func ParsePaymentPayload(raw []byte) (*Authorization, error) {
	if len(raw) > MaxPaymentPayloadSize {
		return nil, Refuse(CodeInvalidPayload, "payment payload is %d bytes, at most %d", len(raw), MaxPaymentPayloadSize)
	}
	var w wirePayload
	if err := strictjson.Decode(raw, &w); err != nil {
		return nil, Refuse(CodeInvalidPayload, "payment payload: %v", err)
	}
	if w.X402Version == nil {
		return nil, Refuse(CodeInvalidPayload, "x402Version missing")
	}
	a := &Authorization{X402Version: *w.X402Version}
	switch a.X402Version {
	case 1:
		switch {
		case w.Accepted != nil:
			return nil, Refuse(CodeInvalidPayload, "accepted is x402 v2's; this payload says x402Version 1")
		case w.Resource != nil, w.Extensions != nil:
			return nil, Refuse(CodeInvalidPayload, "resource and extensions are x402 v2's; this payload says x402Version 1")
		}
		if err := scheme("scheme", w.Scheme); err != nil {
			return nil, err
		}
		n, err := network("network", w.Network)
		if err != nil {
			return nil, err
		}
		a.Network = n
	case 2:
		if w.Scheme != nil || w.Network != nil {
			return nil, Refuse(CodeInvalidPayload, "x402 v2 carries scheme and network in accepted, not at the top")
		}
		if w.Accepted == nil {
			return nil, Refuse(CodeInvalidPayload, "accepted missing (x402 v2)")
		}
		acc, n, err := accepted(w.Accepted)
		if err != nil {
			return nil, err
		}
		a.Accepted, a.Network = acc, n
	default:
		return nil, Refuse(CodeInvalidPayload, "x402Version %d; this terminal reads 1 and 2", a.X402Version)
	}
	if err := exact(w.Payload, a); err != nil {
		return nil, err
	}
	return a, nil
}

// accepted reads v2's accepted requirements and returns them with the network.
func accepted(w *wireAccepted) (*Accepted, string, error) {
	if err := scheme("accepted.scheme", w.Scheme); err != nil {
		return nil, "", err
	}
	n, err := network("accepted.network", w.Network)
	if err != nil {
		return nil, "", err
	}
	acc := &Accepted{}
	if acc.Amount, err = uint256Field("accepted.amount", w.Amount); err != nil {
		return nil, "", err
	}
	if acc.Asset, err = addressField("accepted.asset", w.Asset); err != nil {
		return nil, "", err
	}
	if acc.PayTo, err = addressField("accepted.payTo", w.PayTo); err != nil {
		return nil, "", err
	}
	// maxTimeoutSeconds is how the client chose validBefore; the check
	// reads validBefore itself. It must still be a number.
	if _, err := uint256Field("accepted.maxTimeoutSeconds", w.MaxTimeoutSeconds); err != nil {
		return nil, "", err
	}
	if w.Extra == nil || w.Extra.Name == nil || w.Extra.Version == nil {
		return nil, "", Refuse(CodeInvalidPayload, "accepted.extra must carry the token's EIP-712 domain name and version")
	}
	if m := w.Extra.AssetTransferMethod; m != nil && *m != "eip3009" {
		return nil, "", Refuse(CodeInvalidPayload, "accepted.extra.assetTransferMethod %q; this terminal takes eip3009 authorizations only", clip(*m))
	}
	if len(*w.Extra.Name) > 256 || len(*w.Extra.Version) > 256 {
		return nil, "", Refuse(CodeInvalidPayload, "accepted.extra name or version over 256 bytes")
	}
	acc.Name, acc.Version = *w.Extra.Name, *w.Extra.Version
	return acc, n, nil
}

// exact reads the scheme payload into a.
func exact(w *wireExact, a *Authorization) error {
	if w == nil {
		return Refuse(CodeInvalidPayload, "payload missing")
	}
	if w.Authorization == nil {
		return Refuse(CodeInvalidPayload, "payload.authorization missing")
	}
	var err error
	if a.Signature, err = hexField("payload.signature", w.Signature, 0); err != nil {
		return err
	}
	au := w.Authorization
	if a.From, err = addressField("payload.authorization.from", au.From); err != nil {
		return err
	}
	if a.To, err = addressField("payload.authorization.to", au.To); err != nil {
		return err
	}
	if a.Value, err = uint256Field("payload.authorization.value", au.Value); err != nil {
		return err
	}
	if a.ValidAfter, err = uint256Field("payload.authorization.validAfter", au.ValidAfter); err != nil {
		return err
	}
	if a.ValidBefore, err = uint256Field("payload.authorization.validBefore", au.ValidBefore); err != nil {
		return err
	}
	nonce, err := hexField("payload.authorization.nonce", au.Nonce, common.HashLength)
	if err != nil {
		return err
	}
	a.Nonce = common.BytesToHash(nonce)
	return nil
}

func scheme(field string, s *string) error {
	switch {
	case s == nil:
		return Refuse(CodeInvalidPayload, "%s missing", field)
	case *s != "exact":
		return Refuse(CodeInvalidPayload, "%s %s; this terminal takes the exact scheme only", field, clip(*s))
	}
	return nil
}

func network(field string, s *string) (string, error) {
	switch {
	case s == nil:
		return "", Refuse(CodeInvalidPayload, "%s missing", field)
	case *s == "" || len(*s) > maxNetworkLen:
		return "", Refuse(CodeInvalidPayload, "%s is %d bytes; 1 to %d", field, len(*s), maxNetworkLen)
	}
	return *s, nil
}

// uint256Field reads a number: a JSON string holding decimal digits or
// 0x/0X and hex digits, or a JSON integer; leading zeros allowed.
func uint256Field(field string, raw json.RawMessage) (*big.Int, error) {
	if raw == nil {
		return nil, Refuse(CodeInvalidPayload, "%s missing", field)
	}
	s := string(raw)
	quoted := len(s) > 0 && s[0] == '"'
	if quoted {
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, Refuse(CodeInvalidPayload, "%s: %v", field, err)
		}
	}
	if len(s) > maxNumberLen {
		return nil, Refuse(CodeInvalidPayload, "%s is %d characters, at most %d", field, len(s), maxNumberLen)
	}
	digits, base := s, 10
	if quoted && len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		digits, base = s[2:], 16
	}
	if digits == "" || !allDigits(digits, base) {
		what := "a decimal string, a 0x-hex string or a JSON integer"
		return nil, Refuse(CodeInvalidPayload, "%s %s is not %s", field, shorten(string(raw)), what)
	}
	v, _ := new(big.Int).SetString(digits, base)
	if v.BitLen() > 256 {
		return nil, Refuse(CodeInvalidPayload, "%s is over 2^256-1", field)
	}
	return v, nil
}

func allDigits(s string, base int) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if base == 10 && (c < '0' || c > '9') {
			return false
		}
		if _, ok := unhex(c); base == 16 && !ok {
			return false
		}
	}
	return true
}

// hexField reads a hex string with an optional 0x or 0X prefix; size > 0
// demands exactly that many bytes.
func hexField(field string, s *string, size int) ([]byte, error) {
	if s == nil {
		return nil, Refuse(CodeInvalidPayload, "%s missing", field)
	}
	h := *s
	if len(h) >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		h = h[2:]
	}
	switch {
	case size > 0 && len(h) != 2*size:
		return nil, Refuse(CodeInvalidPayload, "%s is %d hex digits, want %d", field, len(h), 2*size)
	case len(h) > maxSignatureHex:
		return nil, Refuse(CodeInvalidPayload, "%s is %d hex digits, at most %d", field, len(h), maxSignatureHex)
	case len(h) == 0 || len(h)%2 != 0:
		return nil, Refuse(CodeInvalidPayload, "%s is %d hex digits, want a whole number of bytes", field, len(h))
	}
	b := make([]byte, len(h)/2)
	for i := range b {
		hi, ok1 := unhex(h[2*i])
		lo, ok2 := unhex(h[2*i+1])
		if !ok1 || !ok2 {
			return nil, Refuse(CodeInvalidPayload, "%s is not hex", field)
		}
		b[i] = hi<<4 | lo
	}
	return b, nil
}

// addressField reads a 20-byte address; mixed case must be its EIP-55
// checksum, so a mistyped address is refused rather than paid.
func addressField(field string, s *string) (common.Address, error) {
	b, err := hexField(field, s, common.AddressLength)
	if err != nil {
		return common.Address{}, err
	}
	a := common.BytesToAddress(b)
	h := strings.TrimPrefix(strings.TrimPrefix(*s, "0x"), "0X")
	if h != strings.ToLower(h) && h != strings.ToUpper(h) && h != a.Hex()[2:] {
		return common.Address{}, Refuse(CodeInvalidPayload, "%s %s fails its EIP-55 checksum (%s)", field, *s, a.Hex())
	}
	return a, nil
}

// clip quotes s, shortened, for a message.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return strconv.Quote(s[:n]) + "…"
	}
	return strconv.Quote(s)
}

// shorten shortens a JSON text for a message.
func shorten(s string) string {
	const n = 40
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// v1Networks is x402 v1's network names for EVM chains, with their chain
// ids (@x402/evm 2.27.0, EVM_NETWORK_CHAIN_ID_MAP): a v1 payload names its
// network so.
var v1Networks = map[string]uint64{
	"ethereum": 1, "sepolia": 11155111, "abstract": 2741, "abstract-testnet": 11124,
	"base-sepolia": 84532, "base": 8453, "avalanche-fuji": 43113, "avalanche": 43114,
	"iotex": 4689, "sei": 1329, "sei-testnet": 1328, "polygon": 137, "polygon-amoy": 80002,
	"peaq": 3338, "story": 1514, "educhain": 41923, "skale-base-sepolia": 324705682,
	"megaeth": 4326, "monad": 143, "stable": 988, "stable-testnet": 2201, "celo": 42220,
	"flare": 14,
}

// errNetwork is networkChainID's "not a network this reads".
var errNetwork = errors.New("not eip155:<chain id> or an x402 v1 network name")

// networkChainID reads "eip155:<decimal chain id>" (CAIP-2, no leading
// zeros) or, in v1, a network name.
func networkChainID(n string, version int) (uint64, error) {
	if rest, ok := strings.CutPrefix(n, "eip155:"); ok {
		id, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || rest[0] == '0' || rest[0] == '+' {
			return 0, errNetwork
		}
		return id, nil
	}
	if id, ok := v1Networks[n]; ok && version == 1 {
		return id, nil
	}
	return 0, errNetwork
}

// ChainID returns the chain id of the network a names (eip155:<id>, or a
// v1 name), refused wrong_chain as [Checker.CheckAuthorization] refuses a
// network it cannot read: a terminal on several chains picks the chain's
// Checker by it before it checks.
func (a *Authorization) ChainID() (uint64, error) {
	id, err := networkChainID(a.Network, a.X402Version)
	if err != nil {
		return 0, Refuse(CodeWrongChain, "network %s is %v", clip(a.Network), err)
	}
	return id, nil
}
