package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/terminal/strictjson"
	"showpos/tools/paytx"
)

// The fixed clock, keys and random stream: request ids and signatures are
// the same on every run, so the seeds below and a corpus saved under
// testdata/fuzz keep naming real requests.
var (
	fzNow      = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	fzTermKey  = fzKey(0x42)
	fzPayerKey = fzKey(0x07)
)

func fzKey(b byte) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		panic(err)
	}
	return k
}

// fzTerminal is a whole terminal in process: the real till on a real
// store, and the payer and operator handlers. One is built per fuzz worker
// and shared by its inputs; the store lives in /dev/shm when there is one,
// so the fsync a payment or a request costs is a memory write.
type fzTerminal struct {
	cfg   *config.Config
	store *store.Store
	till  *checkout.Service
	payer http.Handler
	op    http.Handler
	reqs  map[string]*request.Request // every request the fixture made, by id
	// The requests: ETH (on screen), TUSD, a cancelled one and one
	// already paid.
	eth, tusd, cancelled, paid *request.Request
}

func fzDir(f *testing.F) string {
	if d, err := os.MkdirTemp("/dev/shm", "showpos-fuzz-"); err == nil {
		f.Cleanup(func() { _ = os.RemoveAll(d) })
		return d
	}
	return f.TempDir()
}

