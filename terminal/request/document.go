package request

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"showpos/terminal/asset"
	"showpos/terminal/fiat"
)

// MaxDocumentSize bounds a document ParseDocument reads. A real one is about
// 2 KiB on one network and about 1 KiB more for every other network; the
// largest the terminal can make (MaxOptions networks, every field at its
// limit and escaped in JSON, x402 requirements on every offer, a fleet
// certificate of its largest) is about 26 KiB.
const MaxDocumentSize = 32 << 10

// MaxURLLength bounds the request and broadcast URLs: the request URL rides
// in the QR code, where every byte makes the code denser.
const MaxURLLength = 256

// Document is a signed payment request as the payer API serves it
// (GET /api/showpos/getPaymentRequest). Its JSON form is stable; see
// MarshalJSON. Status, PaidTx and PaidState are filled in by the server and are not
// signed; everything a payer acts on is either signed (through TypedData) or
// derived from signed fields and checked by Verify (URI, AmountDisplay).
// RequestURL and BroadcastURL are not signed.
type Document struct {
	ID            string
	TerminalID    string
	Merchant      common.Address
	ChainID       uint64
	Asset         asset.Asset
	Amount        *big.Int
	AmountDisplay string // Amount in whole units, e.g. "0.01"
	// Tip is the tip part of Amount in base units (nil: none) and Fiat the
	// price in the shop's currency (nil: keyed in the asset); both signed.
	Tip       *big.Int
	Fiat      *Fiat
	Memo      string
	CreatedAt time.Time
	ExpiresAt time.Time
	Status    string // server-side state (pending, paid, expired, cancelled); not signed
	PaidTx    string // hash of the paying transaction, once known; not signed
	// PaidState is where the paying transaction is (queued, broadcast,
	// seen, confirmed, final, failed), once known; not signed. A payer's
	// page says PAID at confirmed, not at seen.
	PaidState    string
	URI          string // EIP-681, as shown in the QR code
	RequestURL   string
	BroadcastURL string
	TypedData    apitypes.TypedData // exactly what the terminal signed
	Signature    []byte             // 65 bytes, v = 27/28
	Signer       common.Address     // the terminal's address: whose key made Signature (Verify checks it)
	// Certificate is the fleet's terminal certificate (one JSON object, see
	// terminal/fleet), when the terminal has one; not signed by the
	// terminal: it carries the fleet's own signature, which the payer checks.
	Certificate json.RawMessage
	// X402 is how to pay by an EIP-3009 authorization when the asset takes
	// one (x402 v2's PaymentRequirements for the "exact" scheme), else
	// nil. Not signed by the terminal, like Status: derived from the
	// signed fields (amount, asset, merchant, chain) and the terminal's
	// config (the token's EIP-712 domain, the settle window); a payer that
	// signs an authorization signs the same amount, token and merchant
	// the signed request names, and the terminal checks them again.
	X402 *PaymentRequirements
	// Network is the primary option's network name (Request.Network) and
	// Also the other options (Request.Also, signed). Offers lists every
	// option, primary first, with its URI and x402 requirements: what the
	// payer page and the NFC tag offer, and the keypad switches between.
	//
	// A one-network document (Also empty) has one offer, its URI the
	// document's, and names no network: Network and Offers[0].Network are
	// "" whatever the request's Network, as neither its JSON nor its stored
	// form carries the name (today's documents stay byte for byte what they
	// were). Offers[0].X402 of a document read from JSON is then X402.
	Network string
	Also    []Option
	Offers  []Offer
}

// PaymentRequirements is an x402 v2 PaymentRequirements object for the
// "exact" scheme on EVM, as a 402 response's accepts list holds it:
// {scheme, network, amount, asset, payTo, maxTimeoutSeconds, extra:{name,
// version}}. x402 clients sign validBefore = now + MaxTimeoutSeconds.
type PaymentRequirements struct {
	Scheme            string // "exact"
	Network           string // CAIP-2: "eip155:<chain id>"
	Amount            *big.Int
	Asset             common.Address // the token contract
	PayTo             common.Address // the merchant
	MaxTimeoutSeconds uint64
	// Name and Version are extra.name and extra.version: the token's
	// EIP-712 domain.
	Name, Version string
}

