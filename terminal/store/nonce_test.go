package store

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Rule 3 of Accept: a sender+nonce is held by the payment the index names
// until that payment fails; then the payer may pay again with a new
// transaction using the same nonce.

// sameNonceAfter accepts a payment for request "r0", moves it to state (if
// not queued) and returns a new payment for "r1" with the same sender and
// nonce. The store must hold pending "r1".
func sameNonceAfter(t *testing.T, s *Store, state PaymentState) Payment {
	t.Helper()
	putRequest(t, s, "r0")
	first := mustAccept(t, s, newPayment("r0"))
	if state != PaymentQueued {
		if _, err := s.SetPaymentState(context.Background(), first.TxHash, state, "dropped", t0); err != nil {
			t.Fatal(err)
		}
	}
	p := newPayment("r1")
	p.From, p.Nonce = first.From, first.Nonce
	return p
}

// openEntry is the hash the open index's entry for p's sender+nonce
// names (by_sender_nonce's, openHash), nil if there is no entry.
func openEntry(t *testing.T, s *Store, p Payment) []byte {
	t.Helper()
	var h []byte
	if err := s.db.View(func(tx *bbolt.Tx) error {
		k := senderNonceKey(testChain, p.From, p.Nonce)
		v, err := openHash(tx, k, tx.Bucket(bucketOpen).Get(k))
		h = append([]byte(nil), v...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

func TestNonceConflictSaysWhereTheNonceIsUsed(t *testing.T) {
	for _, tc := range []struct {
		state   PaymentState
		onChain bool
	}{
		{PaymentQueued, false},
		{PaymentBroadcast, false},
		{PaymentConfirmed, true},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "r1")
			p := sameNonceAfter(t, s, tc.state)
			_, _, err := s.Accept(context.Background(), p, t0, nil)
			wantErr(t, "Accept", err, ErrNonceConflict)
			if got := strings.Contains(err.Error(), "on chain"); got != tc.onChain {
				t.Errorf("error %q: says \"on chain\" = %v, want %v", err, got, tc.onChain)
			}
			if r, _ := s.Request("r1"); r.Status != RequestPending {
				t.Errorf("request r1 is %s after the refusal, want pending", r.Status)
			}
		})
	}
}

func TestFailedPaymentsNonceCanBePaidAgain(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	putRequest(t, s, "r1")
	p := sameNonceAfter(t, s, PaymentFailed)
	old, err := s.Chain(testChain).PaymentBySenderNonce(p.From, p.Nonce)
	if err != nil || old.State != PaymentFailed {
		t.Fatalf("before: PaymentBySenderNonce = %+v, %v; want the failed payment", old, err)
	}
	if h := openEntry(t, s, p); h != nil {
		t.Fatalf("failed payment still in the open index: 0x%x", h)
	}

	repaid := mustAccept(t, s, p)

	// Both indexes now name the new payment.
	if got, err := s.Chain(testChain).PaymentBySenderNonce(p.From, p.Nonce); err != nil || got.TxHash != repaid.TxHash {
		t.Fatalf("PaymentBySenderNonce = %s, %v; want the new %s", got.TxHash, err, repaid.TxHash)
	}
	if h := openEntry(t, s, p); string(h) != string(repaid.TxHash[:]) {
		t.Fatalf("open index entry 0x%x, want the new %s", h, repaid.TxHash)
	}
	open, err := s.OpenPayments()
	if err != nil || len(open) != 1 || open[0].TxHash != repaid.TxHash {
		t.Fatalf("OpenPayments = %d payments, %v; want only %s", len(open), err, repaid.TxHash)
	}
	// The failed payment keeps its record: by hash and in Payments.
	if got, err := s.Payment(old.TxHash); err != nil || !reflect.DeepEqual(got, old) {
		t.Fatalf("old payment by hash = %+v, %v; want it unchanged %+v", got, err, old)
	}
	all, err := s.Payments(PaymentFilter{})
	if err != nil || len(all) != 2 || all[0].TxHash != old.TxHash || all[1].TxHash != repaid.TxHash {
		t.Fatalf("Payments = %d, %v; want the failed one, then the new one", len(all), err)
	}
	counts, _ := s.Counts()
	if counts[PaymentFailed] != 1 || counts[PaymentQueued] != 1 || sum(counts) != 2 {
		t.Fatalf("counts %v: want one failed, one queued", counts)
	}
	if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Int64() != 100 {
		t.Fatalf("unsettled %s, want 100 (only the new payment)", u)
	}

	// The new payment settles through the usual transitions, and the
	// nonce is held again until it too fails.
	if _, err := s.SetPaymentState(ctx, repaid.TxHash, PaymentBroadcast, "", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r2")
	third := newPayment("r2")
	third.From, third.Nonce = p.From, p.Nonce
	_, _, err = s.Accept(ctx, third, t0, nil)
	wantErr(t, "Accept while the new payment is broadcast", err, ErrNonceConflict)
	if _, err := s.SetPaymentState(ctx, repaid.TxHash, PaymentFailed, "replaced", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if h := openEntry(t, s, p); h != nil {
		t.Fatalf("open index entry 0x%x after the new payment failed, want none", h)
	}
	mustAccept(t, s, third)
	if got, _ := s.Chain(testChain).PaymentBySenderNonce(p.From, p.Nonce); got.TxHash != third.TxHash {
		t.Fatalf("PaymentBySenderNonce = %s, want the third payment %s", got.TxHash, third.TxHash)
	}
	if h := openEntry(t, s, p); string(h) != string(third.TxHash[:]) {
		t.Fatalf("open index entry 0x%x, want the third %s", h, third.TxHash)
	}
}

// A payment failing and its nonce paid again in one batch: the Accept sees
// the failure written just before it in the same transaction.
func TestNonceFreedAndRepaidInOneBatch(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := sameNonceAfter(t, s, PaymentQueued)
	old, _ := s.Chain(testChain).PaymentBySenderNonce(p.From, p.Nonce)
	failed := old
	failed.State = PaymentFailed
	fail := &op{ctx: context.Background(), done: make(chan error, 1), fn: func(w *wtx) error {
		pw, err := planTransition(w, old, failed, t0)
		if err != nil {
			return err
		}
		return pw.do(w)
	}}
	acc := &op{ctx: context.Background(), done: make(chan error, 1), fn: func(w *wtx) error {
		_, _, err := accept(w, p, t0, Limits{}, false, false)
		return err
	}}
	s.c.commit([]*op{fail, acc})
	wantErr(t, "fail", <-fail.done, nil)
	wantErr(t, "accept", <-acc.done, nil)
	if h := openEntry(t, s, p); string(h) != string(p.TxHash[:]) {
		t.Fatalf("open index entry 0x%x, want the new %s", h, p.TxHash)
	}
}

// by_sender_nonce names a payment by its Seq (8 bytes, by_seq naming its
// hash); an entry written by schema 14's first builds holds the hash (32)
// and reads the same: the payment is found at its sender and nonce and
// its nonce stays taken. A Seq by_seq does not hold is damage.
func TestBySenderNonceNamesAPaymentBySeqOrByHash(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value func(p Payment) []byte
		want  error // nil: found, and the nonce taken
	}{
		{"by Seq, as written", func(p Payment) []byte { return seqKey(p.Seq) }, nil},
		{"by hash, as first written in schema 14", func(p Payment) []byte { return p.TxHash[:] }, nil},
		{"a Seq by_seq does not hold", func(p Payment) []byte { return seqKey(p.Seq + 1000) }, ErrCorrupt},
		{"neither a Seq nor a hash", func(p Payment) []byte { return p.TxHash[:20] }, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "r0")
			first := mustAccept(t, s, newPayment("r0"))
			k := senderNonceKey(testChain, first.From, first.Nonce)
			var stored []byte
			if err := s.db.Update(func(tx *bbolt.Tx) error {
				stored, _ = checkValue(bucketBySender, k, tx.Bucket(bucketBySender).Get(k))
				stored = bytes.Clone(stored)
				return tx.Bucket(bucketBySender).Put(k, seal(bucketBySender, k, tc.value(first)))
			}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stored, seqKey(first.Seq)) {
				t.Fatalf("Accept wrote %x, want the Seq %x", stored, seqKey(first.Seq))
			}
			got, err := s.Chain(testChain).PaymentBySenderNonce(first.From, first.Nonce)
			if tc.want != nil {
				wantErr(t, "PaymentBySenderNonce", err, tc.want)
			} else if err != nil || got.TxHash != first.TxHash {
				t.Fatalf("PaymentBySenderNonce = %s, %v; want %s", got.TxHash, err, first.TxHash)
			}
			putRequest(t, s, "r1")
			again := newPayment("r1")
			again.From, again.Nonce = first.From, first.Nonce
			_, _, err = s.Accept(context.Background(), again, t0, nil)
			want := tc.want
			if want == nil {
				want = ErrNonceConflict
			}
			wantErr(t, "Accept of the same nonce", err, want)
		})
	}
}
