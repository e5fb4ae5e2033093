package fleet_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/fleet"
)

func certKeys(t *testing.T, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), 32)))
}

// A certificate opens under the fleet key that made it and no other; a
// changed byte, a bundle signed by the same key, or a payload without the
// certificate's kind is refused; Check refuses one that does not name the
// request's terminal, signer and merchant, or has expired.
func TestCertificate(t *testing.T) {
	priv, other := certKeys(t, 0), certKeys(t, 1)
	pub := priv.Public().(ed25519.PublicKey)
	signer, merchant := common.HexToAddress("0x00000000000000000000000000000000000000a1"), common.HexToAddress("0x00000000000000000000000000000000000bEEF1")
	exp := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	raw, err := fleet.Certify(priv, fleet.Certificate{Terminal: "till-01", Signer: signer, Merchant: merchant, MerchantName: "Night <Cafe>", Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	c, err := fleet.OpenCertificate(raw, pub)
	if err != nil {
		t.Fatal(err)
	}
	if c.Terminal != "till-01" || c.Signer != signer || c.Merchant != merchant || c.MerchantName != "Night <Cafe>" || !c.Expires.Equal(exp) || !c.FleetKey.Equal(pub) {
		t.Fatalf("opened %+v", c)
	}

	var env struct{ Payload, Signature []byte }
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	reseal := func(payload []byte, key ed25519.PrivateKey) []byte {
		b, _ := json.Marshal(map[string]string{
			"payload":   base64.StdEncoding.EncodeToString(payload),
			"signature": base64.StdEncoding.EncodeToString(ed25519.Sign(key, payload)),
		})
		return b
	}
	bundle, err := fleet.Sign(priv, fleet.Payload{Version: 1, Issued: exp.Add(-time.Hour), Expires: exp, Config: "[texts]\nwelcome = \"hi\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), env.Payload...)
	tampered[len(tampered)-3] ^= 1
	for _, tc := range []struct {
		name string
		raw  []byte
		key  ed25519.PublicKey
	}{
		{"another fleet's key", raw, other.Public().(ed25519.PublicKey)},
		{"a changed payload", func() []byte {
			b, _ := json.Marshal(map[string][]byte{"payload": tampered, "signature": env.Signature})
			return b
		}(), pub},
		{"a payload signed by another key", reseal(env.Payload, other), pub},
		{"a bundle of the same key", bundle, pub},
		{"no kind", reseal([]byte(strings.Replace(string(env.Payload), `"kind":"showpos-terminal-certificate/1",`, "", 1)), priv), pub},
		{"a member spelled otherwise", reseal([]byte(strings.Replace(string(env.Payload), `"signer"`, `"Signer"`, 1)), priv), pub},
		{"fleetKey not the signing key", reseal([]byte(strings.Replace(string(env.Payload), `"fleetKey":"`, `"fleetKey":"00`, 1)), priv), pub},
		{"empty", nil, pub},
	} {
		if _, err := fleet.OpenCertificate(tc.raw, tc.key); !errors.Is(err, fleet.ErrCertificate) {
			t.Errorf("%s: %v, want ErrCertificate", tc.name, err)
		}
	}

	now := exp.Add(-time.Minute)
	for _, tc := range []struct {
		name             string
		terminal         string
		signer, merchant common.Address
		now              time.Time
		ok               bool
	}{
		{"the request it vouches for", "till-01", signer, merchant, now, true},
		{"another terminal", "till-02", signer, merchant, now, false},
		{"another signer", "till-01", merchant, merchant, now, false},
		{"another merchant", "till-01", signer, signer, now, false},
		{"expired", "till-01", signer, merchant, exp, false},
	} {
		err := c.Check(tc.terminal, tc.signer, tc.merchant, tc.now)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, fleet.ErrCertificate)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
