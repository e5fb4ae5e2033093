package store

import (
	"context"
	"fmt"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestAcceptRules(t *testing.T) {
	// Each case gets a store holding pending request "r1"; setup may change
	// that and returns the payment to accept.
	cases := []struct {
		name  string
		setup func(t *testing.T, s *Store) Payment
		now   time.Time
		limit *big.Int
		want  error
	}{
		{
			name:  "stores a queued payment for a pending request",
			setup: func(t *testing.T, s *Store) Payment { return newPayment("r1") },
		},
		{
			name: "refuses a tx hash already stored for another request",
			setup: func(t *testing.T, s *Store) Payment {
				putRequest(t, s, "r0")
				p := newPayment("r0")
				mustAccept(t, s, p)
				p.RequestID, p.From = "r1", randAddr()
				return p
			},
			want: ErrTxReused,
		},
		{
			name: "checks tx reuse before the request (rule 1 before rule 2)",
			setup: func(t *testing.T, s *Store) Payment {
				putRequest(t, s, "r0")
				p := newPayment("r0")
				mustAccept(t, s, p)
				p.RequestID = "no-such-request"
				return p
			},
			want: ErrTxReused,
		},
		{
			name:  "refuses an unknown request",
			setup: func(t *testing.T, s *Store) Payment { return newPayment("nope") },
			want:  ErrUnknownRequest,
		},
		{
			name: "refuses a cancelled request",
			setup: func(t *testing.T, s *Store) Payment {
				if _, err := s.CancelRequest(context.Background(), "r1", t0); err != nil {
					t.Fatal(err)
				}
				return newPayment("r1")
			},
			want: ErrCancelled,
		},
		{
			name: "refuses a request paid by another tx",
			setup: func(t *testing.T, s *Store) Payment {
				mustAccept(t, s, newPayment("r1"))
				return newPayment("r1")
			},
			want: ErrAlreadyPaid,
		},
		{
			name:  "refuses a pending request at its expiry instant",
			setup: func(t *testing.T, s *Store) Payment { return newPayment("r1") },
			now:   t0.Add(time.Hour),
			want:  ErrExpired,
		},
		{
			name:  "accepts a pending request just before expiry",
			setup: func(t *testing.T, s *Store) Payment { return newPayment("r1") },
			now:   t0.Add(time.Hour - time.Nanosecond),
		},
		{
			name: "refuses a sender nonce already used by another tx",
			setup: func(t *testing.T, s *Store) Payment {
				putRequest(t, s, "r0")
				first := mustAccept(t, s, newPayment("r0"))
				p := newPayment("r1")
				p.From, p.Nonce = first.From, first.Nonce
				return p
			},
			want: ErrNonceConflict,
		},
		{
			name: "refuses a sender nonce held by a broadcast tx",
			setup: func(t *testing.T, s *Store) Payment {
				return sameNonceAfter(t, s, PaymentBroadcast)
			},
			want: ErrNonceConflict,
		},
		{
			name: "refuses a sender nonce already used on chain by a confirmed tx",
			setup: func(t *testing.T, s *Store) Payment {
				return sameNonceAfter(t, s, PaymentConfirmed)
			},
			want: ErrNonceConflict,
		},
		{
			name: "accepts a sender nonce whose tx failed",
			setup: func(t *testing.T, s *Store) Payment {
				return sameNonceAfter(t, s, PaymentFailed)
			},
		},
		{
			name: "checks the request before the nonce (rule 2 before rule 3)",
			setup: func(t *testing.T, s *Store) Payment {
				first := mustAccept(t, s, newPayment("r1"))
				p := newPayment("r1")
				p.From, p.Nonce = first.From, first.Nonce
				return p
			},
			want: ErrAlreadyPaid,
		},
		{
			name: "refuses when unsettled plus amount exceeds the limit",
			setup: func(t *testing.T, s *Store) Payment {
				putRequest(t, s, "r0")
				mustAccept(t, s, newPayment("r0")) // unsettled ETH = 100
				return newPayment("r1")
			},
			limit: big.NewInt(199),
			want:  ErrExposureLimit,
		},
		{
			name: "accepts when unsettled plus amount equals the limit",
			setup: func(t *testing.T, s *Store) Payment {
				putRequest(t, s, "r0")
				mustAccept(t, s, newPayment("r0"))
				return newPayment("r1")
			},
			limit: big.NewInt(200),
		},
		{
			name: "counts exposure per asset",
			setup: func(t *testing.T, s *Store) Payment {
				putRequest(t, s, "r0")
				mustAccept(t, s, newPayment("r0")) // 100 ETH
				p := newPayment("r1")
				p.Asset = "TUSD"
				return p
			},
			limit: big.NewInt(100),
		},
		{
			name: "refuses a payment that is not queued",
			setup: func(t *testing.T, s *Store) Payment {
				p := newPayment("r1")
				p.State = PaymentBroadcast
				return p
			},
			want: ErrBadTransition,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "r1")
			p := tc.setup(t, s)
			now := tc.now
			if now.IsZero() {
				now = t0
			}
			before := takeSnapshot(t, s, "r1", "r0")
			got, repeat, err := s.Accept(context.Background(), p, now, tc.limit)
			wantErr(t, "Accept", err, tc.want)
			if tc.want != nil {
				if after := takeSnapshot(t, s, "r1", "r0"); !reflect.DeepEqual(before, after) {
					t.Fatalf("refused Accept changed the store:\nbefore %+v\nafter  %+v", before, after)
				}
				if _, err := s.Payment(p.TxHash); err == nil && tc.want != ErrTxReused {
					t.Fatalf("refused payment %s is stored", p.TxHash)
				}
				return
			}
			if repeat {
				t.Fatal("first Accept reported a repeat")
			}
			if got.Seq == 0 || got.State != PaymentQueued || !got.AcceptedAt.Equal(now) {
				t.Fatalf("stored payment %+v: want Seq > 0, queued, AcceptedAt %v", got, now)
			}
			stored, err := s.Payment(p.TxHash)
			if err != nil || !reflect.DeepEqual(stored, got) {
				t.Fatalf("Payment() = %+v, %v; want %+v", stored, err, got)
			}
			r, err := s.Request(p.RequestID)
			if err != nil || r.Status != RequestPaid || r.PaidTx != p.TxHash {
				t.Fatalf("request after Accept: %+v, %v; want paid by %s", r, err, p.TxHash)
			}
			bySN, err := s.Chain(testChain).PaymentBySenderNonce(p.From, p.Nonce)
			if err != nil || bySN.TxHash != p.TxHash {
				t.Fatalf("PaymentBySenderNonce: %v, %v", bySN.TxHash, err)
			}
		})
	}
}