func newFzTerminal(f *testing.F) *fzTerminal {
	f.Helper()
	cfg := configtest.New(f, testConfig) // payer_test.go: a native coin and a token, a fee floor, limits
	st, err := store.Open(fzDir(f)+"/showpos.db", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	clk := clocktest.NewFake(fzNow)
	till := checkout.New(checkout.Options{Config: cfg, Key: fzTermKey, Store: st, Clock: clk,
		Random: rand.NewChaCha8([32]byte{'s', 'h', 'o', 'w', 'p', 'o', 's'})})
	tm := &fzTerminal{cfg: cfg, store: st, till: till, reqs: map[string]*request.Request{},
		payer: httpapi.Payer(till, nil),
		op:    httpapi.Operator(httpapi.OperatorOptions{Register: till, Clients: st, Clock: clk, Location: time.UTC})}
	ctx := context.Background()
	newReq := func(amount, symbol string) *request.Request {
		doc, err := till.NewRequest(ctx, amount, symbol, "table 4")
		if err != nil {
			f.Fatal(err)
		}
		tm.reqs[doc.ID] = doc.Request()
		return doc.Request()
	}
	tm.paid = newReq("0.01", "ETH")
	if _, err := till.Pay(ctx, tm.paid.ID, fzRaw(f, tm.paid, paytx.Options{Nonce: 100})); err != nil {
		f.Fatal(err)
	}
	tm.cancelled = newReq("0.02", "ETH")
	if _, err := till.Cancel(ctx, tm.cancelled.ID); err != nil {
		f.Fatal(err)
	}
	tm.tusd = newReq("12.5", "TUSD")
	tm.eth = newReq("0.01", "ETH")
	return tm
}

// fzRaw is a payment of r signed by the fixed payer, shaped by o.
func fzRaw(tb testing.TB, r *request.Request, o paytx.Options) []byte {
	tx, err := paytx.Build(r, fzPayerKey, o)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// serve answers one request in process.
func (tm *fzTerminal) serve(h http.Handler, method, target string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	req.URL, req.RequestURI = u, target
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// codeStatus is every code the payer and integrator calls answer, with its
// status (README's tables; httpapi/errors.go).
var codeStatus = map[string]int{
	"bad_request": 400, "body_too_large": 413, "method_not_allowed": 405, "not_found": 404,
	"no_request": 404, "invalid_amount": 400, "invalid_request": 400, "unknown_asset": 400,
	"client_exists": 409, "unknown_client": 404, "revoked_client": 409,
	"tx_too_large": 413, "invalid_tx": 400, "unsupported_tx_type": 422, "wrong_chain": 422,
	"bad_signature": 422, "wrong_recipient": 422, "underpaid": 422, "overpaid": 422,
	"gas_too_low": 422, "gas_too_high": 422, "unexpected_data": 422, "unexpected_value": 422,
	"wrong_transfer": 422, "fee_too_low": 422, "fee_invalid": 422, "payment_limit": 403,
	"exposure_limit": 403, "amount_in_use": 409, "unknown_request": 404, "expired": 410, "cancelled": 409,
	"already_paid": 409, "tx_reused": 409, "nonce_conflict": 409, "payer_limit": 403,
	"nonce_gap": 422, "nonce_used": 422, "insufficient_funds": 422,
	"invalid_payload": 400, "bad_authorization": 422, "wrong_asset": 422, "authorization_not_yet_valid": 422,
	"authorization_expires_too_soon": 422, "authorization_reused": 409,
}

// checkAnswer holds what every answer must be: JSON, one value; never a
// 5xx (the store here does not fail, so even 503 unavailable would be a
// refusal the API does not know how to name); an error is
// {"error":{"code","message"}} with a known code answered with its own
// status. It returns the decoded body of a success.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); mt != "application/json" {
		t.Fatalf("%d with Content-Type %q: %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	if err := dec.Decode(&body); err != nil || dec.More() {
		t.Fatalf("%d, body is not one JSON object (%v): %q", rec.Code, err, rec.Body)
	}
	if rec.Code >= 500 {
		t.Fatalf("%d: %q", rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		if _, ok := body["error"]; ok {
			t.Fatalf("%d with an error: %q", rec.Code, rec.Body)
		}
		return body
	}
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if st, ok := codeStatus[code]; !ok || st != rec.Code || msg == "" || len(body) != 1 {
		t.Fatalf("%d with error body %q: unknown code, another status, or no message", rec.Code, rec.Body)
	}
	return nil
}

// strictDecode decodes exactly one JSON value into v as the API documents
// its bodies: member names exactly as declared, none twice, nothing after
// it (strictjson, tested on its own against a reference reader).
func strictDecode(b []byte, v any) bool {
	return strictjson.Decode(b, v) == nil
}

// FuzzBroadcastTx posts arbitrary bodies to POST /api/showpos/broadcastTx
// through the real Payer handler, till and store. Every answer passes
// checkAnswer; and a 2xx goes only to a body that is exactly
// {"requestId","rawTx"} naming one of the terminal's requests, with hex
// that decodes to a transaction which, checked again against the request's
// own terms, pays it: the receipt names that request, the transaction's
// hash and its signer, and the request then reads as paid by it.
func FuzzBroadcastTx(f *testing.F) {
	tm := newFzTerminal(f)
	body := func(id string, raw []byte) []byte {
		b, _ := json.Marshal(map[string]string{"requestId": id, "rawTx": hexutil.Encode(raw)})
		return b
	}
	merchant := tm.cfg.Merchant
	for _, seed := range [][]byte{
		body(tm.eth.ID, fzRaw(f, tm.eth, paytx.Options{Nonce: 1})),
		body(tm.eth.ID, fzRaw(f, tm.eth, paytx.Options{Nonce: 2, Type: types.DynamicFeeTxType})),
		body(tm.eth.ID, fzRaw(f, tm.eth, paytx.Options{Nonce: 3, Type: types.AccessListTxType, Value: big.NewInt(1)})),
		body(tm.eth.ID, fzRaw(f, tm.eth, paytx.Options{Nonce: 4, ChainID: big.NewInt(1)})),
		body(tm.eth.ID, fzRaw(f, tm.eth, paytx.Options{Nonce: 5, FeeCap: big.NewInt(1)})),
		body(tm.tusd.ID, fzRaw(f, tm.tusd, paytx.Options{Nonce: 6, Type: types.DynamicFeeTxType})),
		body(tm.tusd.ID, fzRaw(f, tm.tusd, paytx.Options{Nonce: 7, Data: paytx.TransferData(merchant, big.NewInt(1))})),
		body(tm.tusd.ID, fzRaw(f, tm.tusd, paytx.Options{Nonce: 8, Gas: 44_999})),
		body(tm.cancelled.ID, fzRaw(f, tm.cancelled, paytx.Options{Nonce: 9})),
		body(tm.paid.ID, fzRaw(f, tm.paid, paytx.Options{Nonce: 100})),
		body(tm.paid.ID, fzRaw(f, tm.paid, paytx.Options{Nonce: 10})),
		body(tm.eth.ID, fzRaw(f, tm.paid, paytx.Options{Nonce: 100})),
		body("00000000000000000000000000000000", fzRaw(f, tm.eth, paytx.Options{Nonce: 11})),
		body(tm.eth.ID, nil),
		[]byte(`{"requestId":`), []byte(`{"requestId":"` + tm.eth.ID + `","rawTx":"0x00","extra":1}`),
		[]byte(`{"requestId":"a","rawTx":"0x00"}{}`), []byte(`{"rawTx":"0x00"}`), []byte(`null`), []byte(`[]`),
		[]byte(`{"requestId":"` + tm.eth.ID + `","rawTx":"0xzz"}`), []byte(`{"requestId":"` + tm.eth.ID + `","rawTx":" 02f8 "}`),
		[]byte(`{"requestId":"` + tm.eth.ID + `","rawTx":"0xdeadbeef"}`), []byte(`{"requestId":"` + tm.eth.ID + `","rawTx":5}`),
		[]byte(`{"requestId":"` + strings.Repeat("a", 65) + `","rawTx":"0x00"}`), []byte(`{"requestId":"\u0000","rawTx":""}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec := tm.serve(tm.payer, http.MethodPost, checkout.BroadcastPath, b)
		got := checkAnswer(t, rec)
		if got == nil {
			return
		}
		if rec.Code != http.StatusAccepted && rec.Code != http.StatusOK {
			t.Fatalf("%d: %q", rec.Code, rec.Body)
		}
		var in struct {
			RequestID string `json:"requestId"`
			RawTx     string `json:"rawTx"`
		}
		if !strictDecode(b, &in) {
			t.Fatalf("%d for a body that is not {requestId, rawTx}: %q", rec.Code, b)
		}
		r, ok := tm.reqs[in.RequestID]
		if !ok {
			t.Fatalf("%d for request %q, which the terminal never made", rec.Code, in.RequestID)
		}
		raw, err := check.DecodeHex(in.RawTx)
		if err != nil {
			t.Fatalf("%d for rawTx %q: %v", rec.Code, in.RawTx, err)
		}
		a, _ := tm.cfg.Asset(r.Asset.Symbol)
		pol := check.Policy{ChainID: new(big.Int).SetUint64(tm.cfg.ChainID), AllowOverpay: tm.cfg.Payments.AllowOverpay, MinFeeCap: tm.cfg.Payments.MinFeeCap}
		if _, err := check.New(pol).Check(raw, check.Terms{Merchant: r.Merchant, Token: r.Asset.Token, Amount: r.Amount, MinGas: a.MinGas, MaxPayment: a.MaxPayment}); err != nil {
			t.Fatalf("%d for a transaction that does not pay request %s: %v", rec.Code, r.ID, err)
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
		from, err := types.Sender(types.LatestSignerForChainID(pol.ChainID), &tx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"requestId": r.ID, "txHash": crypto.Keccak256Hash(raw).Hex(), "from": from.Hex(), "status": "queued"}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("receipt %s = %v, want %v", k, got[k], v)
			}
		}
		doc := checkAnswer(t, tm.serve(tm.payer, http.MethodGet, checkout.RequestPath+"?id="+r.ID, nil))
		if doc == nil || doc["status"] != "paid" || doc["paidTx"] != want["txHash"] {
			t.Fatalf("after %d, request %s reads %v paid by %v", rec.Code, r.ID, doc["status"], doc["paidTx"])
		}
	})
}

// FuzzGetPaymentRequest asks GET /api/showpos/getPaymentRequest with an
// arbitrary raw query. Every answer passes checkAnswer, and the answer is
// exactly what the id parameter calls for: no id, the request on screen;
// one of the terminal's ids, that request; a longer id than 64, 400
// bad_request; any other, 404 unknown_request. A request served is one the
// terminal signed, as its signature says.
func FuzzGetPaymentRequest(f *testing.F) {
	tm := newFzTerminal(f)
	for _, q := range []string{
		"", "id=", "id=" + tm.eth.ID, "id=" + tm.tusd.ID, "id=" + tm.cancelled.ID, "id=" + tm.paid.ID,
		"id=" + strings.ToUpper(tm.eth.ID), "id=" + tm.eth.ID + "&id=x", "id=x&id=" + tm.eth.ID, "id=%zz",
		"id=" + tm.eth.ID[:31], "id=" + strings.Repeat("a", 65), "id=%00", "x=1;id=" + tm.eth.ID, "ID=" + tm.eth.ID,
	} {
		f.Add(q)
	}
	signer := tm.till.Signer()
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodGet, checkout.RequestPath, nil)
		req.URL.RawQuery = q
		rec := httptest.NewRecorder()
		tm.payer.ServeHTTP(rec, req)
		got := checkAnswer(t, rec)

		vals, _ := url.ParseQuery(q)
		id := vals.Get("id")
		wantID := id
		if id == "" {
			wantID = tm.eth.ID
		}
		_, known := tm.reqs[wantID]
		switch {
		case len(id) > 64:
			if rec.Code != 400 {
				t.Fatalf("id of %d bytes: %d", len(id), rec.Code)
			}
		case !known:
			if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"unknown_request"`) {
				t.Fatalf("unknown id %q: %d %s", id, rec.Code, rec.Body)
			}
		default:
			if rec.Code != 200 || got == nil {
				t.Fatalf("id %q: %d %s", id, rec.Code, rec.Body)
			}
			doc, err := request.ParseDocument(rec.Body.Bytes())
			if err != nil || doc.ID != wantID {
				t.Fatalf("served %v for %q: %v", doc, wantID, err)
			}
			if s, err := doc.Verify(); err != nil || s != signer {
				t.Fatalf("served a document signed by %s (%v), not %s", s, err, signer)
			}
			if !slices.Contains([]string{"pending", "paid", "expired", "cancelled"}, doc.Status) {
				t.Fatalf("status %q", doc.Status)
			}
		}
	})
}

var (
	serviceNumber = regexp.MustCompile(`^sn_[0-9a-f]{16}$`)
	serviceKey    = regexp.MustCompile(`^sk_[A-Za-z0-9_-]{43}$`)
)

// FuzzIntegratorBodies posts arbitrary bodies to POST /v1/requests and
// POST /v1/clients (which path: the first byte of which) through the real
// operator handler, till and store; the network API serves /v1/requests
// with the same handler once the signature passes. Every answer passes
// checkAnswer; a 201 goes only to a body that is exactly the documented
// object with valid values, and says what was asked: a request for that
// amount (parsed apart at the asset's decimals, within its limit) of that
// asset with that memo, signed by the terminal; a client with the name
// and role given, and the number and key given or fresh ones in their
// documented forms, then listed by the store.
func FuzzIntegratorBodies(f *testing.F) {
	tm := newFzTerminal(f)
	for _, b := range []string{
		`{"amount":"12.50","asset":"TUSD","memo":"order 77"}`, `{"amount":"0.01"}`, `{"amount":"1","asset":"eth"}`,
		`{"amount":"1.01","asset":"ETH"}`, `{"amount":"0","asset":"ETH"}`, `{"amount":"0.0000001","asset":"TUSD"}`,
		`{"amount":"1","asset":"DOGE"}`, `{"amount":"1","memo":"a\u0007"}`, `{"amount":"1","memo":"\u202e"}`,
		`{"amount":"-1"}`, `{"amount":1}`, `{"amount":"1","extra":true}`, `{"amount":"1"} {}`, `{}`, ``, `[`,
	} {
		f.Add(uint8(0), []byte(b))
	}
	for _, b := range []string{
		`{"name":"Till 4 register","role":"register"}`, `{"name":"Fleet HQ","role":"fleet"}`,
		`{"name":"Fleet HQ","role":"fleet","number":"sn_fleet_hq","key":"` + strings.Repeat("k", 32) + `"}`,
		`{"name":"Till","role":"register","number":"sn_x","key":"` + strings.Repeat("k", 32) + `"}`,
		`{"name":"Fleet","role":"fleet","number":"sn_short_key","key":"short"}`, `{"name":"Fleet","role":"fleet","number":"sn x","key":"` + strings.Repeat("k", 32) + `"}`,
		`{"name":"","role":"register"}`, `{"name":"a\u0000","role":"register"}`, `{"name":"x","role":"admin"}`,
		`{"name":"x","role":"fleet","number":"sn_only"}`, `{"name":"x","role":"register","extra":1}`,
	} {
		f.Add(uint8(1), []byte(b))
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		if which%2 == 0 {
			checkNewRequest(t, tm, b)
		} else {
			checkNewClient(t, tm, b)
		}
	})
}

