package store

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

const testChain = 1337

func relayTx(auth Payment, relayer common.Address, nonce uint64, state RelayTxState, hashes ...common.Hash) RelayTx {
	return RelayTx{
		ChainID: testChain, Relayer: relayer, Nonce: nonce, AuthID: auth.TxHash, Token: auth.Authorization.Token,
		From: auth.From, AuthNonce: auth.Authorization.Nonce, Hashes: hashes, Raw: randBytes(120),
		TipCap: big.NewInt(1e9), FeeCap: big.NewInt(3e9), SignedAt: t0, State: state,
	}
}

func recordTx(t testing.TB, s *Store, tx RelayTx) {
	t.Helper()
	if err := s.RecordRelayTx(context.Background(), tx, t0); err != nil {
		t.Fatalf("RecordRelayTx(%d, %s): %v", tx.Nonce, tx.State, err)
	}
}

func report(t testing.TB, s *Store, o RelayOutcome) Payment {
	t.Helper()
	p, err := s.ReportRelayOutcome(context.Background(), o, t0)
	if err != nil {
		t.Fatalf("ReportRelayOutcome(%s): %v", o.State, err)
	}
	return p
}

func acceptedAuth(t testing.TB, s *Store, req string) Payment {
	t.Helper()
	putRequest(t, s, req)
	p, _, err := acceptAuth(t, s, newAuthorization(req), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A settlement's life in the journal: recorded before it is sent (the
// authorization becomes broadcast), bumped (both hashes name it), mined,
// final; the authorization follows, its exposure freed once confirmed,
// out of the relayer's queue once final, and it all survives a reopen.
func TestRelayJournalFollowsASettlementToFinal(t *testing.T) {
	s := openTemp(t)
	auth := acceptedAuth(t, s, "r1")
	relayer, h1, h2 := randAddr(), randHash(), randHash()

	recordTx(t, s, relayTx(auth, relayer, 7, RelayTxSent, h1))
	if p, _ := s.Payment(auth.TxHash); p.State != PaymentBroadcast {
		t.Fatalf("after the first record the authorization is %s, want broadcast", p.State)
	}
	recordTx(t, s, relayTx(auth, relayer, 7, RelayTxSent, h1, h2))
	live, err := s.Chain(testChain).RelayTxs(relayer)
	if err != nil || len(live) != 1 || len(live[0].Hashes) != 2 || live[0].FeeCap.Cmp(big.NewInt(3e9)) != 0 {
		t.Fatalf("RelayTxs: %+v %v", live, err)
	}
	if other, _ := s.Chain(testChain + 1).RelayTxs(relayer); len(other) != 0 {
		t.Fatalf("another chain's journal holds %d", len(other))
	}
	for _, h := range []common.Hash{h1, h2} {
		if id, ok, err := s.RelayAuthorization(h); err != nil || !ok || id != auth.TxHash {
			t.Fatalf("RelayAuthorization(%s) = %s %v %v", h, id, ok, err)
		}
	}
	if q, _ := s.Chain(testChain).OpenAuthorizations(0, 0); len(q) != 1 {
		t.Fatalf("a sent authorization leaves the queue: %d open", len(q))
	}

	p := report(t, s, RelayOutcome{AuthID: auth.TxHash, State: RelayConfirmed, Tx: h2, Block: 40, BlockHash: randHash()})
	if p.State != PaymentConfirmed || p.Authorization.Settlement != h2 || p.Delivery.Block != 40 {
		t.Fatalf("confirmed: %+v", p)
	}
	if u, _ := s.Chain(testChain).Unsettled(auth.Asset); u.Sign() != 0 {
		t.Fatalf("unsettled %s after confirmation", u)
	}
	if q, _ := s.Chain(testChain).UnfinalAuthorizations(0, 0); len(q) != 1 {
		t.Fatalf("unfinal authorizations: %d", len(q))
	}
	mined := relayTx(auth, relayer, 7, RelayTxMined, h1, h2)
	mined.Mined, mined.Block = true, 40
	recordTx(t, s, mined)
	report(t, s, RelayOutcome{AuthID: auth.TxHash, State: RelayFinal, Tx: h2, Block: 40})
	s = reopenStore(t, s) // verifies every index
	// A crash between the report and the transaction's end repeats it.
	if p := report(t, s, RelayOutcome{AuthID: auth.TxHash, State: RelayFinal, Tx: h2}); p.State != PaymentFinal {
		t.Fatalf("repeat: %s", p.State)
	}
	recordTx(t, s, relayTx(auth, relayer, 7, RelayTxFinal, h1, h2))
	if live, _ := s.Chain(testChain).RelayTxs(relayer); len(live) != 0 {
		t.Fatalf("an ended transaction is live: %+v", live)
	}
	if q, _ := s.Chain(testChain).OpenAuthorizations(0, 0); len(q) != 0 {
		t.Fatalf("a final authorization is open")
	}
	if _, err := s.ReportRelayOutcome(context.Background(), RelayOutcome{AuthID: auth.TxHash, State: RelayFailed, Reason: "authorization_used"}, t0); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("failed after final: %v", err)
	}
	s = reopenStore(t, s)
	if c, _ := s.Counts(); c[PaymentFinal] != 1 {
		t.Fatalf("counts %v", c)
	}
}

// Each outcome moves the authorization's payment to its state; failed
// keeps the reason and frees the exposure; unconfirmed makes a confirmed
// one count again and go back to the queue.
func TestRelayOutcomesMoveTheAuthorization(t *testing.T) {
	for _, tc := range []struct {
		name      string
		outcomes  []RelayOutcome
		want      PaymentState
		reason    string
		open      int
		unsettled bool
	}{
		{"failed before sending", []RelayOutcome{{State: RelayFailed, Reason: "authorization_used"}}, PaymentFailed, "authorization_used", 0, false},
		{"failed after confirmation", []RelayOutcome{{State: RelayConfirmed, Block: 3}, {State: RelayFailed, Reason: "insufficient_balance"}}, PaymentFailed, "insufficient_balance", 0, false},
		{"confirmed", []RelayOutcome{{State: RelayConfirmed, Block: 3}}, PaymentConfirmed, "", 0, false},
		{"reorganised away", []RelayOutcome{{State: RelayConfirmed, Block: 3}, {State: RelayUnconfirmed}}, PaymentBroadcast, "", 1, true},
		{"unconfirmed before any block", []RelayOutcome{{State: RelayUnconfirmed}}, PaymentQueued, "", 1, true},
		{"final straight away", []RelayOutcome{{State: RelayFinal, Block: 3}}, PaymentFinal, "", 0, false},
		{"late confirmed after failed", []RelayOutcome{{State: RelayFailed, Reason: "authorization_expired"}, {State: RelayConfirmed}}, PaymentFailed, "authorization_expired", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			auth := acceptedAuth(t, s, "r1")
			var p Payment
			for _, o := range tc.outcomes {
				o.AuthID = auth.TxHash
				p = report(t, s, o)
			}
			if p.State != tc.want || p.Reason != tc.reason {
				t.Fatalf("%s %q, want %s %q", p.State, p.Reason, tc.want, tc.reason)
			}
			if q, _ := s.Chain(testChain).OpenAuthorizations(0, 0); len(q) != tc.open {
				t.Fatalf("%d open, want %d", len(q), tc.open)
			}
			if u, _ := s.Chain(testChain).Unsettled(auth.Asset); (u.Sign() != 0) != tc.unsettled {
				t.Fatalf("unsettled %s", u)
			}
			reopenStore(t, s)
		})
	}
}

