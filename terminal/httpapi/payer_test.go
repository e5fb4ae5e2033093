package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"image/png"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/asset"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/paytx"
	"showpos/tools/qrread"
)

// testConfig is laid over the fixture (configtest: ETH and TUSD): a fee
// floor, ETH limits, a TUSD gas minimum.
const testConfig = `
[terminal]
id = "test-till"
request_ttl = "2m"
public_url = "http://pos.test"

[payments]
min_fee_cap_wei = "1000000000"

[[assets]]
symbol = "ETH"
max_payment = "1"
max_unsettled = "1.5"

[[assets]]
symbol = "TUSD"
min_gas = 45000
`

// terminal is a whole terminal on loopback: a real bbolt file, the real
// till, and the payer API on a real HTTP server.
type terminal struct {
	t     *testing.T
	path  string
	cfg   *config.Config
	store *store.Store
	till  *checkout.Service
	clock *clocktest.Fake
	srv   *httptest.Server
	key   *ecdsa.PrivateKey // the terminal key
}

func newTerminal(t *testing.T) *terminal {
	t.Helper()
	return newTerminalWith(t, testConfig)
}

func newTerminalWith(t *testing.T, cfgText string) *terminal {
	t.Helper()
	return newTerminalRates(t, cfgText, nil)
}

// newTerminalRates is newTerminalWith a rate source for the till.
func newTerminalRates(t *testing.T, cfgText string, rates checkout.Rates) *terminal {
	t.Helper()
	cfg := configtest.New(t, cfgText)
	path := filepath.Join(t.TempDir(), "showpos.db")
	st, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	clock := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, Clock: clock, Rates: rates})
	srv := httptest.NewServer(httpapi.Payer(till, nil))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &terminal{t: t, path: path, cfg: cfg, store: st, till: till, clock: clock, srv: srv, key: key}
}

func (tm *terminal) request(amount, symbol string) *request.Request {
	tm.t.Helper()
	doc, err := tm.till.NewRequest(context.Background(), amount, symbol, "")
	if err != nil {
		tm.t.Fatal(err)
	}
	return doc.Request()
}

type answer struct {
	status int
	body   map[string]any
}

