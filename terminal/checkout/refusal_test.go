package checkout_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"showpos/device/clock/clocktest"
	"showpos/terminal/check"
	"showpos/terminal/store"
	"showpos/tools/paytx"
)

// Every rule the store enforces reaches the till's callers as a
// *check.Refusal with its stable code, whichever method met it (a
// payment, a look-up, a cancellation): the HTTP API, the cashier and the
// metrics read codes from refusals only. The refusal keeps the store's
// error underneath, so errors.Is still finds it.
func TestEveryStoreRuleIsARefusalWithItsCode(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	now := clocktest.NewFake(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	till := newTill(t, withToken+"[[assets]]\nsymbol = \"TUSD\"\nmax_unsettled = \"1\"\n", st, now)
	payer, _ := crypto.GenerateKey()
	other, _ := crypto.GenerateKey()

	request := func(amount string) string {
		t.Helper()
		doc, err := till.NewRequest(ctx, amount, "TUSD", "")
		if err != nil {
			t.Fatal(err)
		}
		return doc.ID
	}
	pay := func(id string, key *ecdsa.PrivateKey, nonce uint64) ([]byte, error) {
		t.Helper()
		r, err := till.Request(id)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := paytx.Build(r.Request(), key, paytx.Options{Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tx.MarshalBinary()
		_, err = till.Pay(ctx, id, raw)
		return raw, err
	}

	// Set the store's state up: a paid request, a cancelled one, an
	// expired one, and unsettled TUSD just under the limit of 1.
	paid := request("0.25")
	paidRaw, err := pay(paid, payer, 0)
	if err != nil {
		t.Fatal(err)
	}
	cancelled := request("0.25")
	if _, err := till.Cancel(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	expired := request("0.25")
	now.Advance(time.Hour)
	if _, err := pay(request("0.5"), payer, 1); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		call func() error
		code check.Code
		msg  string
		is   error
	}{
		{"pay an unknown request", func() error { _, err := till.Pay(ctx, "nope", paidRaw); return err },
			check.CodeUnknownRequest, "no payment request nope", store.ErrUnknownRequest},
		{"look an unknown request up", func() error { _, err := till.Request("nope"); return err },
			check.CodeUnknownRequest, "no such payment request", store.ErrUnknownRequest},
		{"cancel an unknown request", func() error { _, err := till.Cancel(ctx, "nope"); return err },
			check.CodeUnknownRequest, "no such payment request", store.ErrUnknownRequest},
		{"pay an expired request", func() error { _, err := pay(expired, other, 0); return err },
			check.CodeExpired, "payment request " + expired + " has expired", store.ErrExpired},
		{"cancel an expired request", func() error { _, err := till.Cancel(ctx, expired); return err },
			check.CodeExpired, "the payment request has expired", store.ErrExpired},
		{"pay a cancelled request", func() error { _, err := pay(cancelled, other, 0); return err },
			check.CodeCancelled, "payment request " + cancelled + " was cancelled", store.ErrCancelled},
		{"pay a paid request with another tx", func() error { _, err := pay(paid, other, 0); return err },
			check.CodeAlreadyPaid, "payment request " + paid + " is already paid by another transaction", store.ErrAlreadyPaid},
		{"cancel a paid request", func() error { _, err := till.Cancel(ctx, paid); return err },
			check.CodeAlreadyPaid, "the payment request is already paid", store.ErrAlreadyPaid},
		{"pay another request with a tx that paid one", func() error {
			_, err := till.Pay(ctx, request("0.25"), paidRaw)
			return err
		}, check.CodeTxReused, "already paid another request", store.ErrTxReused},
		{"pay with a nonce already used", func() error { _, err := pay(request("0.1"), payer, 0); return err },
			check.CodeNonceConflict, "nonce 0 on chain-1337 is already used by another payment (waiting to settle, or mined)", store.ErrNonceConflict},
		{"pay above the unsettled limit", func() error { _, err := pay(request("0.5"), other, 5); return err },
			check.CodeExposureLimit, "too much TUSD on chain-1337 is waiting to settle; the terminal takes more once it is online (limit 1 TUSD)", store.ErrExposureLimit},
	}
	reached := map[check.Code]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var r *check.Refusal
			if !errors.As(err, &r) || r.Code != tc.code {
				t.Fatalf("err = %v, want a refusal %s", err, tc.code)
			}
			if !strings.Contains(r.Msg, tc.msg) || r.Error() != string(r.Code)+": "+r.Msg {
				t.Errorf("message %q, want %q", r.Msg, tc.msg)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("refusal %v hides the store's %v", err, tc.is)
			}
			reached[r.Code] = true
		})
	}
	// The store enforces the codes check declares after the checker's.
	for _, c := range check.Codes() {
		if isStoreCode(c) && !reached[c] {
			t.Errorf("no case reaches the store's %s", c)
		}
	}
}

func isStoreCode(c check.Code) bool {
	switch c {
	case check.CodeUnknownRequest, check.CodeExpired, check.CodeCancelled, check.CodeAlreadyPaid,
		check.CodeTxReused, check.CodeNonceConflict, check.CodeExposureLimit:
		return true
	}
	return false
}
