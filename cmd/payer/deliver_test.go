package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A payment answered 503 unavailable (a terminal just started, checking
// its open payments) is sent again, the same bytes, until it is taken; any
// other refusal, a 503 with another code among them, is answered at once.
func TestPostSendsAgainWhileTheTerminalIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		busy       int    // answers of 503 before the 202
		code       string // the 503's code
		wantStatus int
		wantTries  int32
	}{
		{"taken at once", 0, "unavailable", http.StatusAccepted, 1},
		{"unavailable twice, then taken", 2, "unavailable", http.StatusAccepted, 3},
		{"unavailable throughout", 100, "unavailable", http.StatusServiceUnavailable, unavailableTries},
		{"another 503 is an answer", 100, "chain_unreachable", http.StatusServiceUnavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tries atomic.Int32
			const body = `{"requestId":"r","rawTx":"0x02"}`
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got, _ := io.ReadAll(r.Body); string(got) != body {
					t.Errorf("try %d sent %q, want the same body %q", tries.Load()+1, got, body)
				}
				if int(tries.Add(1)) <= tc.busy {
					w.WriteHeader(http.StatusServiceUnavailable)
					io.WriteString(w, `{"error":{"code":"`+tc.code+`","message":"busy"}}`)
					return
				}
				w.WriteHeader(http.StatusAccepted)
				io.WriteString(w, `{"status":"accepted"}`)
			}))
			defer srv.Close()
			status, _, _, err := post(context.Background(), srv.URL, []byte(body))
			if err != nil || status != tc.wantStatus || tries.Load() != tc.wantTries {
				t.Fatalf("post = %d, %v after %d tries; want %d after %d", status, err, tries.Load(), tc.wantStatus, tc.wantTries)
			}
		})
	}
}