// NewDocument assembles the document for r. It recovers the signer from sig,
// so a signature that does not belong to r is refused here rather than by the
// payer. requestURL and broadcastURL must be absolute http(s) URLs.
//
// NewDocument is for a signature made elsewhere; the terminal signing its own
// request uses a Signer, which makes the same document with less work.
func NewDocument(r *Request, sig []byte, requestURL, broadcastURL string) (*Document, error) {
	td, h, err := r.typedDataAndHash()
	if err != nil {
		return nil, fmt.Errorf("new document: %w", err)
	}
	if err := checkURLs(requestURL, broadcastURL); err != nil {
		return nil, fmt.Errorf("new document: %w", err)
	}
	signer, err := recoverSigner(h, sig)
	if err != nil {
		return nil, fmt.Errorf("new document %s: %w", r.ID, err)
	}
	return assemble(r, td, bytes.Clone(sig), signer, requestURL, broadcastURL), nil
}

// Signer signs the terminal's own requests with one key, checked once by
// NewSigner. It is safe for concurrent use.
type Signer struct {
	key     *ecdsa.PrivateKey
	address common.Address
}

// NewSigner checks key, a secp256k1 private key whose PublicKey must be the
// public half of D (it is derived from D and compared, once), and returns a
// Signer for it. Errors wrap ErrKey.
func NewSigner(key *ecdsa.PrivateKey) (*Signer, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("new signer: %w", err)
	}
	derived, err := crypto.ToECDSA(crypto.FromECDSA(key))
	if err != nil {
		return nil, fmt.Errorf("new signer: %w: %w", ErrKey, err)
	}
	if key.X == nil || key.Y == nil || key.X.Cmp(derived.X) != 0 || key.Y.Cmp(derived.Y) != 0 {
		return nil, fmt.Errorf("new signer: %w: its public key is not the public half of its private key", ErrKey)
	}
	return &Signer{key: key, address: crypto.PubkeyToAddress(derived.PublicKey)}, nil
}

// Address is the signer's address: what a payer checks a document's Signer
// against.
func (s *Signer) Address() common.Address { return s.address }

// Document signs r and assembles its document: what Sign then NewDocument
// make, with the typed data built and hashed once and the signer taken from
// the key NewSigner checked, instead of recovered from the signature just
// made (an ecrecover saved: about a fifth of the work of making a request).
// requestURL and broadcastURL must be absolute http(s) URLs. Errors wrap
// ErrKey, ErrURL or the sentinel of the request field refused.
func (s *Signer) Document(r *Request, requestURL, broadcastURL string) (*Document, error) {
	td, h, err := r.typedDataAndHash()
	if err != nil {
		return nil, fmt.Errorf("sign document: %w", err)
	}
	if err := checkURLs(requestURL, broadcastURL); err != nil {
		return nil, fmt.Errorf("sign document %s: %w", r.ID, err)
	}
	sig, err := signHash(h, s.key)
	if err != nil {
		return nil, fmt.Errorf("sign document %s: %w", r.ID, err)
	}
	return assemble(r, td, sig, s.address, requestURL, broadcastURL), nil
}

// assemble makes the document for r, whose typed data is td, from parts
// already checked. Every way a Document is made on the terminal (NewDocument,
// Signer.Document, ParseCompact) goes through it, so the same parts always give
// the same document. sig is kept, not copied.
func assemble(r *Request, td apitypes.TypedData, sig []byte, signer common.Address, requestURL, broadcastURL string) *Document {
	offers := r.offers(requestURL)
	return &Document{
		ID:            r.ID,
		TerminalID:    r.TerminalID,
		Merchant:      r.Merchant,
		ChainID:       r.ChainID,
		Asset:         r.Asset,
		Amount:        new(big.Int).Set(r.Amount),
		AmountDisplay: asset.FormatAmount(r.Amount, r.Asset.Decimals),
		Tip:           cloneInt(r.Tip),
		Fiat:          cloneFiat(r.Fiat),
		Memo:          r.Memo,
		CreatedAt:     r.CreatedAt,
		ExpiresAt:     r.ExpiresAt,
		URI:           offers[0].URI, // the primary's: r.URI(requestURL)
		RequestURL:    requestURL,
		BroadcastURL:  broadcastURL,
		TypedData:     td,
		Signature:     sig,
		Signer:        signer,
		Network:       r.documentNetwork(),
		Also:          cloneOptions(r.Also),
		Offers:        offers,
	}
}

