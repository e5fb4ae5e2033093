package store

import (
	"context"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func newAuthorization(reqID string) Payment {
	p := newPayment(reqID)
	p.Nonce, p.Raw = 0, nil
	p.Authorization = &Authorization{
		Token: randAddr(), To: randAddr(), ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(t0.Add(48 * time.Hour).Unix()),
		Nonce: randHash(),
	}
	copy(p.Authorization.Signature[:], randBytes(65))
	p.Authorization.Signature[64] = 27
	return p
}

func acceptAuth(t testing.TB, s *Store, p Payment, lim Limits) (Payment, bool, error) {
	t.Helper()
	return s.AcceptAuthorization(context.Background(), p, t0, lim)
}

func TestAcceptAuthorizationStoresItForTheRelayerNotTheBroadcaster(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	in := newAuthorization("r1")
	got, repeat, err := acceptAuth(t, s, in, Limits{})
	if err != nil || repeat {
		t.Fatalf("AcceptAuthorization: repeat=%v err=%v", repeat, err)
	}
	if got.Source != SourceAuthorization || got.State != PaymentQueued || got.Seq == 0 {
		t.Fatalf("stored %+v", got)
	}
	read, err := s.Payment(in.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	a := read.Authorization
	if a == nil || a.Token != in.Authorization.Token || a.Nonce != in.Authorization.Nonce || a.Signature != in.Authorization.Signature ||
		a.ValidBefore.Cmp(in.Authorization.ValidBefore) != 0 || a.To != in.Authorization.To || read.From != in.From {
		t.Fatalf("read back %+v, authorization %+v", read, a)
	}
	if r, _ := s.Request("r1"); r.Status != RequestPaid || r.PaidTx != in.TxHash {
		t.Fatalf("request %+v", r)
	}
	if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Cmp(in.Amount) != 0 {
		t.Fatalf("unsettled %s, want %s", u, in.Amount)
	}
	if open, _ := s.OpenPayments(); len(open) != 0 {
		t.Fatalf("the broadcaster's open index holds %d payments; an authorization has no raw transaction", len(open))
	}
	if q, err := s.Chain(testChain).OpenAuthorizations(0, 0); err != nil || len(q) != 1 || q[0].TxHash != in.TxHash {
		t.Fatalf("OpenAuthorizations: %v %v", q, err)
	}

	// The same authorization again: the earlier answer, nothing written.
	before := takeSnapshot(t, s, "r1")
	again, repeat, err := acceptAuth(t, s, in, Limits{})
	if err != nil || !repeat || again.Seq != got.Seq {
		t.Fatalf("repeat: %+v repeat=%v err=%v", again, repeat, err)
	}
	if after := takeSnapshot(t, s, "r1"); after.commits != before.commits {
		t.Fatal("a repeat committed")
	}
}

func TestAcceptAuthorizationRefusesAReusedNonce(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	putRequest(t, s, "r2")
	first := newAuthorization("r1")
	if _, _, err := acceptAuth(t, s, first, Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  string
	}{{"another request", "r2"}} { // for the same request, it is already paid (rule 2 first)
		t.Run(tc.name, func(t *testing.T) {
			second := newAuthorization(tc.req)
			second.From = first.From
			second.Authorization.Token, second.Authorization.Nonce = first.Authorization.Token, first.Authorization.Nonce
			before := takeSnapshot(t, s, "r1", "r2")
			_, _, err := acceptAuth(t, s, second, Limits{})
			wantErr(t, "second authorization with the nonce", err, ErrAuthorizationReused)
			if after := takeSnapshot(t, s, "r1", "r2"); after.commits != before.commits || after.requests["r2"] != RequestPending {
				t.Fatal("a refusal changed the store")
			}
		})
	}
	// The very same authorization for another request.
	same := first
	same.RequestID = "r2"
	_, _, err := acceptAuth(t, s, same, Limits{})
	wantErr(t, "the same authorization for another request", err, ErrAuthorizationReused)
	// Failed, its nonce stays taken: the payer's promise is one-time.
	if _, err := s.SetPaymentState(context.Background(), first.TxHash, PaymentFailed, "used elsewhere", t0); err != nil {
		t.Fatal(err)
	}
	second := newAuthorization("r2")
	second.From = first.From
	second.Authorization.Token, second.Authorization.Nonce = first.Authorization.Token, first.Authorization.Nonce
	_, _, err = acceptAuth(t, s, second, Limits{})
	wantErr(t, "nonce of a failed authorization", err, ErrAuthorizationReused)
	// Another token, same payer and nonce: another nonce space.
	second.Authorization.Token = randAddr()
	if _, _, err := acceptAuth(t, s, second, Limits{}); err != nil {
		t.Fatalf("same nonce on another token: %v", err)
	}
}

func TestAuthorizationsCountTowardTheLimits(t *testing.T) {
	s := openTemp(t)
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		putRequest(t, s, id)
	}
	a := newAuthorization("r1") // 100
	if _, _, err := acceptAuth(t, s, a, Limits{}); err != nil {
		t.Fatal(err)
	}
	// Per payer: a handover of the same payer counts with it.
	h := newPayment("r2")
	h.From = a.From
	_, _, err := s.AcceptLimited(context.Background(), h, t0, Limits{PerPayer: big.NewInt(150)})
	wantErr(t, "handover over the per-payer cap with an authorization", err, ErrPayerLimit)
	b := newAuthorization("r2")
	b.From = a.From
	_, _, err = acceptAuth(t, s, b, Limits{PerPayer: big.NewInt(150)})
	wantErr(t, "second authorization over the per-payer cap", err, ErrPayerLimit)
	// Exposure: the asset's total.
	c := newAuthorization("r3")
	_, _, err = acceptAuth(t, s, c, Limits{Unsettled: big.NewInt(150)})
	wantErr(t, "authorization over the exposure limit", err, ErrExposureLimit)

	// Settled, it frees both.
	ctx := context.Background()
	for _, st := range []PaymentState{PaymentBroadcast, PaymentConfirmed} {
		if _, err := s.SetPaymentState(ctx, a.TxHash, st, "", t0); err != nil {
			t.Fatalf("-> %s: %v", st, err)
		}
	}
	if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Sign() != 0 {
		t.Fatalf("unsettled %s after confirmation", u)
	}
	if q, _ := s.Chain(testChain).OpenAuthorizations(0, 0); len(q) != 0 {
		t.Fatalf("confirmed authorization still open: %v", q)
	}
	if q, _ := s.Chain(testChain).UnfinalAuthorizations(0, 0); len(q) != 1 {
		t.Fatalf("confirmed authorization not followed to final: %v", q)
	}
	if _, _, err := acceptAuth(t, s, b, Limits{PerPayer: big.NewInt(150), Unsettled: big.NewInt(150)}); err != nil {
		t.Fatalf("after settlement: %v", err)
	}
	if _, err := s.SetPaymentState(ctx, a.TxHash, PaymentFinal, "", t0); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Chain(testChain).UnfinalAuthorizations(0, 0); len(q) != 0 {
		t.Fatalf("final authorization still unfinal: %v", q)
	}
	if err := verify(s.db, schemaVersion); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestOpenAuthorizationsReadsInAcceptanceOrderAWindowAtATime(t *testing.T) {
	s := openTemp(t)
	var want []Payment
	for i := range 5 {
		putRequest(t, s, reqID(i))
		if i == 2 { // a handover between them is not the relayer's
			mustAccept(t, s, newPayment(reqID(i)))
			continue
		}
		p, _, err := acceptAuth(t, s, newAuthorization(reqID(i)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	var got []Payment
	after := uint64(0)
	for {
		w, err := s.Chain(testChain).OpenAuthorizations(after, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, w...)
		if len(w) < 3 {
			break
		}
		after = w[len(w)-1].Seq
	}
	if len(got) != len(want) {
		t.Fatalf("%d authorizations, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].TxHash != want[i].TxHash {
			t.Fatalf("#%d: %s, want %s", i, got[i].TxHash, want[i].TxHash)
		}
	}
}

func TestReopenKeepsAuthorizationsAndVerifiesTheirIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r1")
	a := newAuthorization("r1")
	if _, _, err := acceptAuth(t, s, a, Limits{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if q, _ := s.Chain(testChain).OpenAuthorizations(0, 0); len(q) != 1 || q[0].Authorization == nil {
		t.Fatalf("after reopen: %v", q)
	}
	s.Close()

	// An authorization missing from the relayer's queue is damage.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketAuthPayer).Delete(payerSeqKey(testChain, a.From, 1)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = openOrScrub(path, nil)
	wantErr(t, "Open with an authorization missing from auth_payer", err, ErrCorrupt)
}

func TestOpenMigratesSchema5To6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r-paid")
	putRequest(t, s, "r-pending")
	old := mustAccept(t, s, newPayment("r-paid"))
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		for _, b := range append(authBuckets, relayBuckets...) {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV5)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(path, &Options{HomeChainID: testChain})
	if err != nil {
		t.Fatalf("Open of a schema 5 file: %v", err)
	}
	defer s.Close()
	var schema string
	_ = s.db.View(func(tx *bbolt.Tx) error { schema, _ = readSchema(tx); return nil })
	if schema != schemaVersion {
		t.Fatalf("schema %q after migration", schema)
	}
	if got, _ := s.Payment(old.TxHash); got.Source != SourceHandover || got.State != PaymentQueued {
		t.Fatalf("old payment: %+v", got)
	}
	if _, _, err := acceptAuth(t, s, newAuthorization("r-pending"), Limits{}); err != nil {
		t.Fatalf("authorization after migration: %v", err)
	}
}
