package store

import (
	"errors"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// A pruned final payment still holds its sender's nonce, and every lower
// one: they were mined (schema 12, spent_nonces). A pruned failed payment
// never held its nonce.
func TestAPrunedFinalPaymentsNonceStaysSpent(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	old := t0.Add(-48 * time.Hour)
	final := paidAt(t, s, "final", old, PaymentFinal) // nonce 7
	failed := paidAt(t, s, "failed", old, PaymentFailed)
	if _, err := s.AckAllFailures(bg, t0); err != nil {
		t.Fatal(err)
	}
	if sum := pruneAll(t, s, t0, 10); sum.Payments != 2 {
		t.Fatalf("pruned %+v, want both payments", sum)
	}
	s = reopenChecked(t, s, clock)

	cases := []struct {
		name  string
		from  common.Address
		nonce uint64
		want  error
	}{
		{"the same nonce", final.From, 7, ErrNonceConflict},
		{"a lower nonce", final.From, 3, ErrNonceConflict},
		{"the next nonce", final.From, 8, nil},
		{"another sender", randAddr(), 7, nil},
		{"a failed payment's nonce", failed.From, 7, nil},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := reqID(i)
			putRequest(t, s, id)
			p := newPayment(id)
			p.From, p.Nonce = tc.from, tc.nonce
			_, _, err := s.Accept(bg, p, t0, nil)
			wantErr(t, "Accept", err, tc.want)
		})
	}
}

// A settled authorization goes once it has expired (its validBefore has
// passed: the till refuses it then, so its nonce guards nothing), with
// every row of the relayer's journal for it, their hashes and the
// settlement's transfer; one still valid, or with a row the relayer
// still follows, stays.
func TestPruneDeletesAnExpiredSettledAuthorizationWithItsJournal(t *testing.T) {
	clock := newClock(t0.Add(72 * time.Hour)) // newAuthorization: valid until t0+48h
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	relayer := randAddr()

	settle := func(req string, validFor time.Duration, nonce uint64, endRow bool) (Payment, []common.Hash) {
		t.Helper()
		putRequest(t, s, req)
		in := newAuthorization(req)
		in.Authorization.ValidBefore = big.NewInt(t0.Add(validFor).Unix())
		auth, _, err := acceptAuth(t, s, in, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		dropped, h := randHash(), randHash()
		recordTx(t, s, relayTx(auth, relayer, nonce, RelayTxSent, dropped))
		recordTx(t, s, relayTx(auth, relayer, nonce, RelayTxDropped, dropped))
		recordTx(t, s, relayTx(auth, relayer, nonce+1, RelayTxSent, h))
		block := uint64(40 + nonce)
		tr := transfer(block, t0, auth.Asset, auth.Amount.Int64())
		tr.TxHash, tr.From = h, auth.From
		record(t, s, block, tr)
		mined := relayTx(auth, relayer, nonce+1, RelayTxMined, h)
		mined.Mined, mined.Block = true, block
		recordTx(t, s, mined)
		report(t, s, RelayOutcome{AuthID: auth.TxHash, State: RelayFinal, Tx: h, Block: block, BlockHash: randHash()})
		if endRow {
			recordTx(t, s, relayTx(auth, relayer, nonce+1, RelayTxFinal, h))
		}
		return auth, []common.Hash{dropped, h}
	}
	gone, goneHashes := settle("expired", 48*time.Hour, 10, true)
	valid, _ := settle("still-valid", 1000*time.Hour, 20, true)
	followed, _ := settle("row-live", 48*time.Hour, 30, false)

	if sum := pruneAll(t, s, t0.Add(time.Hour), 10); sum.Payments != 1 || sum.Requests != 1 {
		t.Fatalf("pruned %+v, want one authorization and its request", sum)
	}
	s = reopenChecked(t, s, clock) // the journal, its index, the chain buckets check

	if _, err := s.Payment(gone.TxHash); !errors.Is(err, ErrUnknownPayment) {
		t.Errorf("the expired authorization: %v, want pruned", err)
	}
	for _, h := range goneHashes {
		if _, ok, err := s.RelayAuthorization(h); ok || err != nil {
			t.Errorf("hash %s still names an authorization (%v)", h, err)
		}
	}
	for _, p := range []Payment{valid, followed} {
		if got, err := s.Payment(p.TxHash); err != nil || got.State != PaymentFinal {
			t.Errorf("authorization %s: %v, %v; want kept", p.TxHash, got.State, err)
		}
	}
	if live, _ := s.Chain(testChain).RelayTxs(relayer); len(live) != 1 || live[0].AuthID != followed.TxHash {
		t.Errorf("live rows after pruning: %+v", live)
	}
}

// Open takes a schema 11 file to 12: relay_by_auth indexes the journal
// that was there, spent_nonces starts empty, and the journal goes on.
func TestOpenMigratesSchema10To11(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	auth := acceptedAuth(t, s, "r1")
	recordTx(t, s, relayTx(auth, randAddr(), 3, RelayTxSent, randHash()))
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketSpentNonces, bucketRelayByAuth} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV11)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, &Options{HomeChainID: testChain})
	if err != nil {
		t.Fatalf("Open of a schema 11 file: %v", err)
	}
	defer s.Close()
	var schema string
	n := 0
	_ = s.db.View(func(tx *bbolt.Tx) error {
		schema, _ = readSchema(tx)
		n = tx.Bucket(bucketRelayByAuth).Stats().KeyN
		return nil
	})
	if schema != schemaVersion || n != 1 {
		t.Fatalf("schema %q, %d relay_by_auth entries after migration", schema, n)
	}
	recordTx(t, s, relayTx(auth, randAddr(), 4, RelayTxSent, randHash()))
	reopenStore(t, s)
}

