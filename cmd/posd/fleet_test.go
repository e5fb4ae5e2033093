package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/auth"
	"showpos/terminal/config/configtest"
	"showpos/terminal/fleet"
	"showpos/terminal/request"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// terminal is a posd run in process on a config file the test writes.
type terminal struct {
	t       *testing.T
	dir     string
	cfgPath string
	addr    string // network API, as the running daemon's status says
	op      *http.Client
	stop    func()
}

// newTerminal runs posd in process on over laid over the test config
// (configtest) until the test ends.
func newTerminal(t *testing.T, over string) *terminal {
	t.Helper()
	tm := writeTerminal(t, over)
	tm.start()
	t.Cleanup(func() { tm.stop() })
	return tm
}

// writeTerminal writes the config of a terminal not started yet (for a
// posd binary the test runs itself).
func writeTerminal(t *testing.T, over string) *terminal {
	t.Helper()
	dir := t.TempDir()
	tm := &terminal{t: t, dir: dir, cfgPath: filepath.Join(dir, "posd.toml"),
		op: unixClient(filepath.Join(dir, "data", "posd.sock")), stop: func() {}}
	tm.write(over)
	return tm
}

// write puts the config file in place: over laid over the test config
// (configtest); DATA stands for the data directory.
func (tm *terminal) write(over string) {
	tm.t.Helper()
	text := configtest.Text(tm.t, strings.ReplaceAll(over, "DATA", filepath.Join(tm.dir, "data")))
	if err := os.WriteFile(tm.cfgPath, []byte(text), 0o600); err != nil {
		tm.t.Fatal(err)
	}
}

func (tm *terminal) start() {
	tm.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, testLog(tm.t), tm.cfgPath, "", anyPort) }()
	stopped := false
	tm.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-errc; err != nil {
				tm.t.Errorf("posd: %v", err)
			}
		}
	}
	waitFor(tm.t, tm.op, errc)
	tm.addr = listening(tm.t, tm.op).API
}

func (tm *terminal) restart() {
	tm.t.Helper()
	tm.stop()
	tm.op.CloseIdleConnections() // to the daemon just stopped
	tm.start()
}

// answer is a decoded JSON answer.
type answer struct {
	status int
	body   map[string]any
	raw    []byte
}

func (a answer) code() string {
	e, _ := a.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func do(t *testing.T, c *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: raw}
	json.Unmarshal(raw, &a.body)
	return a
}

// operator calls the operator socket.
func (tm *terminal) operator(method, path, body string) answer {
	tm.t.Helper()
	req, _ := http.NewRequest(method, "http://posd"+path, strings.NewReader(body))
	return do(tm.t, tm.op, req)
}

// signedCall is one signed request, kept so it can be sent again as is.
type signedCall struct {
	method, url string
	body        []byte
	header      http.Header
}

// sign signs a call to the network API as client number with key.
func (tm *terminal) sign(method, path, body, number, key string) signedCall {
	req, _ := http.NewRequest(method, "http://"+tm.addr+path, strings.NewReader(body))
	auth.Sign(req, []byte(body), number, []byte(key), time.Now(), auth.NewNonce())
	return signedCall{method: method, url: req.URL.String(), body: []byte(body), header: req.Header}
}

// send makes a signed call on a fresh connection: a kept-alive one to a
// daemon since restarted would answer a POST with EOF, and a POST is not
// retried. It goes to the daemon running now: after a restart its port
// has changed (the signature does not cover the host).
func (tm *terminal) send(c signedCall) answer {
	tm.t.Helper()
	req, _ := http.NewRequest(c.method, c.url, bytes.NewReader(c.body))
	req.URL.Host = tm.addr
	req.Header = c.header.Clone()
	req.Close = true
	return do(tm.t, http.DefaultClient, req)
}

// addClient registers an integrator on the operator socket.
func (tm *terminal) addClient(name, role string) (number, key string) {
	tm.t.Helper()
	a := tm.operator("POST", "/v1/clients", `{"name":"`+name+`","role":"`+role+`"}`)
	if a.status != http.StatusCreated {
		tm.t.Fatalf("add client: %d %s", a.status, a.raw)
	}
	return a.body["number"].(string), a.body["key"].(string)
}

