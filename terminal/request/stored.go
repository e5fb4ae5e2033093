package request

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/fiat"
)

// CompactVersion is the first byte of the compact stored form (see
// Document.Compact). A JSON document begins with '{' (0x7b), so a stored
// value tells which form it is by its first byte.
//
// Version 1 stores a request without tip or fiat price; version 2
// (CompactPricedVersion) one with either; version 3
// (CompactNetworksVersion) one on several networks, priced or not.
// Compact writes the lowest version that holds the request, so requests
// stored before a version existed and those stored since without what it
// adds are the same bytes.
const CompactVersion byte = 0x01

// CompactPricedVersion is the first byte of the compact form of a request
// with a tip or a fiat price.
const CompactPricedVersion byte = 0x02

// CompactNetworksVersion is the first byte of the compact form of a request
// payable on more than one network (Request.Also not empty).
const CompactNetworksVersion byte = 0x03

// maxUnixTime is 9999-12-31T23:59:59Z, the last second RFC 3339 (and so the
// JSON form) can write.
const maxUnixTime = 253402300799

// Flag bits of the compact form's second byte.
const (
	compactToken    = 1 << 0 // an ERC-20 token address follows the decimals
	compactIDSuffix = 1 << 1 // the request URL ends with the id, which is left out
	// compactShared (any version): the terminal id, merchant, signer and
	// both URLs are left out, kept once in the shared part (CompactParts).
	// It comes with compactIDSuffix.
	compactShared    = 1 << 3
	compactKnownBits = compactToken | compactIDSuffix | compactShared
	// compactFiat (versions 2 and 3): the fiat price follows the tip.
	compactFiat = 1 << 2
)

// Compact returns d's compact stored form: what the terminal keeps of a
// signed request, from which ParseCompact rebuilds a Document whose JSON is
// byte for byte the JSON of d (Status and PaidTx aside: they are not stored,
// the store keeps them). It stores the fields, the signature, the signer and
// the two URLs, and nothing derivable: the typed data, the URI and the
// display amount are rebuilt by the code that built them first. A typical
// request takes about 260 bytes; the JSON document about 1.9 KB.
//
// The form, version 1 (integers are unsigned LEB128 varints in their
// shortest encoding; a string is a varint byte length and the bytes):
//
//	0x01                 CompactVersion
//	flags                1 byte: bit 0 token present, bit 1 request URL ends with the id,
//	                     bit 3 the shared part is left out (any version; with bit 1; see
//	                     CompactParts): then terminalId, merchant, signer, request URL
//	                     and broadcast URL are not written; others 0
//	id                   16 bytes (the 32 hex digits)
//	terminalId           string
//	merchant             20 bytes
//	chainId              varint
//	asset symbol         string
//	asset decimals       1 byte
//	asset token          20 bytes, only if flag bit 0 (never the zero address)
//	amount               string: big-endian base units, no leading zero byte
//	memo                 string
//	createdAt            varint, Unix seconds
//	expiresAt-createdAt  varint, seconds
//	signature            65 bytes r||s||v
//	signer               20 bytes
//	request URL          string, without the trailing id if flag bit 1
//	broadcast URL        varint n, then string: the broadcast URL is the first
//	                     n bytes of the (whole) request URL and this string,
//	                     n being the longest prefix the two share
//
// Version 2 (first byte 0x02) is version 1 with flag bit 2 meaning a fiat
// price, and after the broadcast URL:
//
//	tip                  string: big-endian base units, empty for no tip
//	and if flag bit 2:
//	fiat currency        string (ISO 4217)
//	fiat amount          string: big-endian minor units
//	fiat tip             string: big-endian minor units, empty for no tip
//	rate answer          string: big-endian
//	rate decimals        1 byte
//	rate source          string
//	rate time            varint, Unix seconds
//
// A request with neither tip nor fiat price is written as version 1 only.
//
// Version 3 (first byte 0x03) is version 2 for a request on several
// networks, priced or not (tip empty and flag bit 2 clear when not), and
// after the tip and fiat price:
//
//	network              string: the primary option's network name
//	options              varint n, 1 to MaxOptions-1: the other networks
//	and n times:
//	  network            string: the option's name
//	  chainId            varint
//	  token              string: 20 bytes, or empty for the native coin
//
// A request on one network is written as version 1 or 2 only, and without
// its network's name (its document names none; see Document.Network): a
// second network costs about 30 bytes.
//
// Each document has exactly one encoding. Compact refuses a document it
// could not rebuild exactly: fields that break the rules New enforces (their
// sentinel errors), times after 9999 (ErrTime), URLs other than absolute
// http(s) URLs of at most MaxURLLength bytes of UTF-8 (ErrURL), a signature
// not of the form Sign makes (ErrSignature),
// and a URI, display amount or typed data other than the fields give
// (ErrMismatch), offers other than the options give (ErrMismatch, X402
// aside: the till's, like Status), and a network named on a one-network
// document (ErrMismatch). It does not check that Signer made Signature:
// Verify does.
func (d *Document) Compact() ([]byte, error) {
	r := d.Request()
	if err := checkStorable(r, d.Signature, d.RequestURL, d.BroadcastURL); err != nil {
		return nil, fmt.Errorf("compact document %s: %w", clip(d.ID), err)
	}
	if uri := r.URI(d.RequestURL); d.URI != uri {
		return nil, fmt.Errorf("compact document %s: %w: uri %q, but the fields give %q", d.ID, ErrMismatch, clip(d.URI), clip(uri))
	}
	if display := asset.FormatAmount(r.Amount, r.Asset.Decimals); d.AmountDisplay != display {
		return nil, fmt.Errorf("compact document %s: %w: amountDisplay %q, but the fields give %q", d.ID, ErrMismatch, clip(d.AmountDisplay), display)
	}
	if !r.isTypedData(d.TypedData) {
		return nil, fmt.Errorf("compact document %s: %w: typedData is not what the fields give", d.ID, ErrMismatch)
	}
	if !r.multi() && d.Network != "" {
		return nil, fmt.Errorf("compact document %s: %w: network %q named on a one-network document, whose JSON and stored form name none", d.ID, ErrMismatch, clip(d.Network))
	}
	if err := d.checkOffers(r); err != nil {
		return nil, fmt.Errorf("compact document %s: %w", d.ID, err)
	}
	return appendCompact(make([]byte, 0, 320), r, d.Signature, d.Signer, d.RequestURL, d.BroadcastURL, false), nil
}