// Open refuses a relay_by_auth out of step with the journal: a row
// missing from it would keep its authorization's pruning from deleting
// it, leaving a row that names nothing.
func TestOpenRefusesARelayIndexOutOfStep(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	auth := acceptedAuth(t, s, "r1")
	recordTx(t, s, relayTx(auth, randAddr(), 3, RelayTxSent, randHash()))
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRelayByAuth).Cursor()
		k, _ := c.First()
		return tx.Bucket(bucketRelayByAuth).Delete(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := openOrScrub(path, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a journal row missing from relay_by_auth: %v", err)
	}
}

// The walks pick in a read transaction; the write reads each pick again
// and keeps what may no longer go: here a sink registered in between that
// has not delivered the payment's events.
func TestPruneWriteChecksItsPicksAgain(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	p := paidAt(t, s, "a", t0.Add(-48*time.Hour), PaymentFinal)

	var picked pruneCandidates
	walk := pruneWalk{}
	err := s.view(func(tx *bbolt.Tx) error {
		pr, err := newPruner(tx, t0, t0)
		if err != nil {
			return err
		}
		_, err = pr.walk(&walk, 10)
		picked = pr.picked
		return err
	})
	if err != nil || len(picked.payments) != 1 {
		t.Fatalf("picked %+v, %v", picked, err)
	}
	if _, err := s.RegisterSink(bg, "late", SinkFromOldest, t0); err != nil {
		t.Fatal(err)
	}
	planned := -1
	err = s.write(bg, func(w *wtx) error {
		pr, err := newPruner(w.tx, t0, t0)
		if err != nil {
			return err
		}
		if err := pr.replan(picked); err != nil {
			return err
		}
		planned = pr.payments
		return pr.plan.do(w)
	})
	if err != nil || planned != 0 {
		t.Fatalf("the write planned %d payments (%v), want 0: the new sink has not delivered it", planned, err)
	}
	if _, err := s.Payment(p.TxHash); err != nil {
		t.Fatalf("payment: %v", err)
	}
}

// An unmatched receipt goes once the operator acknowledged it, its
// block is below the watcher's reorg window and it is older than the bar;
// AckUnmatched is idempotent and refuses an unknown number.
func TestPruneDeletesAcknowledgedUnmatchedReceipts(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	old := t0.Add(-48 * time.Hour)
	got := record(t, s, 11, transfer(11, old, "ETH", 7), transfer(11, old, "ETH", 8), transfer(11, t0, "ETH", 9))
	acked, unacked, recent := got.Unmatched[0], got.Unmatched[1], got.Unmatched[2]
	windowed := record(t, s, 20, transfer(20, old, "ETH", 10)).Unmatched[0] // the cursor's one hash is block 20's
	for _, u := range []Payment{acked, recent, windowed} {
		p, err := s.AckUnmatched(bg, u.Seq, t0)
		if err != nil || p.AckedAt != t0 || p.State != PaymentUnmatched {
			t.Fatalf("AckUnmatched(%d): %+v, %v", u.Seq, p, err)
		}
	}
	if p, err := s.AckUnmatched(bg, acked.Seq, t0.Add(time.Hour)); err != nil || p.AckedAt != t0 {
		t.Fatalf("acknowledging again: %v, %v; want the first time kept", p.AckedAt, err)
	}
	if _, err := s.AckUnmatched(bg, 999, t0); !errors.Is(err, ErrUnknownReceipt) {
		t.Fatalf("AckUnmatched(999): %v", err)
	}

	if sum := pruneAll(t, s, t0.Add(-time.Hour), 10); sum.Payments != 1 {
		t.Fatalf("pruned %+v, want the one acknowledged receipt below the window and the bar", sum)
	}
	s = reopenChecked(t, s, clock) // the chain buckets and the unmatched count check
	kept := map[uint64]bool{}
	for _, u := range unmatchedList(t, s) {
		kept[u.Seq] = true
	}
	for _, tc := range []struct {
		name string
		u    Payment
		kept bool
	}{
		{"acknowledged, below the window", acked, false},
		{"not acknowledged", unacked, true},
		{"after the bar", recent, true},
		{"inside the watcher's reorg window", windowed, true},
	} {
		if kept[tc.u.Seq] != tc.kept {
			t.Errorf("%s: kept %v, want %v", tc.name, kept[tc.u.Seq], tc.kept)
		}
	}
	if c, _ := s.Counts(); c[PaymentUnmatched] != 3 {
		t.Errorf("unmatched count %d, want 3", c[PaymentUnmatched])
	}
}

