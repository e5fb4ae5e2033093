package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// failSale takes a payment of amount ETH and fails it after acceptance.
func (d *daemon) failSale(t *testing.T, amount, reason string) {
	t.Helper()
	ctx := context.Background()
	doc, err := d.till.NewRequest(ctx, amount, "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(doc.Request(), payer, paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	if _, err := d.till.Pay(ctx, doc.ID, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.SetPaymentState(ctx, tx.Hash(), store.PaymentFailed, reason, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestFailuresListAndAckOverTheSocket(t *testing.T) {
	d := startDaemon(t)
	d.failSale(t, "0.01", "conflict")
	d.failSale(t, "0.02", "reverted")
	list, err := posctl(t, "-socket", d.socket, "failures")
	if err != nil || list["open"] != float64(2) || len(list["failures"].([]any)) != 2 {
		t.Fatalf("failures = %v, %v", list, err)
	}
	if f, err := posctl(t, "-socket", d.socket, "failures", "ack", "1"); err != nil || f["id"] != float64(1) || f["ackedAt"] == nil {
		t.Fatalf("failures ack 1 = %v, %v", f, err)
	}
	if _, err := posctl(t, "-socket", d.socket, "failures", "ack", "7"); err == nil || !strings.Contains(err.Error(), "unknown_failure") {
		t.Errorf("failures ack 7: %v, want unknown_failure", err)
	}
	if a, err := posctl(t, "-socket", d.socket, "failures", "ack", "all"); err != nil || a["acknowledged"] != float64(1) {
		t.Errorf("failures ack all = %v, %v", a, err)
	}
	if list, _ := posctl(t, "-socket", d.socket, "failures", "-all"); len(list["failures"].([]any)) != 2 || list["open"] != float64(0) {
		t.Errorf("failures -all = %v", list)
	}
	var ee *exitError
	if err := run([]string{"-socket", d.socket, "failures", "ack"}, &bytes.Buffer{}); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("failures ack without an id: %v, want usage", err)
	}
}

func TestReportXAndZAsATableOrJSON(t *testing.T) {
	d := startDaemon(t)
	d.failSale(t, "0.01", "conflict: nonce taken")
	var out bytes.Buffer
	if err := run([]string{"-socket", d.socket, "report", "x", "-columns", "32"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"X REPORT", "terminal cli-till", "failed 1", "0.01", "FAILURES 1", "conflict: nonce taken"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report x lacks %q:\n%s", want, out.String())
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if len([]rune(line)) > 32 {
			t.Errorf("line wider than 32: %q", line)
		}
	}
	z, err := posctl(t, "-socket", d.socket, "report", "z", "-key", "close-1", "-json")
	if err != nil || z["kind"] != "Z" || z["number"] != float64(1) {
		t.Fatalf("report z -json = %v, %v", z, err)
	}
	again, err := posctl(t, "-socket", d.socket, "report", "z", "-key", "close-1", "-json")
	if err != nil || again["number"] != float64(1) || again["to"] != z["to"] {
		t.Errorf("report z with the same key = %v, %v", again, err)
	}
	out.Reset()
	if err := run([]string{"-socket", d.socket, "report", "show", "last"}, &out); err != nil || !strings.Contains(out.String(), "Z REPORT 1") {
		t.Errorf("report show last = %q, %v", out.String(), err)
	}
	if _, err := posctl(t, "-socket", d.socket, "report", "show", "2", "-json"); err == nil || !strings.Contains(err.Error(), "unknown_report") {
		t.Errorf("report show 2: %v", err)
	}
}
