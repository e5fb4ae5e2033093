package httpapi_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/httpapi"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// The export streams every payment of a period, all states, then the
// unmatched receipts, in pages (more than one page here), as CSV with a
// header row or JSON lines, and ends a whole export with its row count in
// a trailer.
func TestExportStreamsEveryPaymentOfThePeriod(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	payer := newKey(t)
	const n = 501 // the store is read 500 at a time
	var ids []string
	for i := range n {
		r := tm.request("0.001", "ETH")
		if a := tm.broadcast(r.ID, sign(t, r, payer, paytx.Options{Nonce: uint64(i)})); a.status != 202 {
			t.Fatalf("payment %d: %v", i, a.body)
		}
		ids = append(ids, r.ID)
	}
	stray := store.Transfer{Block: 3, BlockTime: tm.clock.Now(), TxHash: common.Hash{0xcc}, Index: 0,
		From: common.Address{7}, Asset: "ETH", Amount: big.NewInt(49_000_000_000_000_000)}
	if err := tm.store.Chain(tm.cfg.ChainID).RecordRange(context.Background(), store.WatchCursor{Height: 3}, []store.Transfer{stray}); err != nil {
		t.Fatal(err)
	}
	now := tm.clock.Now()
	period := "from=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339))

	t.Run("csv", func(t *testing.T) {
		resp, err := http.Get(op.URL + "/v1/payments/export?" + period)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8; header=present" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recs[0], httpapi.ExportColumns) {
			t.Fatalf("header %v", recs[0])
		}
		if len(recs) != 1+n+1 {
			t.Fatalf("%d rows, want %d payments and 1 unmatched receipt", len(recs)-1, n)
		}
		col := func(row []string, name string) string { return row[slices.Index(httpapi.ExportColumns, name)] }
		for i, row := range recs[1 : 1+n] {
			if col(row, "request_id") != ids[i] || col(row, "state") != "queued" || col(row, "amount_display") != "0.001" ||
				col(row, "amount") != "1000000000000000" || col(row, "source") != "handover" {
				t.Fatalf("row %d: %v", i, row)
			}
		}
		if u := recs[n+1]; col(u, "state") != "unmatched" || col(u, "id") != stray.TxHash.Hex() || col(u, "reason") != "no_request" {
			t.Errorf("unmatched row %v", u)
		}
		if got := resp.Trailer.Get(httpapi.ExportRowsTrailer); got != "502" {
			t.Errorf("trailer %q, want 502", got)
		}
	})
	t.Run("jsonl", func(t *testing.T) {
		resp, err := http.Get(op.URL + "/v1/payments/export?format=jsonl&" + period)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		rows := 0
		for sc.Scan() {
			var m map[string]string
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil || len(m) != len(httpapi.ExportColumns) {
				t.Fatalf("line %d: %s: %v", rows, sc.Bytes(), err)
			}
			rows++
		}
		if rows != n+1 || resp.Trailer.Get(httpapi.ExportRowsTrailer) != "502" {
			t.Errorf("%d lines, trailer %q", rows, resp.Trailer.Get(httpapi.ExportRowsTrailer))
		}
	})
	t.Run("a period with nothing in it", func(t *testing.T) {
		resp, err := http.Get(op.URL + "/v1/payments/export?to=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(b) != "id,source,request_id,from,nonce,asset,amount,amount_display,state,reason,accepted_at,updated_at,seq,block,block_hash,settlement,acknowledged_at\n" ||
			resp.Trailer.Get(httpapi.ExportRowsTrailer) != "0" {
			t.Errorf("%d %q trailer %q", resp.StatusCode, b, resp.Trailer.Get(httpapi.ExportRowsTrailer))
		}
	})
}

func TestExportRefusesBadQueries(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm)
	for _, q := range []string{"format=xml", "from=yesterday", "to=2026-13-01T00:00:00Z",
		"from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		if a := call(t, "GET", op.URL+"/v1/payments/export?"+q, ""); a.status != 400 || a.code() != "bad_request" {
			t.Errorf("%s: %d %v", q, a.status, a.body)
		}
	}
}
