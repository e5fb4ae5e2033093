package store

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// chainReq stores a pending ETH request of amount, made at t0 and
// expiring an hour later.
func chainReq(t testing.TB, s *Store, id string, amount int64) Request {
	t.Helper()
	r := newRequest(id)
	r.Amount = big.NewInt(amount)
	if err := s.PutRequest(context.Background(), r); err != nil {
		t.Fatalf("PutRequest(%s, %d): %v", id, amount, err)
	}
	return r
}

func transfer(block uint64, at time.Time, asset string, amount int64) Transfer {
	return Transfer{
		Block: block, BlockHash: randHash(), BlockTime: at, TxHash: randHash(), Index: 3,
		From: randAddr(), Asset: asset, Amount: big.NewInt(amount),
	}
}

func record(t testing.TB, s *Store, height uint64, ts ...Transfer) Recorded {
	t.Helper()
	out, err := s.Chain(testChain).RecordRangeOutcome(context.Background(), WatchCursor{Height: height, Hashes: []common.Hash{randHash()}}, ts)
	if err != nil {
		t.Fatalf("RecordRange(%d): %v", height, err)
	}
	return out
}

func unmatchedList(t testing.TB, s *Store) []Payment {
	t.Helper()
	us, err := s.Payments(PaymentFilter{State: PaymentUnmatched})
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// The matching table: which transfers pay the request, and which are
// unmatched (and why). Every transfer ends up somewhere.
func TestRecordRangeMatchesExactAmountInTime(t *testing.T) {
	const amount = 50_000
	expires := t0.Add(time.Hour)
	cases := []struct {
		name   string
		setup  func(t *testing.T, s *Store)
		tr     Transfer
		paid   bool
		reason string
	}{
		{name: "exact amount in time pays", tr: transfer(10, t0.Add(time.Minute), "ETH", amount), paid: true},
		{name: "at creation pays", tr: transfer(10, t0, "ETH", amount), paid: true},
		{name: "underpaid is unmatched", tr: transfer(10, t0.Add(time.Minute), "ETH", amount-1), reason: UnmatchedNoRequest},
		{name: "overpaid is unmatched", tr: transfer(10, t0.Add(time.Minute), "ETH", amount+1), reason: UnmatchedNoRequest},
		{name: "other asset is unmatched", tr: transfer(10, t0.Add(time.Minute), "TUSD", amount), reason: UnmatchedNoRequest},
		{name: "after expiry within the grace pays", tr: transfer(10, expires.Add(MatchGrace-time.Second), "ETH", amount), paid: true},
		{name: "after expiry and grace is unmatched", tr: transfer(10, expires.Add(MatchGrace), "ETH", amount), reason: UnmatchedExpired},
		{name: "before the request was made is unmatched", tr: transfer(10, t0.Add(-time.Second), "ETH", amount), reason: UnmatchedBeforeRequest},
		{
			name: "to a cancelled request is unmatched",
			setup: func(t *testing.T, s *Store) {
				if _, err := s.CancelRequest(context.Background(), "r1", t0); err != nil {
					t.Fatal(err)
				}
			},
			tr: transfer(10, t0.Add(time.Minute), "ETH", amount), reason: UnmatchedNoRequest,
		},
		{
			name:  "to a request paid by handover is unmatched",
			setup: func(t *testing.T, s *Store) { mustAccept(t, s, newPayment("r1")) },
			tr:    transfer(10, t0.Add(time.Minute), "ETH", amount), reason: UnmatchedNoRequest,
		},
		{name: "a balance gap is unmatched", tr: Transfer{Block: 10, BlockTime: t0.Add(time.Minute), Asset: "ETH", Amount: big.NewInt(amount), Gap: true}, reason: UnmatchedBalanceGap},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			chainReq(t, s, "r1", amount)
			if tc.setup != nil {
				tc.setup(t, s)
			}
			before, _ := s.Request("r1")
			out := record(t, s, 10, tc.tr)
			r, _ := s.Request("r1")
			counts, _ := s.Counts()
			if tc.paid {
				if len(out.Payments) != 1 || len(out.Unmatched) != 0 {
					t.Fatalf("recorded %+v, want one payment", out)
				}
				p, err := s.Payment(tc.tr.TxHash)
				if err != nil || p.State != PaymentSeen || p.Source != SourceChain || p.RequestID != "r1" ||
					p.Amount.Int64() != amount || p.Delivery.Block != 10 || p.Seq == 0 || len(p.Raw) != 0 {
					t.Fatalf("payment %+v, %v", p, err)
				}
				if r.Status != RequestPaid || r.PaidTx != tc.tr.TxHash {
					t.Fatalf("request %s paid by %s, want paid by the transfer", r.Status, r.PaidTx)
				}
				if counts[PaymentSeen] != 1 || counts[PaymentUnmatched] != 0 {
					t.Fatalf("counts %v", counts)
				}
				return
			}
			if len(out.Payments) != 0 || len(out.Unmatched) != 1 {
				t.Fatalf("recorded %+v, want one unmatched", out)
			}
			us := unmatchedList(t, s)
			if len(us) != 1 || us[0].Reason != tc.reason || us[0].Amount.Cmp(tc.tr.Amount) != 0 || us[0].State != PaymentUnmatched ||
				us[0].TxHash != tc.tr.TxHash || us[0].Source != SourceChain || !us[0].AcceptedAt.Equal(tc.tr.BlockTime) {
				t.Fatalf("unmatched %+v, want one of reason %s", us, tc.reason)
			}
			if r.Status != before.Status || r.PaidTx != before.PaidTx {
				t.Fatalf("request went %s -> %s", before.Status, r.Status)
			}
			if counts[PaymentUnmatched] != 1 || counts[PaymentSeen] != 0 {
				t.Fatalf("counts %v", counts)
			}
			// An unmatched receipt is not a sale: not in the payments list.
			if ps, _ := s.Payments(PaymentFilter{}); len(ps) != len(mustPayments(t, s, PaymentQueued)) {
				t.Fatalf("payments list holds %d, want only the handed-over ones", len(ps))
			}
		})
	}
}

