package uplink_test

import (
	"path/filepath"
	"strings"
	"testing"

	"showpos/sync/uplink"
	"showpos/tools/mosquitto"
)

// An mqtts broker that requires a client certificate takes the terminal
// with the CA file and its certificate, and refuses it without one (the
// status says why); a broker whose certificate the CA did not sign is
// refused by the terminal.
func TestMQTTSWithACAAndAClientCertificate(t *testing.T) {
	p := mosquitto.NewPKI(t, "fleet")
	srvCert, srvKey := p.Issue("broker", true)
	b := mosquitto.Start(t, mosquitto.Options{TLS: &mosquitto.TLS{CertFile: srvCert, KeyFile: srvKey,
		CAFile: p.CAFile, RequireCertificate: true}})
	if !strings.HasPrefix(b.URL(), "mqtts://") {
		t.Fatalf("URL %s", b.URL())
	}
	cliCert, cliKey := p.Issue("t1", false)
	other := mosquitto.NewPKI(t, "elsewhere")

	for _, tc := range []struct {
		name           string
		ca, cert, key  string
		connects       bool
		wantErrContain string
	}{
		{"the CA and a client certificate", p.CAFile, cliCert, cliKey, true, ""},
		{"no client certificate", p.CAFile, "", "", false, "network Error"},
		{"a CA that did not sign the broker", other.CAFile, cliCert, cliKey, false, "unknown authority"},
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
	p := mosquitto.NewPKI(t, "fleet")
	cert, key := p.Issue("t1", false)
	for _, tc := range []struct {
		name, ca, cert, key, want string
	}{
		{"a missing CA file", filepath.Join(t.TempDir(), "nope.pem"), "", "", "mqtt CA"},
		{"a CA file with no certificate", key, "", "", "no PEM certificate"},
		{"a certificate without its key", "", cert, "", "go together"},
		{"a key that is not the certificate's", "", cert, p.CAFile, "client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := uplink.LoadTLS(tc.ca, tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadTLS: %v; want %q", err, tc.want)
			}
		})
	}
}
