package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"showpos/tools/mosquitto"
)

// Over mqtts, publish and watch trust the broker by -cacert and present a
// client certificate by -cert and -key; without them the connection fails
// with a clear error, and nothing is published.
func TestFleetMQTTOverTLS(t *testing.T) {
	ca := mosquitto.NewPKI(t, "test fleet CA")
	srvCert, srvKey := ca.Issue("broker", true)
	cliCert, cliKey := ca.Issue("fleet-hq", false)
	// These lines follow the broker's listener line: they make it TLS,
	// taking only clients with a certificate from the CA.
	b := mosquitto.Start(t, mosquitto.Options{Extra: []string{
		"cafile " + ca.CAFile, "certfile " + srvCert, "keyfile " + srvKey, "require_certificate true",
	}})
	url := "mqtts://" + b.Addr()
	file, _ := signedBundle(t, 3, "-group", "cafes")
	tlsArgs := []string{"-broker", url, "-cacert", ca.CAFile, "-cert", cliCert, "-key", cliKey}

	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"the broker's CA unknown", []string{"-broker", url, "-cert", cliCert, "-key", cliKey}, "certificate signed by unknown authority"},
		{"no client certificate", []string{"-broker", url, "-cacert", ca.CAFile}, ""},
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
