package cashier_test

import (
	"context"
	"testing"
	"time"

	"showpos/terminal/screen"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// sellAndFail sells 1.5 ETH through the scanner, back to idle, then has
// the broadcaster fail it after acceptance; it returns the failure time.
func (s *shop) sellAndFail(reason string) time.Time {
	s.t.Helper()
	doc := s.charge("1", ".", "5")
	s.scan(s.sign(doc, paytx.Options{}))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted}))
	s.press("enter")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	ps, err := s.store.Payments(store.PaymentFilter{})
	if err != nil || len(ps) != 1 {
		s.t.Fatalf("payments: %+v, %v", ps, err)
	}
	at := time.Now().Truncate(time.Second)
	if _, err := s.store.SetPaymentState(context.Background(), ps[0].TxHash, store.PaymentFailed, reason, at); err != nil {
		s.t.Fatal(err)
	}
	return at
}

func TestFailuresStayCountedUntilAcknowledgedFromTheMenu(t *testing.T) {
	s := openShop(t)
	at := s.sellAndFail("conflict: nonce 0 taken")
	// The idle screen counts it (at its next redraw), and keeps counting.
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop", Failures: 1}))

	s.press("F2", "F2", "F2", "F2") // the menu: last payments, today, queue, failures
	failed := screen.Menu{Title: "FAILED #1 (1 open)", Hint: "OK ack  F1 ask again  F3 next",
		Lines: []string{"1.5 ETH", "conflict: nonce 0 taken", at.Local().Format("01-02 15:04")}}
	s.waitScreen(s.screens.Menu(failed))

	// Ask again: a new request for the same amount and asset, on screen.
	s.press("F1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		doc, err := s.till.Request("")
		if err == nil && doc.AmountDisplay == "1.5" && doc.Asset.Symbol == "ETH" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new request for 1.5 ETH on screen: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.press("cancel")
	// Asking again acknowledges nothing.
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop", Failures: 1}))

	s.press("F2", "F2", "F2", "F2")
	s.waitScreen(s.screens.Menu(failed))
	s.press("enter") // acknowledge
	s.waitScreen(s.screens.Menu(screen.Menu{Title: "FAILURES", Hint: "F2 next  CANCEL back", Lines: []string{"no failed payments"}}))
	s.press("cancel")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	if f, err := s.store.Failure(1); err != nil || !f.Acked() {
		t.Fatalf("failure 1 after OK: %+v, %v", f, err)
	}
}

func TestXAndZReportsFromTheMenu(t *testing.T) {
	s := openShop(t)
	doc := s.charge("2")
	s.scan(s.sign(doc, paytx.Options{}))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted}))
	s.press("enter")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))

	reports := screen.Menu{Title: "REPORTS", Hint: "F2 next  CANCEL back", Lines: []string{"F1 X report (running)", "F3 Z report (close)"}}
	s.press("F2", "F2", "F2", "F2", "F2")
	s.waitScreen(s.screens.Menu(reports))
	s.press("F1")
	s.waitScreen(s.screens.Menu(screen.Menu{Title: "X REPORT", Hint: "any key back", Lines: []string{"2 ETH (1)", "0 failures"}}))
	s.press("enter")
	s.waitScreen(s.screens.Menu(reports))

	// The Z asks first; CANCEL takes none.
	confirm := screen.Menu{Title: "CLOSE THE DAY?", Hint: "OK take Z  CANCEL back", Lines: []string{"Takes the Z report:", "numbered, stored, final"}}
	s.press("F3")
	s.waitScreen(s.screens.Menu(confirm))
	s.press("cancel")
	s.waitScreen(s.screens.Menu(reports))
	if _, ok, _ := s.store.LastZ(); ok {
		t.Fatal("a Z was taken after CANCEL")
	}
	s.press("F3", "enter")
	s.waitScreen(s.screens.Menu(screen.Menu{Title: "Z REPORT 1", Hint: "any key back", Lines: []string{"2 ETH (1)", "0 failures"}}))
	if z, ok, err := s.store.LastZ(); err != nil || !ok || z.Number != 1 {
		t.Fatalf("stored Z: %+v, %v, %v", z, ok, err)
	}
	// The X starts again after the Z.
	s.press("enter", "F1")
	s.waitScreen(s.screens.Menu(screen.Menu{Title: "X REPORT", Hint: "any key back", Lines: []string{"no payments", "0 failures"}}))
}