// checkStorable checks what Compact stores and ParseCompact reads back.
func checkStorable(r *Request, sig []byte, requestURL, broadcastURL string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.ExpiresAt.Unix() > maxUnixTime {
		return fmt.Errorf("%w: expires %s, after 9999", ErrTime, r.ExpiresAt)
	}
	if err := checkURLs(requestURL, broadcastURL); err != nil {
		return err
	}
	return checkSignatureForm(sig)
}

// appendCompact appends the compact form of parts checkStorable accepted;
// shared leaves out what the shared part holds (the request URL must end
// with the id).
func appendCompact(b []byte, r *Request, sig []byte, signer common.Address, requestURL, broadcastURL string, shared bool) []byte {
	var flags byte
	if shared {
		flags |= compactShared
	}
	if !r.Asset.Native() {
		flags |= compactToken
	}
	storedURL := requestURL
	if s, ok := strings.CutSuffix(requestURL, r.ID); ok {
		flags |= compactIDSuffix
		storedURL = s
	}
	version := CompactVersion
	switch {
	case r.multi():
		version = CompactNetworksVersion
	case r.priced():
		version = CompactPricedVersion
	}
	if version != CompactVersion && r.Fiat != nil {
		flags |= compactFiat
	}
	b = append(b, version, flags)
	b, _ = hex.AppendDecode(b, []byte(r.ID)) // Validate: 32 lowercase hex digits
	if !shared {
		b = appendString(b, r.TerminalID)
		b = append(b, r.Merchant[:]...)
	}
	b = binary.AppendUvarint(b, r.ChainID)
	b = appendString(b, r.Asset.Symbol)
	b = append(b, r.Asset.Decimals)
	if flags&compactToken != 0 {
		b = append(b, r.Asset.Token[:]...)
	}
	n := (r.Amount.BitLen() + 7) / 8
	b = binary.AppendUvarint(b, uint64(n))
	b = slices.Grow(b, n)[:len(b)+n]
	r.Amount.FillBytes(b[len(b)-n:])
	b = appendString(b, r.Memo)
	b = binary.AppendUvarint(b, uint64(r.CreatedAt.Unix()))
	b = binary.AppendUvarint(b, uint64(r.ExpiresAt.Unix()-r.CreatedAt.Unix()))
	b = append(b, sig...)
	if !shared {
		b = append(b, signer[:]...)
		b = appendURLs(b, storedURL, requestURL, broadcastURL)
	}
	if version == CompactVersion {
		return b
	}
	b = appendInt(b, r.Tip)
	if f := r.Fiat; f != nil {
		b = appendString(b, f.Rate.Currency)
		b = appendInt(b, f.Amount)
		b = appendInt(b, f.Tip)
		b = appendInt(b, f.Rate.Answer)
		b = append(b, f.Rate.Decimals)
		b = appendString(b, f.Rate.Source)
		b = binary.AppendUvarint(b, uint64(f.Rate.At.Unix()))
	}
	if version == CompactPricedVersion {
		return b
	}
	b = appendString(b, r.Network)
	b = binary.AppendUvarint(b, uint64(len(r.Also)))
	for _, o := range r.Also {
		b = appendString(b, o.Network)
		b = binary.AppendUvarint(b, o.ChainID)
		if o.Token == (common.Address{}) {
			b = binary.AppendUvarint(b, 0)
		} else {
			b = appendString(b, string(o.Token[:]))
		}
	}
	return b
}

