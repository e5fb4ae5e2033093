package httpapi_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

func TestOperatorAcknowledgesUnmatchedReceipts(t *testing.T) {
	tm := newTerminal(t)
	op := operatorServer(t, tm, httpapi.OperatorOptions{Unmatched: tm.till})
	stray := store.Transfer{Block: 3, BlockTime: tm.clock.Now(), TxHash: common.Hash{0xcc}, Index: 0,
		From: common.Address{7}, Asset: "ETH", Amount: big.NewInt(49_000_000_000_000_000)}
	if err := tm.store.Chain(tm.cfg.ChainID).RecordRange(context.Background(), store.WatchCursor{Height: 3}, []store.Transfer{stray}); err != nil {
		t.Fatal(err)
	}
	a := call(t, "GET", op.URL+"/v1/payments?state=unmatched", "")
	u := a.body["payments"].([]any)[0].(map[string]any)
	if _, ok := u["acknowledgedAt"]; ok {
		t.Fatalf("a receipt not acknowledged yet: %v", u)
	}
	seq := u["seq"].(float64)
	url := op.URL + "/v1/payments/unmatched/" + big.NewInt(int64(seq)).String() + "/ack"
	a = call(t, "POST", url, "")
	at, ok := a.body["acknowledgedAt"].(string)
	if a.status != 200 || !ok || a.body["txHash"] != stray.TxHash.Hex() || a.body["state"] != "unmatched" {
		t.Fatalf("ack: %d %v", a.status, a.body)
	}
	tm.clock.Advance(time.Minute)
	if a := call(t, "POST", url, ""); a.status != 200 || a.body["acknowledgedAt"] != at {
		t.Errorf("ack again: %d %v, want the first acknowledgement kept", a.status, a.body)
	}
	a = call(t, "GET", op.URL+"/v1/payments?state=unmatched", "")
	if u := a.body["payments"].([]any)[0].(map[string]any); u["acknowledgedAt"] != at {
		t.Errorf("listed: %v", u)
	}
	for _, tc := range []struct {
		path, code string
		status     int
	}{
		{"/v1/payments/unmatched/99/ack", "unknown_receipt", 404},
		{"/v1/payments/unmatched/x/ack", "bad_request", 400},
		{"/v1/payments/unmatched/0/ack", "bad_request", 400},
	} {
		if a := call(t, "POST", op.URL+tc.path, ""); a.status != tc.status || a.code() != tc.code {
			t.Errorf("%s: %d %v", tc.path, a.status, a.body)
		}
	}
	plain := operatorServer(t, tm)
	if a := call(t, "POST", plain.URL+"/v1/payments/unmatched/1/ack", ""); a.status != 404 || a.code() != "not_found" {
		t.Errorf("without Unmatched: %d %v", a.status, a.body)
	}
}
