package fleet

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/strictjson"
)

// CertificateKind is the "kind" member of every certificate payload. The
// fleet key signs bundles too: a bundle payload has no "kind" and refuses
// unknown members, and a certificate needs this kind, so neither can be
// passed off as the other.
const CertificateKind = "showpos-terminal-certificate/1"

// MaxCertificate bounds a certificate, envelope included.
const MaxCertificate = 4 << 10

// ErrCertificate is wrapped by every refusal of OpenCertificate and
// Certificate.Check.
var ErrCertificate = errors.New("terminal certificate refused")

// Certificate is the fleet's word that a terminal's request-signing key is
// this terminal's, paying this merchant: what a payer checks to trust a
// request's signer without pinning each terminal. It travels as a bundle
// does, {"payload":"<base64>","signature":"<base64 ed25519 over the payload
// bytes>"}, the payload a JSON object, member names exact:
//
//	{"kind":"showpos-terminal-certificate/1","terminal":"till-01",
//	 "signer":"0x…","merchant":"0x…","merchantName":"Night Cafe",
//	 "expires":"2027-03-01T00:00:00Z","fleetKey":"<64 hex digits>"}
//
// merchantName may be absent. fleetKey names the key that signed it, so a
// verifier knows which one to check with; a payer trusts the certificate
// only if that is a fleet key it already knows for the merchant.
type Certificate struct {
	Terminal     string
	Signer       common.Address
	Merchant     common.Address
	MerchantName string
	Expires      time.Time
	FleetKey     ed25519.PublicKey
}

type wireCertificate struct {
	Kind         string `json:"kind"`
	Terminal     string `json:"terminal"`
	Signer       string `json:"signer"`
	Merchant     string `json:"merchant"`
	MerchantName string `json:"merchantName,omitempty"`
	Expires      string `json:"expires"`
	FleetKey     string `json:"fleetKey"`
}

// Certify signs c with priv (c.FleetKey is set to priv's public half) and
// returns the certificate JSON.
func Certify(priv ed25519.PrivateKey, c Certificate) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("certify: private key of %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	switch {
	case strings.TrimSpace(c.Terminal) == "":
		return nil, errors.New("certify: the terminal id is required")
	case c.Signer == (common.Address{}) || c.Merchant == (common.Address{}):
		return nil, errors.New("certify: the signer and merchant addresses are required")
	case c.Expires.IsZero():
		return nil, errors.New("certify: the expiry is required")
	}
	payload, err := json.Marshal(wireCertificate{
		Kind: CertificateKind, Terminal: c.Terminal, Signer: c.Signer.Hex(), Merchant: c.Merchant.Hex(),
		MerchantName: c.MerchantName, Expires: c.Expires.UTC().Format(time.RFC3339),
		FleetKey: hex.EncodeToString(priv.Public().(ed25519.PublicKey)),
	})
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	return json.Marshal(envelope{Payload: payload, Signature: ed25519.Sign(priv, payload)})
}

// OpenCertificate checks raw's format and its signature against pub, the
// fleet key the caller trusts, and returns what it says. It does not check
// expiry or what it names: Check does.
func OpenCertificate(raw []byte, pub ed25519.PublicKey) (Certificate, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Certificate{}, fmt.Errorf("%w: no fleet key to check it with", ErrCertificate)
	}
	if len(raw) == 0 || len(raw) > MaxCertificate {
		return Certificate{}, fmt.Errorf("%w: %d bytes, want 1 to %d", ErrCertificate, len(raw), MaxCertificate)
	}
	var env envelope
	if err := strictjson.Decode(raw, &env); err != nil {
		return Certificate{}, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	if !ed25519.Verify(pub, env.Payload, env.Signature) {
		return Certificate{}, fmt.Errorf("%w: not signed by fleet key %s", ErrCertificate, hex.EncodeToString(pub))
	}
	var w wireCertificate
	if err := strictjson.Decode(env.Payload, &w); err != nil {
		return Certificate{}, fmt.Errorf("%w: payload: %w", ErrCertificate, err)
	}
	if w.Kind != CertificateKind {
		return Certificate{}, fmt.Errorf("%w: kind %q, want %q", ErrCertificate, w.Kind, CertificateKind)
	}
	c := Certificate{Terminal: w.Terminal, MerchantName: w.MerchantName}
	var err error
	if c.Signer, err = address(w.Signer); err == nil {
		c.Merchant, err = address(w.Merchant)
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	if c.Expires, err = time.Parse(time.RFC3339, w.Expires); err != nil {
		return Certificate{}, fmt.Errorf("%w: expires: %w", ErrCertificate, err)
	}
	key, err := hex.DecodeString(w.FleetKey)
	if err != nil || !bytes.Equal(key, pub) {
		return Certificate{}, fmt.Errorf("%w: fleetKey %q is not the key that signed it", ErrCertificate, w.FleetKey)
	}
	c.FleetKey = pub
	return c, nil
}

func address(s string) (common.Address, error) {
	if !common.IsHexAddress(s) || !strings.HasPrefix(s, "0x") {
		return common.Address{}, fmt.Errorf("%q is not an address", s)
	}
	return common.HexToAddress(s), nil
}

// Check refuses a certificate that does not vouch for a request of
// terminal, signed by signer, paying merchant, at now.
func (c Certificate) Check(terminal string, signer, merchant common.Address, now time.Time) error {
	switch {
	case c.Terminal != terminal:
		return fmt.Errorf("%w: it is for terminal %q, the request is from %q", ErrCertificate, c.Terminal, terminal)
	case c.Signer != signer:
		return fmt.Errorf("%w: it vouches for signer %s, the request is signed by %s", ErrCertificate, c.Signer.Hex(), signer.Hex())
	case c.Merchant != merchant:
		return fmt.Errorf("%w: it names merchant %s, the request pays %s", ErrCertificate, c.Merchant.Hex(), merchant.Hex())
	case !now.Before(c.Expires):
		return fmt.Errorf("%w: it expired at %s", ErrCertificate, c.Expires.Format(time.RFC3339))
	}
	return nil
}

// CertificateKey returns the fleet key a certificate names, unverified: for
// a payer with no fleet key pinned, to open it with (which proves only that
// the certificate is whole) and to show which fleet it claims.
func CertificateKey(raw []byte) (ed25519.PublicKey, error) {
	var env envelope
	if err := strictjson.Decode(raw, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	var w struct {
		FleetKey string `json:"fleetKey"`
	}
	if err := json.Unmarshal(env.Payload, &w); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrCertificate, err)
	}
	key, err := hex.DecodeString(w.FleetKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: fleetKey %q is not an ed25519 key", ErrCertificate, w.FleetKey)
	}
	return key, nil
}