// What does not fit the journal is refused and changes nothing.
func TestRelayJournalRefusesWhatDoesNotFit(t *testing.T) {
	s := openTemp(t)
	a1, a2 := acceptedAuth(t, s, "r1"), acceptedAuth(t, s, "r2")
	relayer, h := randAddr(), randHash()
	recordTx(t, s, relayTx(a1, relayer, 0, RelayTxSent, h))
	handover := mustAccept(t, s, newPayment(putRequest(t, s, "r3").ID))
	before := takeSnapshot(t, s, "r1", "r2")
	for _, tc := range []struct {
		name string
		err  error
		do   func() error
	}{
		{"a hash of another authorization", ErrBadRelayTx, func() error {
			return s.RecordRelayTx(context.Background(), relayTx(a2, relayer, 1, RelayTxSent, randHash(), h), t0)
		}},
		{"no authorization", ErrUnknownPayment, func() error {
			tx := relayTx(a2, relayer, 1, RelayTxSent, randHash())
			tx.AuthID = randHash()
			return s.RecordRelayTx(context.Background(), tx, t0)
		}},
		{"a handover", ErrBadRelayTx, func() error {
			tx := relayTx(a2, relayer, 1, RelayTxSent, randHash())
			tx.AuthID = handover.TxHash
			return s.RecordRelayTx(context.Background(), tx, t0)
		}},
		{"no hash", ErrBadRelayTx, func() error {
			return s.RecordRelayTx(context.Background(), relayTx(a2, relayer, 1, RelayTxSent), t0)
		}},
		{"an unknown state", ErrBadRelayTx, func() error {
			return s.RecordRelayTx(context.Background(), relayTx(a2, relayer, 1, "lost", randHash()), t0)
		}},
		{"failed without a reason", ErrBadRelayTx, func() error {
			_, err := s.ReportRelayOutcome(context.Background(), RelayOutcome{AuthID: a2.TxHash, State: RelayFailed}, t0)
			return err
		}},
		{"an outcome for a handover", ErrBadRelayTx, func() error {
			_, err := s.ReportRelayOutcome(context.Background(), RelayOutcome{AuthID: handover.TxHash, State: RelayFinal}, t0)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.name, tc.do(), tc.err)
			if after := takeSnapshot(t, s, "r1", "r2"); after.commits != before.commits {
				t.Fatal("a refusal committed")
			}
		})
	}
}

