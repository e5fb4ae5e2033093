package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// failedPayment accepts a payment for a new request and fails it with
// reason at t0+min minutes, through SetPaymentState or Apply.
func failedPayment(t *testing.T, s *Store, id, reason string, min int, viaApply bool) Payment {
	t.Helper()
	putRequest(t, s, id)
	p := mustAccept(t, s, newPayment(id))
	at := t0.Add(time.Duration(min) * time.Minute)
	var err error
	if viaApply {
		_, err = s.Apply(context.Background(), at, []Change{{Hash: p.TxHash, State: PaymentFailed, Reason: reason}})
	} else {
		_, err = s.SetPaymentState(context.Background(), p.TxHash, PaymentFailed, reason, at)
	}
	if err != nil {
		t.Fatalf("fail %s: %v", id, err)
	}
	return p
}

func TestEveryFailureIsKeptUntilAcknowledged(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	a := failedPayment(t, s, "r1", "conflict: nonce taken", 1, false)
	b := failedPayment(t, s, "r2", "reverted: transfer amount exceeds balance", 2, true)
	putRequest(t, s, "r3-fine")
	mustAccept(t, s, newPayment("r3-fine")) // not failed: no entry
	s = reopenStore(t, s)                   // a restart forgets nothing

	if n, err := s.OpenFailures(); err != nil || n != 2 {
		t.Fatalf("OpenFailures = %d, %v; want 2", n, err)
	}
	got, err := s.Failures(FailureFilter{Open: true})
	if err != nil || len(got) != 2 {
		t.Fatalf("Failures = %+v, %v", got, err)
	}
	for i, want := range []struct {
		p      Payment
		reason string
		at     time.Time
	}{{a, "conflict: nonce taken", t0.Add(time.Minute)}, {b, "reverted: transfer amount exceeds balance", t0.Add(2 * time.Minute)}} {
		f := got[i]
		if f.ID != uint64(i+1) || f.Payment.TxHash != want.p.TxHash || f.Payment.Reason != want.reason ||
			!f.FailedAt.Equal(want.at) || f.Acked() || f.Payment.Amount.Cmp(want.p.Amount) != 0 || f.Payment.RequestID != want.p.RequestID {
			t.Errorf("failure %d = %+v", i, f)
		}
	}

	// Acknowledging is idempotent: the second answers the first's time.
	f1, err := s.AckFailure(ctx, 1, t0.Add(time.Hour))
	if err != nil || !f1.AckedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("AckFailure(1) = %+v, %v", f1, err)
	}
	again, err := s.AckFailure(ctx, 1, t0.Add(2*time.Hour))
	if err != nil || !again.AckedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("AckFailure(1) again = %+v, %v", again, err)
	}
	if _, err := s.AckFailure(ctx, 99, t0); !errors.Is(err, ErrUnknownFailure) {
		t.Fatalf("AckFailure(99): %v, want ErrUnknownFailure", err)
	}
	if n, _ := s.OpenFailures(); n != 1 {
		t.Fatalf("open after one ack: %d", n)
	}
	// Acknowledged failures stay listed (not as open).
	if all, _ := s.Failures(FailureFilter{}); len(all) != 2 || !all[0].Acked() {
		t.Fatalf("all failures: %+v", all)
	}
	if n, err := s.AckAllFailures(ctx, t0.Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("AckAllFailures = %d, %v; want 1", n, err)
	}
	if n, err := s.AckAllFailures(ctx, t0.Add(3*time.Hour)); err != nil || n != 0 {
		t.Fatalf("AckAllFailures again = %d, %v; want 0", n, err)
	}
	s = reopenStore(t, s)
	if n, _ := s.OpenFailures(); n != 0 {
		t.Fatalf("open after ack all and a restart: %d", n)
	}
	// A period selects by failure time.
	if in, _ := s.Failures(FailureFilter{Since: t0.Add(90 * time.Second), Until: t0.Add(time.Hour)}); len(in) != 1 || in[0].ID != 2 {
		t.Fatalf("failures in a period: %+v", in)
	}
}

// A schema 7 file's failed payments were shown once and forgotten: the
// migration keeps each as an unacknowledged failure, in acceptance order.
func TestOpenMigratesSchema7FailedPaymentsAsUnacknowledged(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	a := failedPayment(t, s, "r1", "conflict", 1, false)
	putRequest(t, s, "r2-fine")
	mustAccept(t, s, newPayment("r2-fine")) // not failed: no entry
	b := failedPayment(t, s, "r3", "not mined", 5, false)
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketFailures, bucketFailuresOpen, bucketZs, bucketZKeys} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV7)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, &Options{HomeChainID: testChain})
	if err != nil {
		t.Fatalf("Open of a schema 7 file: %v", err)
	}
	defer s.Close()
	var schema string
	_ = s.db.View(func(tx *bbolt.Tx) error { schema, _ = readSchema(tx); return nil })
	if schema != schemaVersion { // migrated on to the newest
		t.Fatalf("schema %q after migration", schema)
	}
	got, err := s.Failures(FailureFilter{Open: true})
	if err != nil || len(got) != 2 || got[0].Payment.TxHash != a.TxHash || got[1].Payment.TxHash != b.TxHash ||
		!got[1].FailedAt.Equal(t0.Add(5*time.Minute)) || got[0].ID != 1 || got[1].ID != 2 {
		t.Fatalf("failures after migration: %+v, %v", got, err)
	}
	// New failures take the next numbers.
	c := failedPayment(t, s, "r4", "reverted", 9, false)
	if f, err := s.Failure(3); err != nil || f.Payment.TxHash != c.TxHash {
		t.Fatalf("Failure(3) = %+v, %v", f, err)
	}
}