func (a answer) code() string {
	e, _ := a.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (tm *terminal) post(path string, body []byte) answer {
	tm.t.Helper()
	resp, err := http.Post(tm.srv.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	return decodeAnswer(tm.t, resp)
}

func (tm *terminal) get(path string) answer {
	tm.t.Helper()
	resp, err := http.Get(tm.srv.URL + path)
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	return decodeAnswer(tm.t, resp)
}

func decodeAnswer(t *testing.T, resp *http.Response) answer {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("status %d, body is not JSON: %q", resp.StatusCode, b)
	}
	return a
}

func (tm *terminal) broadcast(id string, tx *types.Transaction) answer {
	tm.t.Helper()
	raw, err := tx.MarshalBinary()
	if err != nil {
		tm.t.Fatal(err)
	}
	return tm.broadcastRaw(id, hexutil.Encode(raw))
}

func (tm *terminal) broadcastRaw(id, rawHex string) answer {
	body, _ := json.Marshal(map[string]string{"requestId": id, "rawTx": rawHex})
	return tm.post(checkout.BroadcastPath, body)
}

func sign(t *testing.T, r *request.Request, key *ecdsa.PrivateKey, o paytx.Options) *types.Transaction {
	t.Helper()
	tx, err := paytx.Build(r, key, o)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPaymentAcceptedOnceAndRepeatAnswersTheSame(t *testing.T) {
	for _, tc := range []struct {
		name, amount, symbol string
		typ                  uint8
	}{
		{"legacy ETH", "0.01", "ETH", types.LegacyTxType},
		{"access list ETH", "0.2", "ETH", types.AccessListTxType},
		{"dynamic fee ETH", "1", "ETH", types.DynamicFeeTxType},
		{"legacy TUSD", "12.5", "TUSD", types.LegacyTxType},
		{"access list TUSD", "0.000001", "TUSD", types.AccessListTxType},
		{"dynamic fee TUSD", "999", "TUSD", types.DynamicFeeTxType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTerminal(t)
			r := tm.request(tc.amount, tc.symbol)
			payer := newKey(t)
			tx := sign(t, r, payer, paytx.Options{Type: tc.typ, Nonce: 7})

			a := tm.broadcast(r.ID, tx)
			if a.status != http.StatusAccepted {
				t.Fatalf("first broadcast: %d %v", a.status, a.body)
			}
			want := map[string]any{
				"requestId": r.ID,
				"txHash":    tx.Hash().Hex(),
				"from":      crypto.PubkeyToAddress(payer.PublicKey).Hex(),
				"status":    "queued",
			}
			for k, v := range want {
				if a.body[k] != v {
					t.Errorf("%s = %v, want %v", k, a.body[k], v)
				}
			}
			again := tm.broadcast(r.ID, tx)
			if again.status != http.StatusOK {
				t.Fatalf("repeat: %d %v", again.status, again.body)
			}
			for k, v := range want {
				if again.body[k] != v {
					t.Errorf("repeat %s = %v, want %v", k, again.body[k], v)
				}
			}

			doc := tm.get(checkout.RequestPath + "?id=" + r.ID)
			if doc.status != http.StatusOK || doc.body["status"] != "paid" || doc.body["paidTx"] != tx.Hash().Hex() {
				t.Errorf("request after payment: %d status=%v paidTx=%v", doc.status, doc.body["status"], doc.body["paidTx"])
			}
			p, err := tm.store.Payment(tx.Hash())
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tx.MarshalBinary()
			if !bytes.Equal(p.Raw, raw) || p.State != store.PaymentQueued || p.Nonce != 7 {
				t.Errorf("stored payment = %+v", p)
			}
		})
	}
}

func TestGetPaymentRequest(t *testing.T) {
	tm := newTerminal(t)
	if a := tm.get(checkout.RequestPath); a.status != http.StatusNotFound || a.code() != "no_request" {
		t.Errorf("nothing on screen: %d %v", a.status, a.body)
	}
	tm.request("0.5", "ETH")
	r := tm.request("3", "TUSD")
	a := tm.get(checkout.RequestPath)
	if a.status != http.StatusOK || a.body["id"] != r.ID || a.body["status"] != "pending" {
		t.Fatalf("on screen: %d %v", a.status, a.body)
	}
	raw, _ := json.Marshal(a.body)
	doc, err := request.ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := doc.Verify()
	if err != nil || signer != tm.till.Signer() {
		t.Errorf("served document verifies to %s, %v; want %s", signer, err, tm.till.Signer())
	}
	if !strings.HasPrefix(doc.URI, "ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@1337/transfer?") {
		t.Errorf("uri %s", doc.URI)
	}
	if a := tm.get(checkout.RequestPath + "?id=ffff"); a.status != http.StatusNotFound || a.code() != "unknown_request" {
		t.Errorf("unknown id: %d %v", a.status, a.body)
	}
	tm.clock.Advance(3 * time.Minute)
	if a := tm.get(checkout.RequestPath + "?id=" + r.ID); a.body["status"] != "expired" {
		t.Errorf("after ttl: %v", a.body["status"])
	}
}

// Every refusal the payer API can give, each through the real server, with
// the stable code and status, and nothing stored.
func TestBroadcastRefusals(t *testing.T) {
	merchant := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	other := common.HexToAddress("0x1111111111111111111111111111111111111111")
	tests := []struct {
		name   string
		symbol string
		amount string
		opts   paytx.Options
		mutate func(tm *terminal, r *request.Request) // before paying
		status int
		code   string
	}{
		{name: "wrong chain", opts: paytx.Options{Type: types.DynamicFeeTxType, ChainID: big.NewInt(1)}, status: 422, code: "wrong_chain"},
		{name: "wrong recipient", opts: paytx.Options{To: &other}, status: 422, code: "wrong_recipient"},
		{name: "underpaid", opts: paytx.Options{Value: big.NewInt(1)}, status: 422, code: "underpaid"},
		{name: "overpaid", opts: paytx.Options{Value: big.NewInt(2e16)}, status: 422, code: "overpaid"},
		{name: "gas too low", opts: paytx.Options{Gas: 20_999}, status: 422, code: "gas_too_low"},
		{name: "data on native", opts: paytx.Options{Data: []byte{1}, Gas: 30_000}, status: 422, code: "unexpected_data"},
		{name: "fee below floor", opts: paytx.Options{FeeCap: big.NewInt(999_999_999)}, status: 422, code: "fee_too_low"},
		{name: "tip above cap", opts: paytx.Options{Type: types.DynamicFeeTxType, TipCap: big.NewInt(3e9)}, status: 422, code: "fee_invalid"},
		{name: "token to merchant", symbol: "TUSD", amount: "5", opts: paytx.Options{To: &merchant}, status: 422, code: "wrong_recipient"},
		{name: "token with value", symbol: "TUSD", amount: "5", opts: paytx.Options{Value: big.NewInt(1)}, status: 422, code: "unexpected_value"},
		{name: "token wrong amount", symbol: "TUSD", amount: "5", opts: paytx.Options{Data: paytx.TransferData(merchant, big.NewInt(4_999_999))}, status: 422, code: "underpaid"},
		{name: "token paid more", symbol: "TUSD", amount: "5", opts: paytx.Options{Data: paytx.TransferData(merchant, big.NewInt(5_000_001))}, status: 422, code: "overpaid"},
		{name: "token not a transfer", symbol: "TUSD", amount: "5", opts: paytx.Options{Data: []byte{0x09, 0x5e, 0xa7, 0xb3}}, status: 422, code: "wrong_transfer"},
		{name: "token to other", symbol: "TUSD", amount: "5", opts: paytx.Options{Data: paytx.TransferData(other, big.NewInt(5_000_000))}, status: 422, code: "wrong_transfer"},
		{name: "token gas below minimum", symbol: "TUSD", amount: "5", opts: paytx.Options{Gas: 44_999}, status: 422, code: "gas_too_low"},
		{name: "expired", mutate: func(tm *terminal, _ *request.Request) { tm.clock.Advance(2 * time.Minute) }, status: 410, code: "expired"},
		{name: "cancelled", mutate: func(tm *terminal, r *request.Request) {
			if _, err := tm.till.Cancel(context.Background(), r.ID); err != nil {
				tm.t.Fatal(err)
			}
		}, status: 409, code: "cancelled"},
		{name: "already paid", mutate: func(tm *terminal, r *request.Request) {
			if a := tm.broadcast(r.ID, sign(tm.t, r, newKey(tm.t), paytx.Options{})); a.status != 202 {
				tm.t.Fatalf("first payer: %v", a.body)
			}
		}, status: 409, code: "already_paid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTerminal(t)
			symbol, amount := tc.symbol, tc.amount
			if symbol == "" {
				symbol, amount = "ETH", "0.01"
			}
			r := tm.request(amount, symbol)
			if tc.mutate != nil {
				tc.mutate(tm, r)
			}
			tx := sign(t, r, newKey(t), tc.opts)
			a := tm.broadcast(r.ID, tx)
			if a.status != tc.status || a.code() != tc.code {
				t.Fatalf("got %d %q (%v), want %d %q", a.status, a.code(), a.body, tc.status, tc.code)
			}
			if _, err := tm.store.Payment(tx.Hash()); err == nil {
				t.Error("refused payment was stored")
			}
		})
	}
}

