package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// OldestQueued is each chain's first payment in acceptance order still
// queued, handed over or an authorization, whatever order the others
// leave the queue in (SetPaymentState, Apply, the relayer's journal), and
// it survives a reopen (whose check the index passes).
func TestOldestQueuedFollowsPaymentsLeavingInAnyOrder(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var a, b []Payment // chain A's, in acceptance order; chain B's
	for i := range 6 {
		putRequest(t, s, reqID(i))
		if i%3 == 1 {
			p, _, err := acceptAuth(t, s, on(chainA, newAuthorization(reqID(i))), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			a = append(a, p)
			continue
		}
		a = append(a, mustAccept(t, s, on(chainA, newPayment(reqID(i)))))
	}
	putRequest(t, s, "b")
	b = append(b, mustAccept(t, s, on(chainB, newPayment("b"))))
	want := func(what string, chain uint64, p *Payment) {
		t.Helper()
		got, ok, err := s.Chain(chain).OldestQueued()
		switch {
		case err != nil:
			t.Fatalf("%s: OldestQueued(%d): %v", what, chain, err)
		case p == nil && ok:
			t.Fatalf("%s: OldestQueued(%d) = %s, want none", what, chain, got.TxHash)
		case p != nil && (!ok || got.TxHash != p.TxHash || !got.AcceptedAt.Equal(p.AcceptedAt)):
			t.Fatalf("%s: OldestQueued(%d) = %s (%v), want %s", what, chain, got.TxHash, ok, p.TxHash)
		}
	}
	set := func(p Payment, state PaymentState) {
		t.Helper()
		if _, err := s.SetPaymentState(ctx, p.TxHash, state, "", t0); err != nil {
			t.Fatal(err)
		}
	}
	want("accepted", chainA, &a[0])
	want("accepted", chainB, &b[0])
	want("accepted", 99, nil)
	set(a[2], PaymentBroadcast)
	set(a[3], PaymentFailed)
	want("later ones left", chainA, &a[0])
	set(a[0], PaymentBroadcast)
	want("the first was sent", chainA, &a[1]) // an authorization
	rt := relayTx(a[1], randAddr(), 0, RelayTxSent, randHash())
	rt.ChainID = chainA
	if err := s.RecordRelayTx(ctx, rt, t0); err != nil {
		t.Fatal(err)
	}
	want("the relayer sent the authorization", chainA, &a[4])
	if _, err := s.Apply(ctx, t0, []Change{{Hash: a[5].TxHash, State: PaymentBroadcast}, {Hash: a[4].TxHash, State: PaymentQueued, Delivery: Delivery{Attempts: 1}}}); err != nil {
		t.Fatal(err)
	}
	want("a later one left, the oldest was retried", chainA, &a[4])
	want("chain A's moved", chainB, &b[0])
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	s = s2
	want("reopened", chainA, &a[4])
	set(a[4], PaymentFailed)
	want("none left", chainA, nil)
	want("none left on A", chainB, &b[0])
}

// A queued index that does not hold exactly the queued payments, each at
// its chain and Seq, is found (by the scrub after READY) and refused.
func TestAQueuedIndexThatIsNotTheQueueIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(tx *bbolt.Tx, queued, sent Payment) error
	}{
		{"a queued payment missing", func(tx *bbolt.Tx, q, _ Payment) error {
			return tx.Bucket(bucketQueued).Delete(queuedKey(q.ChainID, q.Seq))
		}},
		{"a broadcast payment in it", func(tx *bbolt.Tx, _, s Payment) error {
			k := queuedKey(s.ChainID, s.Seq)
			return tx.Bucket(bucketQueued).Put(k, seal(bucketQueued, k, nil))
		}},
		{"an entry at another Seq", func(tx *bbolt.Tx, q, _ Payment) error {
			if err := tx.Bucket(bucketQueued).Delete(queuedKey(q.ChainID, q.Seq)); err != nil {
				return err
			}
			k := queuedKey(q.ChainID, q.Seq+100)
			return tx.Bucket(bucketQueued).Put(k, seal(bucketQueued, k, nil))
		}},
		{"an entry on another chain", func(tx *bbolt.Tx, q, _ Payment) error {
			if err := tx.Bucket(bucketQueued).Delete(queuedKey(q.ChainID, q.Seq)); err != nil {
				return err
			}
			k := queuedKey(q.ChainID+1, q.Seq)
			return tx.Bucket(bucketQueued).Put(k, seal(bucketQueued, k, nil))
		}},
		{"an entry naming no payment", func(tx *bbolt.Tx, q, _ Payment) error {
			k := queuedKey(q.ChainID, q.Seq+1000)
			return tx.Bucket(bucketQueued).Put(k, seal(bucketQueued, k, nil))
		}},
		{"an entry with a value", func(tx *bbolt.Tx, q, _ Payment) error {
			k := queuedKey(q.ChainID, q.Seq)
			return tx.Bucket(bucketQueued).Put(k, seal(bucketQueued, k, q.TxHash[:]))
		}},
		{"a short key", func(tx *bbolt.Tx, q, _ Payment) error {
			k := chainPrefix(q.ChainID)
			return tx.Bucket(bucketQueued).Put(k, seal(bucketQueued, k, nil))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "q")
			putRequest(t, s, "s")
			q := mustAccept(t, s, newPayment("q"))
			sent := mustAccept(t, s, newPayment("s"))
			if _, err := s.SetPaymentState(context.Background(), sent.TxHash, PaymentBroadcast, "", t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			path := s.Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error { return tc.damage(tx, q, sent) })
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			// Open reads a bounded set (the queue is not in it); the scrub
			// after READY checks the index and reports it as money damage.
			if err := openOrScrub(path, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open and scrub: %v, want ErrCorrupt", err)
			}
		})
	}
}

// A schema 14 file without its queued index is damage refused at Open,
// not a store that opens and then fails every accept.
func TestOpenRefusesASchema14FileWithoutItsQueuedIndex(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "q")
	mustAccept(t, s, newPayment("q"))
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketQueued) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
}