// Open refuses failures out of step with the payments: a failed payment
// without its failure would never be shown to the cashier.
func TestOpenRefusesFailuresOutOfStep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(tx *bbolt.Tx) error
	}{
		{"a failure record gone", func(tx *bbolt.Tx) error { return tx.Bucket(bucketFailures).Delete(seqKey(1)) }},
		{"an open entry gone", func(tx *bbolt.Tx) error { return tx.Bucket(bucketFailuresOpen).Delete(seqKey(1)) }},
		{"an open entry for nothing", func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketFailuresOpen).Put(seqKey(7), seal(bucketFailuresOpen, seqKey(7), make([]byte, 32)))
		}},
		{"the open count off", func(tx *bbolt.Tx) error { return tx.Bucket(bucketFailuresOpen).SetSequence(2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			path := s.Path()
			failedPayment(t, s, "r1", "conflict", 1, false)
			s.Close()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.damage); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if err := openOrScrub(path, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestZReportsAreNumberedAndCoverEachPeriodOnce(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	take := func(from, to time.Time, key string) (Z, bool, error) {
		m, err := s.Marks()
		if err != nil {
			t.Fatal(err)
		}
		return s.TakeZ(ctx, Z{From: from, To: to, Key: key, Marks: m, Doc: []byte(fmt.Sprintf(`{"to":%q}`, to))})
	}
	z1, created, err := take(t0, t0.Add(time.Hour), "k1")
	if err != nil || !created || z1.Number != 1 {
		t.Fatalf("first Z = %+v, %v, %v", z1, created, err)
	}
	// The same key again: the same Z, not a second one.
	again, created, err := take(t0.Add(time.Hour), t0.Add(2*time.Hour), "k1")
	if err != nil || created || again.Number != 1 || !again.To.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Z with the same key = %+v, %v, %v", again, created, err)
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"a period the last Z covered", t0, t0.Add(3 * time.Hour)},
		{"a gap after the last Z", t0.Add(90 * time.Minute), t0.Add(3 * time.Hour)},
		{"a clock behind the last Z", t0.Add(time.Hour), t0.Add(30 * time.Minute)},
		{"an empty period after a Z", t0.Add(time.Hour), t0.Add(time.Hour)},
	} {
		if z, _, err := take(tc.from, tc.to, ""); !errors.Is(err, ErrZPeriod) {
			t.Errorf("%s: %+v, %v; want ErrZPeriod", tc.name, z, err)
		}
	}
	z2, created, err := take(t0.Add(time.Hour), t0.Add(2*time.Hour), "")
	if err != nil || !created || z2.Number != 2 {
		t.Fatalf("second Z = %+v, %v, %v", z2, created, err)
	}
	s = reopenStore(t, s)
	last, ok, err := s.LastZ()
	if err != nil || !ok || last.Number != 2 || string(last.Doc) != string(z2.Doc) {
		t.Fatalf("LastZ after restart = %+v, %v, %v", last, ok, err)
	}
	if z, err := s.Z(1); err != nil || z.Key != "k1" || !z.From.Equal(t0) {
		t.Fatalf("Z(1) = %+v, %v", z, err)
	}
	if _, err := s.Z(3); !errors.Is(err, ErrUnknownZ) {
		t.Fatalf("Z(3): %v, want ErrUnknownZ", err)
	}
}

// A payment stored after the books were read, dated inside the Z's
// period, refuses the Z: the report would have missed it.
func TestZRefusedWhenThePeriodGainedARecordMeanwhile(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	m, _ := s.Marks()
	putRequest(t, s, "r1")
	mustAccept(t, s, newPayment("r1")) // accepted at t0
	if _, _, err := s.TakeZ(ctx, Z{From: t0.Add(-time.Hour), To: t0.Add(time.Hour), Marks: m}); !errors.Is(err, ErrZMoved) {
		t.Fatalf("TakeZ with stale marks: %v, want ErrZMoved", err)
	}
	m2, _ := s.Marks()
	if z, _, err := s.TakeZ(ctx, Z{From: t0.Add(-time.Hour), To: t0.Add(time.Hour), Marks: m2}); err != nil || z.Number != 1 {
		t.Fatalf("TakeZ read again: %+v, %v", z, err)
	}
	// A failure dated in the next period, stored after its marks.
	m3, _ := s.Marks()
	failedPayment(t, s, "r2", "conflict", 70, false)
	if _, _, err := s.TakeZ(ctx, Z{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour), Marks: m3}); !errors.Is(err, ErrZMoved) {
		t.Fatalf("TakeZ after a new failure: %v, want ErrZMoved", err)
	}
}

// An authorization the relayer could not settle (used elsewhere) is a
// failure like a handover's, kept from the same write.
func TestARelayerFailureIsKeptAsAFailure(t *testing.T) {
	s := openTemp(t)
	auth := acceptedAuth(t, s, "r1")
	p := report(t, s, RelayOutcome{AuthID: auth.TxHash, State: RelayFailed, Reason: "authorization_used"})
	if p.State != PaymentFailed {
		t.Fatalf("state %s", p.State)
	}
	got, err := s.Failures(FailureFilter{Open: true})
	if err != nil || len(got) != 1 || got[0].Payment.TxHash != auth.TxHash || got[0].Payment.Reason != "authorization_used" ||
		got[0].Payment.Source != SourceAuthorization || !got[0].FailedAt.Equal(t0) {
		t.Fatalf("failures: %+v, %v", got, err)
	}
	s = reopenStore(t, s)
	if n, _ := s.OpenFailures(); n != 1 {
		t.Fatalf("open after a restart: %d", n)
	}
}
