package checkout_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// withToken is the fixture (configtest: ETH and TUSD) with an ETH limit.
const withToken = `
[terminal]
id = "unit-till"
[[assets]]
symbol = "ETH"
max_payment = "0.5"
`

func newTill(t *testing.T, cfgText string, st *store.Store, c *clocktest.Fake) *checkout.Service {
	t.Helper()
	cfg := configtest.New(t, cfgText)
	key, _ := crypto.GenerateKey()
	return checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, Clock: c})
}

func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "showpos.db")
	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestNewRequestRefusals(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken, st, now)
	ctx := context.Background()
	tests := []struct {
		name, amount, symbol, memo string
		is                         error
		code                       check.Code
	}{
		{name: "unknown asset", amount: "1", symbol: "DOGE", is: checkout.ErrUnknownAsset},
		{name: "too precise", amount: "0.0000001", symbol: "TUSD", is: asset.ErrPrecision},
		{name: "negative", amount: "-1", is: asset.ErrNegative},
		{name: "zero", amount: "0", is: request.ErrAmount},
		{name: "memo with a control character", amount: "1", symbol: "TUSD", memo: "a\x07b", is: request.ErrMemo},
		{name: "above the per-payment maximum", amount: "0.500000000000000001", code: check.CodePaymentLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := till.NewRequest(ctx, tc.amount, tc.symbol, tc.memo)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			var r *check.Refusal
			if tc.code != "" && (!errors.As(err, &r) || r.Code != tc.code) {
				t.Fatalf("err = %v, want refusal %s", err, tc.code)
			}
		})
	}
	if _, err := till.Request(""); !errors.Is(err, checkout.ErrNoRequest) {
		t.Errorf("refused requests put something on screen: %v", err)
	}

	booted1970 := newTill(t, withToken, st, clocktest.NewFake(time.Unix(60, 0)))
	if _, err := booted1970.NewRequest(ctx, "0.1", "", ""); !errors.Is(err, request.ErrClock) {
		t.Errorf("clock in 1970: err = %v, want ErrClock", err)
	}
}

func TestPayAfterRestartAndAfterConfigDropsTheAsset(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	before := newTill(t, withToken, st, now)
	ctx := context.Background()
	ethDoc, err := before.NewRequest(ctx, "0.1", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	tusdDoc, err := before.NewRequest(ctx, "7", "TUSD", "")
	if err != nil {
		t.Fatal(err)
	}

	// A new till (a restarted daemon: nothing cached) whose config no
	// longer takes TUSD.
	ethOnly := configtest.New(t, withToken)
	ethOnly.Assets = ethOnly.Assets[:1] // ETH only: TUSD dropped
	ethOnly.Networks[0].Assets = ethOnly.Assets
	key, _ := crypto.GenerateKey()
	after := checkout.New(checkout.Options{Config: ethOnly, Key: key, Store: st, Clock: now})
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(ethDoc.Request(), payer, paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	rec, err := after.Pay(ctx, ethDoc.ID, raw)
	if err != nil || rec.Repeat || rec.TxHash != tx.Hash() {
		t.Fatalf("pay after restart: %+v, %v", rec, err)
	}
	again, err := after.Pay(ctx, ethDoc.ID, raw)
	if err != nil || !again.Repeat || again.TxHash != tx.Hash() {
		t.Errorf("repeat: %+v, %v", again, err)
	}

	tx2, _ := paytx.Build(tusdDoc.Request(), payer, paytx.Options{Nonce: 1})
	raw2, _ := tx2.MarshalBinary()
	_, err = after.Pay(ctx, tusdDoc.ID, raw2)
	var r *check.Refusal
	if !errors.As(err, &r) || r.Code != check.CodeUnknownRequest || !strings.Contains(r.Msg, "no longer takes") {
		t.Errorf("asset dropped from config: err = %v", err)
	}
	if _, err := st.Payment(tx2.Hash()); !errors.Is(err, store.ErrUnknownPayment) {
		t.Errorf("refused payment stored: %v", err)
	}
}

func TestRequestStatusFollowsTheStore(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken, st, now)
	ctx := context.Background()
	doc, err := till.NewRequest(ctx, "3", "TUSD", "table 4")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != "pending" || doc.Memo != "table 4" || doc.AmountDisplay != "3" {
		t.Errorf("new request document: %+v", doc)
	}
	onScreen, err := till.Request("")
	if err != nil || onScreen.ID != doc.ID {
		t.Fatalf("on screen: %v, %v", onScreen, err)
	}
	if signer, err := onScreen.Verify(); err != nil || signer != till.Signer() {
		t.Errorf("stored document verifies to %s, %v", signer, err)
	}
	cancelled, err := till.Cancel(ctx, doc.ID)
	if err != nil || cancelled.Status != "cancelled" {
		t.Errorf("cancel: %v, %v", cancelled, err)
	}
	if _, err := till.Cancel(ctx, "nope"); !errors.Is(err, store.ErrUnknownRequest) {
		t.Errorf("cancel unknown: %v", err)
	}
}