func TestBroadcastRefusesReuseAndConflicts(t *testing.T) {
	tm := newTerminal(t)
	payer := newKey(t)
	r1 := tm.request("0.01", "ETH")
	tx := sign(t, r1, payer, paytx.Options{Nonce: 1})
	if a := tm.broadcast(r1.ID, tx); a.status != 202 {
		t.Fatalf("first: %v", a.body)
	}
	r2 := tm.request("0.01", "ETH")
	if a := tm.broadcast(r2.ID, tx); a.status != 409 || a.code() != "tx_reused" {
		t.Errorf("same tx for another request: %d %v", a.status, a.body)
	}
	// Same sender and nonce, different transaction (another fee).
	tx2 := sign(t, r2, payer, paytx.Options{Nonce: 1, FeeCap: big.NewInt(3e9)})
	if a := tm.broadcast(r2.ID, tx2); a.status != 409 || a.code() != "nonce_conflict" {
		t.Errorf("sender+nonce reused: %d %v", a.status, a.body)
	}
	if a := tm.broadcast(r2.ID, sign(t, r2, payer, paytx.Options{Nonce: 2})); a.status != 202 {
		t.Errorf("next nonce: %d %v", a.status, a.body)
	}
}

func TestBroadcastLimits(t *testing.T) {
	tm := newTerminal(t)
	if _, err := tm.till.NewRequest(context.Background(), "1.01", "ETH", ""); err == nil {
		t.Error("request above the per-payment maximum was created")
	}
	r := tm.request("1", "ETH")
	if a := tm.broadcast(r.ID, sign(t, r, newKey(t), paytx.Options{})); a.status != 202 {
		t.Fatalf("1 ETH: %v", a.body)
	}
	// 1 ETH unsettled; the limit is 1.5.
	r2 := tm.request("0.6", "ETH")
	if a := tm.broadcast(r2.ID, sign(t, r2, newKey(t), paytx.Options{})); a.status != 403 || a.code() != "exposure_limit" {
		t.Errorf("over exposure: %d %v", a.status, a.body)
	}
	r3 := tm.request("0.5", "ETH")
	if a := tm.broadcast(r3.ID, sign(t, r3, newKey(t), paytx.Options{})); a.status != 202 {
		t.Errorf("up to exposure: %d %v", a.status, a.body)
	}
}

