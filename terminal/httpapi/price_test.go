package httpapi_test

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"showpos/terminal/fiat"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// fixedRates is a rate source that knows the rates it is given and
// answers every other asset with an error (as a stale feed would).
type fixedRates map[string]fiat.Rate

func (f fixedRates) Rate(symbol string) (fiat.Rate, error) {
	r, ok := f[symbol]
	if !ok {
		return fiat.Rate{}, fmt.Errorf("no rate of %s younger than max_rate_age", symbol)
	}
	return r, nil
}

// An integrator keys 4.50 EUR and a 10 % tip over real HTTP, signed; the
// request served back carries both amounts, the rate and the tip, and
// verifies. The operator socket's route takes the same body. Without a
// rate the route answers rate_unavailable and stores nothing.
func TestRequestRoutesTakeFiatAndATip(t *testing.T) {
	cfg := strings.Replace(testConfig, "[terminal]\n", "[terminal]\ncurrency = \"EUR\"\n", 1)
	rates := fixedRates{"ETH": {Answer: big.NewInt(250000000000), Decimals: 8, Currency: "EUR", Source: "peg",
		At: time.Date(2026, 11, 23, 11, 59, 0, 0, time.UTC)}}
	tm := newTerminalRates(t, cfg, rates)
	op := operatorServer(t, tm)
	nw := networkServer(t, tm, httpapi.NetworkOptions{Status: staticStatus})
	number, key := addClient(t, op.URL, "Till 4 register", store.RoleRegister)

	a := tm.signed("POST", nw.URL+"/v1/requests", `{"fiat":"4.50","tipPercent":10,"memo":"table 4"}`, number, key)
	if a.status != 201 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	// 4.95 EUR at 2500 EUR/ETH = 0.00198 ETH, tip 0.45 EUR = 0.00018 ETH.
	f, _ := a.body["fiat"].(map[string]any)
	if a.body["tip"] != "180000000000000" || f["currency"] != "EUR" || f["amount"] != "4.95" || f["tip"] != "0.45" || f["rate"] != "2500.00000000" || f["rateAt"] != "2026-11-23T11:59:00Z" {
		t.Errorf("created: tip %v fiat %v", a.body["tip"], f)
	}
	if amt, _ := new(big.Int).SetString(a.body["amount"].(string), 10); amt == nil || amt.Cmp(big.NewInt(1980000000000000)) < 0 || amt.Cmp(big.NewInt(1980000000001000)) >= 0 {
		t.Errorf("amount %v, want 0.00198 ETH and its tail", a.body["amount"])
	}
	id := a.body["id"].(string)
	doc := tm.get("/api/showpos/getPaymentRequest?id=" + id)
	if f, _ := doc.body["fiat"].(map[string]any); doc.status != 200 || f["amount"] != "4.95" {
		t.Errorf("payer API: %d %v", doc.status, doc.body)
	}

	if a := call(t, "POST", op.URL+"/v1/requests", `{"fiat":"12","asset":"ETH","tip":"1.20"}`); a.status != 201 || a.body["fiat"].(map[string]any)["amount"] != "13.20" {
		t.Errorf("operator route: %d %v", a.status, a.body)
	}

	for _, tc := range []struct {
		body, code string
		status     int
	}{
		{`{"fiat":"4.505"}`, "invalid_fiat", 400},
		{`{"fiat":"4.50","amount":"0.01"}`, "invalid_fiat", 400},
		{`{"fiat":"4.50","tipPercent":150}`, "invalid_tip", 400},
		{`{"fiat":"4.50","asset":"TUSD"}`, "rate_unavailable", 409},
	} {
		a := tm.signed("POST", nw.URL+"/v1/requests", tc.body, number, key)
		if a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.body, a.status, a.body, tc.status, tc.code)
		}
	}
	if a := tm.signed("GET", nw.URL+"/v1/requests/current", "", number, key); a.body["id"] == nil || a.body["fiat"] == nil {
		t.Errorf("a refused request replaced the one on screen: %v", a.body)
	}
}

func TestFiatWithoutAShopCurrencyIsRefused(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	if a := call(t, "POST", op.URL+"/v1/requests", `{"fiat":"4.50"}`); a.status != 409 || a.code() != "no_currency" {
		t.Errorf("%d %v, want 409 no_currency", a.status, a.body)
	}
}
