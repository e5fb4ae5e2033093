package main

import (
	"encoding/csv"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/terminal/httpapi"
)

// With store.keep = "0s" a payment goes from the store once it is final:
// the real daemon on the dev chain takes it, broadcasts it, follows it to
// final, and its pruner deletes it; /v1/status shows the store emptied and
// the round, /metrics the count.
func TestPosdPrunesAFinalPaymentWithKeepZero(t *testing.T) {
	every := pruneEvery
	pruneEvery = 100 * time.Millisecond
	t.Cleanup(func() { pruneEvery = every })
	node, dir, addr := startChainTerminal(t, "\n[store]\nkeep = \"0s\"\n")
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))

	if st := status(t, op).Store; st == nil || st.Keep != "0s" || st.FileBytes <= 0 {
		t.Fatalf("status.store before a sale: %+v", st)
	}
	doc, tx := sellOnChain(t, node, op, addr, "0.5")
	if st := status(t, op).Store; st.Total != 1 || st.OldestAccepted.IsZero() {
		t.Fatalf("status.store after the sale: %+v", st)
	}
	if code := getStatus(t, op, "http://posd/v1/requests/"+doc.ID); code != http.StatusOK {
		t.Fatalf("the request before pruning: %d", code)
	}
	// Archived first: the export reads through the running daemon, which
	// holds the store file.
	resp, err := op.Get("http://posd/v1/payments/export?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(recs) != 2 || recs[1][0] != tx.Hash().Hex() || recs[1][2] != doc.ID || resp.Trailer.Get(httpapi.ExportRowsTrailer) != "1" {
		t.Fatalf("export before pruning: %v, %v", recs, err)
	}

	// Mine past the final depth until the payment is final, then pruned.
	deadline := time.Now().Add(60 * time.Second)
	pruned := false
	for !pruned {
		if time.Now().After(deadline) {
			t.Fatalf("not pruned: %+v", status(t, op).Store)
		}
		if err := node.Mine(8); err != nil {
			t.Fatal(err)
		}
		resp, err := op.Post("http://posd/v1/sync", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		time.Sleep(100 * time.Millisecond)
		st := status(t, op).Store
		pruned = st.Total == 0 && st.LastPrune != nil && st.LastPrune.Err == ""
	}
	st := status(t, op).Store
	if !st.OldestAccepted.IsZero() || st.Payments["final"] != 0 {
		t.Errorf("status.store after pruning: %+v", st)
	}
	if code := getStatus(t, op, "http://posd/v1/requests/"+doc.ID); code != http.StatusNotFound {
		t.Errorf("the pruned payment's request: %d, want 404", code)
	}
	resp, err = op.Get("http://posd/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`showpos_store_pruned_total{kind="payments"} 1`, "showpos_store_payments 0", "showpos_store_bytes "} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func getStatus(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
