package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A third party registers with posctl, the operator approves with posctl
// on the socket, the third party collects its key into a file once and
// calls the terminal with it; a second pickup is refused.
func TestRegisterApprovePickupWithPosctl(t *testing.T) {
	d := startDaemon(t)
	u, ca := d.serveNetwork(t)
	got, err := posctl(t, "-cacert", ca, "register", "-url", u, "-name", "Acme books", "-contact", "ops@acme.example",
		"-role", "register", "-reason", "nightly books")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := got["id"].(string)
	secret, _ := got["pickupSecret"].(string)
	secretFile := filepath.Join(t.TempDir(), "pickup.secret")
	writeFile(t, secretFile, secret+"\n")
	keyFile := filepath.Join(t.TempDir(), "service.key")
	pickup := []string{"-cacert", ca, "register", "pickup", "-url", u, "-id", id, "-secret-file", secretFile, "-key-out", keyFile}

	if _, err := posctl(t, pickup...); err == nil || !strings.Contains(err.Error(), "registration_pending") || exitCode(err) != 1 {
		t.Fatalf("pickup before approval: %v", err)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatalf("a refused pickup left the key file: %v", err)
	}
	list, err := posctl(t, "-socket", d.socket, "registrations")
	if err != nil || len(list["registrations"].([]any)) != 1 {
		t.Fatalf("registrations: %v %v", list, err)
	}
	if _, err := posctl(t, "-socket", d.socket, "registrations", "approve", id); exitCode(err) != 2 {
		t.Fatalf("approve without -role: %v", err)
	}
	ap, err := posctl(t, "-socket", d.socket, "registrations", "approve", id, "-role", "register")
	if err != nil || ap["state"] != "approved" {
		t.Fatalf("approve: %v %v", ap, err)
	}
	col, err := posctl(t, pickup...)
	if err != nil || col["number"] != ap["number"] {
		t.Fatalf("pickup: %v %v", col, err)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil || strings.TrimSpace(string(b)) != col["key"] {
		t.Fatalf("key file %q, %v", b, err)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	if _, err := posctl(t, "-url", u, "-cacert", ca, "-client", col["number"].(string), "-key-file", keyFile, "payments"); err != nil {
		t.Fatalf("a call with the collected key: %v", err)
	}
	os.Remove(keyFile)
	if _, err := posctl(t, pickup...); err == nil || !strings.Contains(err.Error(), "already_collected") {
		t.Fatalf("second pickup: %v", err)
	}
	all, err := posctl(t, "-socket", d.socket, "registrations", "-all")
	if err != nil || all["registrations"].([]any)[0].(map[string]any)["state"] != "collected" {
		t.Fatalf("registrations -all: %v %v", all, err)
	}
}

func TestRegistrationsRejectAndUsage(t *testing.T) {
	d := startDaemon(t)
	u, ca := d.serveNetwork(t)
	got, err := posctl(t, "-cacert", ca, "register", "-url", u, "-name", "Someone", "-contact", "x@y", "-role", "fleet", "-reason", "curious")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := posctl(t, "-socket", d.socket, "registrations", "reject", got["id"].(string)); err != nil || r["state"] != "rejected" {
		t.Fatalf("reject: %v %v", r, err)
	}
	if _, err := posctl(t, "-socket", d.socket, "registrations", "reject", got["id"].(string)); err == nil || !strings.Contains(err.Error(), "registration_decided") {
		t.Fatalf("second reject: %v", err)
	}
	for _, args := range [][]string{
		{"register", "-url", u, "-name", "A"},
		{"register", "pickup", "-url", u, "-id", "rg_1"},
		{"-url", u, "-client", "sn_1", "-key-file", "/nonexistent", "registrations"},
		{"-socket", d.socket, "registrations", "reject"},
	} {
		if _, err := posctl(t, args...); exitCode(err) != 2 {
			t.Errorf("posctl %v: %v, want usage", args, err)
		}
	}
}
