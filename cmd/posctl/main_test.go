package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
	"showpos/terminal/report"
	"showpos/terminal/store"
	"showpos/tools/qrread"
)

// daemon is what posd puts behind its operator socket: the real operator
// API over a real unix socket, on a real store and till.
type daemon struct {
	id     string
	socket string
	store  *store.Store
	till   *checkout.Service
	fleet  *fakeFleet
}

// startDaemon starts a terminal with the id "cli-till".
func startDaemon(t *testing.T) *daemon { return startTerminal(t, "cli-till") }

func startTerminal(t *testing.T, id string) *daemon {
	t.Helper()
	dir := t.TempDir()
	cfg := configtest.New(t, `
[terminal]
id = "`+id+`"
data_dir = "`+dir+`"
`)
	st, err := store.Open(cfg.StorePath(), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	d := &daemon{id: id, socket: cfg.SocketPath(), store: st, fleet: &fakeFleet{},
		till: checkout.New(checkout.Options{Config: cfg, Key: key, Store: st})}
	ln, err := httpapi.ListenUnix(cfg.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httpapi.Operator(httpapi.OperatorOptions{
		Register: d.till, Clients: st, Status: d.status, Fleet: d.fleet, Registrations: st, Webhooks: testHooks(t, st),
		Books:     report.New(report.Options{Store: st, Till: d.till, Terminal: id}),
		Unmatched: d.till,
	})}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	fi, err := os.Stat(cfg.SocketPath())
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v (%v), want 0660", fi.Mode().Perm(), err)
	}
	return d
}

// status is what the daemon says of itself: its id and config version.
func (d *daemon) status(context.Context) (httpapi.Status, error) {
	return httpapi.Status{Terminal: d.id, ConfigVersion: 7}, nil
}

func posctl(t *testing.T, args ...string) (map[string]any, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(args, &out)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("posctl %v printed non-JSON %q", args, out.String())
	}
	return v, nil
}

func TestRequestNewShowCancel(t *testing.T) {
	sock := startDaemon(t).socket
	doc, err := posctl(t, "-socket", sock, "request", "new", "-amount", "2.5", "-asset", "TUSD", "-memo", "table 4")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := doc["id"].(string)
	if len(id) != 32 || doc["amount"] != "2500000" || doc["status"] != "pending" || doc["memo"] != "table 4" {
		t.Fatalf("request new printed %v", doc)
	}
	if _, ok := doc["signature"].(string); !ok {
		t.Errorf("no signature in %v", doc)
	}
	shown, err := posctl(t, "-socket", sock, "request", "show")
	if err != nil || shown["id"] != id {
		t.Errorf("request show (current) = %v, %v", shown["id"], err)
	}
	cancelled, err := posctl(t, "-socket", sock, "request", "cancel", id)
	if err != nil || cancelled["status"] != "cancelled" {
		t.Errorf("cancel = %v, %v", cancelled["status"], err)
	}
	shown, err = posctl(t, "-socket", sock, "request", "show", id)
	if err != nil || shown["status"] != "cancelled" {
		t.Errorf("show after cancel = %v, %v", shown["status"], err)
	}
	// A wait on a request no longer pending answers at once.
	shown, err = posctl(t, "-socket", sock, "request", "show", id, "-wait", "60s")
	if err != nil || shown["status"] != "cancelled" {
		t.Errorf("show -wait after cancel = %v, %v", shown["status"], err)
	}
	if _, err := posctl(t, "-socket", sock, "request", "show", id, "-wait", "500ms"); err == nil || !strings.Contains(err.Error(), "bad_request") {
		t.Errorf("show -wait 500ms: %v", err)
	}
	if _, err := posctl(t, "-socket", sock, "request", "show", "-wait", "30s"); err == nil || !strings.Contains(err.Error(), "needs the request's ID") {
		t.Errorf("show -wait without an ID: %v", err)
	}
}

func TestRequestNewWithATip(t *testing.T) {
	sock := startDaemon(t).socket
	doc, err := posctl(t, "-socket", sock, "request", "new", "-amount", "2.5", "-asset", "TUSD", "-tip-percent", "10")
	if err != nil {
		t.Fatal(err)
	}
	if doc["amount"] != "2750000" || doc["tip"] != "250000" {
		t.Errorf("request new -tip-percent 10 printed amount %v tip %v, want 2750000 and 250000", doc["amount"], doc["tip"])
	}
}

