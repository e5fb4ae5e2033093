package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"showpos/terminal/store"
)

// The bounded store never changes the books: with keep = 0 the pruner
// deletes the closed period's settled payments, and the X report of the
// current period, the stored Z and the next Z read the same.
func TestPruningLeavesTheBooksAsTheyWere(t *testing.T) {
	s := openShop(t)
	ctx := context.Background()
	settle := func(p store.Payment) store.Payment {
		t.Helper()
		p, err := s.st.SetPaymentState(ctx, p.TxHash, store.PaymentFinal, "", s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	closed := []store.Payment{settle(s.sell("0.05", "ETH", "")), settle(s.sell("2.5", "TUSD", "")), s.sell("0.01", "ETH", "dropped")}
	if _, err := s.st.AckAllFailures(ctx, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	z1, _, err := s.books.TakeZ(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Minute)
	open := []store.Payment{settle(s.sell("0.2", "ETH", "")), s.sell("0.03", "ETH", "dropped"), s.sell("1", "TUSD", "")}
	if _, err := s.st.AckAllFailures(ctx, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	read := func() (x, z []byte) {
		t.Helper()
		xr, err := s.books.X()
		if err != nil {
			t.Fatal(err)
		}
		zr, err := s.books.Z(z1.Number)
		if err != nil {
			t.Fatal(err)
		}
		x, _ = json.Marshal(xr)
		z, _ = json.Marshal(zr)
		return x, z
	}
	x0, z0 := read()

	for {
		r, err := s.st.Prune(ctx, s.clock.Now().Add(time.Hour), 2) // keep = 0, and then some
		if err != nil {
			t.Fatal(err)
		}
		if !r.More {
			break
		}
	}
	for _, p := range closed {
		if _, err := s.st.Payment(p.TxHash); !errors.Is(err, store.ErrUnknownPayment) {
			t.Errorf("closed period's payment %s: %v, want pruned", p.TxHash, err)
		}
	}
	for _, p := range open {
		if _, err := s.st.Payment(p.TxHash); err != nil {
			t.Errorf("current period's payment %s: %v, want kept", p.TxHash, err)
		}
	}
	x1, z1b := read()
	if string(x1) != string(x0) {
		t.Errorf("X after pruning:\n%s\nbefore:\n%s", x1, x0)
	}
	if string(z1b) != string(z0) {
		t.Errorf("Z %d after pruning:\n%s\nbefore:\n%s", z1.Number, z1b, z0)
	}
	s.restart() // Open's checks
	s.clock.Advance(time.Minute)
	z2, _, err := s.books.TakeZ(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if eth := taken(z2, "ETH"); eth.Taken.Count != 1 || eth.Failed.Count != 1 {
		t.Errorf("the next Z's ETH: %+v", eth)
	}
}
