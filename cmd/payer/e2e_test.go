package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/terminal/config/configtest"
	"showpos/terminal/screen"
	"showpos/tools/devchain"
	"showpos/tools/qrread"
)

// TestAgainstRealPosdAndDevnet builds the real posd and devnet binaries and
// runs the payer against them: posd with the simulated board, broadcasting
// to devnet. It proves the HTTP path ends confirmed on chain, the QR path
// (payer API qr.png) pays a token request to confirmation, every -wrong
// variant draws its refusal code, a wrong -signer is refused, and that a
// sale keyed on the simulator's keypad is paid through each channel (HTTP
// with the QR read off the simulated display, the scanner pty, an NFC
// tap), shows PAID on the simulated display and is confirmed on chain.
func TestAgainstRealPosdAndDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs posd and devnet")
	}
	bin := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"posd", "devnet"} {
		wg.Go(func() {
			out, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), "showpos/cmd/"+name).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", name, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Every server binds port 0 and says where it is: devnet on its
	// output, posd in its status.
	// devnet makes the terminal's relayer key, as posd would, and funds
	// its account: the relayer pays the gas of settling authorizations.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	rpc := endpoint(t, start(t, filepath.Join(bin, "devnet"), "-addr", "127.0.0.1:0", "-payers", "3",
		"-relayer-key", filepath.Join(dir, "data", "relayer.key")))
	waitRPC(t, rpc)

	cfg := filepath.Join(dir, "posd.toml")
	// Laid over the test config (configtest: the dev chain's id, ETH and TUSD).
	err := os.WriteFile(cfg, []byte(configtest.Text(t, fmt.Sprintf(`
[terminal]
id = "payer-e2e"
data_dir = %q
[api]
listen = "127.0.0.1:0"
[chain]
rpc = [%q]
probe_every = "200ms"
[broadcast]
poll = "50ms"
[watch]
poll = "100ms"
[relay]
poll = "200ms"
[payments]
min_fee_cap_wei = "1000000000"
[[assets]]
symbol = "TUSD"
authorization = "eip3009"
domain_name = %q
domain_version = %q
[board.display]
driver = "virtual"
[board.keypad]
driver = "virtual"
[board.scanner]
driver = "virtual"
[board.nfc]
driver = "virtual"
[board.indicator]
driver = "virtual"
[board.virtual]
listen = "127.0.0.1:0"
`, filepath.Join(dir, "data"), rpc, devchain.TokenName, devchain.TokenVersion))), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	start(t, filepath.Join(bin, "posd"), "-config", cfg)
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	waitOK(t, op, "http://posd/v1/payments")
	var st struct {
		Listen struct{ API, Simulator string }
	}
	if err := json.Unmarshal(getBody(t, op, "http://posd/v1/status"), &st); err != nil || st.Listen.API == "" || st.Listen.Simulator == "" {
		t.Fatalf("status listen: %+v %v", st.Listen, err)
	}
	apiAddr := st.Listen.API
	simAddr := strings.TrimSuffix(strings.TrimPrefix(st.Listen.Simulator, "http://"), "/")
	terminal := "http://" + apiAddr
	state := t.TempDir()
	base := []string{"-terminal", terminal, "-rpc", rpc, "-state", state}

	// HTTP: 202, then confirmed on the dev chain.
	doc := newRequest(t, op, `{"amount":"0.01"}`)
	signer := doc["signer"].(string)
	code, out, _ := runPayer(t, append(base, "-payer", "1", "-signer", signer, "-json")...)
	var res result
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.HTTPStatus != http.StatusAccepted || res.NonceSource != "chain pending nonce" {
		t.Fatalf("pay over HTTP: exit %d, %+v", code, res)
	}
	waitConfirmed(t, op, rpc, res.TxHash)

	// A wallet that sends the transfer itself (-via chain): the terminal is
	// handed nothing, its watcher sees the transfer on chain and the
	// request is paid. The same request paid again, as a wallet would pay a
	// request it paid before, is money that paid nothing: unmatched, listed
	// apart, never lost.
	doc = newRequest(t, op, `{"amount":"0.02"}`)
	id := doc["id"].(string)
	code, out, _ = runPayer(t, append(base, "-id", id, "-payer", "2", "-via", "chain", "-json")...)
	res = result{}
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.Block == nil {
		t.Fatalf("pay -via chain: exit %d, %s", code, out)
	}
	waitListed(t, op, "http://posd/v1/payments?state=confirmed", res.TxHash, `"source":"chain"`)
	if body := string(getBody(t, http.DefaultClient, terminal+"/api/showpos/getPaymentRequest?id="+id)); !strings.Contains(body, `"status":"paid"`) ||
		!strings.Contains(body, res.TxHash) {
		t.Fatalf("request after a transfer on chain: %s", body)
	}
	again := sendValue(t, rpc, devchain.PayerKey(2), common.HexToAddress(doc["merchant"].(string)), doc["amount"].(string))
	waitListed(t, op, "http://posd/v1/payments?state=unmatched", again.Hex(), `"source":"chain"`)

	// Every -wrong variant draws its code. reused needs a fresh request of
	// the same terms as the payment above.
	newRequest(t, op, `{"amount":"0.01"}`)
	for _, wrong := range []string{"reused", "underpaid", "overpaid", "wrong-chain", "wrong-recipient", "expired-fee"} {
		code, out, _ := runPayer(t, append(base, "-payer", "1", "-wrong", wrong, "-json")...)
		var res result
		json.Unmarshal([]byte(out), &res)
		if code != exitOK || res.Code != expectedCode[wrong] {
			t.Errorf("-wrong %s: exit %d, code %q, want %q", wrong, code, res.Code, expectedCode[wrong])
		}
	}

	// An EIP-3009 authorization (-via authorization) for a TUSD request:
	// accepted offline (202) and kept queued for the relayer; the chain is
	// not involved. Then each wrong variant draws its code; reused needs
	// the authorization above.
	doc = newRequest(t, op, `{"amount":"1.25","asset":"TUSD"}`)
	code, out, _ = runPayer(t, append(base, "-payer", "1", "-via", "authorization", "-signer", signer, "-json")...)
	res = result{}
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.HTTPStatus != http.StatusAccepted || res.RequestID != doc["id"] || res.TxHash == "" {
		t.Fatalf("pay -via authorization: exit %d, %s", code, out)
	}
	// The chain answered: the token's DOMAIN_SEPARATOR() is the configured domain's.
	waitListed(t, op, "http://posd/v1/status", `"authorizations":[{"chainId":1337,"symbol":"TUSD"`, `"match":true`)
	// The relayer settles it: the payment is confirmed by its
	// transferWithAuthorization, the tokens move once, and the watcher
	// takes that transfer for the authorization's (no chain payment, no
	// unmatched receipt).
	merchant := common.HexToAddress(doc["merchant"].(string))
	settled := waitSettled(t, op, rpc, res.TxHash)
	if got := tokenBalance(t, rpc, merchant); got.Cmp(big.NewInt(1_250_000)) != 0 {
		t.Errorf("the merchant holds %s TUSD units after the settlement, want 1250000", got)
	}
	waitWatched(t, op, rpc, settled)
	for _, state := range []string{"unmatched", "seen", "confirmed", "final"} {
		for _, p := range listPayments(t, op, state) {
			if p.Source == "chain" && p.Asset == "TUSD" {
				t.Errorf("the settlement was counted again: a %s chain payment %+v", state, p)
			}
		}
	}
	var status struct {
		Relayer struct {
			Address common.Address
			Balance string
			Low     bool
		}
	}
	if err := json.Unmarshal(getBody(t, op, "http://posd/v1/status"), &status); err != nil || status.Relayer.Address == (common.Address{}) ||
		status.Relayer.Balance == "" || status.Relayer.Low {
		t.Errorf("status relayer: %+v %v", status.Relayer, err)
	}
	newRequest(t, op, `{"amount":"1.25","asset":"TUSD"}`)
	for _, wrong := range []string{"reused", "underpaid", "overpaid", "wrong-chain", "wrong-recipient", "expires-soon", "bad-signature"} {
		code, out, _ := runPayer(t, append(base, "-payer", "1", "-via", "authorization", "-wrong", wrong, "-json")...)
		var res result
		json.Unmarshal([]byte(out), &res)
		if code != exitOK || res.Code != expectedAuthCode[wrong] {
			t.Errorf("-via authorization -wrong %s: exit %d, code %q, want %q (%s)", wrong, code, res.Code, expectedAuthCode[wrong], out)
		}
	}

	// A terminal other than the pinned one is refused before paying.
	other := common.HexToAddress("0x00000000000000000000000000000000000000aA").Hex()
	if code, _, stderr := runPayer(t, append(base, "-signer", other)...); code != exitFail || !strings.Contains(stderr, "refusing to pay") {
		t.Errorf("wrong -signer: exit %d, %q", code, stderr)
	}

	// QR: the payer API's qr.png of a token request, decoded and paid.
	doc = newRequest(t, op, `{"amount":"2.5","asset":"TUSD"}`)
	png := filepath.Join(t.TempDir(), "qr.png")
	img := getBody(t, http.DefaultClient, terminal+"/api/showpos/qr.png")
	if err := os.WriteFile(png, img, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runPayer(t, "-qr", png, "-rpc", rpc, "-state", state, "-payer", "2", "-signer", signer, "-json")
	res = result{}
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.Source != "qr-file" || res.RequestID != doc["id"] {
		t.Fatalf("pay from QR: exit %d, %+v", code, res)
	}
	waitConfirmed(t, op, rpc, res.TxHash)
	screens, err := screen.New(screen.Size{W: 320, H: 240})
	if err != nil {
		t.Fatal(err)
	}
	paid := screens.Result(screen.Result{Kind: screen.ResultPaid})
	// The cashier showed that request: keys pressed while it still settles
	// the payment are not taken (a loaded machine kept it there past the
	// confirmation, and the sale below was never keyed).
	waitPaidScreen(t, "http://"+simAddr, paid)

	// Scanner and NFC: the cashier takes them for the request it shows,
	// so the sale is keyed on the simulator's keypad first.
	var sim struct{ Scanner string }
	if err := json.Unmarshal(getBody(t, http.DefaultClient, "http://"+simAddr+"/sim/state"), &sim); err != nil || sim.Scanner == "" {
		t.Fatalf("sim state: %+v %v", sim, err)
	}
	for _, via := range [][]string{
		{"-via", "http", "-from-screen", "http://" + simAddr + "/sim/screen.png"}, // the QR read off the simulated display
		{"-via", "scanner", "-scanner", sim.Scanner},
		{"-via", "nfc", "-sim", "http://" + simAddr},
	} {
		for _, k := range []string{"cancel", "0", ".", "0", "2", "enter"} {
			resp, err := http.Post("http://"+simAddr+"/sim/key", "application/json", strings.NewReader(`{"key":"`+k+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		waitOnScreen(t, "http://"+apiAddr, "http://"+simAddr)
		code, out, _ := runPayer(t, append(append(base, "-payer", "0", "-json"), via...)...)
		res = result{}
		if code != exitOK || json.Unmarshal([]byte(out), &res) != nil {
			t.Fatalf("pay %v: exit %d, %s", via, code, out)
		}
		waitConfirmed(t, op, rpc, res.TxHash)
		waitPaidScreen(t, "http://"+simAddr, paid)
	}
}

// waitPaidScreen waits until the simulated display shows want.
func waitPaidScreen(t *testing.T, sim string, want image.Image) {
	t.Helper()
	for range 400 {
		if img, err := png.Decode(bytes.NewReader(getBody(t, http.DefaultClient, sim+"/sim/screen.png"))); err == nil && screen.SamePicture(img, want) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("the simulated display never showed PAID")
}

// waitOnScreen waits until the terminal has a pending request and the
// simulated display shows its QR: the request is stored, and answered on
// the API, a moment before the cashier has drawn it.
func waitOnScreen(t *testing.T, api, sim string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(api + "/api/showpos/getPaymentRequest")
		if err == nil {
			var d struct{ Status, URI string }
			json.NewDecoder(resp.Body).Decode(&d)
			resp.Body.Close()
			if d.Status == "pending" {
				img, err := png.Decode(bytes.NewReader(getBody(t, http.DefaultClient, sim+"/sim/screen.png")))
				if err == nil {
					if uri, err := qrread.Read(img); err == nil && uri == d.URI {
						return
					}
				}
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("no pending request's QR on screen")
}

// output is what a started binary wrote, read while it runs.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// endpoint waits for the JSON-RPC endpoint devnet prints at start.
func endpoint(t *testing.T, devnet *output) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for line := range strings.Lines(devnet.String()) {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "endpoint" {
				return f[1]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("devnet printed no endpoint:\n%s", devnet.String())
	return ""
}

// start runs a binary until the test ends, then interrupts it; its output
// (stdout and stderr) is returned, and logged if the test fails.
func start(t *testing.T, path string, args ...string) *output {
	t.Helper()
	cmd := exec.Command(path, args...)
	logs := new(output)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(path), logs.String())
		}
	})
	return logs
}

func unixClient(sock string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func waitRPC(t *testing.T, rpc string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := ethclient.DialContext(ctx, rpc)
		if err == nil {
			_, err = c.ChainID(ctx)
			c.Close()
		}
		cancel()
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("devnet did not come up")
}

func waitOK(t *testing.T, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer", url)
}

func getBody(t *testing.T, c *http.Client, url string) []byte {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

func newRequest(t *testing.T, op *http.Client, body string) map[string]any {
	t.Helper()
	resp, err := op.Post("http://posd/v1/requests", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("new request %s: %d %s", body, resp.StatusCode, b)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// waitConfirmed waits until the operator socket lists tx as confirmed (or
// final, past it) and the chain has a successful receipt for it.
func waitConfirmed(t *testing.T, op *http.Client, rpc, tx string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(string(getBody(t, op, "http://posd/v1/payments?state=confirmed")), tx) &&
		!strings.Contains(string(getBody(t, op, "http://posd/v1/payments?state=final")), tx) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not confirmed: %s", tx, getBody(t, op, "http://posd/v1/payments"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, err := ethclient.Dial(rpc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.TransactionReceipt(context.Background(), common.HexToHash(tx))
	if err != nil || r.Status != 1 {
		t.Fatalf("receipt of %s: %+v %v", tx, r, err)
	}
}

// waitSettled waits until the authorization auth is confirmed or final,
// checks its settlement transaction succeeded on chain, and returns it.
func waitSettled(t *testing.T, op *http.Client, rpc, auth string) common.Hash {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, state := range []string{"confirmed", "final"} {
			for _, p := range listPayments(t, op, state) {
				if p.TxHash != auth {
					continue
				}
				if p.Source != "authorization" || p.Settlement == "" {
					t.Fatalf("settled authorization: %+v", p)
				}
				c, err := ethclient.Dial(rpc)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				r, err := c.TransactionReceipt(context.Background(), common.HexToHash(p.Settlement))
				if err != nil || r.Status != 1 {
					t.Fatalf("receipt of the settlement %s: %+v %v", p.Settlement, r, err)
				}
				return common.HexToHash(p.Settlement)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not settled: %s\nstatus %s", auth, getBody(t, op, "http://posd/v1/payments"), getBody(t, op, "http://posd/v1/status"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listedPayment is a payment as GET /v1/payments lists it.
type listedPayment struct {
	TxHash, Source, Asset, State, Settlement string
}

func listPayments(t *testing.T, op *http.Client, state string) []listedPayment {
	t.Helper()
	var out struct{ Payments []listedPayment }
	if err := json.Unmarshal(getBody(t, op, "http://posd/v1/payments?state="+state), &out); err != nil {
		t.Fatalf("payments?state=%s: %v", state, err)
	}
	return out.Payments
}

// waitWatched waits until the watcher has read the block of tx.
func waitWatched(t *testing.T, op *http.Client, rpc string, tx common.Hash) {
	t.Helper()
	c, err := ethclient.Dial(rpc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.TransactionReceipt(t.Context(), tx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct{ Watch struct{ Height uint64 } }
		if err := json.Unmarshal(getBody(t, op, "http://posd/v1/status"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Watch.Height >= r.BlockNumber.Uint64() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher is at %d, the settlement at %d", st.Watch.Height, r.BlockNumber)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tokenBalance is holder's Test USD balance at the chain's head.
func tokenBalance(t *testing.T, rpc string, holder common.Address) *big.Int {
	t.Helper()
	c, err := ethclient.Dial(rpc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := append(common.FromHex("0x70a08231"), common.LeftPadBytes(holder[:], 32)...) // balanceOf(address)
	out, err := c.CallContract(t.Context(), ethereum.CallMsg{To: &devchain.TokenAddr, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(out)
}

// waitListed waits until url (an operator socket listing of payments)
// lists tx, and checks that the listing has each of wants.
func waitListed(t *testing.T, op *http.Client, url, tx string, wants ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		body := string(getBody(t, op, url))
		if strings.Contains(body, tx) {
			for _, w := range wants {
				if !strings.Contains(body, w) {
					t.Fatalf("%s lists %s without %s: %s", url, tx, w, body)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not list %s: %s", url, tx, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendValue sends wei (a decimal string) from key to to on the chain at
// rpc, as any wallet does, and waits until it is mined.
func sendValue(t *testing.T, rpc string, key *ecdsa.PrivateKey, to common.Address, wei string) common.Hash {
	t.Helper()
	ctx := t.Context()
	c, err := ethclient.Dial(rpc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	value, ok := new(big.Int).SetString(wei, 10)
	if !ok {
		t.Fatalf("amount %q", wei)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := c.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(id), &types.DynamicFeeTx{ChainID: id, Nonce: nonce,
		GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(50e9), Gas: 21_000, To: &to, Value: value})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if r, err := c.TransactionReceipt(ctx, tx.Hash()); err == nil && r.Status == types.ReceiptStatusSuccessful {
			return tx.Hash()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not mined", tx.Hash().Hex())
	return common.Hash{}
}
