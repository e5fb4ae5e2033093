package checkout_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// Two pending requests keyed for one amount get distinct amounts: the
// second a tail of 1 wei, carried in its QR code and signed document,
// which the screen does not show.
func TestSameAmountTwiceGetsATailTheScreenDoesNotShow(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken, st, now)
	ctx := context.Background()
	first, err := till.NewRequest(ctx, "0.05", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := till.NewRequest(ctx, "0.05", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	if first.Request().Amount.String() != "50000000000000000" || second.Request().Amount.String() != "50000000000000001" {
		t.Fatalf("amounts %s and %s, want 0.05 ETH and 1 wei more", first.Request().Amount, second.Request().Amount)
	}
	if !strings.Contains(second.URI, "value=50000000000000001") {
		t.Errorf("QR code %s lacks the tailed amount", second.URI)
	}
	if signer, err := second.Verify(); err != nil || signer != till.Signer() {
		t.Errorf("tailed document verifies to %s, %v", signer, err)
	}
	if got := checkout.ShownAmount(second.Request().Amount, 18); got != "0.05" {
		t.Errorf("screen shows %q, want 0.05", got)
	}
	// A 6-decimal token: a tail of micro-units; shown.
	a, _ := till.NewRequest(ctx, "3", "TUSD", "")
	b, _ := till.NewRequest(ctx, "3", "TUSD", "")
	if a.Request().Amount.Int64() != 3_000_000 || b.Request().Amount.Int64() != 3_000_001 {
		t.Fatalf("TUSD amounts %s %s", a.Request().Amount, b.Request().Amount)
	}
	// Once the first is cancelled its amount is free again.
	if _, err := till.Cancel(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	third, err := till.NewRequest(ctx, "0.05", "ETH", "")
	if err != nil || third.Request().Amount.String() != "50000000000000000" {
		t.Fatalf("after cancel: %v, %v", third.Request().Amount, err)
	}
}

func TestEveryTailTakenIsRefused(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken, st, now)
	ctx := context.Background()
	for i := range 100 { // TUSD (6 decimals): 100 amounts
		if _, err := till.NewRequest(ctx, "3", "TUSD", ""); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := till.NewRequest(ctx, "3", "TUSD", "")
	var r *check.Refusal
	if !errors.As(err, &r) || r.Code != check.CodeAmountInUse {
		t.Fatalf("101st request of one amount: %v, want amount_in_use", err)
	}
}

// A transfer on chain pays the request on screen: the ledger tells the
// till's listeners (SEEN), lists it with source chain, refuses a later
// handover (already_paid); an unmatched transfer is told, listed apart and
// counted apart in the totals.
func TestLedgerPaysByChainAndTellsTheListeners(t *testing.T) {
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken, st, now)
	ctx := context.Background()
	doc, err := till.NewRequest(ctx, "0.05", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	var seen []checkout.Receipt
	var unmatched []checkout.Unmatched
	var settled []store.Payment
	l := checkout.NewLedger(checkout.LedgerOptions{Store: st.Chain(configtest.ChainID), Till: till,
		OnAccept:    func(r checkout.Receipt) { seen = append(seen, r) },
		OnUnmatched: func(u checkout.Unmatched) { unmatched = append(unmatched, u) },
		OnSettle:    func(p store.Payment) { settled = append(settled, p) },
	})
	at := now.Now().Add(20 * time.Second)
	pay := store.Transfer{Block: 5, BlockHash: common.Hash{5}, BlockTime: at, TxHash: common.Hash{0xaa}, Index: 1,
		From: common.Address{1}, Asset: "ETH", Amount: doc.Request().Amount}
	short := pay
	short.TxHash, short.Amount = common.Hash{0xbb}, big.NewInt(49_000_000_000_000_000)
	if err := l.RecordRange(ctx, store.WatchCursor{Height: 5}, []store.Transfer{pay, short}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].RequestID != doc.ID || seen[0].Status != store.PaymentSeen || seen[0].Source != store.SourceChain {
		t.Fatalf("told of %+v", seen)
	}
	if len(unmatched) != 1 || unmatched[0].AmountDisplay != "0.049" || unmatched[0].Reason != store.UnmatchedNoRequest {
		t.Fatalf("unmatched told %+v", unmatched)
	}
	if got, _ := till.Request(doc.ID); got.Status != "paid" || got.PaidTx != pay.TxHash.Hex() || got.PaidState != "seen" {
		t.Fatalf("request %s paid by %s (%s)", got.Status, got.PaidTx, got.PaidState)
	}
	// A later handover of another transaction: already_paid.
	payer, _ := crypto.GenerateKey()
	tx, _ := paytx.Build(doc.Request(), payer, paytx.Options{})
	raw, _ := tx.MarshalBinary()
	_, err = till.Pay(ctx, doc.ID, raw)
	var r *check.Refusal
	if !errors.As(err, &r) || r.Code != check.CodeAlreadyPaid {
		t.Fatalf("handover after a chain payment: %v, want already_paid", err)
	}
	ps, _ := till.Payments(store.PaymentFilter{})
	if len(ps) != 1 || ps[0].Source != store.SourceChain || ps[0].State != store.PaymentSeen || ps[0].Block != 5 {
		t.Fatalf("payments %+v", ps)
	}
	us, _ := till.Payments(store.PaymentFilter{State: store.PaymentUnmatched})
	if len(us) != 1 || us[0].AmountDisplay != "0.049" || us[0].Source != store.SourceChain {
		t.Fatalf("unmatched list %+v", us)
	}
	totals, err := till.Totals(checkout.Day(now.Now()))
	if err != nil || len(totals.Assets) != 1 {
		t.Fatalf("totals %+v, %v", totals, err)
	}
	eth := totals.Assets[0]
	if eth.Taken.AmountDisplay != "0.05" || eth.Pending.Count != 1 || eth.Unmatched.AmountDisplay != "0.049" || eth.Unmatched.Count != 1 {
		t.Fatalf("ETH totals %+v", eth)
	}
	if err := l.Settle(ctx, 5, 0); err != nil {
		t.Fatal(err)
	}
	if len(settled) != 1 || settled[0].State != store.PaymentConfirmed {
		t.Fatalf("settled %+v", settled)
	}
	// The payer's page says PAID now, not at seen.
	if got, _ := till.Request(doc.ID); got.PaidState != "confirmed" {
		t.Fatalf("request's payment %q after Settle, want confirmed", got.PaidState)
	}
}
