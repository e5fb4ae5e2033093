package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"showpos/terminal/fleet"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// fakeFleet answers every push with err, or with the version it was told.
type fakeFleet struct {
	mu     sync.Mutex
	err    error
	pushes int
	got    []byte
}

func (f *fakeFleet) Push(ctx context.Context, raw []byte) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes++
	f.got = append([]byte(nil), raw...)
	if f.err != nil {
		return nil, f.err
	}
	return map[string]any{"applied": true, "bytes": len(raw)}, nil
}

// teapot is a refusal of some other part of the terminal: only its two
// methods tell the API how to answer it.
type teapot struct{}

func (teapot) Error() string     { return "teapot: no coffee here" }
func (teapot) ErrorCode() string { return "teapot" }
func (teapot) HTTPStatus() int   { return http.StatusTeapot }

func TestFleetBundleRefusalsKeepTheirCode(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"any coded error, wrapped", fmt.Errorf("apply bundle: %w", teapot{}), 418, "teapot", "no coffee here"},
		{"not newer", &fleet.Refusal{Code: fleet.CodeNotNewer, Message: "version 3 is not above 4", Version: 3}, 409, "not_newer", "version 3 is not above 4"},
		{"bad signature", &fleet.Refusal{Code: fleet.CodeBadSignature, Message: "not signed by the fleet key"}, 403, "bad_bundle_signature", "not signed by the fleet key"},
		{"no fleet key", &fleet.Refusal{Code: fleet.CodeNoFleetKey, Message: "no fleet key pinned"}, 501, "no_fleet_key", "no fleet key pinned"},
		{"expired", &fleet.Refusal{Code: fleet.CodeExpired, Message: "expired"}, 422, "expired", "expired"},
		{"failure", errors.New("disk full"), 503, "unavailable", "send the same request again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTerminal(t)
			f := &fakeFleet{err: tc.err}
			op := operatorServer(t, tm, httpapi.OperatorOptions{Fleet: f})
			nw := networkServer(t, tm, httpapi.NetworkOptions{Fleet: f})
			number, key := addClient(t, op.URL, "Fleet HQ", store.RoleFleet)
			for where, a := range map[string]answer{
				"socket":  call(t, "POST", op.URL+"/v1/fleet/bundle", `{"v":1}`),
				"network": tm.signed("POST", nw.URL+"/v1/fleet/bundle", `{"v":1}`, number, key),
			} {
				msg, _ := a.body["error"].(map[string]any)["message"].(string)
				if a.status != tc.status || a.code() != tc.code || !strings.Contains(msg, tc.msg) || strings.HasPrefix(msg, tc.code+":") {
					t.Errorf("%s: %d %v, want %d %q saying %q", where, a.status, a.body, tc.status, tc.code, tc.msg)
				}
			}
		})
	}
}

func TestFleetBundleReachesFleet(t *testing.T) {
	tm := newTerminal(t)
	f := &fakeFleet{}
	op := operatorServer(t, tm, httpapi.OperatorOptions{Fleet: f})
	bundle := strings.Repeat("b", 256<<10)
	a := call(t, "POST", op.URL+"/v1/fleet/bundle", bundle)
	if a.status != 200 || a.body["applied"] != true || string(f.got) != bundle {
		t.Errorf("push: %d %v, fleet got %d bytes", a.status, a.body, len(f.got))
	}
	// A bigger one reaches the fleet manager cut one byte over the limit,
	// for it to refuse (and record) as a bad bundle.
	f.err = &fleet.Refusal{Code: fleet.CodeBadBundle, Message: "bundle is larger than 262144 bytes"}
	if a := call(t, "POST", op.URL+"/v1/fleet/bundle", bundle+strings.Repeat("b", 1<<20)); a.status != 400 || a.code() != "bad_bundle" {
		t.Errorf("bundle over 256 KiB: %d %v", a.status, a.body)
	}
	if f.pushes != 2 || len(f.got) != 256<<10+1 {
		t.Errorf("%d pushes reached the fleet, the last of %d bytes; want 2, the last cut at 262145", f.pushes, len(f.got))
	}
}

func TestStatusAndFleetNotConfigured(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	nw := networkServer(t, tm, httpapi.NetworkOptions{})
	number, key := addClient(t, op.URL, "Fleet HQ", store.RoleFleet)
	for _, c := range []struct{ method, path string }{{"GET", "/v1/status"}, {"POST", "/v1/fleet/bundle"}} {
		if a := call(t, c.method, op.URL+c.path, "{}"); a.status != 501 || a.code() != "not_configured" {
			t.Errorf("socket %s %s: %d %v", c.method, c.path, a.status, a.body)
		}
		if a := tm.signed(c.method, nw.URL+c.path, "{}", number, key); a.status != 501 || a.code() != "not_configured" {
			t.Errorf("network %s %s: %d %v", c.method, c.path, a.status, a.body)
		}
	}
}

func TestStatusOnTheSocket(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm, httpapi.OperatorOptions{Status: staticStatus})
	if a := call(t, "GET", op.URL+"/v1/status", ""); a.status != 200 || a.body["terminal"] != "test-till" || a.body["configVersion"] != 3.0 {
		t.Errorf("status: %d %v", a.status, a.body)
	}
	failing := operatorServer(t, tm, httpapi.OperatorOptions{Status: func(context.Context) (httpapi.Status, error) { return httpapi.Status{}, errors.New("no") }})
	if a := call(t, "GET", failing.URL+"/v1/status", ""); a.status != 503 || a.code() != "unavailable" {
		t.Errorf("failing status: %d %v", a.status, a.body)
	}
}

func TestMetricsOnlyWhenGiven(t *testing.T) {
	tm := newTerminal(t)
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "posd_up 1\n") })
	op := operatorServer(t, tm, httpapi.OperatorOptions{Metrics: metrics})
	resp, err := http.Get(op.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "posd_up 1\n" {
		t.Errorf("metrics: %d %q", resp.StatusCode, b)
	}
	bare := operatorServer(t, tm)
	if a := call(t, "GET", bare.URL+"/metrics", ""); a.status != 404 || a.code() != "not_found" {
		t.Errorf("metrics without a handler: %d %v", a.status, a.body)
	}
}
