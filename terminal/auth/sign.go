package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The request headers of the scheme.
const (
	HeaderClient    = "X-Showpos-Client"
	HeaderTimestamp = "X-Showpos-Timestamp"
	HeaderNonce     = "X-Showpos-Nonce"
	HeaderSignature = "X-Showpos-Signature"
)

// Nonce length limits, in characters of [A-Za-z0-9_-].
const (
	MinNonce = 16
	MaxNonce = 64
)

// StringToSign returns the text whose HMAC-SHA256 is the signature:
//
//	METHOD "\n" TARGET "\n" TIMESTAMP "\n" NONCE "\n" hex(SHA-256(body))
//
// METHOD is the request method as sent (e.g. "POST"); TARGET is the
// request target of the request line, the path as escaped on the wire
// followed, if the URL has one, by "?" and the raw query, byte for byte;
// TIMESTAMP is decimal Unix seconds without sign or leading zeros; the
// body hash is lowercase hex (of the empty string for no body). There is
// no trailing newline.
func StringToSign(method, target string, timestamp int64, nonce string, body []byte) string {
	sum := sha256.Sum256(body)
	return strings.Join([]string{method, target, strconv.FormatInt(timestamp, 10), nonce, hex.EncodeToString(sum[:])}, "\n")
}

// Signature returns hex(HMAC-SHA256(secret, stringToSign)), lowercase.
func Signature(secret []byte, stringToSign string) string {
	return hex.EncodeToString(mac(secret, stringToSign))
}

func mac(secret []byte, stringToSign string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(stringToSign))
	return m.Sum(nil)
}

// Sign sets the four authentication headers on req, an outgoing request
// whose body is body, for the client number holding secret, at now with
// nonce. The nonce must be fresh for every request: 16 to 64 characters of
// [A-Za-z0-9_-] (NewNonce makes one). The target signed is
// req.URL.RequestURI(), which is what net/http sends on the request line.
func Sign(req *http.Request, body []byte, number string, secret []byte, now time.Time, nonce string) {
	ts := now.Unix()
	sts := StringToSign(req.Method, req.URL.RequestURI(), ts, nonce, body)
	req.Header.Set(HeaderClient, number)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, Signature(secret, sts))
}

// validNonce reports whether n is 16 to 64 characters of [A-Za-z0-9_-].
func validNonce(n string) bool {
	if len(n) < MinNonce || len(n) > MaxNonce {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewNonce returns a fresh random nonce: 22 characters of base64url (128
// random bits).
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
