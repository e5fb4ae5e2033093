package request

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
)

// Limits on what a request may carry.
const (
	MaxMemoLength       = 140                // bytes of UTF-8
	MaxTerminalIDLength = 64                 // bytes of UTF-8
	MaxTTL              = 7 * 24 * time.Hour // a sanity bound, not a policy
	// MaxChainID keeps chain ids exact in every JSON reader (JavaScript numbers
	// are exact only up to 2^53-1). No public chain is above it.
	MaxChainID = 1<<53 - 1
)

// earliestClock is the earliest Now that New believes, 2024-01-01T00:00:00Z
// in Unix seconds: a board without a real-time clock boots in 1970 and would
// sign requests that expired decades ago.
const earliestClock = 1704067200

// Request is one payment request: what the terminal asks a payer to pay, and
// what it signs.
type Request struct {
	ID         string         // a UUIDv7 (see New), lowercase hex (32 chars)
	TerminalID string         // which terminal asks
	Merchant   common.Address // who is paid
	ChainID    uint64         // on which chain
	Asset      asset.Asset    // in what
	Amount     *big.Int       // base units, > 0
	Memo       string         // ≤ MaxMemoLength bytes, shown to the payer
	CreatedAt  time.Time      // UTC, whole seconds
	ExpiresAt  time.Time      // UTC, whole seconds, after CreatedAt
	// Tip is the tip part of Amount in base units; nil when none.
	Tip *big.Int
	// Fiat is the price in the shop's currency the amount was converted
	// from; nil when the amount was keyed in the asset.
	Fiat *Fiat
	// Network is the name of the chain ChainID is in the terminal's config
	// (display only, not signed; "" in a request made before networks).
	Network string
	// Also are the other networks the request may be paid on, each with
	// the asset's token there (see Option); signed. Empty: ChainID only,
	// and the request is signed exactly as before networks existed.
	Also []Option
}

// Params is what New needs to make a Request.
type Params struct {
	TerminalID string
	Merchant   common.Address
	ChainID    uint64
	Asset      asset.Asset
	Amount     *big.Int // base units; copied
	Memo       string
	Now        time.Time     // from the terminal's clock; truncated to whole seconds
	TTL        time.Duration // how long the request is payable; truncated to whole seconds
	Tip        *big.Int      // the tip part of Amount, base units; nil or 0: none; copied
	Fiat       *Fiat         // the fiat price, when keyed in the shop's currency; copied
	Network    string        // ChainID's name in the config; display only
	Also       []Option      // the other networks it may be paid on; copied
}