// appendURLs appends the request URL as stored (without a trailing id, if
// flagged so) and the broadcast URL as the length of the prefix it shares
// with the whole request URL and the rest.
func appendURLs(b []byte, storedURL, requestURL, broadcastURL string) []byte {
	b = appendString(b, storedURL)
	n := commonPrefix(requestURL, broadcastURL)
	b = binary.AppendUvarint(b, uint64(n))
	return appendString(b, broadcastURL[n:])
}

// appendInt appends a non-negative integer as a string of its big-endian
// bytes without leading zero bytes (nil and 0: empty).
func appendInt(b []byte, v *big.Int) []byte {
	if v == nil {
		return binary.AppendUvarint(b, 0)
	}
	n := (v.BitLen() + 7) / 8
	b = binary.AppendUvarint(b, uint64(n))
	b = slices.Grow(b, n)[:len(b)+n]
	v.FillBytes(b[len(b)-n:])
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// ParseCompact reads the compact form Compact writes and rebuilds the
// document: the same Document, with the same JSON, as the one compacted
// (Status and PaidTx empty). It is strict: anything but the one encoding
// Compact would write for a document it accepts (another version, unknown
// flags, a truncated value, trailing bytes, a varint not in its shortest
// form, an amount with a leading zero byte, fields that break the rules New
// enforces, URLs Compact would refuse, a signature not of the form Sign
// makes) is refused with an error wrapping ErrDocument, and where a
// field's rule is broken that field's sentinel too. It never panics.
//
// ParseCompact does not recover the signer (the value comes from the
// terminal's own checksummed store, and recovery costs an ecrecover): it
// rebuilds Signer as stored. Call Verify to check the signature.
func ParseCompact(b []byte) (*Document, error) {
	d, err := parseCompact(b, nil)
	if err != nil {
		return nil, fmt.Errorf("parse compact document: %w", err)
	}
	return d, nil
}

// ParseStored reads a signed request as the terminal stores it: the compact
// form (first byte CompactVersion), read by ParseCompact, or the JSON
// document that builds before the compact form stored (first byte '{'),
// read by ParseDocument, so requests stored before an upgrade stay
// readable. Each form is refused as its parser refuses it; a value that
// begins with neither byte (or is empty) is refused with ErrDocument.
func ParseStored(b []byte) (*Document, error) {
	switch {
	case len(b) > 0 && b[0] == '{':
		return ParseDocument(b)
	case len(b) > 0 && (b[0] < CompactVersion || b[0] > CompactNetworksVersion):
		return nil, fmt.Errorf("parse stored document: %w: first byte %#02x is neither a compact form version (%d to %d) nor '{'", ErrDocument, b[0], CompactVersion, CompactNetworksVersion)
	}
	return ParseCompact(b)
}

func parseCompact(b []byte, sh *Shared) (*Document, error) {
	c := compactReader{b: b}
	version := c.byte("version")
	if c.err == nil && (version < CompactVersion || version > CompactNetworksVersion) {
		return nil, fmt.Errorf("%w: version %d; this build reads versions %d to %d", ErrDocument, version, CompactVersion, CompactNetworksVersion)
	}
	known := byte(compactKnownBits)
	if version != CompactVersion {
		known |= compactFiat
	}
	flags := c.byte("flags")
	if c.err == nil && flags&^known != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#02x", ErrDocument, flags&^known)
	}
	split := flags&compactShared != 0
	switch {
	case c.err != nil:
	case split && flags&compactIDSuffix == 0:
		return nil, fmt.Errorf("%w: shared part flagged without the id suffix", ErrDocument)
	case split && sh == nil:
		return nil, fmt.Errorf("%w: %w", ErrDocument, ErrSharedMissing)
	case !split && sh != nil:
		return nil, fmt.Errorf("%w: a whole compact form given a shared part", ErrDocument)
	}
	id := hex.EncodeToString(c.fixed(16, "id"))
	r := &Request{ID: id}
	if split {
		r.TerminalID, r.Merchant = sh.TerminalID, sh.Merchant
	} else {
		r.TerminalID = c.string(MaxTerminalIDLength, "terminalId")
		r.Merchant = common.Address(c.fixed(common.AddressLength, "merchant"))
	}
	r.ChainID = c.uvarint("chainId")
	r.Asset.Symbol = c.string(asset.MaxSymbolLength, "asset symbol")
	r.Asset.Decimals = c.byte("asset decimals")
	if flags&compactToken != 0 {
		r.Asset.Token = common.Address(c.fixed(common.AddressLength, "asset token"))
		if c.err == nil && r.Asset.Native() {
			return nil, fmt.Errorf("%w: asset token flagged but the zero address", ErrDocument)
		}
	}
	amount := c.bytes(32, "amount")
	if len(amount) > 0 && amount[0] == 0 {
		return nil, fmt.Errorf("%w: amount has a leading zero byte", ErrDocument)
	}
	r.Amount = new(big.Int).SetBytes(amount)
	r.Memo = c.string(MaxMemoLength, "memo")
	created, ttl := c.uvarint("createdAt"), c.uvarint("expiresAt")
	sig := c.fixed(65, "signature")
	var (
		signer       common.Address
		requestURL   string
		shared       uint64
		rest         string
		broadcastURL string
	)
	if split {
		signer, requestURL, broadcastURL = sh.Signer, sh.RequestURLBase, sh.BroadcastURL
	} else {
		signer = common.Address(c.fixed(common.AddressLength, "signer"))
		requestURL = c.string(MaxURLLength, "request URL")
		shared = c.uvarint("broadcast URL prefix")
		rest = c.string(MaxURLLength, "broadcast URL")
	}
	if version != CompactVersion {
		r.Tip = c.int("tip")
		if flags&compactFiat != 0 {
			f := &Fiat{}
			f.Rate.Currency = c.string(3, "fiat currency")
			f.Amount = c.int("fiat amount")
			f.Tip = c.int("fiat tip")
			f.Rate.Answer = c.int("rate answer")
			f.Rate.Decimals = c.byte("rate decimals")
			f.Rate.Source = c.string(fiat.MaxSourceLength, "rate source")
			at := c.uvarint("rate time")
			if c.err == nil && at > maxUnixTime {
				return nil, fmt.Errorf("%w: rate time %d after 9999", ErrDocument, at)
			}
			f.Rate.At = time.Unix(int64(at), 0).UTC()
			r.Fiat = f
		}
		if c.err == nil && version == CompactPricedVersion && !r.priced() {
			return nil, fmt.Errorf("%w: version %d without tip or fiat price; that is version %d", ErrDocument, version, CompactVersion)
		}
	}
	if version == CompactNetworksVersion {
		c.options(r)
	}
	if c.err != nil {
		return nil, c.err
	}
	if len(c.b) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the broadcast URL", ErrDocument, len(c.b))
	}
	if created > maxUnixTime || ttl > maxUnixTime-created {
		return nil, fmt.Errorf("%w: %w: createdAt %d + %d s is after 9999", ErrDocument, ErrTime, created, ttl)
	}
	r.CreatedAt = time.Unix(int64(created), 0).UTC()
	r.ExpiresAt = time.Unix(int64(created+ttl), 0).UTC()
	if flags&compactIDSuffix != 0 {
		requestURL += id
	} else if strings.HasSuffix(requestURL, id) {
		return nil, fmt.Errorf("%w: request URL ends with the id but is not flagged so", ErrDocument)
	}
	if !split {
		var err error
		if broadcastURL, err = joinShared(requestURL, shared, rest); err != nil {
			return nil, err
		}
	}
	if err := checkStorable(r, sig, requestURL, broadcastURL); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDocument, err)
	}
	return assemble(r, r.TypedData(), sig, signer, requestURL, broadcastURL), nil
}