// documentNetwork is the Network of r's document: r's, when r is on
// several networks; none for one.
func (r *Request) documentNetwork() string {
	if !r.multi() {
		return ""
	}
	return r.Network
}

// Request returns the request the document's fields describe, unchecked.
func (d *Document) Request() *Request {
	r := &Request{
		ID:         d.ID,
		TerminalID: d.TerminalID,
		Merchant:   d.Merchant,
		ChainID:    d.ChainID,
		Asset:      d.Asset,
		Memo:       d.Memo,
		CreatedAt:  d.CreatedAt,
		ExpiresAt:  d.ExpiresAt,
		Tip:        cloneInt(d.Tip),
		Fiat:       cloneFiat(d.Fiat),
		Network:    d.Network,
		Also:       cloneOptions(d.Also),
	}
	if d.Amount != nil {
		r.Amount = new(big.Int).Set(d.Amount)
	}
	return r
}

// Verify checks that the document says one thing and that the terminal key
// named as Signer signed it, and returns that address. It
//
//   - checks the fields obey the rules New enforces,
//   - recomputes the EIP-712 digest from TypedData and requires it to equal
//     the digest of the fields (so the typed data a wallet would display and
//     the fields an app would read cannot disagree),
//   - requires URI and AmountDisplay to be the ones the fields produce (they
//     are what a payer pays and reads, and are not signed themselves),
//   - requires Offers to be the signed options, primary first, each with
//     the URI its option gives (Request.OptionURI) and the network names
//     of Network and Also (X402 is the till's, not checked),
//   - recovers the signer from Signature and requires it to be Signer.
//
// Verify proves only that the holder of Signer's key made this request. A
// payer app must also compare the address with the terminal it trusts (one
// pinned from a previous visit or published by the merchant) and check
// ExpiresAt against its own clock.
func (d *Document) Verify() (common.Address, error) {
	r := d.Request()
	if err := r.Validate(); err != nil {
		return common.Address{}, fmt.Errorf("verify document: %w", err)
	}
	want, err := r.Hash()
	if err != nil {
		return common.Address{}, fmt.Errorf("verify document: %w", err)
	}
	// Hash the document's typed data only once it has our schema, so no
	// stranger's type graph is walked.
	if td := d.TypedData; td.PrimaryType != PrimaryType || !reflect.DeepEqual(td.Types, types(r.priced(), r.multi())) {
		return common.Address{}, fmt.Errorf("verify document %s: %w: typedData.types or primaryType differ from the %s schema", d.ID, ErrMismatch, PrimaryType)
	}
	if r.multi() && !optionsShaped(d.TypedData.Message[optionField.Name]) {
		return common.Address{}, fmt.Errorf("verify document %s: %w: typedData.message.options is not a list of options", d.ID, ErrMismatch)
	}
	got, _, err := apitypes.TypedDataAndHash(d.TypedData)
	if err != nil {
		return common.Address{}, fmt.Errorf("verify document %s: %w: typedData does not hash: %w", d.ID, ErrMismatch, err)
	}
	if !bytes.Equal(got, want[:]) {
		return common.Address{}, fmt.Errorf("verify document %s: %w: %s", d.ID, ErrMismatch, d.typedDataDifference(r.TypedData()))
	}
	if uri := r.URI(d.RequestURL); d.URI != uri {
		return common.Address{}, fmt.Errorf("verify document %s: %w: uri %q, but the signed fields give %q", d.ID, ErrMismatch, clip(d.URI), clip(uri))
	}
	if err := d.checkOffers(r); err != nil {
		return common.Address{}, fmt.Errorf("verify document %s: %w", d.ID, err)
	}
	if display := asset.FormatAmount(r.Amount, r.Asset.Decimals); d.AmountDisplay != display {
		return common.Address{}, fmt.Errorf("verify document %s: %w: amountDisplay %q, but amount %s at %d decimals is %q",
			d.ID, ErrMismatch, clip(d.AmountDisplay), r.Amount, r.Asset.Decimals, display)
	}
	signer, err := recoverSigner(want, d.Signature)
	if err != nil {
		return common.Address{}, fmt.Errorf("verify document %s: %w", d.ID, err)
	}
	if signer != d.Signer {
		return common.Address{}, fmt.Errorf("verify document %s: %w: signed by %s, but the document names %s", d.ID, ErrSignature, signer.Hex(), d.Signer.Hex())
	}
	return signer, nil
}

