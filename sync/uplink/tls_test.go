package uplink_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/sync/uplink"
	"showpos/tools/mosquitto"
)

// pki is a CA and the files of certificates it signed, in dir.
type pki struct {
	t    *testing.T
	dir  string
	ca   *x509.Certificate
	key  *ecdsa.PrivateKey
	next int64
}

func newPKI(t *testing.T, name string) *pki {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{t: t, dir: t.TempDir(), ca: ca, key: key, next: 2}
	p.write(name+"-ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(name, kind string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

func (p *pki) caFile() string { return filepath.Join(p.dir, p.ca.Subject.CommonName+"-ca.pem") }

// issue makes a certificate for name (a server's for 127.0.0.1, or a
// client's) and returns its cert and key files.
func (p *pki) issue(name string, server bool) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.next), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	p.next++
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.write(name+".pem", "CERTIFICATE", der), p.write(name+".key", "EC PRIVATE KEY", kder)
}

// An mqtts broker that requires a client certificate takes the terminal
// with the CA file and its certificate, and refuses it without one (the
// status says why); a broker whose certificate the CA did not sign is
// refused by the terminal.
func TestMQTTSWithACAAndAClientCertificate(t *testing.T) {
	p := newPKI(t, "fleet")
	srvCert, srvKey := p.issue("broker", true)
	b := mosquitto.Start(t, mosquitto.Options{TLS: &mosquitto.TLS{CertFile: srvCert, KeyFile: srvKey,
		CAFile: p.caFile(), RequireCertificate: true}})
	if !strings.HasPrefix(b.URL(), "mqtts://") {
		t.Fatalf("URL %s", b.URL())
	}
	cliCert, cliKey := p.issue("t1", false)
	other := newPKI(t, "elsewhere")

	for _, tc := range []struct {
		name           string
		ca, cert, key  string
		connects       bool
		wantErrContain string
	}{
		{"the CA and a client certificate", p.caFile(), cliCert, cliKey, true, ""},
		{"no client certificate", p.caFile(), "", "", false, "network Error"},
		{"a CA that did not sign the broker", other.caFile(), cliCert, cliKey, false, "unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tlsc, err := uplink.LoadTLS(tc.ca, tc.cert, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			l, _ := run(t, uplink.Options{Broker: b.URL(), TLS: tlsc, Terminal: "t1", Log: openStore(t)})
			if tc.connects {
				eventually(t, "connected over TLS", func() bool { return l.Status().Connected })
				return
			}
			eventually(t, "the refusal reported", func() bool { return strings.Contains(l.Status().LastError, tc.wantErrContain) })
			if st := l.Status(); st.Connected {
				t.Fatal("connected")
			} else {
				t.Logf("refused: %s", st.LastError)
			}
		})
	}
}

func TestLoadTLSRefusesWhatItCannotUse(t *testing.T) {
	p := newPKI(t, "fleet")
	cert, key := p.issue("t1", false)
	for _, tc := range []struct {
		name, ca, cert, key, want string
	}{
		{"a missing CA file", filepath.Join(p.dir, "nope.pem"), "", "", "mqtt CA"},
		{"a CA file with no certificate", key, "", "", "no PEM certificate"},
		{"a certificate without its key", "", cert, "", "go together"},
		{"a key that is not the certificate's", "", cert, p.caFile(), "client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := uplink.LoadTLS(tc.ca, tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadTLS: %v; want %q", err, tc.want)
			}
		})
	}
}