// joinShared rebuilds a URL stored as the length of the prefix it shares
// with base and the rest, refusing a prefix longer than base or shorter
// than the longest one (one encoding).
func joinShared(base string, n uint64, rest string) (string, error) {
	if n > uint64(len(base)) {
		return "", fmt.Errorf("%w: broadcast URL shares %d bytes with a %d-byte request URL", ErrDocument, n, len(base))
	}
	if rest != "" && n < uint64(len(base)) && rest[0] == base[n] {
		return "", fmt.Errorf("%w: broadcast URL shares more than %d bytes with the request URL", ErrDocument, n)
	}
	return base[:n] + rest, nil
}

// options reads version 3's networks into r: the primary's name and the
// other options, at least one. Validate checks chain ids and names.
func (c *compactReader) options(r *Request) {
	r.Network = c.string(MaxNetworkNameLength, "network")
	n := c.uvarint("options")
	if c.err == nil && (n == 0 || n > MaxOptions-1) {
		c.fail("options", "%d other networks, want 1 to %d (a one-network request is version %d or %d)", n, MaxOptions-1, CompactVersion, CompactPricedVersion)
	}
	for i := 0; c.err == nil && uint64(i) < n; i++ {
		o := Option{Network: c.string(MaxNetworkNameLength, "option network"), ChainID: c.uvarint("option chainId")}
		switch token := c.bytes(common.AddressLength, "option token"); {
		case c.err != nil:
		case len(token) == common.AddressLength:
			o.Token = common.Address(token)
			if o.Token == (common.Address{}) {
				c.fail("option token", "the zero address; the native coin's token is empty")
			}
		case len(token) != 0:
			c.fail("option token", "%d bytes, want 20 or none", len(token))
		}
		r.Also = append(r.Also, o)
	}
}