// typedDataDifference names the first part of the document's typed data that
// differs from what the fields produce, for the error message.
func (d *Document) typedDataDifference(want apitypes.TypedData) string {
	got := d.TypedData
	gotDomain, err1 := got.HashStruct("EIP712Domain", got.Domain.Map())
	wantDomain, err2 := want.HashStruct("EIP712Domain", want.Domain.Map())
	if err1 != nil || err2 != nil || !bytes.Equal(gotDomain, wantDomain) {
		return "typedData.domain differs from the fields (name, version or chainId)"
	}
	for _, f := range want.Types[PrimaryType] {
		if f == optionField {
			if diff := optionsDifference(got, want); diff != "" {
				return diff
			}
			continue
		}
		g, err1 := got.EncodePrimitiveValue(f.Type, got.Message[f.Name], 1)
		w, err2 := want.EncodePrimitiveValue(f.Type, want.Message[f.Name], 1)
		if err1 != nil || err2 != nil || !bytes.Equal(g, w) {
			return fmt.Sprintf("typedData.message.%s differs from the document's field", f.Name)
		}
	}
	return "typedData.message has fields beyond the schema"
}

// optionsDifference names the first signed option of got (whose types are
// want's) that differs from want's, or returns "".
func optionsDifference(got, want apitypes.TypedData) string {
	g, _ := got.Message[optionField.Name].([]any)
	w, _ := want.Message[optionField.Name].([]any)
	if len(g) != len(w) {
		return fmt.Sprintf("typedData.message.options lists %d options, the document %d", len(g), len(w))
	}
	for i := range w {
		gm, _ := g[i].(map[string]any)
		gh, err1 := got.HashStruct(optionTypeName, gm)
		wh, err2 := want.HashStruct(optionTypeName, w[i].(map[string]any))
		if err1 != nil || err2 != nil || !bytes.Equal(gh, wh) {
			return fmt.Sprintf("typedData.message.options[%d] differs from the document's option %d", i, i)
		}
	}
	return ""
}

// checkOffers requires d.Offers to be the offers of r at d.RequestURL
// (Request.offers), X402 aside. The caller has checked d.URI is r's, the
// primary offer's URI: it is compared, not built again. Errors wrap
// ErrMismatch.
func (d *Document) checkOffers(r *Request) error {
	if n := 1 + len(r.Also); len(d.Offers) != n {
		return fmt.Errorf("%w: %d offers, but the signed options are %d", ErrMismatch, len(d.Offers), n)
	}
	for i, o := range d.Offers {
		w := Offer{Option: r.option(i), URI: d.URI}
		if i > 0 {
			w.URI = r.OptionURI(w.Option, d.RequestURL)
		}
		switch {
		case o.ChainID != w.ChainID || o.Token != w.Token:
			return fmt.Errorf("%w: offer %d is on chain %d token %s, but the signed option %d is on chain %d token %s",
				ErrMismatch, i, o.ChainID, o.Token.Hex(), i, w.ChainID, w.Token.Hex())
		case o.Network != w.Network:
			return fmt.Errorf("%w: offer %d names network %q, but the document names it %q", ErrMismatch, i, clip(o.Network), clip(w.Network))
		case o.URI != w.URI:
			return fmt.Errorf("%w: offer %d (chain %d): uri %q, but the signed fields give %q", ErrMismatch, i, o.ChainID, clip(o.URI), clip(w.URI))
		}
	}
	return nil
}

// checkURLs checks a document's request and broadcast URLs with checkURL.
func checkURLs(requestURL, broadcastURL string) error {
	for _, u := range []struct{ name, url string }{{"request URL", requestURL}, {"broadcast URL", broadcastURL}} {
		if err := checkURL(u.url); err != nil {
			return fmt.Errorf("%s: %w", u.name, err)
		}
	}
	return nil
}

// checkURL accepts an absolute http or https URL of at most MaxURLLength bytes
// of UTF-8 (JSON cannot carry other bytes: they would be served as U+FFFD,
// and the document would no longer match its URI).
func checkURL(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrURL)
	}
	if len(s) > MaxURLLength {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrURL, len(s), MaxURLLength)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not valid UTF-8", ErrURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrURL, clip(s))
	}
	return nil
}