func TestPaymentsListsJSON(t *testing.T) {
	sock := startDaemon(t).socket
	t.Setenv("SHOWPOS_SOCKET", sock)
	list, err := posctl(t, "payments", "-state", "queued", "-limit", "5")
	if err != nil {
		t.Fatal(err)
	}
	if ps, ok := list["payments"].([]any); !ok || len(ps) != 0 {
		t.Errorf("payments on an empty store = %v", list)
	}
}

func TestErrorsCarryCodeAndExitStatus(t *testing.T) {
	sock := startDaemon(t).socket
	tests := []struct {
		args     []string
		exit     int
		contains string
	}{
		{[]string{"request", "new", "-amount", "0.1234567", "-asset", "TUSD"}, 1, "invalid_amount"},
		{[]string{"request", "new", "-amount", "1", "-asset", "DOGE"}, 1, "unknown_asset"},
		{[]string{"request", "show", "ffff"}, 1, "unknown_request"},
		{[]string{"request", "show"}, 1, "no_request"},
		{[]string{"payments", "-state", "lost"}, 1, "bad_request"},
		{[]string{"request", "new"}, 2, "-amount"},
		{[]string{"request", "new", "-amount", "1", "-fiat", "4.50"}, 2, "-fiat"},
		// The fiat amount reaches the till, which has no shop currency here.
		{[]string{"request", "new", "-fiat", "4.50"}, 1, "no_currency"},
		{[]string{"request", "new", "-amount", "1", "-tip", "1", "-tip-percent", "10"}, 1, "invalid_tip"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	}
	for _, tc := range tests {
		_, err := posctl(t, append([]string{"-socket", sock}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.contains) {
			t.Errorf("%v: err = %v, want it to contain %q", tc.args, err, tc.contains)
			continue
		}
		code := 1
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
		if code != tc.exit {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.exit)
		}
	}
}

func TestNoDaemonIsAClearError(t *testing.T) {
	_, err := posctl(t, "-socket", filepath.Join(t.TempDir(), "none.sock"), "payments")
	if err == nil || !strings.Contains(err.Error(), "reach posd") {
		t.Errorf("err = %v", err)
	}
}

func TestRequestQRIsThePaymentURI(t *testing.T) {
	sock := startDaemon(t).socket
	doc, err := posctl(t, "-socket", sock, "request", "new", "-amount", "0.25")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "qr.png")
	if _, err := posctlRaw(t, "-socket", sock, "request", "qr", "-module", "3", "-o", out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	text, err := qrread.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if text != doc["uri"] {
		t.Errorf("QR says %q, request uri is %q", text, doc["uri"])
	}
	if img.Bounds().Dx()%3 != 0 {
		t.Errorf("image side %d is not a whole number of 3-pixel modules", img.Bounds().Dx())
	}
	if _, err := posctlRaw(t, "-socket", sock, "request", "qr", "-module", "0", "-o", out); err == nil || !strings.Contains(err.Error(), "bad_request") {
		t.Errorf("module 0: err = %v", err)
	}
}

func posctlRaw(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(args, &out)
	return out.Bytes(), err
}

func TestQueueWithoutChainSaysSo(t *testing.T) {
	sock := startDaemon(t).socket
	for _, cmd := range []string{"queue", "sync"} {
		_, err := posctl(t, "-socket", sock, cmd)
		if err == nil || !strings.Contains(err.Error(), "not_configured") {
			t.Errorf("%s on a terminal without chain endpoints: %v", cmd, err)
		}
	}
}

// posctl payments -state unmatched lists money received on chain that paid
// no request, with its source and reason.
func TestPaymentsListsUnmatchedReceipts(t *testing.T) {
	d := startDaemon(t)
	tr := store.Transfer{Block: 4, BlockTime: time.Now(), TxHash: common.Hash{0xdd}, From: common.Address{3},
		Asset: "ETH", Amount: big.NewInt(49_000_000_000_000_000)}
	if err := d.store.Chain(configtest.ChainID).RecordRange(context.Background(), store.WatchCursor{Height: 4}, []store.Transfer{tr}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHOWPOS_SOCKET", d.socket)
	list, err := posctl(t, "payments", "-state", "unmatched")
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := list["payments"].([]any)
	if len(ps) != 1 {
		t.Fatalf("unmatched: %v", list)
	}
	if u := ps[0].(map[string]any); u["source"] != "chain" || u["amountDisplay"] != "0.049" || u["state"] != "unmatched" {
		t.Errorf("unmatched receipt %v", u)
	}
	if list, _ := posctl(t, "payments"); len(list["payments"].([]any)) != 0 {
		t.Errorf("an unmatched receipt listed among the payments: %v", list)
	}
}