// int reads an integer appendInt wrote (empty: nil), refusing a leading
// zero byte.
func (c *compactReader) int(what string) *big.Int {
	b := c.bytes(32, what)
	if c.err != nil || len(b) == 0 {
		return nil
	}
	if b[0] == 0 {
		c.fail(what, "leading zero byte")
		return nil
	}
	return new(big.Int).SetBytes(b)
}

// compactReader reads the compact form front to back. After the first
// error every read returns a zero value; check err once at the end.
type compactReader struct {
	b   []byte
	err error
}

func (c *compactReader) fail(what, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: %s: %s", ErrDocument, what, fmt.Sprintf(format, args...))
	}
}

func (c *compactReader) byte(what string) byte {
	if b := c.next(1, what); b != nil {
		return b[0]
	}
	return 0
}

// fixed returns a copy of the next n bytes, or n zero bytes after an error
// (so conversions to arrays cannot panic).
func (c *compactReader) fixed(n int, what string) []byte {
	if b := c.next(n, what); b != nil {
		return slices.Clone(b)
	}
	return make([]byte, n)
}

// next returns the next n bytes, aliasing the input, or nil after an error.
func (c *compactReader) next(n int, what string) []byte {
	if c.err == nil && len(c.b) < n {
		c.fail(what, "%d bytes left, want %d", len(c.b), n)
	}
	if c.err != nil {
		return nil
	}
	b := c.b[:n:n]
	c.b = c.b[n:]
	return b
}

// uvarint reads a varint in its shortest encoding.
func (c *compactReader) uvarint(what string) uint64 {
	if c.err != nil {
		return 0
	}
	v, n := binary.Uvarint(c.b)
	switch {
	case n == 0:
		c.fail(what, "truncated varint")
		return 0
	case n < 0:
		c.fail(what, "varint overflows 64 bits")
		return 0
	case n > 1 && c.b[n-1] == 0:
		c.fail(what, "varint not in its shortest form")
		return 0
	}
	c.b = c.b[n:]
	return v
}

// bytes reads a varint length of at most max and that many bytes, aliasing
// the input; nil after an error.
func (c *compactReader) bytes(max int, what string) []byte {
	n := c.uvarint(what + " length")
	if c.err == nil && n > uint64(max) {
		c.fail(what, "%d bytes, at most %d", n, max)
	}
	if c.err != nil {
		return nil
	}
	return c.next(int(n), what)
}

func (c *compactReader) string(max int, what string) string {
	return string(c.bytes(max, what))
}