// The JSON form. Field names are camelCase and stable; integers that can
// exceed 2^53 are decimal strings; times are RFC 3339 UTC; addresses EIP-55.
type wireDocument struct {
	ID            string            `json:"id"`
	TerminalID    string            `json:"terminalId"`
	Merchant      string            `json:"merchant"`
	ChainID       uint64            `json:"chainId"`
	Network       string            `json:"network,omitempty"`
	Asset         wireAsset         `json:"asset"`
	Amount        string            `json:"amount"`
	AmountDisplay string            `json:"amountDisplay"`
	Tip           string            `json:"tip,omitempty"`
	Fiat          *wireFiat         `json:"fiat,omitempty"`
	Memo          string            `json:"memo"`
	CreatedAt     string            `json:"createdAt"`
	ExpiresAt     string            `json:"expiresAt"`
	Status        string            `json:"status,omitempty"`
	PaidTx        string            `json:"paidTx,omitempty"`
	PaidState     string            `json:"paidState,omitempty"`
	URI           string            `json:"uri"`
	Options       []wireOffer       `json:"options,omitempty"`
	RequestURL    string            `json:"requestUrl"`
	BroadcastURL  string            `json:"broadcastUrl"`
	TypedData     wireTypedData     `json:"typedData"`
	Signature     string            `json:"signature"`
	Signer        string            `json:"signer"`
	Certificate   json.RawMessage   `json:"certificate,omitempty"`
	X402          *wireRequirements `json:"x402,omitempty"`
}

// wireOffer is one offer in the JSON form: a multi-network document's
// "options", primary first. chainId is a JSON number like the document's
// own (MaxChainID keeps it exact); token is absent for a native coin, as
// in asset; x402 has the form of the document's "x402".
type wireOffer struct {
	Network string            `json:"network"`
	ChainID uint64            `json:"chainId"`
	Token   *string           `json:"token,omitempty"`
	URI     string            `json:"uri"`
	X402    *wireRequirements `json:"x402,omitempty"`
}

// wireFiat is the fiat price in the JSON form: amounts in the currency's
// unit with exactly its minor digits ("4.95"), the rate exactly as signed.
type wireFiat struct {
	Currency   string `json:"currency"`
	Amount     string `json:"amount"`
	Tip        string `json:"tip,omitempty"`
	Rate       string `json:"rate"`
	RateSource string `json:"rateSource"`
	RateAt     string `json:"rateAt"`
}

type wireRequirements struct {
	Scheme            string    `json:"scheme"`
	Network           string    `json:"network"`
	Amount            string    `json:"amount"`
	Asset             string    `json:"asset"`
	PayTo             string    `json:"payTo"`
	MaxTimeoutSeconds uint64    `json:"maxTimeoutSeconds"`
	Extra             wireExtra `json:"extra"`
}

type wireExtra struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type wireAsset struct {
	Symbol   string  `json:"symbol"`
	Decimals uint8   `json:"decimals"`
	Token    *string `json:"token,omitempty"` // absent for the native coin
}

// wireTypedData is apitypes.TypedData with empty domain members left out, so
// the domain can go straight into ethers' verifyTypedData or a wallet (an
// empty verifyingContract is not an address to them), and with the chain id
// as a JSON number. It decodes into apitypes.TypedData unchanged.
type wireTypedData struct {
	Types       apitypes.Types            `json:"types"`
	PrimaryType string                    `json:"primaryType"`
	Domain      wireDomain                `json:"domain"`
	Message     apitypes.TypedDataMessage `json:"message"`
}

type wireDomain struct {
	Name              string   `json:"name,omitempty"`
	Version           string   `json:"version,omitempty"`
	ChainID           *chainID `json:"chainId,omitempty"`
	VerifyingContract string   `json:"verifyingContract,omitempty"`
	Salt              string   `json:"salt,omitempty"`
}

// chainID writes a JSON number and reads a number or a decimal or 0x-hex
// string, as wallets vary.
type chainID big.Int

func (c *chainID) MarshalJSON() ([]byte, error) {
	return []byte((*big.Int)(c).String()), nil
}

func (c *chainID) UnmarshalJSON(b []byte) error {
	var h math.HexOrDecimal256
	if err := h.UnmarshalJSON(b); err != nil {
		return err
	}
	*c = chainID(h)
	return nil
}