func mustPayments(t testing.TB, s *Store, st PaymentState) []Payment {
	t.Helper()
	ps, err := s.Payments(PaymentFilter{State: st})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestSecondPaymentOfAPaidRequestIsUnmatched(t *testing.T) {
	s := openTemp(t)
	chainReq(t, s, "r1", 700)
	first, second := transfer(10, t0.Add(time.Minute), "ETH", 700), transfer(11, t0.Add(2*time.Minute), "ETH", 700)
	record(t, s, 10, first)
	out := record(t, s, 11, second)
	if len(out.Unmatched) != 1 || out.Unmatched[0].TxHash != second.TxHash {
		t.Fatalf("second payment recorded as %+v, want unmatched", out)
	}
	if r, _ := s.Request("r1"); r.PaidTx != first.TxHash {
		t.Fatalf("request paid by %s, want the first", r.PaidTx)
	}
	// Both in one range: the same.
	s2 := openTemp(t)
	chainReq(t, s2, "r1", 700)
	out = record(t, s2, 11, first, second)
	if len(out.Payments) != 1 || len(out.Unmatched) != 1 || out.Payments[0].TxHash != first.TxHash {
		t.Fatalf("one range: %+v", out)
	}
}

func TestRecordRangeIsIdempotentPerTransfer(t *testing.T) {
	s := openTemp(t)
	chainReq(t, s, "r1", 700)
	pay, stray := transfer(10, t0.Add(time.Minute), "ETH", 700), transfer(10, t0.Add(time.Minute), "ETH", 9)
	record(t, s, 10, pay, stray)
	commits := s.c.commits.Load()
	out := record(t, s, 10, pay, stray)
	if len(out.Payments)+len(out.Unmatched) != 0 {
		t.Fatalf("recorded again: %+v", out)
	}
	counts, _ := s.Counts()
	if counts[PaymentSeen] != 1 || counts[PaymentUnmatched] != 1 || len(unmatchedList(t, s)) != 1 {
		t.Fatalf("counts %v after a repeat", counts)
	}
	if s.c.commits.Load() != commits+1 {
		t.Fatalf("a repeat committed %d times, want once (the cursor)", s.c.commits.Load()-commits)
	}
	// The same transaction, another log index: a second transfer in it.
	again := pay
	again.Index++
	out = record(t, s, 10, again)
	if len(out.Unmatched) != 1 || out.Unmatched[0].Reason != UnmatchedSecondInTx {
		t.Fatalf("second log of one tx: %+v", out)
	}
}

// A handed-over payment that the watcher then sees is one payment: the
// transfer is recorded (and not recorded again) but pays nothing more.
func TestHandedOverPaymentSeenOnChainIsOnePayment(t *testing.T) {
	s := openTemp(t)
	r := chainReq(t, s, "r1", 700)
	p := newPayment("r1")
	p.Amount = r.Amount
	p = mustAccept(t, s, p)
	tr := transfer(10, t0.Add(time.Minute), "ETH", 700)
	tr.TxHash = p.TxHash
	out := record(t, s, 10, tr)
	if len(out.Payments)+len(out.Unmatched) != 0 {
		t.Fatalf("recorded %+v, want nothing new", out)
	}
	counts, _ := s.Counts()
	if counts[PaymentQueued] != 1 || counts[PaymentSeen] != 0 || counts[PaymentUnmatched] != 0 {
		t.Fatalf("counts %v", counts)
	}
	got, _ := s.Payment(p.TxHash)
	if got.Source != SourceHandover || got.State != PaymentQueued {
		t.Fatalf("payment %+v", got)
	}
	// Rewinding it forgets the transfer only.
	if err := s.Chain(testChain).Rewind(context.Background(), WatchCursor{Height: 9}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Payment(p.TxHash); got.State != PaymentQueued {
		t.Fatalf("after rewind: %+v", got)
	}
}

// A request paid on chain refuses a later handover of another transaction
// (already_paid); the same transaction handed over is the same payment.
func TestRequestPaidOnChainRefusesAHandover(t *testing.T) {
	s := openTemp(t)
	chainReq(t, s, "r1", 700)
	tr := transfer(10, t0.Add(time.Minute), "ETH", 700)
	record(t, s, 10, tr)
	_, _, err := s.Accept(context.Background(), newPayment("r1"), t0.Add(2*time.Minute), nil)
	wantErr(t, "handover after a chain payment", err, ErrAlreadyPaid)
	same := newPayment("r1")
	same.TxHash = tr.TxHash
	got, repeat, err := s.Accept(context.Background(), same, t0.Add(2*time.Minute), nil)
	if err != nil || !repeat || got.Source != SourceChain {
		t.Fatalf("the transfer's own tx handed over: %+v repeat=%v err=%v", got, repeat, err)
	}
}

// Two pending requests of one amount cannot be: the second gets a tail
// (FreeAmount), and each transfer pays its own.
func TestTwoPendingRequestsOfOneAmountAreToldApartByTheirTails(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	chainReq(t, s, "r1", 700)
	r2 := newRequest("r2")
	r2.Amount = big.NewInt(700)
	wantErr(t, "PutRequest of a held amount", s.PutRequest(ctx, r2), ErrAmountTaken)
	free, ok, err := s.FreeAmount("ETH", big.NewInt(700), big.NewInt(1000), t0)
	if err != nil || !ok || free.Int64() != 701 {
		t.Fatalf("FreeAmount: %v %v %v, want 701", free, ok, err)
	}
	r2.Amount = free
	if err := s.PutRequest(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.FreeAmount("ETH", big.NewInt(700), big.NewInt(2), t0); ok {
		t.Fatal("FreeAmount found room where none is")
	}
	a, b := transfer(10, t0.Add(time.Minute), "ETH", 701), transfer(10, t0.Add(time.Minute), "ETH", 700)
	record(t, s, 10, a, b)
	if r, _ := s.Request("r1"); r.PaidTx != b.TxHash {
		t.Fatalf("r1 paid by %s, want the 700 transfer", r.PaidTx)
	}
	if r, _ := s.Request("r2"); r.PaidTx != a.TxHash {
		t.Fatalf("r2 paid by %s, want the 701 transfer", r.PaidTx)
	}
	// Paid, their amounts are free again.
	if free, _, _ := s.FreeAmount("ETH", big.NewInt(700), big.NewInt(1000), t0); free.Int64() != 700 {
		t.Fatalf("FreeAmount after both paid: %v", free)
	}
}

func TestAmountIsHeldUntilExpiryPlusGraceOrCancel(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		at   time.Time
		prep func(*Store)
		want error
	}{
		{name: "held while pending", at: t0.Add(time.Minute), want: ErrAmountTaken},
		{name: "held in the grace", at: t0.Add(time.Hour + MatchGrace - time.Second), want: ErrAmountTaken},
		{name: "free after the grace", at: t0.Add(time.Hour + MatchGrace)},
		{name: "free once cancelled", at: t0.Add(time.Minute), prep: func(s *Store) { _, _ = s.CancelRequest(ctx, "r1", t0) }},
		{name: "free once paid by handover", at: t0.Add(time.Minute), prep: func(s *Store) { mustAccept(t, s, newPayment("r1")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			chainReq(t, s, "r1", 700)
			if tc.prep != nil {
				tc.prep(s)
			}
			r := newRequest("r2")
			r.Amount, r.CreatedAt, r.ExpiresAt = big.NewInt(700), tc.at, tc.at.Add(time.Hour)
			wantErr(t, "PutRequest", s.PutRequest(ctx, r), tc.want)
		})
	}
}

// A reorg takes the match back: the request is pending again (expired, by
// its time), the payment and unmatched receipts of the lost blocks are
// gone, counts follow, and the transfer mined again pays again.
func TestRewindTakesTheMatchBack(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	chainReq(t, s, "r1", 700)
	keep := transfer(9, t0.Add(time.Minute), "ETH", 5)
	pay := transfer(10, t0.Add(2*time.Minute), "ETH", 700)
	stray := transfer(11, t0.Add(2*time.Minute), "ETH", 6)
	record(t, s, 9, keep)
	record(t, s, 11, pay, stray)
	back, err := s.Chain(testChain).RewindOutcome(ctx, WatchCursor{Height: 9, Hashes: []common.Hash{keep.BlockHash}})
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Payments) != 1 || len(back.Unmatched) != 1 {
		t.Fatalf("rewound %+v", back)
	}
	r, _ := s.Request("r1")
	if r.Status != RequestPending || r.PaidTx != (common.Hash{}) || r.StatusAt(t0.Add(2*time.Hour)) != RequestExpired {
		t.Fatalf("request after rewind: %+v", r)
	}
	if _, err := s.Payment(pay.TxHash); !errors.Is(err, ErrUnknownPayment) {
		t.Fatalf("payment after rewind: %v", err)
	}
	counts, _ := s.Counts()
	if counts[PaymentSeen] != 0 || counts[PaymentUnmatched] != 1 {
		t.Fatalf("counts %v", counts)
	}
	if us := unmatchedList(t, s); len(us) != 1 || us[0].TxHash != keep.TxHash {
		t.Fatalf("unmatched after rewind: %+v", us)
	}
	if c, ok, _ := s.Chain(testChain).WatchCursor(); !ok || c.Height != 9 || len(c.Hashes) != 1 || c.Hashes[0] != keep.BlockHash {
		t.Fatalf("cursor %+v %v", c, ok)
	}
	// Its amount is held again, and the transfer mined again pays again.
	r2 := newRequest("r2")
	r2.Amount = big.NewInt(700)
	wantErr(t, "PutRequest of the amount back", s.PutRequest(ctx, r2), ErrAmountTaken)
	pay.Block, pay.BlockHash = 10, randHash()
	if out := record(t, s, 10, pay); len(out.Payments) != 1 {
		t.Fatalf("mined again: %+v", out)
	}
	if _, err := s.Chain(testChain).RewindOutcome(ctx, WatchCursor{Height: 12}); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("rewind forward: %v", err)
	}
	if _, err := s.Chain(testChain).RecordRangeOutcome(ctx, WatchCursor{Height: 5}, nil); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("record backwards: %v", err)
	}
	reopenStore(t, s)
}

