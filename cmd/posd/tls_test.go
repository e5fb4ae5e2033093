package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "till"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With a certificate configured the network API speaks HTTPS only, and the
// requests it signs point payers at https.
func TestNetworkAPIOverTLS(t *testing.T) {
	certDir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, certDir)
	tm := newTerminal(t, headless+"[api]\ntls_cert = \""+certFile+"\"\ntls_key = \""+keyFile+"\"\n")

	_, a := tm.newRequest("0.01")
	if !strings.Contains(string(a.raw), `"https://`+tm.addr) {
		t.Errorf("request does not point at https: %s", a.raw)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + tm.addr + "/api/showpos/getPaymentRequest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("payer API over https: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + tm.addr + "/api/showpos/getPaymentRequest"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain http answered")
		}
	}

	// A certificate that does not load stops the daemon at start, naming it.
	tm.stop()
	os.WriteFile(certFile, []byte("not a certificate"), 0o600)
	err = run(context.Background(), slog.New(slog.DiscardHandler), tm.cfgPath, "", anyPort)
	if err == nil || !strings.Contains(err.Error(), "api.tls_cert "+certFile) {
		t.Errorf("bad certificate: %v", err)
	}
}