// MarshalJSON writes the payer API's JSON form of d.
func (d Document) MarshalJSON() ([]byte, error) {
	w := wireDocument{
		ID:            d.ID,
		TerminalID:    d.TerminalID,
		Merchant:      d.Merchant.Hex(),
		ChainID:       d.ChainID,
		Asset:         wireAsset{Symbol: d.Asset.Symbol, Decimals: d.Asset.Decimals},
		Amount:        "0",
		AmountDisplay: d.AmountDisplay,
		Memo:          d.Memo,
		CreatedAt:     d.CreatedAt.UTC().Format(time.RFC3339),
		ExpiresAt:     d.ExpiresAt.UTC().Format(time.RFC3339),
		Status:        d.Status,
		PaidTx:        d.PaidTx,
		PaidState:     d.PaidState,
		URI:           d.URI,
		RequestURL:    d.RequestURL,
		BroadcastURL:  d.BroadcastURL,
		TypedData: wireTypedData{
			Types:       d.TypedData.Types,
			PrimaryType: d.TypedData.PrimaryType,
			Domain: wireDomain{
				Name:              d.TypedData.Domain.Name,
				Version:           d.TypedData.Domain.Version,
				ChainID:           (*chainID)(d.TypedData.Domain.ChainId),
				VerifyingContract: d.TypedData.Domain.VerifyingContract,
				Salt:              d.TypedData.Domain.Salt,
			},
			Message: d.TypedData.Message,
		},
		Signature: hexutil.Encode(d.Signature),
		Signer:    d.Signer.Hex(),
	}
	if len(d.Certificate) > 0 {
		w.Certificate = d.Certificate
	}
	w.X402 = toWireRequirements(d.X402)
	if len(d.Also) > 0 {
		w.Network = d.Network
		w.Options = make([]wireOffer, len(d.Offers))
		for i, o := range d.Offers {
			w.Options[i] = wireOffer{Network: o.Network, ChainID: o.ChainID, URI: o.URI, X402: toWireRequirements(o.X402)}
			if o.Token != (common.Address{}) {
				token := o.Token.Hex()
				w.Options[i].Token = &token
			}
		}
	}
	if d.Amount != nil {
		w.Amount = d.Amount.String()
	}
	if d.Tip != nil {
		w.Tip = d.Tip.String()
	}
	if f := d.Fiat; f != nil {
		c, _ := fiat.Lookup(f.Rate.Currency)
		c.Code = f.Rate.Currency
		w.Fiat = &wireFiat{Currency: c.Code, Amount: c.Format(f.Amount), Rate: "0", RateSource: f.Rate.Source, RateAt: f.Rate.At.UTC().Format(time.RFC3339)}
		if f.Tip != nil {
			w.Fiat.Tip = c.Format(f.Tip)
		}
		if f.Rate.Answer != nil {
			w.Fiat.Rate = f.Rate.Price()
		}
	}
	if !d.Asset.Native() {
		token := d.Asset.Token.Hex()
		w.Asset.Token = &token
	}
	return json.Marshal(w)
}

// toWireRequirements is x in the JSON form; nil for nil.
func toWireRequirements(x *PaymentRequirements) *wireRequirements {
	if x == nil {
		return nil
	}
	w := &wireRequirements{
		Scheme: x.Scheme, Network: x.Network, Amount: "0", Asset: x.Asset.Hex(), PayTo: x.PayTo.Hex(),
		MaxTimeoutSeconds: x.MaxTimeoutSeconds, Extra: wireExtra{Name: x.Name, Version: x.Version},
	}
	if x.Amount != nil {
		w.Amount = x.Amount.String()
	}
	return w
}

// parseRequirements reads x402 requirements in the JSON form, reporting
// each malformed part to check under the name prefix.
func parseRequirements(x *wireRequirements, prefix string, check func(string, error)) *PaymentRequirements {
	r := &PaymentRequirements{Scheme: x.Scheme, Network: x.Network, MaxTimeoutSeconds: x.MaxTimeoutSeconds, Name: x.Extra.Name, Version: x.Extra.Version}
	var err error
	r.Amount, err = parseUnits(x.Amount)
	check(prefix+".amount", err)
	r.Asset, err = parseAddress(x.Asset)
	check(prefix+".asset", err)
	r.PayTo, err = parseAddress(x.PayTo)
	check(prefix+".payTo", err)
	return r
}

