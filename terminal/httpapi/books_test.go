package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"showpos/terminal/httpapi"
	"showpos/terminal/report"
	"showpos/terminal/store"
)

func (tm *terminal) books() *report.Books {
	return report.New(report.Options{Store: tm.store, Till: tm.till, Terminal: "test-till", Clock: tm.clock})
}

func TestFailuresListedAndAcknowledgedOverTheSocket(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm, httpapi.OperatorOptions{Books: tm.books()})
	tm.pay("0.2", "ETH", store.PaymentFailed)
	tm.pay("0.1", "ETH", store.PaymentConfirmed)
	tm.pay("1.25", "TUSD", store.PaymentFailed)

	a := call(t, "GET", op.URL+"/v1/failures", "")
	fs, _ := a.body["failures"].([]any)
	if a.status != 200 || len(fs) != 2 || a.body["open"] != float64(2) {
		t.Fatalf("GET /v1/failures: %d %v", a.status, a.body)
	}
	first := fs[0].(map[string]any)
	if first["id"] != float64(1) || first["amountDisplay"] != "0.2" || first["asset"] != "ETH" || first["reason"] != "reverted" ||
		first["requestId"] == "" || first["failedAt"] == nil || first["ackedAt"] != nil {
		t.Errorf("first failure: %v", first)
	}

	for _, tc := range []struct {
		name, path   string
		status       int
		code         string
		acknowledged float64
	}{
		{"one", "/v1/failures/1/ack", 200, "", 0},
		{"the same again: idempotent", "/v1/failures/1/ack", 200, "", 0},
		{"an unknown id", "/v1/failures/9/ack", 404, "unknown_failure", 0},
		{"not a number", "/v1/failures/x/ack", 400, "bad_request", 0},
		{"all that are open", "/v1/failures/all/ack", 200, "", 1},
		{"all again: none left", "/v1/failures/all/ack", 200, "", 0},
	} {
		a := call(t, "POST", op.URL+tc.path, "")
		if a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %v", tc.name, a.status, a.body)
		}
		if n, ok := a.body["acknowledged"]; ok && n != tc.acknowledged {
			t.Errorf("%s: acknowledged %v, want %v", tc.name, n, tc.acknowledged)
		}
	}
	if a := call(t, "GET", op.URL+"/v1/failures", ""); a.body["open"] != float64(0) || len(a.body["failures"].([]any)) != 0 {
		t.Errorf("open after ack all: %v", a.body)
	}
	if a := call(t, "GET", op.URL+"/v1/failures?all=1", ""); len(a.body["failures"].([]any)) != 2 {
		t.Errorf("all failures: %v", a.body)
	}
}

func TestReportsOverTheSocket(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm, httpapi.OperatorOptions{Books: tm.books()})
	tm.pay("0.1", "ETH", store.PaymentConfirmed)
	tm.pay("0.2", "ETH", store.PaymentFailed)
	tm.clock.Advance(time.Minute)

	x := call(t, "GET", op.URL+"/v1/reports/x", "")
	if x.status != 200 || x.body["kind"] != "X" || len(x.body["assets"].([]any)) != 1 || len(x.body["failures"].([]any)) != 1 {
		t.Fatalf("X: %d %v", x.status, x.body)
	}
	if a := call(t, "GET", op.URL+"/v1/reports/z/last", ""); a.status != 404 || a.code() != "unknown_report" {
		t.Errorf("last Z before any: %d %v", a.status, a.body)
	}
	z := call(t, "POST", op.URL+"/v1/reports/z", `{"key":"day-1"}`)
	if z.status != 201 || z.body["kind"] != "Z" || z.body["number"] != float64(1) {
		t.Fatalf("Z: %d %v", z.status, z.body)
	}
	tm.clock.Advance(time.Minute)
	// A retry with the same key: the same Z, 200, not a second.
	if a := call(t, "POST", op.URL+"/v1/reports/z", `{"key":"day-1"}`); a.status != 200 || a.body["number"] != float64(1) || a.body["to"] != z.body["to"] {
		t.Errorf("Z again with its key: %d %v", a.status, a.body)
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"Z 1", "GET", "/v1/reports/z/1", "", 200, ""},
		{"the last Z", "GET", "/v1/reports/z/last", "", 200, ""},
		{"an unknown Z", "GET", "/v1/reports/z/2", "", 404, "unknown_report"},
		{"Z 0", "GET", "/v1/reports/z/0", "", 400, "bad_request"},
		{"a body with another member", "POST", "/v1/reports/z", `{"Key":"x"}`, 400, "bad_request"},
		{"a key too long", "POST", "/v1/reports/z", `{"key":"` + strings.Repeat("k", 129) + `"}`, 400, "bad_request"},
	} {
		a := call(t, tc.method, op.URL+tc.path, tc.body)
		if a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %v", tc.name, a.status, a.body)
		}
		if tc.status == 200 && a.body["number"] != float64(1) {
			t.Errorf("%s: %v", tc.name, a.body)
		}
	}
	// After the Z, the X starts again from its end.
	if x := call(t, "GET", op.URL+"/v1/reports/x", ""); x.body["from"] != z.body["to"] || len(x.body["assets"].([]any)) != 0 {
		t.Errorf("X after the Z: %v", x.body)
	}
	// A Z with no key takes the next period.
	if a := call(t, "POST", op.URL+"/v1/reports/z", ""); a.status != 201 || a.body["number"] != float64(2) || a.body["from"] != z.body["to"] {
		t.Errorf("second Z: %d %v", a.status, a.body)
	}
	// The clock set back before the last Z's end: refused with its code.
	tm.clock.Advance(-time.Hour)
	if a := call(t, "POST", op.URL+"/v1/reports/z", ""); a.status != 409 || a.code() != "clock_behind" {
		t.Errorf("Z with the clock behind: %d %v", a.status, a.body)
	}
}

func TestBooksOverTheNetworkNeedTheRegisterRole(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	net := networkServer(t, tm, httpapi.NetworkOptions{Books: tm.books()})
	reg, regKey := addClient(t, op.URL, "till", store.RoleRegister)
	fleet, fleetKey := addClient(t, op.URL, "hq", store.RoleFleet)
	tm.pay("0.2", "ETH", store.PaymentFailed)

	if a := tm.signed("GET", net.URL+"/v1/failures", "", reg, regKey); a.status != 200 || a.body["open"] != float64(1) {
		t.Errorf("register lists failures: %d %v", a.status, a.body)
	}
	if a := tm.signed("GET", net.URL+"/v1/reports/x", "", fleet, fleetKey); a.status != 403 || a.code() != "forbidden_role" {
		t.Errorf("fleet reads an X: %d %v", a.status, a.body)
	}
	if a := tm.signed("POST", net.URL+"/v1/reports/z", "", "", ""); a.status != 401 {
		t.Errorf("unsigned Z: %d %v", a.status, a.body)
	}
	if a := tm.signed("POST", net.URL+"/v1/reports/z", `{"key":"k"}`, reg, regKey); a.status != 201 || a.body["number"] != float64(1) {
		t.Errorf("register takes a Z: %d %v", a.status, a.body)
	}
	if a := tm.signed("POST", net.URL+"/v1/failures/1/ack", "", reg, regKey); a.status != 200 || a.body["ackedAt"] == nil {
		t.Errorf("register acknowledges: %d %v", a.status, a.body)
	}
	// Without books wired, the calls say so.
	bare := operatorServer(t, tm)
	if a := call(t, "GET", bare.URL+"/v1/reports/x", ""); a.status != 501 || a.code() != "not_configured" {
		t.Errorf("no books: %d %v", a.status, a.body)
	}
}