func TestBroadcastBadBodies(t *testing.T) {
	tm := newTerminal(t)
	r := tm.request("0.01", "ETH")
	blob := types.NewTx(&types.BlobTx{})
	blobRaw, _ := types.SignTx(blob, types.LatestSignerForChainID(big.NewInt(1337)), newKey(t))
	blobBytes, _ := blobRaw.MarshalBinary()
	unprotected, _ := types.SignTx(types.NewTx(&types.LegacyTx{To: &common.Address{}, Gas: 21000, GasPrice: big.NewInt(2e9)}), types.HomesteadSigner{}, newKey(t))
	unprotectedBytes, _ := unprotected.MarshalBinary()
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"not json", `{"requestId":`, 400, "bad_request"},
		{"unknown field", `{"requestId":"` + r.ID + `","rawTx":"0x00","extra":1}`, 400, "bad_request"},
		{"two objects", `{"requestId":"a","rawTx":"0x00"}{}`, 400, "bad_request"},
		{"no request id", `{"rawTx":"0x00"}`, 400, "bad_request"},
		{"not hex", `{"requestId":"` + r.ID + `","rawTx":"0xzz"}`, 400, "invalid_tx"},
		{"garbage tx", `{"requestId":"` + r.ID + `","rawTx":"0xdeadbeef"}`, 400, "invalid_tx"},
		{"unknown request", `{"requestId":"00000000000000000000000000000000","rawTx":"0xdeadbeef"}`, 404, "unknown_request"},
		{"blob tx", `{"requestId":"` + r.ID + `","rawTx":"` + hexutil.Encode(blobBytes) + `"}`, 422, "unsupported_tx_type"},
		{"unprotected legacy", `{"requestId":"` + r.ID + `","rawTx":"` + hexutil.Encode(unprotectedBytes) + `"}`, 422, "unsupported_tx_type"},
		{"tx over 128 KiB", `{"requestId":"` + r.ID + `","rawTx":"0x` + strings.Repeat("00", 128<<10+1) + `"}`, 413, "tx_too_large"},
		{"body over cap", `{"requestId":"` + r.ID + `","rawTx":"0x` + strings.Repeat("00", 200<<10) + `"}`, 413, "body_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tm.post(checkout.BroadcastPath, []byte(tc.body))
			if a.status != tc.status || a.code() != tc.code {
				t.Errorf("got %d %q (%v), want %d %q", a.status, a.code(), a.body["error"], tc.status, tc.code)
			}
		})
	}
	if a := tm.get(checkout.BroadcastPath); a.status != 405 || a.code() != "method_not_allowed" {
		t.Errorf("GET broadcastTx: %d %v", a.status, a.body)
	}
	ps, err := tm.store.Payments(store.PaymentFilter{})
	if err != nil || len(ps) != 0 {
		t.Errorf("bad bodies stored %d payments (%v)", len(ps), err)
	}
}

// A body is read as any JSON library reads it: member names exactly as
// documented, each once. encoding/json alone matched "RequestId",
// "requestid" or "requeſtId" to requestId and let the last duplicate win,
// so a payment was taken for a body that other readers (a proxy, a log, the
// payer's app) see with another request id or none. Each is refused
// bad_request naming the member, and no payment is stored.
func TestBroadcastRefusesMemberNamesNotExactlyDeclared(t *testing.T) {
	tm := newTerminal(t)
	r := tm.request("0.01", "ETH")
	raw, err := sign(t, r, newKey(t), paytx.Options{}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	id, tx := strconv.Quote(r.ID), strconv.Quote(hexutil.Encode(raw))
	tests := []struct{ name, body, says string }{
		{"capitalised", `{"RequestId":` + id + `,"rawTx":` + tx + `}`, `unknown member "RequestId"`},
		{"lower case beside the right one", `{"requestId":"00000000000000000000000000000000","requestid":` + id + `,"rawTx":` + tx + `}`, `unknown member "requestid"`},
		{"long s", `{"requeſtId":` + id + `,"rawTx":` + tx + `}`, `unknown member "requeſtId"`},
		{"upper case tx", `{"requestId":` + id + `,"RAWTX":` + tx + `}`, `unknown member "RAWTX"`},
		{"duplicate request id", `{"requestId":"00000000000000000000000000000000","requestId":` + id + `,"rawTx":` + tx + `}`, `duplicate member "requestId"`},
		{"duplicate tx", `{"requestId":` + id + `,"rawTx":"0x00","rawTx":` + tx + `}`, `duplicate member "rawTx"`},
		{"byte order mark", "\ufeff" + `{"requestId":` + id + `,"rawTx":` + tx + `}`, "invalid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tm.post(checkout.BroadcastPath, []byte(tc.body))
			e, _ := a.body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if a.status != 400 || a.code() != "bad_request" || !strings.Contains(msg, tc.says) {
				t.Errorf("got %d %v, want 400 bad_request saying %q", a.status, a.body, tc.says)
			}
		})
	}
	ps, err := tm.store.Payments(store.PaymentFilter{})
	if err != nil || len(ps) != 0 {
		t.Fatalf("refused bodies stored %d payments (%v)", len(ps), err)
	}
	// The same transaction, named as documented, is taken.
	if a := tm.post(checkout.BroadcastPath, []byte(`{"requestId":`+id+`,"rawTx":`+tx+`}`)); a.status != 202 {
		t.Fatalf("the exact body: %d %v", a.status, a.body)
	}
}

