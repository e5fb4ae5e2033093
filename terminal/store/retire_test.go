package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// RetireChains refuses a chain with payments still to settle (queued,
// broadcast, confirmed and not final, or an authorization not yet
// submitted), naming it and how many, and retires one whose payments are
// all final or failed.
func TestRetireChainsRefusesAChainWithPaymentsToSettle(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		auth   bool
		states []PaymentState // the path from queued
		open   bool
	}{
		{"a queued handover", false, nil, true},
		{"a broadcast handover", false, []PaymentState{PaymentBroadcast}, true},
		{"a confirmed handover", false, []PaymentState{PaymentBroadcast, PaymentConfirmed}, true},
		{"a queued authorization", true, nil, true},
		{"a final handover", false, []PaymentState{PaymentBroadcast, PaymentConfirmed, PaymentFinal}, false},
		{"a failed handover", false, []PaymentState{PaymentFailed}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "r1")
			p := newPayment("r1")
			if tc.auth {
				p = newAuthorization("r1")
				if _, _, err := acceptAuth(t, s, p, Limits{}); err != nil {
					t.Fatal(err)
				}
			} else {
				mustAccept(t, s, p)
			}
			for _, st := range tc.states {
				if _, err := s.SetPaymentState(ctx, p.TxHash, st, "dropped", t0); err != nil {
					t.Fatalf("to %s: %v", st, err)
				}
			}
			err := s.RetireChains(ctx, []uint64{testChain + 1, testChain})
			if !tc.open {
				if err != nil {
					t.Fatalf("RetireChains with %s: %v", tc.name, err)
				}
				return
			}
			if !errors.Is(err, ErrChainOpen) || !strings.Contains(err.Error(), "chain 1337") || !strings.Contains(err.Error(), "1 payment") {
				t.Fatalf("RetireChains with %s: %v, want ErrChainOpen naming chain 1337 and 1 payment", tc.name, err)
			}
			// Refused, it retired none of them: chain 1338 still takes payments.
			putRequest(t, s, "r2")
			q := newPayment("r2")
			q.ChainID = testChain + 1
			mustAccept(t, s, q)
		})
	}
}

// While a chain is retired, Accept, AcceptLimited and AcceptAuthorization
// refuse a payment on it with ErrChainRetired and store nothing; another
// chain is not concerned; ActivateChains lets it in again.
func TestARetiredChainRefusesPaymentsUntilActivated(t *testing.T) {
	ctx := context.Background()
	accepts := []struct {
		name   string
		accept func(s *Store, p Payment) error
		auth   bool
	}{
		{"Accept", func(s *Store, p Payment) error { _, _, err := s.Accept(ctx, p, t0, nil); return err }, false},
		{"AcceptLimited", func(s *Store, p Payment) error { _, _, err := s.AcceptLimited(ctx, p, t0, Limits{}); return err }, false},
		{"AcceptAuthorization", func(s *Store, p Payment) error { _, _, err := s.AcceptAuthorization(ctx, p, t0, Limits{}); return err }, true},
	}
	const gone = testChain + 1
	for _, a := range accepts {
		t.Run(a.name, func(t *testing.T) {
			s := openTemp(t)
			pay := func(id string, chain uint64) error {
				putRequest(t, s, id)
				p := newPayment(id)
				if a.auth {
					p = newAuthorization(id)
				}
				p.ChainID = chain
				return a.accept(s, p)
			}
			if err := s.RetireChains(ctx, []uint64{gone}); err != nil {
				t.Fatal(err)
			}
			err := pay("r1", gone)
			if !errors.Is(err, ErrChainRetired) || !strings.Contains(err.Error(), "chain 1338") {
				t.Fatalf("%s on a retired chain: %v, want ErrChainRetired naming chain 1338", a.name, err)
			}
			if c, err := s.Chain(gone).Counts(); err != nil || c[PaymentQueued] != 0 {
				t.Fatalf("retired chain's counts %v, %v: the refused payment was stored", c, err)
			}
			if r, _ := s.Request("r1"); r.Status != RequestPending {
				t.Fatalf("request of the refused payment is %s", r.Status)
			}
			if err := pay("r2", testChain); err != nil {
				t.Fatalf("%s on a running chain: %v", a.name, err)
			}
			s.ActivateChains([]uint64{gone})
			if err := pay("r3", gone); err != nil {
				t.Fatalf("%s on the chain activated again: %v", a.name, err)
			}
		})
	}
}

// Payments racing RetireChains on their chain: whichever the committer
// takes first decides, and a retired chain never holds a payment to
// settle. Either RetireChains is refused (a payment got in before it) or
// every payment is refused.
func TestRetireChainsRacingAcceptNeverLeavesAPaymentOnARetiredChain(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	const rounds, payers = 40, 6
	var retired, refusedRetire int
	for round := range rounds {
		chain := uint64(5000 + round)
		ps := make([]Payment, payers)
		for i := range ps {
			id := fmt.Sprintf("r%d-%d", round, i)
			putRequest(t, s, id)
			ps[i] = newPayment(id)
			ps[i].ChainID = chain
		}
		var (
			wg        sync.WaitGroup
			retireErr error
			errs      = make([]error, payers)
			start     = make(chan struct{})
		)
		for i := range ps {
			wg.Go(func() { <-start; _, _, errs[i] = s.Accept(ctx, ps[i], t0, nil) })
		}
		wg.Go(func() { <-start; retireErr = s.RetireChains(ctx, []uint64{chain}) })
		close(start)
		wg.Wait()
		c, err := s.Chain(chain).Counts()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case retireErr == nil:
			retired++
			for i, err := range errs {
				if !errors.Is(err, ErrChainRetired) {
					t.Fatalf("round %d: chain retired, payment %d: %v, want ErrChainRetired", round, i, err)
				}
			}
			if c[PaymentQueued] != 0 {
				t.Fatalf("round %d: chain retired holding %d queued payments", round, c[PaymentQueued])
			}
		case errors.Is(retireErr, ErrChainOpen):
			refusedRetire++
			if c[PaymentQueued] == 0 {
				t.Fatalf("round %d: RetireChains refused (%v) with no payment on the chain", round, retireErr)
			}
			s.ActivateChains([]uint64{chain})
		default:
			t.Fatalf("round %d: RetireChains: %v", round, retireErr)
		}
	}
	t.Logf("%d rounds retired, %d refused", retired, refusedRetire)
}
