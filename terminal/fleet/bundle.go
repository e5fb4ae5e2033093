package fleet

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"showpos/terminal/strictjson"
)

// MaxBundle is the largest bundle taken, in bytes, envelope included.
const MaxBundle = 256 << 10

// Payload is what a bundle's signature covers.
type Payload struct {
	Version uint64    `json:"version"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	Targets Targets   `json:"targets"`
	// Config is a TOML fragment setting live keys only.
	Config string `json:"config"`
}

// Targets says which terminals a bundle is for; empty means all of them.
type Targets struct {
	Terminals []string `json:"terminals,omitempty"`
	Groups    []string `json:"groups,omitempty"`
}

// Match reports whether a terminal with that id, in those groups, is a
// target.
func (t Targets) Match(id string, groups []string) bool {
	if len(t.Terminals) == 0 && len(t.Groups) == 0 {
		return true
	}
	for _, x := range t.Terminals {
		if x == id {
			return true
		}
	}
	for _, g := range t.Groups {
		for _, mine := range groups {
			if g == mine {
				return true
			}
		}
	}
	return false
}

// envelope is the bundle as sent: JSON encodes []byte as standard base64.
type envelope struct {
	Payload   []byte `json:"payload"`
	Signature []byte `json:"signature"`
}

func (p *Payload) check() error {
	switch {
	case p.Version == 0:
		return errors.New("version must be at least 1")
	case p.Issued.IsZero() || p.Expires.IsZero():
		return errors.New("issued and expires are required")
	case !p.Expires.After(p.Issued):
		return fmt.Errorf("expires %s is not after issued %s", p.Expires.Format(time.RFC3339), p.Issued.Format(time.RFC3339))
	}
	for _, list := range [][]string{p.Targets.Terminals, p.Targets.Groups} {
		for _, x := range list {
			if x == "" {
				return errors.New("empty target")
			}
		}
	}
	return nil
}

// Sign encodes p as a bundle signed with priv, in the wire format of the
// package doc.
func Sign(priv ed25519.PrivateKey, p Payload) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("sign bundle: private key of %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("sign bundle v%d: %w", p.Version, err)
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("sign bundle v%d: %w", p.Version, err)
	}
	raw, err := json.Marshal(envelope{Payload: payload, Signature: ed25519.Sign(priv, payload)})
	if err != nil {
		return nil, fmt.Errorf("sign bundle v%d: %w", p.Version, err)
	}
	if len(raw) > MaxBundle {
		return nil, fmt.Errorf("sign bundle v%d: %d bytes, at most %d", p.Version, len(raw), MaxBundle)
	}
	return raw, nil
}

// Open checks raw's size, format and signature against pub and returns its
// payload. It does not look at targets, expiry, version or config: the
// Manager does. Errors are *Refusal: no_fleet_key (pub is not a key),
// bad_bundle or bad_bundle_signature.
func Open(raw []byte, pub ed25519.PublicKey) (Payload, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Payload{}, refuse(CodeNoFleetKey, 0, "this terminal pins no fleet key ([fleet] public_key)")
	}
	env, err := readEnvelope(raw)
	if err != nil {
		return Payload{}, err
	}
	if len(env.Signature) != ed25519.SignatureSize || !ed25519.Verify(pub, env.Payload, env.Signature) {
		return Payload{}, refuse(CodeBadSignature, 0, "signature does not verify with the pinned fleet key")
	}
	return readPayload(env.Payload)
}

// Inspect reads raw as Open does, size, envelope and payload, but checks
// no signature: it is for a sender that holds no fleet key (posctl fleet
// publish) to refuse, before sending, what no terminal could take. What it
// returns is unverified: never apply it. Errors are *Refusal, bad_bundle.
func Inspect(raw []byte) (Payload, error) {
	env, err := readEnvelope(raw)
	if err != nil {
		return Payload{}, err
	}
	if len(env.Signature) != ed25519.SignatureSize {
		return Payload{}, refuse(CodeBadBundle, 0, "bundle: signature of %d bytes, want %d", len(env.Signature), ed25519.SignatureSize)
	}
	return readPayload(env.Payload)
}

// readEnvelope checks raw's size and reads its envelope.
func readEnvelope(raw []byte) (envelope, error) {
	switch {
	case len(raw) == 0:
		return envelope{}, refuse(CodeBadBundle, 0, "empty bundle")
	case len(raw) > MaxBundle:
		return envelope{}, refuse(CodeBadBundle, 0, "bundle is larger than %d bytes", MaxBundle)
	}
	var env envelope
	if err := strictjson.Decode(raw, &env); err != nil {
		return envelope{}, refuse(CodeBadBundle, 0, "bundle: %v", err)
	}
	if len(env.Payload) == 0 || len(env.Signature) == 0 {
		return envelope{}, refuse(CodeBadBundle, 0, "bundle: payload and signature are required")
	}
	return env, nil
}

// readPayload reads and checks the payload's bytes.
func readPayload(b []byte) (Payload, error) {
	var p Payload
	if err := strictjson.Decode(b, &p); err != nil {
		return Payload{}, refuse(CodeBadBundle, 0, "payload: %v", err)
	}
	if err := p.check(); err != nil {
		return Payload{}, refuse(CodeBadBundle, p.Version, "payload: %v", err)
	}
	return p, nil
}
