package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/checkout"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// authConfig makes TUSD, the dev chain's token, take EIP-3009
// authorizations, with limits to meet.
const authConfig = `
[terminal]
id = "test-till"
request_ttl = "2m"
public_url = "http://pos.test"

[[assets]]
symbol = "TUSD"
max_payment = "100"
max_unsettled = "30"
max_unsettled_per_payer = "15"
authorization = "eip3009"
domain_name = "Test USD"
domain_version = "2"
`

// authPayer is a payer's wallet signing what the request advertises.
type authPayer struct {
	key  *ecdsa.PrivateKey
	from common.Address
}

func newAuthPayer(t *testing.T) authPayer {
	k := newKey(t)
	return authPayer{key: k, from: crypto.PubkeyToAddress(k.PublicKey)}
}

// sign makes the x402 v2 payload for doc's requirements, signed over the
// dev token's domain on chain 1337, after edit changes the authorization
// (nil: as an x402 client signs it at now).
func (p authPayer) sign(t *testing.T, doc *request.Document, now time.Time, edit func(*devchain.Authorization, *request.PaymentRequirements)) []byte {
	t.Helper()
	if doc.X402 == nil {
		t.Fatal("the request advertises no x402 requirements")
	}
	req := *doc.X402
	a := devchain.Authorization{
		From: p.from, To: req.PayTo, Value: new(big.Int).Set(req.Amount), ValidAfter: big.NewInt(0),
		ValidBefore: big.NewInt(now.Unix() + int64(req.MaxTimeoutSeconds)),
	}
	copy(a.Nonce[:], crypto.Keccak256(p.from[:], []byte(doc.ID), []byte(now.String())))
	if edit != nil {
		edit(&a, &req)
	}
	sig, err := devchain.SignAuthorization(p.key, big.NewInt(1337), a)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := paytx.PaymentPayload(&req, paytx.Authorization{
		From: a.From, To: a.To, Value: a.Value, ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: sig,
	})
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

func (tm *terminal) doc(amount string) *request.Document {
	tm.t.Helper()
	doc, err := tm.till.NewRequest(context.Background(), amount, "TUSD", "")
	if err != nil {
		tm.t.Fatal(err)
	}
	return doc
}

func (tm *terminal) payAuth(id string, payload []byte) answer {
	tm.t.Helper()
	return tm.post(checkout.BroadcastPath, paytx.HandoverJSON(id, payload))
}

func TestRequestAdvertisesX402Requirements(t *testing.T) {
	tm := newTerminalWith(t, authConfig)
	doc := tm.doc("12.5")
	a := tm.get(checkout.RequestPath + "?id=" + doc.ID)
	x, _ := a.body["x402"].(map[string]any)
	want := map[string]any{
		"scheme": "exact", "network": "eip155:1337", "amount": doc.Amount.String(),
		"asset": devchain.TokenAddr.Hex(), "payTo": tm.cfg.Merchant.Hex(),
		"maxTimeoutSeconds": float64(24*3600 + 600), "extra": map[string]any{"name": "Test USD", "version": "2"},
	}
	if !reflect.DeepEqual(x, want) {
		t.Fatalf("x402 = %v\nwant %v", x, want)
	}
	// An asset without authorization advertises none.
	eth := newTerminal(t)
	r := eth.request("0.01", "ETH")
	if a := eth.get(checkout.RequestPath + "?id=" + r.ID); a.body["x402"] != nil {
		t.Fatalf("ETH request advertises %v", a.body["x402"])
	}
}

func TestAuthorizationAcceptedOfflineOnceAndRepeatAnswersTheSame(t *testing.T) {
	tm := newTerminalWith(t, authConfig)
	doc := tm.doc("10")
	payer := newAuthPayer(t)
	payload := payer.sign(t, doc, tm.clock.Now(), nil)
	first := tm.payAuth(doc.ID, payload)
	if first.status != 202 {
		t.Fatalf("first: %d %v", first.status, first.body)
	}
	if first.body["requestId"] != doc.ID || first.body["from"] != payer.from.Hex() || first.body["status"] != "queued" {
		t.Fatalf("answer %v", first.body)
	}
	id := common.HexToHash(first.body["txHash"].(string))
	p, err := tm.store.Payment(id)
	if err != nil || p.Source != store.SourceAuthorization || p.Authorization == nil || p.Authorization.Token != devchain.TokenAddr ||
		p.Amount.Cmp(doc.Amount) != 0 || p.Authorization.Signature[64] < 27 {
		t.Fatalf("stored %+v %v", p, err)
	}
	again := tm.payAuth(doc.ID, payload)
	if again.status != 200 || !reflect.DeepEqual(again.body, first.body) {
		t.Fatalf("repeat: %d %v, want 200 %v", again.status, again.body, first.body)
	}
	// The request says paid, by the authorization.
	if a := tm.get(checkout.RequestPath + "?id=" + doc.ID); a.body["status"] != "paid" || a.body["paidTx"] != id.Hex() || a.body["paidState"] != "queued" {
		t.Fatalf("request after payment: %v", a.body)
	}
	// A second authorization with the same nonce, for another request.
	doc2 := tm.doc("11")
	reused := payer.sign(t, doc2, tm.clock.Now(), func(a *devchain.Authorization, _ *request.PaymentRequirements) {
		copy(a.Nonce[:], crypto.Keccak256(payer.from[:], []byte(doc.ID), []byte(tm.clock.Now().String())))
	})
	if a := tm.payAuth(doc2.ID, reused); a.status != 409 || a.code() != "authorization_reused" {
		t.Fatalf("same nonce again: %d %v", a.status, a.body)
	}
	// The broadcaster's queue holds none of it; the relayer's does.
	if open, _ := tm.store.OpenPayments(); len(open) != 0 {
		t.Fatalf("open payments %v", open)
	}
	if q, _ := tm.store.Chain(tm.cfg.ChainID).OpenAuthorizations(0, 0); len(q) != 1 || q[0].TxHash != id {
		t.Fatalf("open authorizations %v", q)
	}
}

func TestAuthorizationRefusals(t *testing.T) {
	tm := newTerminalWith(t, authConfig)
	now := tm.clock.Now()
	other := newAuthPayer(t)
	tests := []struct {
		name   string
		edit   func(*devchain.Authorization, *request.PaymentRequirements)
		raw    func([]byte) []byte // the payload as sent, from the signed one
		status int
		code   string
	}{
		{name: "to another address", edit: func(a *devchain.Authorization, _ *request.PaymentRequirements) { a.To = common.HexToAddress("0x1") }, status: 422, code: "wrong_recipient"},
		{name: "less than asked", edit: func(a *devchain.Authorization, _ *request.PaymentRequirements) { a.Value.Sub(a.Value, big.NewInt(1)) }, status: 422, code: "underpaid"},
		{name: "more than asked", edit: func(a *devchain.Authorization, _ *request.PaymentRequirements) { a.Value.Add(a.Value, big.NewInt(1)) }, status: 422, code: "overpaid"},
		{name: "valid for x402's usual 300 seconds", edit: func(a *devchain.Authorization, _ *request.PaymentRequirements) {
			a.ValidBefore = big.NewInt(now.Unix() + 300)
		}, status: 422, code: "authorization_expires_too_soon"},
		{name: "valid only later", edit: func(a *devchain.Authorization, _ *request.PaymentRequirements) {
			a.ValidAfter = big.NewInt(now.Unix() + 60)
		}, status: 422, code: "authorization_not_yet_valid"},
		{name: "signed for another network", edit: func(_ *devchain.Authorization, r *request.PaymentRequirements) { r.Network = "eip155:8453" }, status: 422, code: "wrong_chain"},
		{name: "accepted another token", edit: func(_ *devchain.Authorization, r *request.PaymentRequirements) { r.Asset = common.HexToAddress("0x2") }, status: 422, code: "wrong_asset"},
		{name: "accepted another domain", edit: func(_ *devchain.Authorization, r *request.PaymentRequirements) { r.Name = "USD Coin" }, status: 422, code: "wrong_asset"},
		{name: "from someone else", edit: func(a *devchain.Authorization, _ *request.PaymentRequirements) { a.From = other.from }, status: 422, code: "bad_authorization"},
		{name: "not json numbers", raw: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"validAfter":"0"`, `"validAfter":"zero"`, 1))
		}, status: 400, code: "invalid_payload"},
		{name: "a transaction's fields", raw: func([]byte) []byte { return []byte(`{"x402Version":2,"rawTx":"0x00"}`) }, status: 400, code: "invalid_payload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tm.doc("5")
			payload := newAuthPayer(t).sign(t, doc, now, tc.edit)
			if tc.raw != nil {
				payload = tc.raw(payload)
			}
			a := tm.payAuth(doc.ID, payload)
			if a.status != tc.status || a.code() != tc.code {
				t.Fatalf("got %d %q (%v), want %d %q", a.status, a.code(), a.body["error"], tc.status, tc.code)
			}
			if r, _ := tm.store.Request(doc.ID); r.Status != store.RequestPending {
				t.Fatalf("a refused authorization changed the request: %s", r.Status)
			}
		})
	}
	ps, err := tm.store.Payments(store.PaymentFilter{})
	if err != nil || len(ps) != 0 {
		t.Fatalf("refusals stored %d payments (%v)", len(ps), err)
	}
	// An asset that does not take authorizations.
	eth := tm.request("0.01", "ETH")
	doc := tm.doc("5")
	if a := tm.payAuth(eth.ID, newAuthPayer(t).sign(t, doc, now, nil)); a.status != 422 || a.code() != "wrong_asset" {
		t.Fatalf("authorization for an ETH request: %d %v", a.status, a.body)
	}
}

func TestAuthorizationBodies(t *testing.T) {
	tm := newTerminalWith(t, authConfig)
	doc := tm.doc("5")
	payload := newAuthPayer(t).sign(t, doc, tm.clock.Now(), nil)
	id, _ := json.Marshal(doc.ID)
	for _, tc := range []struct{ name, body, code string }{
		{"both rawTx and payment", `{"requestId":` + string(id) + `,"rawTx":"0x00","payment":` + string(payload) + `}`, "bad_request"},
		{"neither", `{"requestId":` + string(id) + `}`, "bad_request"},
		{"payment not an object", `{"requestId":` + string(id) + `,"payment":"0x00"}`, "invalid_payload"},
		{"duplicate member inside the payment", `{"requestId":` + string(id) + `,"payment":` + strings.Replace(string(payload), `{"x402Version":2,`, `{"x402Version":2,"x402Version":2,`, 1) + `}`, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if a := tm.post(checkout.BroadcastPath, []byte(tc.body)); a.status != 400 || a.code() != tc.code {
				t.Fatalf("got %d %v, want 400 %s", a.status, a.body, tc.code)
			}
		})
	}
}

func TestAuthorizationsCountTowardTheLimits(t *testing.T) {
	tm := newTerminalWith(t, authConfig) // 15 per payer, 30 in all
	now := tm.clock.Now()
	payer := newAuthPayer(t)
	if a := tm.payAuth(tm.doc("10").ID, payer.sign(t, tm.doc("10.000001"), now, nil)); a.status != 422 {
		// (a payload for another request's amount: refused, nothing held)
		t.Fatalf("mismatched request: %d %v", a.status, a.body)
	}
	d1 := tm.doc("10")
	if a := tm.payAuth(d1.ID, payer.sign(t, d1, now, nil)); a.status != 202 {
		t.Fatalf("10: %d %v", a.status, a.body)
	}
	d2 := tm.doc("6")
	if a := tm.payAuth(d2.ID, payer.sign(t, d2, now, nil)); a.status != 403 || a.code() != "payer_limit" {
		t.Fatalf("10 + 6 from one payer: %d %v", a.status, a.body)
	}
	others := newAuthPayer(t)
	if a := tm.payAuth(d2.ID, others.sign(t, d2, now, nil)); a.status != 202 {
		t.Fatalf("6 from another payer: %d %v", a.status, a.body)
	}
	d3 := tm.doc("15")
	if a := tm.payAuth(d3.ID, newAuthPayer(t).sign(t, d3, now, nil)); a.status != 403 || a.code() != "exposure_limit" {
		t.Fatalf("16 + 15 in all: %d %v", a.status, a.body)
	}
	// Settled by the relayer, the first frees its room.
	q, _ := tm.store.Chain(tm.cfg.ChainID).OpenAuthorizations(0, 0)
	if _, err := tm.store.SetPaymentState(context.Background(), q[0].TxHash, store.PaymentConfirmed, "", now); err != nil {
		t.Fatal(err)
	}
	if a := tm.payAuth(d3.ID, newAuthPayer(t).sign(t, d3, now, nil)); a.status != 202 {
		t.Fatalf("after settlement: %d %v", a.status, a.body)
	}
}

func TestAuthorizationsSurviveReopen(t *testing.T) {
	tm := newTerminalWith(t, authConfig)
	doc := tm.doc("7")
	first := tm.payAuth(doc.ID, newAuthPayer(t).sign(t, doc, tm.clock.Now(), nil))
	if first.status != 202 {
		t.Fatalf("%d %v", first.status, first.body)
	}
	tm.store.Close()
	st, err := store.Open(tm.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q, err := st.Chain(tm.cfg.ChainID).OpenAuthorizations(0, 0)
	if err != nil || len(q) != 1 || q[0].TxHash.Hex() != first.body["txHash"] || q[0].Authorization == nil {
		t.Fatalf("after reopen: %v %v", q, err)
	}
}
