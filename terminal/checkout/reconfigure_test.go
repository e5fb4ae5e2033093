package checkout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// A running till takes a new config (a fleet bundle) without a restart:
// new requests follow it at once, a request already signed keeps its
// terms, and limits apply from the next payment.
func TestReconfigureWhileRunning(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	var refused []check.Code
	var shown []string
	cfg := configtest.New(t, withToken)
	key, _ := crypto.GenerateKey()
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, Clock: now,
		OnRefuse:  func(c check.Code) { refused = append(refused, c) },
		OnRequest: func(d *request.Document) { shown = append(shown, d.ID+" "+d.Status) }})
	ctx := context.Background()
	old, err := till.NewRequest(ctx, "5", "TUSD", "")
	if err != nil {
		t.Fatal(err)
	}

	newMerchant := "0x00000000000000000000000000000000000bEEF1"
	nextCfg := configtest.New(t, withToken+`
[merchant]
address = "`+newMerchant+`"
[[assets]]
symbol = "TUSD"
max_payment = "10"
`)
	till.Reconfigure(nextCfg)
	if till.Config() != nextCfg {
		t.Fatal("Config() is not the new config")
	}

	fresh, err := till.NewRequest(ctx, "5", "TUSD", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := fresh.Request().Merchant; got != common.HexToAddress(newMerchant) {
		t.Errorf("new request pays %s, want the new merchant", got.Hex())
	}
	if got := old.Request().Merchant; got != common.HexToAddress("0x000000000000000000000000000000000000dEaD") {
		t.Errorf("old request changed merchant: %s", got.Hex())
	}
	if _, err := till.NewRequest(ctx, "11", "TUSD", ""); !isRefusal(err, check.CodePaymentLimit) {
		t.Errorf("new TUSD limit not applied to requests: %v", err)
	}

	// The old request is paid to the merchant it names.
	payer, _ := crypto.GenerateKey()
	tx, err := paytx.Build(old.Request(), payer, paytx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	if _, err := till.Pay(ctx, old.ID, raw); err != nil {
		t.Fatalf("old request after reconfigure: %v", err)
	}
	// A payment to the old merchant for the new request is refused and
	// counted by code.
	wrong, _ := paytx.Build(old.Request(), payer, paytx.Options{Nonce: 1})
	rawWrong, _ := wrong.MarshalBinary()
	if _, err := till.Pay(ctx, fresh.ID, rawWrong); !isRefusal(err, check.CodeWrongTransfer) && !isRefusal(err, check.CodeWrongRecipient) {
		t.Fatalf("old merchant for the new request: %v", err)
	}
	if len(refused) != 1 {
		t.Errorf("OnRefuse saw %v, want one code", refused)
	}
	if _, err := till.Cancel(ctx, fresh.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{old.ID + " pending", fresh.ID + " pending", fresh.ID + " cancelled"}
	if strings.Join(shown, ",") != strings.Join(want, ",") {
		t.Errorf("OnRequest saw %v, want %v", shown, want)
	}
}

func isRefusal(err error, code check.Code) bool {
	var r *check.Refusal
	return errors.As(err, &r) && r.Code == code
}

func TestTotalsPerAssetAndState(t *testing.T) {
	st, _ := openStore(t)
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	now := clocktest.NewFake(day.Add(9 * time.Hour))
	till := newTill(t, withToken, st, now)
	ctx := context.Background()
	payer, _ := crypto.GenerateKey()
	var nonce uint64
	pay := func(amount, symbol string) common.Hash {
		t.Helper()
		doc, err := till.NewRequest(ctx, amount, symbol, "")
		if err != nil {
			t.Fatal(err)
		}
		tx, err := paytx.Build(doc.Request(), payer, paytx.Options{Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		nonce++
		raw, _ := tx.MarshalBinary()
		if _, err := till.Pay(ctx, doc.ID, raw); err != nil {
			t.Fatal(err)
		}
		return tx.Hash()
	}
	pay("0.25", "ETH")
	confirmed := pay("1.5", "TUSD")
	pay("2", "TUSD")
	failed := pay("4", "TUSD")
	now.Set(day.Add(25 * time.Hour)) // the next day: not in the totals
	pay("100", "TUSD")
	if _, err := st.SetPaymentState(ctx, confirmed, store.PaymentConfirmed, "", now.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetPaymentState(ctx, failed, store.PaymentFailed, "reverted", now.Now()); err != nil {
		t.Fatal(err)
	}

	got, err := till.Totals(day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assets) != 2 || got.Assets[0].Asset != "ETH" || got.Assets[1].Asset != "TUSD" {
		t.Fatalf("assets: %+v", got.Assets)
	}
	eth, tusd := got.Assets[0], got.Assets[1]
	if eth.Taken != (checkout.Sum{Count: 1, Amount: "250000000000000000", AmountDisplay: "0.25"}) || eth.Pending.Count != 1 {
		t.Errorf("ETH: %+v", eth)
	}
	wantTUSD := checkout.AssetTotal{Asset: "TUSD", Network: "chain-1337", ChainID: 1337, Decimals: 6,
		Taken:     checkout.Sum{Count: 2, Amount: "3500000", AmountDisplay: "3.5"},
		Confirmed: checkout.Sum{Count: 1, Amount: "1500000", AmountDisplay: "1.5"},
		Pending:   checkout.Sum{Count: 1, Amount: "2000000", AmountDisplay: "2"},
		Failed:    checkout.Sum{Count: 1, Amount: "4000000", AmountDisplay: "4"},
		Unmatched: checkout.Sum{Count: 0, Amount: "0", AmountDisplay: "0"}}
	if tusd != wantTUSD {
		t.Errorf("TUSD:\n got %+v\nwant %+v", tusd, wantTUSD)
	}
}

// Consecutive days meet exactly, also where daylight saving skips midnight
// (Cairo, 2025-04-25) or repeats an hour around it (Santiago, 2024-09-08).
func TestDayBoundsMeetAcrossDaylightSaving(t *testing.T) {
	for _, tc := range []struct {
		zone string
		day  time.Time
	}{
		{"Africa/Cairo", time.Date(2025, 4, 24, 12, 0, 0, 0, time.UTC)},
		{"America/Santiago", time.Date(2024, 9, 7, 12, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", time.Date(2025, 3, 29, 12, 0, 0, 0, time.UTC)},
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Skipf("no tz data for %s: %v", tc.zone, err)
		}
		for i := range 4 {
			d := time.Date(tc.day.Year(), tc.day.Month(), tc.day.Day()+i, 12, 0, 0, 0, loc)
			_, to := checkout.Day(d)
			next, _ := checkout.Day(d.AddDate(0, 0, 1))
			if !to.Equal(next) {
				t.Errorf("%s %s: ends %s, the next day starts %s", tc.zone, d.Format(time.DateOnly), to, next)
			}
			if from, _ := checkout.Day(d); !from.Before(d) || to.Sub(from) < 22*time.Hour || to.Sub(from) > 26*time.Hour {
				t.Errorf("%s %s: [%s, %s)", tc.zone, d.Format(time.DateOnly), from, to)
			}
		}
	}
}
