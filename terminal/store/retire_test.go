package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
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

// A transfer the watcher records on a retired chain pays no request, even
// one offered there and payable by its time: the network was removed and
// nothing will follow a payment on it. It is kept as an unmatched receipt
// (network_removed, naming that request), the request stays pending and no
// payment is stored. Here the watcher records late (the store's clock is
// past the request's expiry plus grace, so RetireChains let the chain go)
// a transfer made in time.
func TestATransferOnARetiredChainPaysNoRequest(t *testing.T) {
	clock := newClock(t0.Add(2 * time.Hour))
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	t.Cleanup(func() { _ = s.Close() })
	r := newRequest("r1")
	r.Chains = []uint64{chainA, chainB}
	if err := s.PutRequest(bg, r); err != nil {
		t.Fatal(err)
	}
	before, err := s.Chain(chainB).Counts()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RetireChains(bg, []uint64{chainB}); err != nil {
		t.Fatal(err)
	}
	tr := Transfer{Block: 5, BlockHash: common.Hash{5}, BlockTime: t0.Add(time.Minute), TxHash: randHash(), From: randAddr(), Asset: "ETH", Amount: r.Amount}
	out, err := s.Chain(chainB).RecordRangeOutcome(bg, WatchCursor{Height: 5}, []Transfer{tr})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Payments) != 0 {
		t.Fatalf("a transfer on a retired chain paid %+v", out.Payments)
	}
	if len(out.Unmatched) != 1 || out.Unmatched[0].Reason != UnmatchedNetworkRemoved || out.Unmatched[0].RequestID != "r1" || out.Unmatched[0].ChainID != chainB {
		t.Fatalf("unmatched %+v, want one network_removed naming r1 on chain B", out.Unmatched)
	}
	if got, _ := s.Request("r1"); got.Status != RequestPending || got.PaidTx != (common.Hash{}) {
		t.Fatalf("request %s paid by %s, want pending", got.Status, got.PaidTx)
	}
	if p, err := s.Payment(tr.TxHash); !errors.Is(err, ErrUnknownPayment) {
		t.Fatalf("Payment(%s): %+v, %v; want none", tr.TxHash, p, err)
	}
	after, err := s.Chain(chainB).Counts()
	if err != nil {
		t.Fatal(err)
	}
	before[PaymentUnmatched]++
	if !maps.Equal(after, before) {
		t.Fatalf("chain B's counts %v, want %v (one unmatched more)", after, before)
	}
	// Taken back into service, the chain's next transfer of that amount pays it.
	s.ActivateChains([]uint64{chainB})
	tr.TxHash, tr.Block = randHash(), 6
	if out, err := s.Chain(chainB).RecordRangeOutcome(bg, WatchCursor{Height: 6}, []Transfer{tr}); err != nil || len(out.Payments) != 1 {
		t.Fatalf("on chain B activated again: %+v, %v; want r1 paid", out, err)
	}
}

// RetireChains refuses a chain while a request offered on it is pending
// and could still be paid there (the watcher pays one by a transfer up to
// its expiry plus MatchGrace, by the store's clock): a payer could pay its
// EIP-681 URI on the removed network with nothing watching. A request
// cancelled, paid, past its expiry plus grace, or offered elsewhere only,
// lets the chain go.
func TestRetireChainsRefusesAChainARequestIsStillPayableOn(t *testing.T) {
	expiry := t0.Add(time.Hour) // newRequest's
	tests := []struct {
		name  string
		at    time.Time                               // the store's clock when retiring
		chain []uint64                                // the request's Chains
		after func(t *testing.T, s *Store, r Request) // what became of it
		open  bool
	}{
		{"pending and offered on the chain", t0, []uint64{chainA, chainB}, nil, true},
		{"pending, in the grace after its expiry", expiry.Add(MatchGrace - time.Second), []uint64{chainB}, nil, true},
		{"pending, offered on another chain only", t0, []uint64{chainA}, nil, false},
		{"past its expiry plus grace", expiry.Add(MatchGrace), []uint64{chainA, chainB}, nil, false},
		{"cancelled", t0, []uint64{chainA, chainB}, func(t *testing.T, s *Store, r Request) {
			if _, err := s.CancelRequest(bg, r.ID, t0); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"paid on another chain", t0, []uint64{chainA, chainB}, func(t *testing.T, s *Store, r Request) {
			tr := Transfer{Block: 1, BlockHash: common.Hash{1}, BlockTime: t0.Add(time.Minute), TxHash: randHash(), From: randAddr(), Asset: r.Asset, Amount: r.Amount}
			if out, err := s.Chain(chainA).RecordRangeOutcome(bg, WatchCursor{Height: 1}, []Transfer{tr}); err != nil || len(out.Payments) != 1 {
				t.Fatalf("paying %s on chain A: %+v, %v", r.ID, out, err)
			}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock(t0)
			s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
			t.Cleanup(func() { _ = s.Close() })
			r := newRequest("r1")
			r.Chains = tc.chain
			if err := s.PutRequest(bg, r); err != nil {
				t.Fatal(err)
			}
			if tc.after != nil {
				tc.after(t, s, r)
			}
			clock.set(tc.at)
			err := s.RetireChains(bg, []uint64{chainB})
			if !tc.open {
				if err != nil {
					t.Fatalf("RetireChains with a request %s: %v", tc.name, err)
				}
				return
			}
			if !errors.Is(err, ErrChainOpen) || !strings.Contains(err.Error(), "chain 42161:") || !strings.Contains(err.Error(), "1 request") {
				t.Fatalf("RetireChains with a request %s: %v, want ErrChainOpen naming chain 42161 and 1 request", tc.name, err)
			}
			// Refused, the chain still pays the request.
			tr := Transfer{Block: 1, BlockHash: common.Hash{1}, BlockTime: t0.Add(time.Minute), TxHash: randHash(), From: randAddr(), Asset: r.Asset, Amount: r.Amount}
			if out, err := s.Chain(chainB).RecordRangeOutcome(bg, WatchCursor{Height: 1}, []Transfer{tr}); err != nil || len(out.Payments) != 1 {
				t.Fatalf("paying %s on chain B after the refusal: %+v, %v", r.ID, out, err)
			}
		})
	}
}

// PutRequest refuses a request offered on a retired chain with
// ErrChainRetired and stores nothing: made after RetireChains (the till
// still under the config that named the network), it could be paid there
// with nothing watching, the gap RetireChains closes for requests made
// before. Offered elsewhere, or on the chain activated again, it is stored.
func TestPutRequestRefusesARequestOfferedOnARetiredChain(t *testing.T) {
	s := openTemp(t)
	if err := s.RetireChains(bg, []uint64{chainB}); err != nil {
		t.Fatal(err)
	}
	put := func(id string, chains ...uint64) error {
		r := newRequest(id)
		r.Chains = chains
		return s.PutRequest(bg, r)
	}
	err := put("both", chainA, chainB)
	if !errors.Is(err, ErrChainRetired) || !strings.Contains(err.Error(), "chain 42161") {
		t.Fatalf("PutRequest offered on a retired chain: %v, want ErrChainRetired naming chain 42161", err)
	}
	if _, err := s.Request("both"); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("the refused request: %v, want it not stored", err)
	}
	if err := put("only-a", chainA); err != nil {
		t.Fatalf("PutRequest offered on a running chain only: %v", err)
	}
	s.ActivateChains([]uint64{chainB})
	if err := put("both", chainA, chainB); err != nil {
		t.Fatalf("PutRequest on the chain activated again: %v", err)
	}
}