// UnmarshalJSON reads the JSON form strictly: unknown fields, trailing data,
// malformed addresses, amounts, times or signatures are refused with
// ErrDocument. It does not check the rules of Request or the signature: use
// ParseDocument, then Verify.
func (d *Document) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireDocument
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("%w: %w", ErrDocument, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the JSON object", ErrDocument)
	}
	out := Document{
		ID: w.ID, TerminalID: w.TerminalID, ChainID: w.ChainID, Memo: w.Memo, Network: w.Network,
		Asset:         asset.Asset{Symbol: w.Asset.Symbol, Decimals: w.Asset.Decimals},
		AmountDisplay: w.AmountDisplay, Status: w.Status, PaidTx: w.PaidTx, PaidState: w.PaidState,
		URI: w.URI, RequestURL: w.RequestURL, BroadcastURL: w.BroadcastURL,
	}
	if len(w.Certificate) > 0 && string(w.Certificate) != "null" {
		out.Certificate = bytes.Clone(w.Certificate)
	}
	var errs []error
	check := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	var err error
	out.Merchant, err = parseAddress(w.Merchant)
	check("merchant", err)
	if w.Asset.Token != nil {
		out.Asset.Token, err = parseAddress(*w.Asset.Token)
		if err == nil && out.Asset.Native() {
			err = errors.New("the zero address; leave token out for the native coin")
		}
		check("asset.token", err)
	}
	out.Amount, err = parseUnits(w.Amount)
	check("amount", err)
	if w.Tip != "" {
		out.Tip, err = parseUnits(w.Tip)
		check("tip", err)
	}
	if w.Fiat != nil {
		out.Fiat, err = parseFiat(w.Fiat)
		check("fiat", err)
	}
	out.CreatedAt, err = parseTime(w.CreatedAt)
	check("createdAt", err)
	out.ExpiresAt, err = parseTime(w.ExpiresAt)
	check("expiresAt", err)
	out.Signature, err = parseSignature(w.Signature)
	check("signature", err)
	out.Signer, err = parseAddress(w.Signer)
	check("signer", err)
	if w.X402 != nil {
		out.X402 = parseRequirements(w.X402, "x402", check)
	}
	switch {
	case w.Options == nil && w.Network != "":
		check("network", errors.New("named without options; a one-network document names no network"))
	case w.Options == nil:
		// One network: its one offer is the document's own.
		out.Offers = []Offer{{Option: Option{ChainID: out.ChainID, Token: out.Asset.Token}, URI: out.URI}}
		if w.X402 != nil {
			out.Offers[0].X402 = parseRequirements(w.X402, "x402", check)
		}
	case len(w.Options) < 2:
		check("options", fmt.Errorf("%d options; a document lists none or at least 2", len(w.Options)))
	default:
		out.Offers = make([]Offer, len(w.Options))
		for i, o := range w.Options {
			name := fmt.Sprintf("options[%d]", i)
			f := Offer{Option: Option{Network: o.Network, ChainID: o.ChainID}, URI: o.URI}
			if o.Token != nil {
				f.Token, err = parseAddress(*o.Token)
				if err == nil && f.Token == (common.Address{}) {
					err = errors.New("the zero address; leave token out for the native coin")
				}
				check(name+".token", err)
			}
			if o.X402 != nil {
				f.X402 = parseRequirements(o.X402, name+".x402", check)
			}
			out.Offers[i] = f
		}
		if p := out.Offers[0]; p.Network != out.Network || p.ChainID != out.ChainID || p.Token != out.Asset.Token {
			check("options[0]", errors.New("the primary option is not the document's network, chainId and asset.token"))
		}
		for _, f := range out.Offers[1:] {
			out.Also = append(out.Also, f.Option)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrDocument, errors.Join(errs...))
	}
	out.TypedData = apitypes.TypedData{
		Types:       w.TypedData.Types,
		PrimaryType: w.TypedData.PrimaryType,
		Domain: apitypes.TypedDataDomain{
			Name:              w.TypedData.Domain.Name,
			Version:           w.TypedData.Domain.Version,
			ChainId:           (*math.HexOrDecimal256)(w.TypedData.Domain.ChainID),
			VerifyingContract: w.TypedData.Domain.VerifyingContract,
			Salt:              w.TypedData.Domain.Salt,
		},
		Message: w.TypedData.Message,
	}
	*d = out
	return nil
}

