package main

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
	"showpos/sync/watch"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// The watcher as posd wires it, on geth, the store and the till: a
// wallet's own transfer of a request's amount pays the request; when the
// node loses the transfer's block, the match is taken back and the request
// is pending again, with no payment left for it.
func TestAWatchedPaymentWhoseBlockIsLostIsTakenBack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a dev chain")
	}
	ctx := t.Context()
	node, err := devchain.Start(ctx, devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	client, err := chain.New(chain.Options{Endpoints: []string{node.Endpoint()}, ChainID: node.ChainID().Uint64()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := configtest.New(t, "")
	key, _ := crypto.GenerateKey()
	d := &daemon{log: slog.New(slog.DiscardHandler), store: st,
		till: checkout.New(checkout.Options{Config: cfg, Key: key, Store: st})}
	w, err := d.newWatcher(cfg, cfg.Networks[0], client, telemetry.New())
	if err != nil {
		t.Fatal(err)
	}
	caughtUp := func() watch.Report {
		t.Helper()
		var all watch.Report
		for range 100 {
			r, err := w.Round(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all.Reorg = all.Reorg || r.Reorg
			if !r.More && r.Height == node.Head() {
				return all
			}
		}
		t.Fatal("the watcher did not catch up")
		return all
	}
	caughtUp() // the cursor at the head

	doc, err := d.till.NewRequest(ctx, "0.01", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := paytx.Build(doc.Request(), node.Payers()[0].Key, paytx.Options{Type: types.DynamicFeeTxType})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	if errs, err := client.SendBatch(ctx, [][]byte{raw}); err != nil || errs[0] != nil {
		t.Fatalf("send: %v %v", errs, err)
	}
	var block uint64
	for deadline := time.Now().Add(10 * time.Second); block == 0; time.Sleep(20 * time.Millisecond) {
		if rs, err := client.Receipts(ctx, []common.Hash{tx.Hash()}); err == nil && rs[0] != nil {
			block = rs[0].BlockNumber.Uint64()
		} else if time.Now().After(deadline) {
			t.Fatal("not mined")
		}
	}
	caughtUp()
	got, err := d.till.Request(doc.ID)
	if err != nil || got.Status != "paid" || got.PaidTx != tx.Hash().Hex() {
		t.Fatalf("request after the transfer: %+v, %v", got, err)
	}

	if err := node.Rewind(block - 1); err != nil {
		t.Fatal(err)
	}
	if err := node.Mine(2); err != nil {
		t.Fatal(err)
	}
	if r := caughtUp(); !r.Reorg {
		t.Error("no reorg seen")
	}
	got, err = d.till.Request(doc.ID)
	if err != nil || got.Status != "pending" || got.PaidTx != "" {
		t.Fatalf("request after its block was lost: status %q, paid by %q, %v", got.Status, got.PaidTx, err)
	}
	if ps, err := st.Payments(store.PaymentFilter{}); err != nil || len(ps) != 0 {
		t.Fatalf("payments after the lost block: %+v, %v", ps, err)
	}
}