func TestAcceptRepeatReturnsStoredPaymentAndWritesNothing(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := newPayment("r1")
	first := mustAccept(t, s, p)
	before := takeSnapshot(t, s, "r1")

	again := p
	again.Raw = []byte("different bytes") // the stored payment wins
	got, repeat, err := s.Accept(context.Background(), again, t0.Add(time.Minute), big.NewInt(0))
	if err != nil || !repeat {
		t.Fatalf("repeat Accept: repeat=%v err=%v", repeat, err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Fatalf("repeat returned %+v, want the stored %+v", got, first)
	}
	if after := takeSnapshot(t, s, "r1"); !reflect.DeepEqual(before, after) {
		t.Fatalf("repeat changed the store (or committed):\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestAcceptKeepsItsOwnCopyOfTheCallersData(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := newPayment("r1")
	raw := append([]byte(nil), p.Raw...)
	got := mustAccept(t, s, p)
	p.Raw[0] ^= 0xff
	p.Amount.SetInt64(1)
	stored, err := s.Payment(p.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.Raw) != string(raw) || string(got.Raw) != string(raw) || stored.Amount.Int64() != 100 {
		t.Fatal("caller's later changes reached the stored payment")
	}
}

func TestRacingPayersOnlyOneWins(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	const payers = 64
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, payers)
		pays  = make([]Payment, payers)
	)
	for i := range payers {
		pays[i] = newPayment("r1")
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, errs[i] = s.Accept(context.Background(), pays[i], t0, nil)
		}()
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("payers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, fmt.Sprintf("payer %d", i), err, ErrAlreadyPaid)
		}
	}
	if winner < 0 {
		t.Fatal("no payer succeeded")
	}
	r, _ := s.Request("r1")
	if r.PaidTx != pays[winner].TxHash {
		t.Fatalf("request paid by %s, winner was %s", r.PaidTx, pays[winner].TxHash)
	}
	counts, _ := s.Counts()
	if counts[PaymentQueued] != 1 {
		t.Fatalf("queued payments: %d, want 1", counts[PaymentQueued])
	}
	if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Int64() != 100 {
		t.Fatalf("unsettled %s, want 100", u)
	}
}