// reopenStore closes s and opens its file again: Open's checks pass on it.
func reopenStore(t *testing.T, s *Store) *Store {
	t.Helper()
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func TestSettleFollowsChainPaymentsToFinal(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	chainReq(t, s, "r1", 700)
	chainReq(t, s, "r2", 800)
	a, b := transfer(10, t0.Add(time.Minute), "ETH", 700), transfer(12, t0.Add(time.Minute), "ETH", 800)
	record(t, s, 12, a, b)
	state := func(h common.Hash) PaymentState { p, _ := s.Payment(h); return p.State }
	moved, err := s.Chain(testChain).SettleOutcome(ctx, 11, 0)
	if err != nil || len(moved) != 1 || state(a.TxHash) != PaymentConfirmed || state(b.TxHash) != PaymentSeen {
		t.Fatalf("settle(11, 0): %+v %v; states %s %s", moved, err, state(a.TxHash), state(b.TxHash))
	}
	if moved, _ := s.Chain(testChain).SettleOutcome(ctx, 11, 0); len(moved) != 0 {
		t.Fatalf("settle again moved %+v", moved)
	}
	s = reopenStore(t, s) // a confirmed chain payment is not in the unfinal index, and Open agrees
	if err := s.Chain(testChain).Settle(ctx, 12, 10); err != nil {
		t.Fatal(err)
	}
	if state(a.TxHash) != PaymentFinal || state(b.TxHash) != PaymentConfirmed {
		t.Fatalf("settle(12, 10): %s %s", state(a.TxHash), state(b.TxHash))
	}
	counts, _ := s.Counts()
	if counts[PaymentFinal] != 1 || counts[PaymentConfirmed] != 1 || counts[PaymentSeen] != 0 {
		t.Fatalf("counts %v", counts)
	}
	// Chain payments never count as exposure nor reach the broadcaster.
	if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Sign() != 0 {
		t.Fatalf("unsettled %s", u)
	}
	open, _ := s.OpenPayments()
	unfinal, _ := s.Chain(testChain).UnfinalAfter(nil, 0)
	if len(open) != 0 || len(unfinal) != 0 {
		t.Fatalf("broadcaster's indexes hold %d open, %d unfinal", len(open), len(unfinal))
	}
	_, err = s.SetPaymentState(ctx, b.TxHash, PaymentFailed, "x", t0)
	wantErr(t, "SetPaymentState of a chain payment", err, ErrBadTransition)
	reopenStore(t, s)
}

// kill -9 safety: a range is one write, so a crash leaves all of it or
// none; here a range refused halfway (a transfer that breaks the rules
// after others were recorded) leaves nothing, cursor included.
func TestRecordRangeIsAllOrNothing(t *testing.T) {
	s := openTemp(t)
	chainReq(t, s, "r1", 700)
	good := transfer(10, t0.Add(time.Minute), "ETH", 700)
	bad := transfer(11, t0.Add(time.Minute), "ETH", 5)
	_, err := s.Chain(testChain).RecordRangeOutcome(context.Background(), WatchCursor{Height: 10}, []Transfer{good, bad})
	if err == nil {
		t.Fatal("a transfer above the range's end was taken")
	}
	if _, ok, _ := s.Chain(testChain).WatchCursor(); ok {
		t.Fatal("cursor moved")
	}
	if r, _ := s.Request("r1"); r.Status != RequestPending {
		t.Fatalf("request %s", r.Status)
	}
}

func TestOpenRefusesChainBucketsOutOfStep(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(tx *bbolt.Tx) error
	}{
		{name: "a transfer without its identity", harm: func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(bucketTransferIDs).Cursor().First()
			return tx.Bucket(bucketTransferIDs).Delete(k)
		}},
		{name: "an unmatched receipt gone", harm: func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(bucketUnmatched).Cursor().First()
			return tx.Bucket(bucketUnmatched).Delete(k)
		}},
		{name: "a seen payment out of its index", harm: func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(bucketChainUnfinal).Cursor().First()
			return tx.Bucket(bucketChainUnfinal).Delete(k)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			chainReq(t, s, "r1", 700)
			record(t, s, 10, transfer(10, t0.Add(time.Minute), "ETH", 700), transfer(10, t0.Add(time.Minute), "ETH", 5))
			s.Close()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.harm); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if err := openOrScrub(path, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// A schema 4 file (as the previous build left it: no chain buckets, no
// amounts index, payment records without a source) opens as schema 5: its
// payments read as handover, its pending requests hold their amounts and
// are paid by a transfer on chain.
func TestOpenMigratesASchema4File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	chainReq(t, s, "r-pending", 700)
	chainReq(t, s, "r-paid", 800)
	p := newPayment("r-paid")
	p = mustAccept(t, s, p)
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketWatch, bucketTransfers, bucketTransferIDs, bucketChainUnfinal, bucketUnmatched, bucketAmounts} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV4)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(path, &Options{HomeChainID: testChain})
	if err != nil {
		t.Fatalf("Open of a schema 4 file: %v", err)
	}
	defer s.Close()
	if got, _ := s.Payment(p.TxHash); got.Source != SourceHandover || got.State != PaymentQueued {
		t.Fatalf("old payment: %+v", got)
	}
	r := newRequest("r-new")
	r.Amount = big.NewInt(700)
	wantErr(t, "PutRequest of a migrated pending amount", s.PutRequest(context.Background(), r), ErrAmountTaken)
	if _, ok, err := s.Chain(testChain).WatchCursor(); ok || err != nil {
		t.Fatalf("cursor after migration: %v %v", ok, err)
	}
	tr := transfer(10, t0.Add(time.Minute), "ETH", 700)
	if out := record(t, s, 10, tr); len(out.Payments) != 1 || out.Payments[0].RequestID != "r-pending" {
		t.Fatalf("transfer to a migrated request: %+v", out)
	}
	var schema string
	_ = s.db.View(func(tx *bbolt.Tx) error { schema, _ = readSchema(tx); return nil })
	if schema != schemaVersion {
		t.Fatalf("schema %q after migration", schema)
	}
}
