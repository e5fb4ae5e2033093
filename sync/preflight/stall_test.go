package preflight_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// stallNode answers eth_chainId (so the client is online) and never
// answers anything else until the test ends: a node that is up but stuck.
func stallNode(t *testing.T) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err == nil && req.Method == "eth_chainId" {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": "0x539"})
			return
		}
		select { // a batch, or any other call: stuck
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL
}

// A chain that does not answer within the budget, or is offline, refuses
// nothing: the payment is accepted as it would be offline, and the outcome
// is counted as skipped. (The outcome is asserted, not a time.) A stall is
// logged with the payment; a client known offline is not, payment after
// payment: it logged going offline itself.
func TestPreflightSkipsAChainThatDoesNotAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stalled := online(t, ctx, stallNode(t))
	offline, err := chain.New(chain.Options{ChainID: configtest.ChainID}) // no endpoints
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(offline.Close)
	freshKey, _ := crypto.GenerateKey() // no money: the chain, had it answered, would refuse
	payer := &devchain.Account{Address: crypto.PubkeyToAddress(freshKey.PublicKey), Key: freshKey}

	cases := []struct {
		name   string
		c      *chain.Client
		logged bool
	}{
		{"an endpoint that stalls", stalled, true},
		{"a client that is offline", offline, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.c, "[chain]\npreflight_budget = \"200ms\"", nil)
			_, rec, err := r.pay(t, ctx, "0.01", "ETH", payer, paytx.Options{Nonce: 9})
			if err != nil {
				t.Fatalf("Pay: %v; want accepted on the offline check", err)
			}
			if rec.Status != "queued" {
				t.Errorf("status %q, want queued", rec.Status)
			}
			if got := r.out.last(); got != checkout.PreflightSkipped {
				t.Errorf("outcome %q, want skipped", got)
			}
			if got := strings.Contains(r.log.String(), "pre-flight skipped"); got != tc.logged {
				t.Errorf("skip logged: %v, want %v; the till's log:\n%s", got, tc.logged, r.log)
			}
		})
	}
}

// With chain.preflight_budget "0s" the chain is never asked.
func TestPreflightOff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := online(t, ctx, stallNode(t))
	freshKey, _ := crypto.GenerateKey()
	payer := &devchain.Account{Address: crypto.PubkeyToAddress(freshKey.PublicKey), Key: freshKey}
	r := newRig(t, c, "[chain]\npreflight_budget = \"0s\"", nil)
	if _, _, err := r.pay(t, ctx, "0.01", "ETH", payer, paytx.Options{}); err != nil {
		t.Fatalf("Pay: %v", err)
	}
	if got := r.out.last(); got != "" {
		t.Errorf("outcome %q with the pre-flight off, want none", got)
	}
}