// The relayer's settlement moves the payer's tokens to the merchant in a
// transaction of its own: the watcher records that transfer as the
// authorization's, neither a chain payment nor an unmatched receipt.
func TestWatcherCountsASettlementOnce(t *testing.T) {
	s := openTemp(t)
	auth := acceptedAuth(t, s, "r1")
	h := randHash()
	recordTx(t, s, relayTx(auth, randAddr(), 0, RelayTxSent, h))
	chainReq(t, s, "r2", auth.Amount.Int64()) // a pending request of the same amount must not take it
	tr := transfer(5, t0, auth.Asset, auth.Amount.Int64())
	tr.TxHash, tr.From = h, auth.From
	got := record(t, s, 5, tr)
	if len(got.Payments) != 0 || len(got.Unmatched) != 0 {
		t.Fatalf("the settlement's transfer made %d payments and %d unmatched receipts", len(got.Payments), len(got.Unmatched))
	}
	if r, _ := s.Request("r2"); r.Status != RequestPending {
		t.Fatalf("the settlement paid another request: %+v", r)
	}
	if n, _ := s.Counts(); n[PaymentSeen] != 0 || n[PaymentUnmatched] != 0 {
		t.Fatalf("counts %v", n)
	}
	// Without the relayer's hash the same transfer would pay r2: the
	// test can fail.
	other := tr
	other.TxHash = randHash()
	if got := record(t, s, 6, other); len(got.Payments) != 1 {
		t.Fatalf("control: %+v", got)
	}
	reopenStore(t, s)
}

func TestOpenMigratesSchema6To7(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	auth := acceptedAuth(t, s, "r1")
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		for _, b := range relayBuckets {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV6)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, &Options{HomeChainID: testChain})
	if err != nil {
		t.Fatalf("Open of a schema 6 file: %v", err)
	}
	defer s.Close()
	var schema string
	_ = s.db.View(func(tx *bbolt.Tx) error { schema, _ = readSchema(tx); return nil })
	if schema != schemaVersion { // migrated on to the newest
		t.Fatalf("schema %q after migration", schema)
	}
	if q, _ := s.Chain(testChain).OpenAuthorizations(0, 0); len(q) != 1 || q[0].TxHash != auth.TxHash {
		t.Fatalf("queue after migration: %+v", q)
	}
	recordTx(t, s, relayTx(auth, randAddr(), 0, RelayTxSent, randHash()))
}

// Open refuses a journal out of step with itself: a hash the relayer
// signed but not indexed would let the watcher count a settlement twice.
func TestOpenRefusesARelayJournalOutOfStep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(tx *bbolt.Tx, key []byte, h common.Hash) error
	}{
		{"a hash not indexed", func(tx *bbolt.Tx, _ []byte, h common.Hash) error { return tx.Bucket(bucketRelayHashes).Delete(h[:]) }},
		{"a live tx not in the live index", func(tx *bbolt.Tx, k []byte, _ common.Hash) error { return tx.Bucket(bucketRelayLive).Delete(k) }},
		{"a hash naming no authorization", func(tx *bbolt.Tx, _ []byte, _ common.Hash) error {
			k := randHash()
			id := randHash()
			return tx.Bucket(bucketRelayHashes).Put(k[:], seal(bucketRelayHashes, k[:], id[:]))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			path := s.Path()
			auth := acceptedAuth(t, s, "r1")
			relayer, h := randAddr(), randHash()
			recordTx(t, s, relayTx(auth, relayer, 3, RelayTxSent, h))
			s.Close()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error { return tc.damage(tx, relayTxKey(testChain, relayer, 3), h) }); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if err := openOrScrub(path, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}