func checkNewRequest(t *testing.T, tm *fzTerminal, b []byte) {
	rec := tm.serve(tm.op, http.MethodPost, "/v1/requests", b)
	got := checkAnswer(t, rec)
	if got == nil {
		return
	}
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d: %s", rec.Code, rec.Body)
	}
	var in httpapi.NewRequestBody
	if !strictDecode(b, &in) {
		t.Fatalf("201 for a body that is not {amount, asset, memo}: %q", b)
	}
	a := tm.cfg.Assets[0]
	if in.Asset != "" {
		var ok bool
		if a, ok = tm.cfg.Asset(in.Asset); !ok {
			t.Fatalf("201 for asset %q", in.Asset)
		}
	}
	units, err := asset.ParseAmount(in.Amount, a.Decimals)
	if err != nil || units.Sign() <= 0 || (a.MaxPayment != nil && units.Cmp(a.MaxPayment) > 0) {
		t.Fatalf("201 for %q %s (%v)", in.Amount, a.Symbol, err)
	}
	doc, err := request.ParseDocument(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("201 with a document that does not parse: %v", err)
	}
	// The amount asked, or above it by a tail (checkout.Tail) when another
	// pending request holds it.
	if doc.Amount.Cmp(units) < 0 || doc.Amount.Cmp(new(big.Int).Add(units, checkout.Tail(a.Decimals))) >= 0 || doc.Asset.Symbol != a.Symbol || doc.Asset.Token != a.Token || doc.Memo != in.Memo || doc.Status != "pending" {
		t.Fatalf("asked %q %q %q, got %s %s %q %s", in.Amount, in.Asset, in.Memo, doc.Amount, doc.Asset.Symbol, doc.Memo, doc.Status)
	}
	if s, err := doc.Verify(); err != nil || s != tm.till.Signer() {
		t.Fatalf("request signed by %s (%v)", s, err)
	}
	if doc.Merchant != tm.cfg.Merchant || doc.ChainID != tm.cfg.ChainID || !doc.ExpiresAt.Equal(fzNow.Add(tm.cfg.Terminal.RequestTTL)) {
		t.Fatalf("request terms %s %d %s", doc.Merchant, doc.ChainID, doc.ExpiresAt)
	}
}

