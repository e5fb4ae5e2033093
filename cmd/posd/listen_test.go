package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
	"showpos/terminal/request"
)

// Port 0 in the config (or in -listen) lets the system pick each port;
// posd then says where it listens, in its status (listen) and in a log line
// per listener, and the requests it signs point payers at the port it got,
// not at ":0".
func TestPortZeroListenersSayWhereTheyAre(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listen string // api.listen in the file
		flag   string // -listen
	}{
		{"in the config", "127.0.0.1:0", ""},
		{"by the flag", "127.0.0.1:8", "127.0.0.1:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "posd.toml")
			cfg := configtest.Text(t, strings.ReplaceAll(headless, "DATA", filepath.Join(dir, "data"))+fmt.Sprintf(`
[api]
listen = %q
metrics_listen = "127.0.0.1:0"
`, tc.listen)+simBoard("127.0.0.1:0"))
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs lockedBuffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- run(ctx, log, cfgPath, "", tc.flag) }()
			t.Cleanup(func() { cancel(); <-errc })
			op := unixClient(filepath.Join(dir, "data", "posd.sock"))
			waitFor(t, op, errc)

			at := listening(t, op)
			for name, addr := range map[string]string{"api": at.API, "metrics": at.Metrics} {
				host, port, err := net.SplitHostPort(addr)
				if err != nil || host != "127.0.0.1" || port == "0" {
					t.Fatalf("status says %s listens on %q", name, addr)
				}
			}
			if !strings.HasPrefix(at.Simulator, "http://127.0.0.1:") || strings.HasPrefix(at.Simulator, "http://127.0.0.1:0/") {
				t.Fatalf("status says the simulator is at %q", at.Simulator)
			}

			// Each address is the listener's: the metrics, the simulator's
			// page, and the payer API at the URL a signed request carries.
			for url, want := range map[string]string{
				"http://" + at.Metrics + "/metrics": "showpos_",
				at.Simulator + "sim/state":          `"scanner"`,
			} {
				resp, err := http.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
					t.Errorf("GET %s: %s %.200s", url, resp.Status, body)
				}
			}
			resp, err := op.Post("http://posd/v1/requests", "application/json", strings.NewReader(`{"amount":"0.02"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			doc, err := request.ParseDocument(body)
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if want := "http://" + at.API + "/api/showpos/getPaymentRequest?id=" + doc.ID; doc.RequestURL != want {
				t.Fatalf("request URL %q, want %q", doc.RequestURL, want)
			}
			got := fetchRequest(t, at.API)
			if got.ID != doc.ID {
				t.Errorf("the payer API at %s shows request %s, want %s", at.API, got.ID, doc.ID)
			}

			// The log says it too, one line per listener, as an operator
			// running `posd -listen :0` reads it.
			said := map[string]string{}
			for line := range strings.Lines(logs.String()) {
				var l struct{ Msg, API, Addr string }
				if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
					said[l.API] = l.Addr
				}
			}
			for api, want := range map[string]string{"network": at.API, "metrics": at.Metrics, "simulator": at.Simulator} {
				if said[api] != want {
					t.Errorf("log says %s listens on %q, status %q (all: %v)", api, said[api], want, said)
				}
			}
		})
	}
}

// listening is what the terminal's status says of its listeners.
func listening(t *testing.T, op *http.Client) httpapi.Listen {
	t.Helper()
	resp, err := op.Get("http://posd/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st httpapi.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("status: %v", err)
	}
	return st.Listen
}

// lockedBuffer is a log sink the daemon's goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
