package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// pausingWriter is a client reading an export slowly: at its first
// write (the export has read its first page of the store, and not the
// next) it runs between, before taking anything.
type pausingWriter struct {
	*httptest.ResponseRecorder
	between func()
}

func (w *pausingWriter) Write(b []byte) (int, error) {
	if w.between != nil {
		f := w.between
		w.between = nil
		f()
	}
	return w.ResponseRecorder.Write(b)
}

// An export is whole even when the pruner runs while it streams: the
// export holds its period, so a prune round between its pages deletes
// none of the rows it has not reached yet (and only what is older than
// the period); once it ends, the next round deletes them.
func TestExportHoldsThePrunerOffItsPeriod(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	at := now.Add(-2 * time.Hour)
	// n in the period exported, accepted at at; before them, earlier
	// ones accepted a day before, outside it.
	const n = 620 // more than one page of the export (500)
	const earlier = 30
	for i := range earlier + n {
		at := at
		if i < earlier {
			at = at.Add(-24 * time.Hour)
		}
		id := fmt.Sprintf("req-%04d", i)
		r := store.Request{ID: id, Asset: "ETH", Amount: big.NewInt(int64(1000 + i)), CreatedAt: at, ExpiresAt: at.Add(time.Hour),
			Doc: []byte(`{"id":"` + id + `"}`)}
		if err := st.PutRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		p := store.Payment{TxHash: common.BigToHash(big.NewInt(int64(i + 1))), Source: store.SourceHandover, RequestID: id,
			From: common.BigToAddress(big.NewInt(int64(i + 1))), Nonce: 7, Asset: "ETH", Amount: big.NewInt(int64(1000 + i)),
			Raw: []byte{0x02, byte(i)}, State: store.PaymentQueued, ChainID: configtest.ChainID}
		if _, _, err := st.Accept(ctx, p, at, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetPaymentState(ctx, p.TxHash, store.PaymentFinal, "", at); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := crypto.GenerateKey()
	till := checkout.New(checkout.Options{Config: configtest.New(t, ""), Key: key, Store: st, Clock: clocktest.NewFake(now)})
	keep := time.Duration(0)
	p := &pruner{st: st, keep: func() *time.Duration { return &keep }, log: slog.New(slog.DiscardHandler),
		onPrune: func(string, int) {}, every: time.Hour}
	op := httpapi.Operator(httpapi.OperatorOptions{Register: till, ExportHold: p})

	for _, tc := range []struct {
		name   string
		query  string
		pruned int // by the round during the export: what is outside its period
	}{
		{"a period", "?from=" + url.QueryEscape(at.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Format(time.RFC3339)), earlier},
		{"everything", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &pausingWriter{ResponseRecorder: httptest.NewRecorder(), between: func() { p.round(ctx) }}
			op.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/payments/export"+tc.query, nil))
			res := w.Result()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("export: %d %s", res.StatusCode, w.Body)
			}
			recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			rows, err := strconv.Atoi(res.Trailer.Get(httpapi.ExportRowsTrailer))
			if err != nil {
				t.Fatalf("trailer %q: the export was cut short", res.Trailer.Get(httpapi.ExportRowsTrailer))
			}
			if len(recs)-1 != n || rows != n {
				t.Fatalf("export has %d rows, trailer %d; want all %d: the pruner deleted rows it had not reached", len(recs)-1, rows, n)
			}
			if last := p.Last(); last == nil || last.Err != "" || last.Payments != tc.pruned {
				t.Fatalf("the prune round during the export: %+v; want it to delete %d, those outside the period", last, tc.pruned)
			}
		})
	}
	// Released: the next round prunes them all.
	p.round(ctx)
	if last := p.Last(); last == nil || last.Payments != n {
		t.Fatalf("the round after the exports: %+v; want %d payments pruned", last, n)
	}
}
