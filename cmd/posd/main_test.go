package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/tools/devchain"

	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
	"showpos/terminal/request"
	"showpos/tools/paytx"
)

func writeConfig(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "posd.toml")
	err := os.WriteFile(p, []byte(configtest.Text(t, `
assets = [{ symbol = "ETH" }]
[terminal]
id = "e2e-till"
data_dir = "`+filepath.Join(dir, "data")+`"
`)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// anyPort is the -listen of a daemon under test: the system picks a free
// port when posd binds, and the status says which (listening). A port
// picked by the test and closed again could be taken meanwhile by any
// process on the machine: other packages' tests run at the same time.
const anyPort = "127.0.0.1:0"

// testLog is a daemon's log in the test's output (shown when it fails).
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func unixClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

// waitFor polls until the daemon's socket answers and its status says
// it takes sales.
func waitFor(t *testing.T, c *http.Client, errc <-chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			t.Fatalf("posd stopped early: %v", err)
		default:
		}
		// Up, and taking sales: the store's scrub has checked the open
		// payments (until then a payment is answered 503, send again).
		if resp, err := c.Get("http://posd/v1/status"); err == nil {
			var st httpapi.Status
			err := json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil && st.Store != nil && st.Store.Scrub != nil && st.Store.Scrub.SalesTaken {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("posd did not come up and take sales")
}

// The daemon as a whole: start, create a request on the operator socket,
// pay it on the payer API, see it stored; a second daemon on the same data
// is refused; stop, start again, the payment is still there.
func TestPosdEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	log := testLog(t)
	start := func() (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- run(ctx, log, cfgPath, "", anyPort) }()
		return cancel, errc
	}
	sock := filepath.Join(dir, "data", "posd.sock")
	op := unixClient(sock)

	stop, errc := start()
	waitFor(t, op, errc)
	addr := listening(t, op).API

	resp, err := op.Post("http://posd/v1/requests", "application/json", strings.NewReader(`{"amount":"0.02"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("new request: %d %s", resp.StatusCode, body)
	}
	doc, err := request.ParseDocument(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := doc.Verify(); err != nil {
		t.Fatalf("request signature: %v", err)
	}
	r := doc.Request()
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(r, payer, paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": r.ID, "rawTx": hexutil.Encode(raw)})
	resp, err = http.Post("http://"+addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), tx.Hash().Hex()) {
		t.Fatalf("broadcast: %d %s", resp.StatusCode, body)
	}

	// A second daemon on the same data directory must not start.
	err = run(context.Background(), log, cfgPath, "", anyPort)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "data", "showpos.db")) {
		t.Fatalf("second daemon: err = %v, want a lock error naming the store", err)
	}

	stop()
	if err := <-errc; err != nil {
		t.Fatalf("posd stop: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "data", "terminal.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("terminal.key mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}

	stop, errc = start()
	defer func() { stop(); <-errc }()
	waitFor(t, op, errc)
	resp, err = op.Get("http://posd/v1/payments")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), tx.Hash().Hex()) {
		t.Errorf("after restart the payment is gone: %s", body)
	}
}

func TestPosdRefusesADamagedStore(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	store := filepath.Join(dir, "data", "showpos.db")
	if err := os.MkdirAll(filepath.Dir(store), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store, bytes.Repeat([]byte("not a bolt file "), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), slog.New(slog.DiscardHandler), cfgPath, "", anyPort)
	if err == nil || !strings.Contains(err.Error(), store) {
		t.Fatalf("err = %v, want an error naming %s", err, store)
	}
}

// With chain endpoints configured, posd broadcasts what it accepts: a
// payment taken on the payer API ends confirmed on a real dev chain, and
// the operator socket's queue and sync say so.
func TestPosdBroadcastsToTheChain(t *testing.T) {
	node, dir, addr := startChainTerminal(t, "")
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))

	_, tx := sellOnChain(t, node, op, addr, "0.5")

	var q struct {
		Counts map[string]int `json:"counts"`
		Chain  struct {
			Online bool `json:"online"`
		} `json:"chain"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for q.Counts["confirmed"] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("not confirmed: %+v", q)
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := op.Post("http://posd/v1/sync", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewDecoder(resp.Body).Decode(&q); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if !q.Chain.Online {
		t.Errorf("queue says offline: %+v", q)
	}
	eth, err := ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer eth.Close()
	rcpt, err := eth.TransactionReceipt(context.Background(), tx.Hash())
	if err != nil || rcpt.Status != 1 {
		t.Fatalf("receipt %v, %v", rcpt, err)
	}
}

// startChainTerminal runs posd, broadcasting to a fresh dev chain, taking
// ETH alone, with the board given as TOML ("" for none), until the test
// ends. It returns the chain, the terminal's directory (data under
// sellOnChain makes a request of amount on the operator socket op and
// hands over a payment for it, signed by the dev chain's first payer, on
// the payer API at addr (202 or the test fails); it returns the request
// and the transaction.
func sellOnChain(t *testing.T, node *devchain.Chain, op *http.Client, addr, amount string) (*request.Document, *types.Transaction) {
	t.Helper()
	resp, err := op.Post("http://posd/v1/requests", "application/json", strings.NewReader(`{"amount":"`+amount+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := request.ParseDocument(body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	tx, err := paytx.Build(doc.Request(), node.Payers()[0].Key, paytx.Options{FeeCap: big.NewInt(50e9)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err = http.Post("http://"+addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("broadcast: %d", resp.StatusCode)
	}
	return doc, tx
}

// dir/data) and the payer API address.
func startChainTerminal(t *testing.T, board string) (*devchain.Chain, string, string) {
	t.Helper()
	return startTerminalOnChain(t, `assets = [{ symbol = "ETH" }]`, board)
}

// startTerminalOnChain is startChainTerminal with the assets given as TOML
// laid over configtest's (an inline array replaces them; [[assets]]
// tables merge by symbol).
func startTerminalOnChain(t *testing.T, assets, board string) (*devchain.Chain, string, string) {
	t.Helper()
	return startTerminalWith(t, "", assets, board)
}

// startTerminalWith is startTerminalOnChain with more [terminal] keys
// (TOML lines).
func startTerminalWith(t *testing.T, terminal, assets, board string) (*devchain.Chain, string, string) {
	t.Helper()
	node, err := devchain.Start(context.Background(), devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "posd.toml")
	err = os.WriteFile(cfgPath, []byte(configtest.Text(t, assets+fmt.Sprintf(`
[terminal]
id = "e2e-chain"
merchant_name = "Sale Test"
data_dir = %q
%s
[chain]
id = %d
rpc = [%q]
probe_every = "200ms"
[broadcast]
poll = "50ms"
`, filepath.Join(dir, "data"), terminal, node.ChainID().Uint64(), node.Endpoint())+board)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, testLog(t), cfgPath, "", anyPort) }()
	t.Cleanup(func() { cancel(); <-errc })
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	waitFor(t, op, errc)
	return node, dir, listening(t, op).API
}