// headless is laid over the test config (configtest): a terminal with no
// board and ETH alone, its data under DATA.
const headless = `
assets = [{ symbol = "ETH" }]
[terminal]
id = "net-till"
data_dir = "DATA"
`

// A cash register drives the terminal over the network with its service
// key; every refusal of the scheme holds across a restart, a replayed
// request included.
func TestIntegratorOverTheNetwork(t *testing.T) {
	tm := newTerminal(t, headless)
	number, key := tm.addClient("Till 4 register", "register")

	create := tm.sign("POST", "/v1/requests", `{"amount":"0.02","memo":"order 77"}`, number, key)
	a := tm.send(create)
	if a.status != http.StatusCreated {
		t.Fatalf("signed request: %d %s", a.status, a.raw)
	}
	doc, err := request.ParseDocument(a.raw)
	if err != nil {
		t.Fatal(err)
	}
	if a := tm.send(create); a.status != http.StatusUnauthorized || a.code() != "replayed_nonce" {
		t.Errorf("replay: %d %s", a.status, a.raw)
	}
	unsigned, _ := http.NewRequest("POST", "http://"+tm.addr+"/v1/requests", strings.NewReader(`{"amount":"1"}`))
	if a := do(t, http.DefaultClient, unsigned); a.status != http.StatusUnauthorized || a.code() != "missing_auth" {
		t.Errorf("unsigned: %d %s", a.status, a.raw)
	}
	tampered := tm.sign("POST", "/v1/requests", `{"amount":"0.02"}`, number, key)
	tampered.body = []byte(`{"amount":"0.01"}`)
	if a := tm.send(tampered); a.status != http.StatusUnauthorized || a.code() != "bad_signature" {
		t.Errorf("changed body: %d %s", a.status, a.raw)
	}
	if a := tm.send(tm.sign("GET", "/v1/clients", "", number, key)); a.status != http.StatusNotFound {
		t.Errorf("clients on the network: %d %s", a.status, a.raw)
	}
	if a := tm.send(tm.sign("POST", "/v1/fleet/bundle", "{}", number, key)); a.status != http.StatusForbidden || a.code() != "forbidden_role" {
		t.Errorf("register pushing config: %d %s", a.status, a.raw)
	}

	// The payer pays it; the register reads the day's totals and status.
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(doc.Request(), payer, paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err := http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("pay: %d", resp.StatusCode)
	}
	csv := tm.send(tm.sign("GET", "/v1/totals?format=csv", "", number, key))
	if csv.status != http.StatusOK || !strings.Contains(string(csv.raw), ",ETH,18,taken,1,20000000000000000,0.02,chain-1337\n") {
		t.Errorf("totals CSV: %d %s", csv.status, csv.raw)
	}
	st := tm.send(tm.sign("GET", "/v1/status", "", number, key))
	if st.status != http.StatusOK || st.body["terminal"] != "net-till" || st.body["configVersion"] != 0.0 ||
		st.body["queue"].(map[string]any)["queued"] != 1.0 || st.body["online"] != false || st.body["lastSync"] != nil {
		t.Errorf("status: %d %s", st.status, st.raw)
	}
	metrics := tm.operator("GET", "/metrics", "")
	if !strings.Contains(string(metrics.raw), "showpos_payments_accepted_total 1\n") ||
		!strings.Contains(string(metrics.raw), `showpos_queue_depth{network="chain-1337",state="queued"} 1`) {
		t.Errorf("metrics:\n%s", metrics.raw)
	}

	// After a restart the nonce is still spent.
	tm.restart()
	if a := tm.send(create); a.status != http.StatusUnauthorized || a.code() != "replayed_nonce" {
		t.Errorf("replay after a restart: %d %s", a.status, a.raw)
	}
	if a := tm.send(tm.sign("GET", "/v1/requests/"+doc.ID, "", number, key)); a.status != http.StatusOK || a.body["status"] != "paid" {
		t.Errorf("read after restart: %d %s", a.status, a.raw)
	}
	tm.operator("POST", "/v1/clients/"+number+"/revoke", "")
	if a := tm.send(tm.sign("GET", "/v1/status", "", number, key)); a.status != http.StatusUnauthorized || a.code() != "revoked_client" {
		t.Errorf("revoked: %d %s", a.status, a.raw)
	}
}

