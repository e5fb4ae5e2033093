package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/tools/mosquitto"
)

// testCA is a certificate authority for a test's broker and clients.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	File string // the CA certificate, PEM
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test fleet CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{t: t, dir: t.TempDir(), cert: cert, key: key}
	ca.File = ca.write("ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(name, typ string, der []byte) string {
	ca.t.Helper()
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// issue makes a certificate for 127.0.0.1 (server) or a client named
// name, and returns its certificate and key files.
func (ca *testCA) issue(name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	ca.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return ca.write(name+".pem", "CERTIFICATE", der), ca.write(name+".key", "EC PRIVATE KEY", kder)
}

// Over mqtts, publish and watch trust the broker by -cacert and present a
// client certificate by -cert and -key; without them the connection fails
// with a clear error, and nothing is published.
func TestFleetMQTTOverTLS(t *testing.T) {
	ca := newTestCA(t)
	srvCert, srvKey := ca.issue("broker", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := ca.issue("fleet-hq", x509.ExtKeyUsageClientAuth)
	// These lines follow the broker's listener line: they make it TLS,
	// taking only clients with a certificate from the CA.
	b := mosquitto.Start(t, mosquitto.Options{Extra: []string{
		"cafile " + ca.File, "certfile " + srvCert, "keyfile " + srvKey, "require_certificate true",
	}})
	url := "mqtts://" + b.Addr()
	file, _ := signedBundle(t, 3, "-group", "cafes")
	tlsArgs := []string{"-broker", url, "-cacert", ca.File, "-cert", cliCert, "-key", cliKey}

	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"the broker's CA unknown", []string{"-broker", url, "-cert", cliCert, "-key", cliKey}, "certificate signed by unknown authority"},
		{"no client certificate", []string{"-broker", url, "-cacert", ca.File}, ""},
		{"plain MQTT to a TLS port", []string{"-broker", "mqtt://" + b.Addr()}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := posctl(t, append(append([]string{"fleet", "publish"}, tc.args...), "-group", "cafes", file)...)
			var ee *exitError
			if err == nil || !strings.HasPrefix(err.Error(), codeBrokerUnreachable+": broker ") || !strings.Contains(err.Error(), tc.says) || errors.As(err, &ee) {
				t.Fatalf("publish = %v; want %s saying %q", err, codeBrokerUnreachable, tc.says)
			}
		})
	}

	doc, err := posctl(t, append(append([]string{"fleet", "publish"}, tlsArgs...), "-group", "cafes", file)...)
	if err != nil {
		t.Fatal(err)
	}
	if doc["topic"] != "showpos/config/cafes" {
		t.Errorf("publish printed %v", doc)
	}
	// watch connects the same way (no terminal reports to this broker:
	// an empty fleet).
	out, err := watchAt(t, time.Now(), append(tlsArgs, "-once")...)
	if err != nil || out != strings.Join(fleetColumns, "  ")+"\n" {
		t.Errorf("watch over TLS = %q, %v", out, err)
	}
	doc, err = posctl(t, append(append([]string{"fleet", "publish"}, tlsArgs...), "-group", "cafes", "-clear")...)
	if err != nil || doc["cleared"] != true {
		t.Errorf("publish -clear over TLS = %v, %v", doc, err)
	}
}