func checkNewClient(t *testing.T, tm *fzTerminal, b []byte) {
	rec := tm.serve(tm.op, http.MethodPost, "/v1/clients", b)
	got := checkAnswer(t, rec)
	if got == nil {
		return
	}
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d: %s", rec.Code, rec.Body)
	}
	var in httpapi.NewClientBody
	if !strictDecode(b, &in) {
		t.Fatalf("201 for a body that is not {name, role, number, key}: %q", b)
	}
	var out httpapi.NewClient
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if in.Name == "" || !in.Role.Valid() || (in.Number == "") != (in.Key == "") || out.Name != in.Name || out.Role != in.Role {
		t.Fatalf("201 for %+v: %+v", in, out)
	}
	if in.Number != "" {
		if in.Role != store.RoleFleet || out.Number != in.Number || out.Key != in.Key || len(in.Key) < httpapi.MinImportedKey {
			t.Fatalf("201 for %+v: %+v", in, out)
		}
	} else if !serviceNumber.MatchString(out.Number) || !serviceKey.MatchString(out.Key) {
		t.Fatalf("fresh credential %q %q", out.Number, out.Key)
	}
	c, err := tm.store.Client(out.Number)
	if err != nil || c.Name != in.Name || c.Role != in.Role || len(c.Keys) != 1 || string(c.Keys[0].Secret) != out.Key {
		t.Fatalf("stored %+v, %v", c, err)
	}
}

// The table the fuzz targets hold answers to names every refusal code
// check declares (the README's table, which it mirrors, must too).
func TestCodeStatusNamesEveryRefusalCode(t *testing.T) {
	for _, c := range check.Codes() {
		if _, ok := codeStatus[string(c)]; !ok {
			t.Errorf("codeStatus lacks %s", c)
		}
	}
}
