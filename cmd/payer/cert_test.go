package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/fleet"
)

// The terminal certificate: a request certified by the pinned fleet key is
// paid; with -fleet-key, one without a certificate, or certified by
// another fleet or for another signer, is refused and nothing is posted;
// without -fleet-key a certificate that does not check is refused too.
func TestChecksTheTerminalCertificate(t *testing.T) {
	fleetKey := ed25519.NewKeyFromSeed(make([]byte, 32))
	otherFleet := ed25519.NewKeyFromSeed([]byte(strings.Repeat("o", 32)))
	pinned := hex.EncodeToString(fleetKey.Public().(ed25519.PublicKey))
	stranger := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	for _, tc := range []struct {
		name   string
		key    ed25519.PrivateKey // nil: no certificate
		signer *common.Address    // nil: the terminal's
		pin    bool
		ok     bool
		says   string
	}{
		{"certified, pinned", fleetKey, nil, true, true, "matches -fleet-key"},
		{"certified, not pinned", fleetKey, nil, false, true, "not pinned"},
		{"none, not pinned", nil, nil, false, true, "none"},
		{"none, pinned", nil, nil, true, false, "carries no terminal certificate"},
		{"another fleet, pinned", otherFleet, nil, true, false, "not signed by fleet key"},
		{"another signer, pinned", fleetKey, &stranger, true, false, "vouches for signer"},
		{"another signer, not pinned", fleetKey, &stranger, false, false, "vouches for signer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeTerminal(t, eth, 1000)
			if tc.key != nil {
				signer := crypto.PubkeyToAddress(f.key.PublicKey)
				if tc.signer != nil {
					signer = *tc.signer
				}
				cert, err := fleet.Certify(tc.key, fleet.Certificate{Terminal: f.doc.TerminalID, Signer: signer, Merchant: f.doc.Merchant,
					MerchantName: "Fake Cafe", Expires: time.Now().Add(time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				f.doc.Certificate = cert
				if f.docRaw, err = json.Marshal(f.doc); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"-terminal", f.srv.URL, "-rpc", unreachable, "-state", t.TempDir(), "-json"}
			if tc.pin {
				args = append(args, "-fleet-key", pinned)
			}
			code, out, stderr := runPayer(t, args...)
			var res result
			_ = json.Unmarshal([]byte(out), &res)
			if (code == exitOK) != tc.ok || !strings.Contains(res.Certificate+" "+stderr, tc.says) {
				t.Errorf("exit %d, certificate %q, stderr %q; want ok=%v saying %q", code, res.Certificate, stderr, tc.ok, tc.says)
			}
			if posted := len(f.txs()); (posted == 1) != tc.ok {
				t.Errorf("%d payments posted", posted)
			}
		})
	}
}