// fleetKeys makes a fleet key pair and the [fleet] table that pins it.
func fleetKeys(t *testing.T) (ed25519.PrivateKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv, "\n[fleet]\npublic_key = \"" + hex.EncodeToString(pub) + "\"\ngroups = [\"cafes\"]\n"
}

func bundle(t *testing.T, priv ed25519.PrivateKey, p fleet.Payload) string {
	t.Helper()
	if p.Issued.IsZero() {
		p.Issued = time.Now()
	}
	if p.Expires.IsZero() {
		p.Expires = time.Now().Add(time.Hour)
	}
	b, err := fleet.Sign(priv, p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newRequest makes a request on the operator socket and returns it.
func (tm *terminal) newRequest(amount string) (*request.Request, answer) {
	tm.t.Helper()
	a := tm.operator("POST", "/v1/requests", `{"amount":"`+amount+`"}`)
	if a.status != http.StatusCreated {
		return nil, a
	}
	doc, err := request.ParseDocument(a.raw)
	if err != nil {
		tm.t.Fatal(err)
	}
	return doc.Request(), a
}

// A fleet bundle pushed over the network changes the running terminal:
// merchant, assets and limits, RPC endpoints (its queued payment then
// settles on chain), texts; every refusal keeps it, also after a restart.
// A SIGHUP reloads the local file under the bundle.
func TestFleetBundleChangesTheRunningTerminal(t *testing.T) {
	node, err := devchain.Start(context.Background(), devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	priv, fleetTable := fleetKeys(t)
	local := fmt.Sprintf(`
assets = [{ symbol = "ETH" }]
[terminal]
id = "fleet-till"
data_dir = "DATA"
request_ttl = "5m"
[chain]
id = %d
probe_every = "200ms"
[broadcast]
poll = "50ms"
`, node.ChainID().Uint64()) + fleetTable
	tm := newTerminal(t, local)
	const number, key = "sn_fleet-hq", "sk_fleet-hq-service-key-0123456789abcdef"
	if a := tm.operator("POST", "/v1/clients", `{"name":"Fleet HQ","role":"fleet","number":"`+number+`","key":"`+key+`"}`); a.status != http.StatusCreated {
		t.Fatalf("fleet client: %d %s", a.status, a.raw)
	}
	push := func(b string) answer { return tm.send(tm.sign("POST", "/v1/fleet/bundle", b, number, key)) }

	// A payment taken with no chain endpoints waits in the queue.
	r, _ := tm.newRequest("0.01")
	tx, err := paytx.Build(r, node.Payers()[0].Key, paytx.Options{FeeCap: big.NewInt(50e9)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": r.ID, "rawTx": hexutil.Encode(raw)})
	resp, err := http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("pay: %v %v", resp, err)
	}
	resp.Body.Close()

	newMerchant := common.HexToAddress("0x00000000000000000000000000000000000bEEF1")
	v1 := fmt.Sprintf(`
terminal.merchant_name = "Night Cafe"
texts.welcome = "Tap to pay"
merchant.address = %q
chain.rpc = [%q]
[[assets]]
symbol = "ETH"
max_payment = "0.5"
`, newMerchant.Hex(), node.Endpoint())
	a := push(bundle(t, priv, fleet.Payload{Version: 1, Targets: fleet.Targets{Groups: []string{"cafes"}}, Config: v1}))
	if a.status != http.StatusOK || a.body["version"] != 1.0 || a.body["changed"] != true {
		t.Fatalf("push v1: %d %s", a.status, a.raw)
	}
	r, _ = tm.newRequest("0.1")
	if r.Merchant != newMerchant {
		t.Errorf("new request pays %s, want %s", r.Merchant.Hex(), newMerchant.Hex())
	}
	if _, a := tm.newRequest("0.6"); a.code() != "payment_limit" {
		t.Errorf("request over the new limit: %d %s", a.status, a.raw)
	}
	// The new endpoint drains the queue.
	waitState(t, tm, tx.Hash(), "confirmed")

	other, _ := fleetKeys(t)
	for _, tc := range []struct {
		name   string
		bundle string
		status int
		code   string
	}{
		{"rollback to the same version", bundle(t, priv, fleet.Payload{Version: 1, Config: `terminal.merchant_name = "Old"`}), 409, "not_newer"},
		{"another terminal", bundle(t, priv, fleet.Payload{Version: 2, Targets: fleet.Targets{Terminals: []string{"till-99"}}, Config: `terminal.merchant_name = "X"`}), 422, "wrong_target"},
		{"expired", bundle(t, priv, fleet.Payload{Version: 2, Issued: time.Now().Add(-2 * time.Hour), Expires: time.Now().Add(-time.Hour), Config: `terminal.merchant_name = "X"`}), 422, "expired"},
		{"forbidden key", bundle(t, priv, fleet.Payload{Version: 2, Config: "[api]\nlisten = \"0.0.0.0:1\"\n"}), 422, "bad_config"},
		{"not the fleet's key", bundle(t, other, fleet.Payload{Version: 2, Config: `terminal.merchant_name = "X"`}), 403, "bad_bundle_signature"},
		{"not a bundle", `{"payload":"bm9wZQ=="}`, 400, "bad_bundle"},
	} {
		if a := push(tc.bundle); a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.raw, tc.status, tc.code)
		}
	}
	st := tm.operator("GET", "/v1/status", "")
	cfgStatus, _ := st.body["config"].(map[string]any)
	refusal, _ := cfgStatus["lastRefusal"].(map[string]any)
	if st.body["configVersion"] != 1.0 || refusal["code"] != "bad_bundle" || st.body["online"] != true || st.body["lastSync"] == nil {
		t.Errorf("status after refusals: %s", st.raw)
	}
	if r, _ := tm.newRequest("0.1"); r.Merchant != newMerchant {
		t.Errorf("a refusal changed the merchant to %s", r.Merchant.Hex())
	}

	// A restart runs the stored bundle, and a rollback is still refused.
	tm.restart()
	if st := tm.operator("GET", "/v1/status", ""); st.body["configVersion"] != 1.0 {
		t.Errorf("after restart: %s", st.raw)
	}
	if r, _ := tm.newRequest("0.1"); r.Merchant != newMerchant {
		t.Errorf("after restart the merchant is %s", r.Merchant.Hex())
	}
	if a := push(bundle(t, priv, fleet.Payload{Version: 1, Config: `terminal.merchant_name = "Old"`})); a.code() != "not_newer" {
		t.Errorf("rollback after restart: %d %s", a.status, a.raw)
	}

	// SIGHUP: the edited file's live keys apply under the bundle.
	tm.write(strings.Replace(local, `request_ttl = "5m"`, `request_ttl = "2m"`, 1))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := tm.newRequest("0.1")
		if r.ExpiresAt.Sub(r.CreatedAt) == 2*time.Minute && r.Merchant == newMerchant {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP: ttl %s, merchant %s", r.ExpiresAt.Sub(r.CreatedAt), r.Merchant.Hex())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitState polls the operator API until the payment is in state.
func waitState(t *testing.T, tm *terminal, hash common.Hash, state string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := tm.operator("GET", "/v1/payments", "")
		for _, p := range a.body["payments"].([]any) {
			p := p.(map[string]any)
			if p["txHash"] == hash.Hex() && p["state"] == state {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment %s never %s: %s", hash.Hex(), state, a.raw)
		}
		tm.operator("POST", "/v1/sync", "")
		time.Sleep(50 * time.Millisecond)
	}
}

// A bundle is read as any JSON reader reads it: member names exactly as
// documented, none twice in one object, at every depth. encoding/json
// alone applied {"version":2,…,"verſion":31} as version 31, and the last of
// two "terminals" lists, so the signer's tools and the terminal read one
// signed bundle differently. Pushed over the network each is refused
// bad_bundle naming the member, and the running and stored bundle stay.
func TestFleetBundleMemberNamesAreExact(t *testing.T) {
	priv, fleetTable := fleetKeys(t)
	tm := newTerminal(t, headless+fleetTable)
	const number, key = "sn_fleet-hq", "sk_fleet-hq-service-key-0123456789abcdef"
	if a := tm.operator("POST", "/v1/clients", `{"name":"Fleet HQ","role":"fleet","number":"`+number+`","key":"`+key+`"}`); a.status != http.StatusCreated {
		t.Fatalf("fleet client: %d %s", a.status, a.raw)
	}
	push := func(b string) answer { return tm.send(tm.sign("POST", "/v1/fleet/bundle", b, number, key)) }
	kept := common.HexToAddress("0x00000000000000000000000000000000000bEEF1")
	if a := push(bundle(t, priv, fleet.Payload{Version: 1, Config: fmt.Sprintf("merchant.address = %q", kept.Hex())})); a.status != http.StatusOK {
		t.Fatalf("push v1: %d %s", a.status, a.raw)
	}

	// signed is the envelope of a payload written by hand, signed as is.
	signed := func(payload string) string {
		raw, err := json.Marshal(map[string][]byte{"payload": []byte(payload), "signature": ed25519.Sign(priv, []byte(payload))})
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	times := fmt.Sprintf(`"issued":%q,"expires":%q`, time.Now().Add(-time.Minute).Format(time.RFC3339), time.Now().Add(time.Hour).Format(time.RFC3339))
	config := `"config":"merchant.address = \"0x000000000000000000000000000000000000BAD1\""`
	payload := func(members string) string { return `{` + times + `,` + config + `,` + members + `}` }
	good := payload(`"version":2`)
	for _, tc := range []struct{ name, bundle, says string }{
		{"long s beside version", signed(payload(`"version":2,"verſion":31`)), `unknown member "verſion"`},
		{"capitalised version", signed(payload(`"Version":2`)), `unknown member "Version"`},
		{"upper case version", signed(payload(`"VERSION":2`)), `unknown member "VERSION"`},
		{"version twice", signed(payload(`"version":2,"version":3`)), `duplicate member "version"`},
		{"terminals twice in targets", signed(payload(`"version":2,"targets":{"terminals":["till-99"],"terminals":["net-till"]}`)), `duplicate member "terminals" in targets`},
		{"folded name in targets", signed(payload(`"version":2,"targets":{"Groups":["cafes"]}`)), `unknown member "Groups" in targets`},
		{"data after the payload", signed(good + ` {}`), "data after"},
		{"capitalised envelope member", strings.Replace(signed(good), `"payload"`, `"Payload"`, 1), `unknown member "Payload"`},
	} {
		a := push(tc.bundle)
		e, _ := a.body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if a.status != http.StatusBadRequest || a.code() != "bad_bundle" || !strings.Contains(msg, tc.says) {
			t.Errorf("%s: %d %s, want 400 bad_bundle saying %q", tc.name, a.status, a.raw, tc.says)
		}
	}
	check := func(when string) {
		t.Helper()
		if st := tm.operator("GET", "/v1/status", ""); st.body["configVersion"] != 1.0 {
			t.Errorf("%s: status %s", when, st.raw)
		}
		if r, _ := tm.newRequest("0.1"); r == nil || r.Merchant != kept {
			t.Errorf("%s: a refused bundle changed the merchant", when)
		}
	}
	check("after the refusals")
	tm.restart()
	check("after a restart")
	// The same payload, named as documented, is taken.
	if a := push(signed(good)); a.status != http.StatusOK || a.body["version"] != 2.0 {
		t.Errorf("the exact bundle: %d %s", a.status, a.raw)
	}
}