func TestConcurrentAcceptsShareCommits(t *testing.T) {
	s := openTemp(t)
	const n = 200
	seedRequests(t, s, n)
	before := s.c.commits.Load()

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, errs[i] = s.Accept(context.Background(), newPayment(reqID(i)), t0, nil)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		wantErr(t, fmt.Sprintf("accept %d", i), err, nil)
	}
	commits := s.c.commits.Load() - before
	t.Logf("%d accepts used %d commits", n, commits)
	if commits >= n {
		t.Fatalf("%d accepts used %d commits; group commit should use fewer", n, commits)
	}
	counts, _ := s.Counts()
	if counts[PaymentQueued] != n {
		t.Fatalf("queued = %d, want %d", counts[PaymentQueued], n)
	}
}

func TestReopenKeepsEveryAcknowledgedPayment(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	const n = 150
	seedRequests(t, s, n)

	var (
		mu    sync.Mutex
		acked []Payment
		wg    sync.WaitGroup
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newPayment(reqID(i))
			p.Raw = randBytes(100 + i*13) // up to ~2 KB: some values span pages
			if got, _, err := s.Accept(context.Background(), p, t0, nil); err == nil {
				mu.Lock()
				acked = append(acked, got)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(acked) != n {
		t.Fatalf("%d of %d accepts succeeded", len(acked), n)
	}

	s2, err := Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	seqs := map[uint64]bool{}
	for _, want := range acked {
		got, err := s2.Payment(want.TxHash)
		if err != nil {
			t.Fatalf("payment %s lost: %v", want.TxHash, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("payment %s changed across reopen:\ngot  %+v\nwant %+v", want.TxHash, got, want)
		}
		if bySN, err := s2.Chain(testChain).PaymentBySenderNonce(want.From, want.Nonce); err != nil || bySN.TxHash != want.TxHash {
			t.Fatalf("sender+nonce index for %s: %v %v", want.TxHash, bySN.TxHash, err)
		}
		if r, err := s2.Request(want.RequestID); err != nil || r.PaidTx != want.TxHash {
			t.Fatalf("request %s: %+v %v", want.RequestID, r, err)
		}
		if seqs[want.Seq] {
			t.Fatalf("Seq %d used twice", want.Seq)
		}
		seqs[want.Seq] = true
	}
	all, err := s2.Payments(PaymentFilter{Limit: 1000})
	if err != nil || len(all) != n {
		t.Fatalf("Payments after reopen: %d, %v; want %d", len(all), err, n)
	}
	// New payments continue the sequence, never reusing a Seq.
	putRequest(t, s2, "after")
	next, _, err := s2.Accept(context.Background(), newPayment("after"), t0, nil)
	if err != nil || next.Seq <= all[len(all)-1].Seq {
		t.Fatalf("Seq after reopen %d (err %v), want > %d", next.Seq, err, all[len(all)-1].Seq)
	}
}

func TestCancelledContextWritesNothing(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	before := takeSnapshot(t, s, "r1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := newPayment("r1")
	_, _, err := s.Accept(ctx, p, t0, nil)
	wantErr(t, "Accept with cancelled ctx", err, context.Canceled)
	err = s.PutRequest(ctx, newRequest("r2"))
	wantErr(t, "PutRequest with cancelled ctx", err, context.Canceled)
	if after := takeSnapshot(t, s, "r1", "r2"); !reflect.DeepEqual(before, after) {
		t.Fatalf("cancelled calls changed the store:\nbefore %+v\nafter  %+v", before, after)
	}
	if _, err := s.Payment(p.TxHash); err == nil {
		t.Fatal("payment stored despite cancelled ctx")
	}
	if _, err := s.Request("r2"); err == nil {
		t.Fatal("request stored despite cancelled ctx")
	}
}

func TestClosedStoreRefusesCalls(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Accept(context.Background(), newPayment("r1"), t0, nil)
	wantErr(t, "Accept after Close", err, ErrClosed)
	_, err = s.Request("r1")
	wantErr(t, "Request after Close", err, ErrClosed)
	wantErr(t, "second Close", s.Close(), nil)
}

func TestCloseWaitsForInFlightWrites(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	const n = 64
	seedRequests(t, s, n)
	var wg sync.WaitGroup
	results := make([]error, n)
	hashes := make([]Payment, n)
	for i := range n {
		hashes[i] = newPayment(reqID(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, results[i] = s.Accept(context.Background(), hashes[i], t0, nil)
		}()
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i, err := range results {
		_, lookErr := s2.Payment(hashes[i].TxHash)
		switch {
		case err == nil && lookErr != nil:
			t.Fatalf("acknowledged payment %d missing after Close: %v", i, lookErr)
		case err != nil && lookErr == nil:
			t.Fatalf("payment %d stored although Accept returned %v", i, err)
		case err != nil:
			wantErr(t, "Accept racing Close", err, ErrClosed)
		}
	}
}