// New checks p and makes a request with a fresh id read from random (nil means
// crypto/rand.Reader). Errors wrap the sentinel of the first field refused.
//
// The id is a UUIDv7 (RFC 9562, section 5.7) written as 32 lowercase hex
// digits: p.Now's Unix milliseconds in its first 48 bits, then the version
// and variant bits around 74 random ones. Ids made later sort later, so the
// store, which keys requests by id, adds each near the end of its B+tree
// and fills its pages (wholly random ids left them two-thirds full, a third
// of the store's requests bucket); 74 random bits still make an id that
// cannot be guessed, and the time it gives away is in the request already.
func New(p Params, random io.Reader) (*Request, error) {
	if p.Now.Unix() < earliestClock {
		return nil, fmt.Errorf("new request: %w: the terminal's clock says %s; wait for NTP or set the clock", ErrClock, p.Now.UTC().Format(time.RFC3339))
	}
	ttl := p.TTL.Truncate(time.Second)
	if ttl < time.Second || ttl > MaxTTL {
		return nil, fmt.Errorf("new request: %w: %s, want 1s to %s", ErrTTL, p.TTL, MaxTTL)
	}
	if random == nil {
		random = rand.Reader
	}
	id, err := uuid7(p.Now, random)
	if err != nil {
		return nil, fmt.Errorf("new request: %w: %w", ErrRandom, err)
	}
	created := p.Now.UTC().Truncate(time.Second)
	r := &Request{
		ID:         hex.EncodeToString(id[:]),
		TerminalID: p.TerminalID,
		Merchant:   p.Merchant,
		ChainID:    p.ChainID,
		Asset:      p.Asset,
		Memo:       p.Memo,
		CreatedAt:  created,
		ExpiresAt:  created.Add(ttl),
		Network:    p.Network,
		Also:       cloneOptions(p.Also),
	}
	if p.Amount != nil {
		r.Amount = new(big.Int).Set(p.Amount)
	}
	if p.Tip != nil && p.Tip.Sign() != 0 {
		r.Tip = new(big.Int).Set(p.Tip)
	}
	r.Fiat = cloneFiat(p.Fiat)
	if r.Fiat != nil && r.Fiat.Tip != nil && r.Fiat.Tip.Sign() == 0 {
		r.Fiat.Tip = nil
	}
	if r.Fiat != nil {
		r.Fiat.Rate.At = r.Fiat.Rate.At.UTC().Truncate(time.Second)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	return r, nil
}

// Validate checks every rule a request obeys; New, Sign, NewDocument and
// ParseDocument call it. Errors wrap the sentinel of the first field refused.
func (r *Request) Validate() error {
	if !validID(r.ID) {
		return fmt.Errorf("%w: %q is not 32 lowercase hex digits", ErrID, clip(r.ID))
	}
	if err := checkText(r.TerminalID, MaxTerminalIDLength); err != nil {
		return fmt.Errorf("%w: %w", ErrTerminalID, err)
	}
	if r.TerminalID == "" {
		return fmt.Errorf("%w: empty; set the terminal id in the configuration", ErrTerminalID)
	}
	if r.Merchant == (common.Address{}) {
		return fmt.Errorf("%w: the zero address would burn the payment; set the merchant address in the configuration", ErrMerchant)
	}
	if r.ChainID == 0 || r.ChainID > MaxChainID {
		return fmt.Errorf("%w: %d, want 1 to %d", ErrChainID, r.ChainID, uint64(MaxChainID))
	}
	if err := r.validateOptions(); err != nil {
		return err
	}
	if err := r.Asset.Validate(); err != nil {
		return err
	}
	switch {
	case r.Amount == nil:
		return fmt.Errorf("%w: missing", ErrAmount)
	case r.Amount.Sign() <= 0:
		return fmt.Errorf("%w: %s base units; a payment request must ask for more than zero", ErrAmount, r.Amount)
	case r.Amount.BitLen() > 256:
		return fmt.Errorf("%w: more than 2^256-1 base units", ErrAmount)
	}
	if err := checkText(r.Memo, MaxMemoLength); err != nil {
		return fmt.Errorf("%w: %w", ErrMemo, err)
	}
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"createdAt", r.CreatedAt}, {"expiresAt", r.ExpiresAt}} {
		if t.t.Location() != time.UTC || !t.t.Equal(t.t.Truncate(time.Second)) || t.t.Unix() < 0 {
			return fmt.Errorf("%w: %s %s is not a UTC time in whole seconds", ErrTime, t.name, t.t)
		}
	}
	if !r.ExpiresAt.After(r.CreatedAt) {
		return fmt.Errorf("%w: expires %s, not after created %s", ErrTime, r.ExpiresAt.Format(time.RFC3339), r.CreatedAt.Format(time.RFC3339))
	}
	return r.validatePrice()
}

// uuid7 makes a UUIDv7 (RFC 9562, section 5.7) for the time now: 48 bits
// of Unix milliseconds, the version (7), 12 random bits, the variant (10),
// 62 random bits.
func uuid7(now time.Time, random io.Reader) ([16]byte, error) {
	var id [16]byte
	if _, err := io.ReadFull(random, id[6:]); err != nil {
		return id, err
	}
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	id[6] = 0x70 | id[6]&0x0f
	id[8] = 0x80 | id[8]&0x3f
	return id, nil
}

// TimeOrdered reports whether id is one New makes: a UUIDv7's version and
// variant digits, and in its first 12 hex digits a time New would take,
// from earliestClock to the year 2200. Its first 12 digits are then the
// millisecond it was made, shared by the requests of that millisecond,
// and its last 15 are random. An id made before ids were UUIDv7s is 128
// random bits: one in 64 has those digits, and about one in 3,200 a time
// in that span too.
func TimeOrdered(id string) bool {
	if !validID(id) || id[12] != '7' || strings.IndexByte("89ab", id[16]) < 0 {
		return false
	}
	ms, err := strconv.ParseUint(id[:12], 16, 64)
	return err == nil && ms >= earliestClock*1000 && ms < latestIDTime
}

// latestIDTime is the end of the span of times TimeOrdered takes in an
// id: 2200-01-01, Unix milliseconds.
const latestIDTime = 7258118400000

// validID reports whether s is 32 lowercase hex digits.
func validID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkText enforces the rules for text shown to a payer: at most max bytes of
// valid UTF-8, no control characters (C0, DEL, C1) and no bidirectional
// formatting characters, which could make the memo display as something it
// does not say.
func checkText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%d bytes, at most %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	for i, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return fmt.Errorf("control character %U at byte %d; use plain text on one line", r, i)
		}
	}
	return nil
}

// isBidiControl reports the characters that reorder displayed text.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F ||
		0x202A <= r && r <= 0x202E || 0x2066 <= r && r <= 0x2069
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