// A transaction a wallet sent itself (seen on chain) and pruned once final
// stays spent: its raw transaction, which anyone can read off the chain,
// handed over for a new request of the same amount is refused as reused,
// as it was while the payment was stored. Without the guard the terminal
// would take it offline, and the broadcaster would find it mined and call
// the second sale confirmed.
func TestAPrunedChainPaymentsTransactionStaysSpent(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	old := t0.Add(-48 * time.Hour)
	r := newRequest("seen")
	r.Amount, r.CreatedAt, r.ExpiresAt = big.NewInt(50_000), old, old.Add(time.Hour)
	if err := s.PutRequest(bg, r); err != nil {
		t.Fatal(err)
	}
	tr := transfer(10, old.Add(time.Minute), "ETH", 50_000)
	record(t, s, 10, tr)
	if err := s.Chain(testChain).Settle(bg, 10, 10); err != nil { // its block is final
		t.Fatal(err)
	}
	if p, err := s.Payment(tr.TxHash); err != nil || p.State != PaymentFinal {
		t.Fatalf("after Settle: %+v, %v", p, err)
	}
	if sum := pruneAll(t, s, t0, 10); sum.Payments != 1 {
		t.Fatalf("pruned %+v, want the chain payment", sum)
	}
	s = reopenChecked(t, s, clock)
	if _, err := s.Payment(tr.TxHash); !errors.Is(err, ErrUnknownPayment) {
		t.Fatalf("Payment after the prune: %v, want it gone", err)
	}
	putRequest(t, s, "again")
	p := newPayment("again")
	p.TxHash = tr.TxHash
	_, _, err := s.Accept(bg, p, t0, nil)
	wantErr(t, "Accept of the pruned chain payment's transaction", err, ErrTxReused)
}

// A transaction the watcher recorded as an unmatched receipt (money that
// paid no request: late, or the wrong amount) cannot then pay a request
// handed over: the receipt already asks for the money back, and the sale
// would count it a second time. Once the receipt is acknowledged and
// pruned, its transaction stays refused.
func TestAnUnmatchedReceiptsTransactionPaysNoRequestHandedOver(t *testing.T) {
	clock := newClock(t0)
	s := openPruneStore(t, filepath.Join(t.TempDir(), "pos.db"), clock)
	defer func() { _ = s.Close() }()
	old := t0.Add(-48 * time.Hour)
	tr := transfer(10, old, "ETH", 50_000) // no request of this amount
	if out := record(t, s, 10, tr); len(out.Unmatched) != 1 {
		t.Fatalf("recorded %+v, want one unmatched receipt", out)
	}
	handOver := func(id string) error {
		t.Helper()
		putRequest(t, s, id)
		p := newPayment(id)
		p.TxHash = tr.TxHash
		_, _, err := s.Accept(bg, p, t0, nil)
		return err
	}
	wantErr(t, "Accept of an unmatched receipt's transaction", handOver("late"), ErrTxReused)

	us := unmatchedList(t, s)
	if _, err := s.AckUnmatched(bg, us[0].Seq, old); err != nil {
		t.Fatal(err)
	}
	for h := uint64(11); h <= 200; h++ { // the receipt's block below the reorg window
		record(t, s, h)
	}
	if sum := pruneAll(t, s, t0, 10); sum.Payments != 1 {
		t.Fatalf("pruned %+v, want the receipt", sum)
	}
	s = reopenChecked(t, s, clock)
	wantErr(t, "Accept of a pruned receipt's transaction", handOver("later"), ErrTxReused)
}
