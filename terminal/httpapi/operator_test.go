package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/httpapi"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// operatorServer serves the operator API of tm with its store as the
// client registry and its clock; o adds or overrides the rest.
func operatorServer(t *testing.T, tm *terminal, o ...httpapi.OperatorOptions) *httptest.Server {
	t.Helper()
	var opts httpapi.OperatorOptions
	if len(o) > 0 {
		opts = o[0]
	}
	opts.Register, opts.Clients, opts.Clock = tm.till, tm.store, tm.clock
	srv := httptest.NewServer(httpapi.Operator(opts))
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, method, url, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return decodeAnswer(t, resp)
}

func TestOperatorPaymentsPagesAndFilters(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	payer := newKey(t)
	for i := range 5 {
		r := tm.request("0.01", "ETH")
		if a := tm.broadcast(r.ID, sign(t, r, payer, paytx.Options{Nonce: uint64(i)})); a.status != 202 {
			t.Fatalf("payment %d: %v", i, a.body)
		}
	}
	var seen []string
	after := ""
	for page := 0; page < 5; page++ {
		a := call(t, "GET", op.URL+"/v1/payments?limit=2&state=queued"+after, "")
		if a.status != 200 {
			t.Fatalf("page %d: %d %v", page, a.status, a.body)
		}
		for _, p := range a.body["payments"].([]any) {
			pm := p.(map[string]any)
			if pm["state"] != "queued" || pm["amountDisplay"] != "0.01" || pm["asset"] != "ETH" {
				t.Errorf("payment view %v", pm)
			}
			seen = append(seen, pm["txHash"].(string))
		}
		next, ok := a.body["next"].(float64)
		if !ok {
			break
		}
		after = fmt.Sprintf("&after=%d", int(next))
	}
	if len(seen) != 5 {
		t.Errorf("paged through %d payments, want 5", len(seen))
	}
	if a := call(t, "GET", op.URL+"/v1/payments?state=confirmed", ""); len(a.body["payments"].([]any)) != 0 {
		t.Errorf("confirmed: %v", a.body)
	}
	until := tm.clock.Now().Add(-time.Hour).Format(time.RFC3339)
	if a := call(t, "GET", op.URL+"/v1/payments?until="+until, ""); len(a.body["payments"].([]any)) != 0 {
		t.Errorf("until an hour ago: %v", a.body)
	}
	for _, q := range []string{"state=lost", "limit=0", "limit=1001", "limit=x", "since=yesterday", "after=-1"} {
		if a := call(t, "GET", op.URL+"/v1/payments?"+q, ""); a.status != 400 || a.code() != "bad_request" {
			t.Errorf("%s: %d %v", q, a.status, a.body)
		}
	}
}

func TestOperatorRequests(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	a := call(t, "POST", op.URL+"/v1/requests", `{"amount":"1.25","asset":"TUSD","memo":"table 2"}`)
	if a.status != 201 || a.body["amount"] != "1250000" || a.body["status"] != "pending" {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	id := a.body["id"].(string)
	if a := call(t, "GET", op.URL+"/v1/requests/current", ""); a.body["id"] != id {
		t.Errorf("current: %v", a.body)
	}
	if a := call(t, "POST", op.URL+"/v1/requests/"+id+"/cancel", ""); a.status != 200 || a.body["status"] != "cancelled" {
		t.Errorf("cancel: %d %v", a.status, a.body)
	}
	before := call(t, "GET", op.URL+"/v1/requests/current", "").body["id"]
	tests := []struct {
		body   string
		status int
		code   string
	}{
		{`{"amount":"1.2.3"}`, 400, "invalid_amount"},
		{`{"amount":""}`, 400, "invalid_amount"},
		{`{"amount":"1","asset":"XYZ"}`, 400, "unknown_asset"},
		{`{"amount":"2"}`, 403, "payment_limit"},
		{`{"amount":"1","memo":"bell\u0007"}`, 400, "invalid_request"},
		{`{"amount":1}`, 400, "bad_request"},
		{`{"amount":"1","tips":"2"}`, 400, "bad_request"},
		// Member names as documented, each once: encoding/json alone took
		// these (the last duplicate winning).
		{`{"Amount":"1"}`, 400, "bad_request"},
		{`{"amount":"1","aſſet":"TUSD"}`, 400, "bad_request"},
		{`{"amount":"2","amount":"1"}`, 400, "bad_request"},
	}
	for _, tc := range tests {
		if a := call(t, "POST", op.URL+"/v1/requests", tc.body); a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %q, want %d %q", tc.body, a.status, a.code(), tc.status, tc.code)
		}
	}
	// No refused body made a request.
	if a := call(t, "GET", op.URL+"/v1/requests/current", ""); a.body != nil && a.body["id"] != nil && a.body["id"] != before {
		t.Errorf("a refused body made request %v", a.body["id"])
	}
}

func TestOperatorSaysWhenTheClockIsNotSet(t *testing.T) {
	tm := newTerminal(t)
	tm.clock.Advance(-time.Since(time.Unix(0, 0)))
	op := operatorServer(t, tm)
	a := call(t, "POST", op.URL+"/v1/requests", `{"amount":"0.1"}`)
	if a.status != 503 || a.code() != "clock_not_set" {
		t.Errorf("%d %v", a.status, a.body)
	}
}

// The request JSON posctl prints is the signed document a payer verifies.
func TestOperatorRequestVerifies(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	resp, err := http.Post(op.URL+"/v1/requests", "application/json", bytes.NewReader([]byte(`{"amount":"0.3"}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	doc, err := request.ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	if signer, err := doc.Verify(); err != nil || signer != tm.till.Signer() {
		t.Errorf("verifies to %s, %v; want %s", signer, err, tm.till.Signer())
	}
}

// Payments carry their source; unmatched receipts are listed with
// state=unmatched only, never among the sales.
func TestOperatorListsUnmatchedReceiptsApart(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	r := tm.request("0.01", "ETH")
	if a := tm.broadcast(r.ID, sign(t, r, newKey(t), paytx.Options{})); a.status != 202 {
		t.Fatalf("payment: %v", a.body)
	}
	stray := store.Transfer{Block: 3, BlockTime: tm.clock.Now(), TxHash: common.Hash{0xcc}, Index: 0,
		From: common.Address{7}, Asset: "ETH", Amount: big.NewInt(49_000_000_000_000_000)}
	if err := tm.store.Chain(tm.cfg.ChainID).RecordRange(context.Background(), store.WatchCursor{Height: 3}, []store.Transfer{stray}); err != nil {
		t.Fatal(err)
	}
	a := call(t, "GET", op.URL+"/v1/payments", "")
	ps := a.body["payments"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["source"] != "handover" {
		t.Fatalf("payments: %v", a.body)
	}
	a = call(t, "GET", op.URL+"/v1/payments?state=unmatched", "")
	us := a.body["payments"].([]any)
	if a.status != 200 || len(us) != 1 {
		t.Fatalf("unmatched: %d %v", a.status, a.body)
	}
	u := us[0].(map[string]any)
	if u["source"] != "chain" || u["state"] != "unmatched" || u["amountDisplay"] != "0.049" || u["txHash"] != stray.TxHash.Hex() || u["reason"] != "no_request" {
		t.Errorf("unmatched view %v", u)
	}
}
