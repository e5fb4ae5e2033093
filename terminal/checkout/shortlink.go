package checkout

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"showpos/terminal/check"
	"showpos/terminal/request"
	"showpos/terminal/store"
)

// ShortPath is where a request's short link lives under public_url:
// public_url + ShortPath + its ShortCode. Upper case, like the code, so
// that a short link whose public_url has no path is all QR alphanumeric
// characters (0-9, A-Z, $%*+-./: and space), which a QR code packs in
// 5.5 bits a character instead of 8: "HTTP://192.168.1.20:8080/R/"
// and a code, 35 characters, is a version-2 code (25 modules) at level
// Medium, which a 64-pixel OLED shows at two pixels a module.
const ShortPath = "/R/"

// ShortCodeLen is the length of a short code: 8 characters of Crockford's
// base32, 40 random bits of the request id (shortPart).
//
// Why 40 bits: the code needs to tell apart only the requests that can be
// paid at the same moment (pending, not expired), not every request ever
// stored. With P of them, a new request's code is one of theirs with
// probability P/2^40: 10^-9 with a thousand payable at once, far more than
// a till ever has. RequestByCode never guesses: a code that matches two
// payable requests answers ErrAmbiguousCode (the payer pays another way:
// the full link, NFC), never one of them.
const ShortCodeLen = 8

// shortCodeHex is how many hex digits of the id a short code stands for.
const shortCodeHex = ShortCodeLen * 5 / 4

// crockford is Crockford's base32 alphabet (no I, L, O, U: a code read
// aloud or typed off a receipt has no look-alikes), upper case, unpadded.
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// ErrAmbiguousCode is RequestByCode's answer for a short code that
// matches more than one payable request.
var ErrAmbiguousCode = errors.New("short code matches more than one payable request")

// ShortCode is the short code of the request with that id: shortPart in
// Crockford's base32, e.g. "008J4CT4" for an id starting 0011223344 (one
// of 128 random bits). "" for an id that is not at least 10 hex digits
// (request.New makes 32).
func ShortCode(id string) string {
	b, err := hex.DecodeString(shortPart(id))
	if err != nil || len(b) != shortCodeHex/2 {
		return ""
	}
	return crockford.EncodeToString(b)
}

// shortPart is the 10 hex digits of id a short code stands for: random
// ones. A UUIDv7 id's (request.TimeOrdered: every id request.New makes)
// are its last 10, as its first are the time it was made, shared by the
// requests of a quarter second; an older id's, 128 random bits, its first
// 10, the code it was shown with (but about one in 3,200, which looks
// like a UUIDv7: request.TimeOrdered). "" for an id shorter than 10.
func shortPart(id string) string {
	switch {
	case len(id) < shortCodeHex:
		return ""
	case request.TimeOrdered(id):
		return id[len(id)-shortCodeHex:]
	}
	return id[:shortCodeHex]
}

// codeHex is the hex digits (lower-case, as request ids are) that code
// stands for; ok is false for anything that is not a short code. Case is
// ignored, and O, I and L read as 0, 1 and 1, as Crockford's base32 asks.
func codeHex(code string) (string, bool) {
	if len(code) != ShortCodeLen {
		return "", false
	}
	code = strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(code))
	b, err := crockford.DecodeString(code)
	if err != nil || len(b) != shortCodeHex/2 {
		return "", false
	}
	return hex.EncodeToString(b), true
}

// ShortLink is doc's short link: its public_url (read off its request
// URL) + ShortPath + ShortCode, with the scheme and host upper-cased
// (they are case-insensitive) when public_url has no path, so the whole
// link packs as QR alphanumeric characters. "" when doc's request URL is
// not the terminal's own (public_url + RequestPath + "?id=" + id).
func ShortLink(doc *request.Document) string {
	if doc == nil {
		return ""
	}
	base, ok := strings.CutSuffix(doc.RequestURL, RequestPath+"?id="+doc.ID)
	code := ShortCode(doc.ID)
	if !ok || code == "" {
		return ""
	}
	return shortLink(base, code)
}

func shortLink(publicURL, code string) string {
	if u, err := url.Parse(publicURL); err == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.User == nil {
		return strings.ToUpper(u.Scheme+"://"+u.Host) + ShortPath + code
	}
	return strings.TrimRight(publicURL, "/") + ShortPath + code
}

// RequestByCode returns the payable request (pending, not expired) whose
// short code is code, with its status as Request gives it. A code that is
// malformed, matches no request, or only requests that can no longer be
// paid (paid, cancelled, expired) is a *check.Refusal unknown_request: a
// short link lives as long as its request can be paid (the payer page,
// reached through it, keeps the full id). Two payable matches are
// ErrAmbiguousCode. It reads the ids of the requests payable now
// (store.PendingRequests): O(P) in them, whatever the store holds.
func (s *Service) RequestByCode(code string) (*request.Document, error) {
	want, ok := codeHex(code)
	if !ok {
		return nil, check.Refuse(check.CodeUnknownRequest, "%q is not a short code: %d characters of 0-9 and A-Z", clipCode(code), ShortCodeLen)
	}
	now := s.clock.Now()
	recs, err := s.store.PendingRequests(now, func(id string) bool { return shortPart(id) == want }, 2)
	if err != nil {
		return nil, fmt.Errorf("short code %s: %w", code, err)
	}
	var found []store.Request
	for _, r := range recs {
		if r.StatusAt(now) == store.RequestPending {
			found = append(found, r)
		}
	}
	switch {
	case len(found) > 1:
		return nil, fmt.Errorf("short code %s: %w", code, ErrAmbiguousCode)
	case len(found) == 0:
		return nil, check.Refuse(check.CodeUnknownRequest, "no payment request that can still be paid has the short code %s", strings.ToUpper(code))
	}
	return s.document(found[0])
}

// clipCode shortens what a client sent for an error message.
func clipCode(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