// ParseDocument reads a document served by the payer API: at most
// MaxDocumentSize bytes of strict JSON (see UnmarshalJSON) whose fields obey
// the rules New enforces, with absolute http(s) URLs, a status of at most 32
// of [a-z_] and, if present, a 32-byte paidTx hash. It does not check the
// signature or the typed data: call Verify.
func ParseDocument(b []byte) (*Document, error) {
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("parse document: %w: %d bytes, at most %d", ErrTooLarge, len(b), MaxDocumentSize)
	}
	var d Document
	if err := d.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("parse document: %w", err)
	}
	if err := d.Request().Validate(); err != nil {
		return nil, fmt.Errorf("parse document: %w: %w", ErrDocument, err)
	}
	for _, u := range []struct{ name, url string }{{"requestUrl", d.RequestURL}, {"broadcastUrl", d.BroadcastURL}} {
		if err := checkURL(u.url); err != nil {
			return nil, fmt.Errorf("parse document: %w: %s: %w", ErrDocument, u.name, err)
		}
	}
	if !validStatus(d.Status) {
		return nil, fmt.Errorf("parse document: %w: status %q is not a short lowercase word", ErrDocument, clip(d.Status))
	}
	if d.PaidTx != "" {
		if b, err := hexutil.Decode(d.PaidTx); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("parse document: %w: paidTx %q is not 0x and 64 hex digits", ErrDocument, clip(d.PaidTx))
		}
	}
	return &d, nil
}

// validStatus accepts an empty status or up to 32 of [a-z_].
func validStatus(s string) bool {
	if len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '_' && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// parseFiat reads the fiat price: a known currency, amounts with exactly
// its minor digits, the rate as Price writes it, an RFC 3339 rate time.
// The rules between them are Validate's.
func parseFiat(w *wireFiat) (*Fiat, error) {
	c, err := fiat.Lookup(w.Currency)
	if err != nil {
		return nil, err
	}
	f := &Fiat{Rate: fiat.Rate{Currency: c.Code, Source: w.RateSource}}
	if f.Amount, err = parseMinor(c, w.Amount); err != nil {
		return nil, fmt.Errorf("amount: %w", err)
	}
	if w.Tip != "" {
		if f.Tip, err = parseMinor(c, w.Tip); err != nil {
			return nil, fmt.Errorf("tip: %w", err)
		}
	}
	if f.Rate.Answer, f.Rate.Decimals, err = fiat.ParsePrice(w.Rate); err != nil {
		return nil, err
	}
	if f.Rate.At, err = parseTime(w.RateAt); err != nil {
		return nil, fmt.Errorf("rateAt: %w", err)
	}
	return f, nil
}

// parseMinor reads an amount written by Currency.Format, in that one form.
func parseMinor(c fiat.Currency, s string) (*big.Int, error) {
	m, err := c.Parse(s)
	if err != nil {
		return nil, err
	}
	if c.Format(m) != s {
		return nil, fmt.Errorf("%q is not written with exactly %d decimals", clip(s), c.Minor)
	}
	return m, nil
}

// parseAddress accepts 0x and 40 hex digits, either all lowercase or with a
// valid EIP-55 checksum (a wrong checksum usually means a typo).
func parseAddress(s string) (common.Address, error) {
	if !strings.HasPrefix(s, "0x") || !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%q is not 0x and 40 hex digits", clip(s))
	}
	a := common.HexToAddress(s)
	if s != a.Hex() && s != strings.ToLower(a.Hex()) {
		return common.Address{}, fmt.Errorf("%q has a wrong EIP-55 checksum", s)
	}
	return a, nil
}

// parseUnits accepts a canonical non-negative decimal integer below 2^256.
func parseUnits(s string) (*big.Int, error) {
	if s == "" || len(s) > 78 || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return nil, fmt.Errorf("%q is not a decimal integer of base units", clip(s))
	}
	u, _ := new(big.Int).SetString(s, 10)
	if u.BitLen() > 256 {
		return nil, fmt.Errorf("%s is more than 2^256-1", s)
	}
	return u, nil
}

// parseTime accepts RFC 3339 in UTC ("Z") and whole seconds, as written.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.UTC().Format(time.RFC3339) != s {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 UTC time in whole seconds like 2025-01-31T12:00:00Z", clip(s))
	}
	return t.UTC(), nil
}

// parseSignature accepts 0x and 130 hex digits.
func parseSignature(s string) ([]byte, error) {
	b, err := hexutil.Decode(s)
	if err != nil || len(b) != 65 {
		return nil, fmt.Errorf("%q is not 0x and 130 hex digits", clip(s))
	}
	return b, nil
}
