package store

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// books is what the indexes and sums say of a store, read back through
// its public reads: counts, unsettled, the open and unfinal indexes.
type books struct {
	counts    map[PaymentState]int
	unsettled int64
	open      []common.Hash
	unfinal   []common.Hash
}

func readBooks(t *testing.T, s *Store) books {
	t.Helper()
	counts, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Chain(testChain).Unsettled("ETH")
	if err != nil {
		t.Fatal(err)
	}
	b := books{counts: counts, unsettled: u.Int64()}
	open, err := s.Chain(testChain).OpenPaymentsAfter(nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range open {
		b.open = append(b.open, p.TxHash)
	}
	unfinal, err := s.Chain(testChain).UnfinalAfter(nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range unfinal {
		if p.State != PaymentConfirmed {
			t.Fatalf("unfinal index names a %s payment", p.State)
		}
		b.unfinal = append(b.unfinal, p.TxHash)
	}
	return b
}

// A payment's way through confirmed and back (its block lost), then to
// final, keeps every count, the unsettled sum (exposure) and both indexes
// exactly right, through a real file, each reopen and its integrity check.
func TestConfirmedPaymentLosingItsBlockKeepsTheBooks(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	putRequest(t, s, "a")
	putRequest(t, s, "b")
	a := mustAccept(t, s, newPayment("a"))
	b := mustAccept(t, s, newPayment("b"))
	blockA := common.Hash{0xa}
	steps := []struct {
		name    string
		change  Change
		want    map[PaymentState]int
		unsettl int64
		open    int
		unfinal int
	}{
		{"a sent", Change{Hash: a.TxHash, State: PaymentBroadcast, Delivery: Delivery{Attempts: 1}},
			map[PaymentState]int{PaymentBroadcast: 1, PaymentQueued: 1}, 200, 2, 0},
		{"a confirmed in block 9", Change{Hash: a.TxHash, State: PaymentConfirmed, Delivery: Delivery{Attempts: 1, Block: 9, BlockHash: blockA}},
			map[PaymentState]int{PaymentConfirmed: 1, PaymentQueued: 1}, 100, 1, 1},
		{"a's block lost: sent again", Change{Hash: a.TxHash, State: PaymentBroadcast, Delivery: Delivery{Attempts: 2, Reorgs: 1, ReorgNote: "block 9 lost"}},
			map[PaymentState]int{PaymentBroadcast: 1, PaymentQueued: 1}, 200, 2, 0},
		{"a confirmed again in block 10", Change{Hash: a.TxHash, State: PaymentConfirmed, Delivery: Delivery{Attempts: 2, Block: 10, BlockHash: common.Hash{0xb}, Reorgs: 1}},
			map[PaymentState]int{PaymentConfirmed: 1, PaymentQueued: 1}, 100, 1, 1},
		{"b confirmed", Change{Hash: b.TxHash, State: PaymentConfirmed, Delivery: Delivery{Block: 10, BlockHash: common.Hash{0xb}}},
			map[PaymentState]int{PaymentConfirmed: 2}, 0, 0, 2},
		{"a final", Change{Hash: a.TxHash, State: PaymentFinal, Delivery: Delivery{Attempts: 2, Block: 10, BlockHash: common.Hash{0xb}, Reorgs: 1}},
			map[PaymentState]int{PaymentConfirmed: 1, PaymentFinal: 1}, 0, 0, 1},
		{"b lost, then its nonce taken by another tx", Change{Hash: b.TxHash, State: PaymentFailed, Reason: "conflict"},
			map[PaymentState]int{PaymentFinal: 1, PaymentFailed: 1}, 0, 0, 0},
	}
	for _, st := range steps {
		if _, err := s.Apply(ctx, t0, []Change{st.change}); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		before := readBooks(t, s)
		s = reopen(t, s) // runs the open-time integrity check
		for _, got := range []books{before, readBooks(t, s)} {
			for _, state := range PaymentStates {
				if got.counts[state] != st.want[state] {
					t.Fatalf("%s: counts %v, want %v", st.name, got.counts, st.want)
				}
			}
			if got.unsettled != st.unsettl || len(got.open) != st.open || len(got.unfinal) != st.unfinal {
				t.Fatalf("%s: unsettled %d, open %d, unfinal %d; want %d, %d, %d",
					st.name, got.unsettled, len(got.open), len(got.unfinal), st.unsettl, st.open, st.unfinal)
			}
		}
	}
	got, _ := s.Payment(a.TxHash)
	if got.Delivery.Reorgs != 1 || got.Delivery.BlockHash != (common.Hash{0xb}) || got.Delivery.Block != 10 {
		t.Errorf("a's delivery after reopen: %+v", got.Delivery)
	}
}

// A confirmed payment missing from the unfinal index would never be
// followed to final nor sent again if its block were lost: Open refuses
// such a file, as it refuses an index entry naming a payment of another
// state.
func TestOpenRefusesAnUnfinalIndexOutOfStep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(tx *bbolt.Tx, p Payment) error
	}{
		{"a confirmed payment missing", func(tx *bbolt.Tx, p Payment) error {
			return tx.Bucket(bucketUnfinal).Delete(senderNonceKey(testChain, p.From, p.Nonce))
		}},
		{"an entry for a final payment", func(tx *bbolt.Tx, p Payment) error {
			p.State = PaymentFinal
			enc, _ := encodePayment(p)
			return tx.Bucket(bucketPayments).Put(p.TxHash[:], seal(bucketPayments, p.TxHash[:], enc))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "a")
			p := mustAccept(t, s, newPayment("a"))
			p, err := s.SetPaymentState(context.Background(), p.TxHash, PaymentConfirmed, "", t0)
			if err != nil {
				t.Fatal(err)
			}
			path := s.Path()
			s.Close()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error { return tc.damage(tx, p) }); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if err := openOrScrub(path, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// A file from before the unfinal index (schema 3, and schema 2, which
// is sealed on the way: no unfinal index, payment records without a block
// hash) opens: its confirmed payments enter the unfinal index, to be
// followed until final, and its records read as before.
func TestOpenMigratesAnOlderFileIntoTheUnfinalIndex(t *testing.T) {
	for _, schema := range []string{schemaV2, schemaV3} {
		t.Run("schema "+schema, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var ps []Payment
			for i, state := range []PaymentState{PaymentQueued, PaymentConfirmed, PaymentFailed, PaymentConfirmed} {
				putRequest(t, s, reqID(i))
				p := mustAccept(t, s, newPayment(reqID(i)))
				if state != PaymentQueued {
					if p, err = s.SetPaymentState(ctx, p.TxHash, state, "", t0); err != nil {
						t.Fatal(err)
					}
				}
				ps = append(ps, p)
			}
			s.Close()
			// Make it as an older build left it: no unfinal bucket, the older
			// version, and a payment record in the old layout (no block hash).
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			old := ps[1]
			err = db.Update(func(tx *bbolt.Tx) error {
				if err := unchain(tx); err != nil {
					return err
				}
				if err := tx.DeleteBucket(bucketUnfinal); err != nil {
					return err
				}
				rec := map[string]any{"tx_hash": old.TxHash, "request_id": old.RequestID, "from": old.From, "nonce": old.Nonce,
					"asset": "ETH", "amount": "100", "raw": old.Raw, "state": "confirmed", "accepted_at": t0, "updated_at": t0,
					"seq": old.Seq, "delivery": map[string]any{"attempts": 1, "block": 41}}
				enc, _ := json.Marshal(rec)
				if err := tx.Bucket(bucketPayments).Put(old.TxHash[:], seal(bucketPayments, old.TxHash[:], enc)); err != nil {
					return err
				}
				return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schema)))
			})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()

			s, err = Open(path, &Options{HomeChainID: testChain})
			if err != nil {
				t.Fatalf("Open of a schema %s file: %v", schema, err)
			}
			defer s.Close()
			got := readBooks(t, s)
			if len(got.unfinal) != 2 || got.counts[PaymentConfirmed] != 2 || len(got.open) != 1 || got.unsettled != 100 {
				t.Fatalf("after migration: %+v", got)
			}
			p, err := s.Payment(old.TxHash)
			if err != nil || p.Delivery.Block != 41 || p.Delivery.BlockHash != (common.Hash{}) || p.State != PaymentConfirmed {
				t.Fatalf("old record: %+v, %v", p, err)
			}
			// The migrated store goes on: the old confirmed payment can be lost
			// and come back, with its amount counted again.
			if _, err := s.SetPaymentState(ctx, old.TxHash, PaymentBroadcast, "", t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if u, _ := s.Chain(testChain).Unsettled("ETH"); u.Cmp(big.NewInt(200)) != 0 {
				t.Errorf("unsettled %s after the old confirmed payment went back, want 200", u)
			}
		})
	}
}
