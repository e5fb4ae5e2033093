package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/fleet"
)

// runKeygen runs "fleet keygen" and returns the key file and the printed
// public key.
func runKeygen(t *testing.T) (keyFile string, pub []byte) {
	t.Helper()
	keyFile = filepath.Join(t.TempDir(), "fleet.key")
	var out bytes.Buffer
	if err := fleetLocal([]string{"keygen", "-o", keyFile}, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.PublicKey) != 64 {
		t.Fatalf("keygen printed %q: want {\"public_key\": 64 hex digits}", out.String())
	}
	pub, err := hex.DecodeString(got.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return keyFile, pub
}

func writeBundleFragment(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bundle.toml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFleetKeygenSignOpen(t *testing.T) {
	keyFile, pub := runKeygen(t)
	frag := "[texts]\nwelcome = \"Tap to pay\"\n[[assets]]\nsymbol = \"ETH\"\n"
	var out bytes.Buffer
	err := fleetLocal([]string{"sign", "-key", keyFile, "-version", "12", "-ttl", "48h",
		"-terminal", "till-1", "-terminal", "till-2", "-group", "cafes", writeBundleFragment(t, frag)}, &out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fleet.Open(bytes.TrimSpace(out.Bytes()), pub)
	if err != nil {
		t.Fatalf("Open(signed bundle) = %v", err)
	}
	if p.Version != 12 || p.Config != frag {
		t.Errorf("payload v%d config %q", p.Version, p.Config)
	}
	if !slices.Equal(p.Targets.Terminals, []string{"till-1", "till-2"}) || !slices.Equal(p.Targets.Groups, []string{"cafes"}) {
		t.Errorf("targets %+v", p.Targets)
	}
	if d := p.Expires.Sub(p.Issued); d != 48*time.Hour || time.Since(p.Issued) > time.Minute {
		t.Errorf("issued %s expires %s", p.Issued, p.Expires)
	}

	out.Reset()
	expires := time.Now().UTC().AddDate(1, 0, 0).Truncate(time.Second) // after the issue time, whenever this runs
	err = fleetLocal([]string{"sign", "-key", keyFile, "-version", "13", "-expires", expires.Format(time.RFC3339), writeBundleFragment(t, frag)}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := fleet.Open(bytes.TrimSpace(out.Bytes()), pub); err != nil || !p.Expires.Equal(expires) {
		t.Errorf("-expires: %+v, %v", p, err)
	}
}

func TestFleetSignRefusesForbiddenKeys(t *testing.T) {
	keyFile, _ := runKeygen(t)
	var out bytes.Buffer
	err := fleetLocal([]string{"sign", "-key", keyFile, "-version", "1",
		writeBundleFragment(t, "[terminal]\nid = \"till-9\"\n[api]\nlisten = \"0.0.0.0:80\"\n")}, &out)
	if err == nil || !strings.Contains(err.Error(), "api.listen, terminal.id") {
		t.Fatalf("sign = %v, want the forbidden keys named", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q for a refused bundle", out.String())
	}
}

func TestFleetKeygenRefusesToOverwrite(t *testing.T) {
	keyFile, _ := runKeygen(t)
	before, _ := os.ReadFile(keyFile)
	if err := fleetLocal([]string{"keygen", "-o", keyFile}, &bytes.Buffer{}); !errors.Is(err, os.ErrExist) {
		t.Errorf("keygen over an existing file = %v, want os.ErrExist", err)
	}
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) {
		t.Error("the key file changed")
	}
}

func TestFleetLocalUsage(t *testing.T) {
	keyFile, _ := runKeygen(t)
	frag := writeBundleFragment(t, "[texts]\nwelcome = \"x\"\n")
	for _, args := range [][]string{
		nil,
		{"push"},
		{"keygen"},
		{"keygen", "-o", "a", "b"},
		{"sign", "-key", keyFile, frag}, // no version
		{"sign", "-key", keyFile, "-version", "0", frag}, // version 0
		{"sign", "-version", "1", frag},                  // no key
		{"sign", "-key", keyFile, "-version", "1"},       // no file
		{"sign", "-key", keyFile, "-version", "1", "-ttl", "-1h", frag},
		{"sign", "-key", keyFile, "-version", "1", "-ttl", "1h", "-expires", "2030-01-01T00:00:00Z", frag},
		{"sign", "-key", keyFile, "-version", "1", "-expires", "tomorrow", frag},
	} {
		var ee *exitError
		if err := fleetLocal(args, &bytes.Buffer{}); !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("fleet %q = %v, want a usage error", args, err)
		}
	}
}

// fleet certify prints a certificate that opens under the printed fleet
// key and vouches for exactly the terminal, signer and merchant given.
func TestFleetCertify(t *testing.T) {
	keyFile, pub := runKeygen(t)
	var out bytes.Buffer
	signer, merchant := "0x00000000000000000000000000000000000000A1", "0x00000000000000000000000000000000000bEEF1"
	if err := fleetLocal([]string{"certify", "-key", keyFile, "-terminal", "till-01", "-signer", signer,
		"-merchant", merchant, "-name", "Night Cafe", "-ttl", "720h"}, &out); err != nil {
		t.Fatal(err)
	}
	c, err := fleet.OpenCertificate(bytes.TrimSpace(out.Bytes()), pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check("till-01", common.HexToAddress(signer), common.HexToAddress(merchant), time.Now()); err != nil {
		t.Error(err)
	}
	if c.MerchantName != "Night Cafe" || c.Expires.Before(time.Now().Add(719*time.Hour)) {
		t.Errorf("certificate %+v", c)
	}
	for _, args := range [][]string{
		{"certify", "-key", keyFile, "-signer", signer, "-merchant", merchant},
		{"certify", "-key", keyFile, "-terminal", "t", "-signer", "0x12", "-merchant", merchant},
		{"certify", "-key", keyFile, "-terminal", "t", "-signer", signer, "-merchant", merchant, "-ttl", "1h", "-expires", "2030-01-01T00:00:00Z"},
	} {
		var ee *exitError
		if err := fleetLocal(args, &bytes.Buffer{}); !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