// Every payment that got a 202 is in the store after it is closed and
// opened again, byte for byte, and nothing that was refused is.
func TestAcceptedPaymentsSurviveReopen(t *testing.T) {
	tm := newTerminal(t)
	const payers = 64
	reqs := make([]*request.Request, payers)
	for i := range reqs {
		reqs[i] = tm.request("0.001", "ETH")
	}
	type result struct {
		tx     *types.Transaction
		status int
	}
	results := make([]result, payers*2)
	var wg sync.WaitGroup
	for i := range payers {
		for j := range 2 { // two payers race for each request: one must lose
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx := sign(t, reqs[i], newKey(t), paytx.Options{Type: types.DynamicFeeTxType})
				results[2*i+j] = result{tx, tm.broadcast(reqs[i].ID, tx).status}
			}()
		}
	}
	wg.Wait()
	tm.srv.Close()
	if err := tm.store.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(tm.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	accepted := 0
	for i, res := range results {
		p, err := st.Payment(res.tx.Hash())
		switch res.status {
		case http.StatusAccepted:
			accepted++
			raw, _ := res.tx.MarshalBinary()
			if err != nil || !bytes.Equal(p.Raw, raw) || p.RequestID != reqs[i/2].ID {
				t.Errorf("payment %d answered 202 but after reopen: %v", i, err)
			}
		case http.StatusConflict:
			if err == nil {
				t.Errorf("payment %d answered 409 but is stored", i)
			}
		default:
			t.Errorf("payment %d answered %d", i, res.status)
		}
	}
	if accepted != payers {
		t.Errorf("%d payments accepted for %d requests", accepted, payers)
	}
}

func TestQRImageOfTheRequestOnScreen(t *testing.T) {
	tm := newTerminal(t)
	resp, err := http.Get(tm.srv.URL + httpapi.QRPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("no request on screen: %d", resp.StatusCode)
	}
	doc, err := tm.till.NewRequest(context.Background(), "0.03", "TUSD", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(tm.srv.URL + httpapi.QRPath + "?module=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	text, err := qrread.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if text != doc.URI {
		t.Errorf("QR reads %q, want %q", text, doc.URI)
	}
}

// A request whose stored record is damaged is the terminal's fault, and
// sending again will not mend it: 500 store_damaged for the payer who
// reads it and for the one who pays it, never a 4xx blaming them.
func TestDamagedStoredRequest(t *testing.T) {
	tm := newTerminal(t)
	const id = "0123456789abcdef0123456789abcdef"
	now := tm.clock.Now()
	err := tm.store.PutRequest(context.Background(), store.Request{
		ID: id, Asset: "ETH", Amount: big.NewInt(1), CreatedAt: now, ExpiresAt: now.Add(time.Minute),
		Status: store.RequestPending, Doc: []byte{request.CompactVersion, 0x00, 0x01},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := tm.get(checkout.RequestPath + "?id=" + id); a.status != http.StatusInternalServerError || a.code() != "store_damaged" {
		t.Errorf("GET the damaged request: %d %s, want 500 store_damaged", a.status, a.code())
	}
	payer, _ := crypto.GenerateKey()
	r := &request.Request{ID: id, Merchant: tm.cfg.Merchant, ChainID: tm.cfg.ChainID,
		Asset: asset.Asset{Symbol: "ETH", Decimals: 18}, Amount: big.NewInt(1)}
	if a := tm.broadcast(id, sign(t, r, payer, paytx.Options{})); a.status != http.StatusInternalServerError || a.code() != "store_damaged" {
		t.Errorf("pay the damaged request: %d %s, want 500 store_damaged", a.status, a.code())
	}
}
