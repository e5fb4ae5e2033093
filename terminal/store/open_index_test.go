package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// openRaw is the raw value (CRC included) the open index holds for p's
// sender+nonce on its chain; nil if none.
func openRaw(t *testing.T, s *Store, p Payment) []byte {
	t.Helper()
	var v []byte
	if err := s.c.sync(); err != nil { // the accept may wait in the journal
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bbolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bucketOpen).Get(senderNonceKey(p.ChainID, p.From, p.Nonce)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

func openHashes(t *testing.T, s *Store) []common.Hash {
	t.Helper()
	ps, err := s.Chain(testChain).OpenPaymentsAfter(nil, 0)
	if err != nil {
		t.Fatalf("OpenPaymentsAfter: %v", err)
	}
	var out []common.Hash
	for _, p := range ps {
		out = append(out, p.TxHash)
	}
	return out
}

// An open entry holds nothing but its CRC (schema 14): by_sender_nonce
// names the payment under the same key. Through the moves a handed-over
// payment makes in and out of the index, and a second payment at a failed
// one's nonce, each entry is empty, and the open payments read through it
// are the queued and broadcast ones.
func TestTheOpenIndexHoldsNoHash(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r0")
	putRequest(t, s, "r1")
	first := mustAccept(t, s, newPayment("r0"))
	again := newPayment("r1")
	again.From, again.Nonce = first.From, first.Nonce
	empty := seal(bucketOpen, senderNonceKey(testChain, first.From, first.Nonce), nil)
	for _, step := range []struct {
		name  string
		do    func() error
		open  []common.Hash // what OpenPaymentsAfter reads, in order
		entry bool          // the sender+nonce has an open entry
	}{
		{"accepted", func() error { return nil }, []common.Hash{first.TxHash}, true},
		{"broadcast", func() error {
			_, err := s.SetPaymentState(bg, first.TxHash, PaymentBroadcast, "", t0)
			return err
		}, []common.Hash{first.TxHash}, true},
		{"confirmed: out of the index", func() error {
			_, err := s.SetPaymentState(bg, first.TxHash, PaymentConfirmed, "", t0)
			return err
		}, nil, false},
		{"its block lost: broadcast again, back in", func() error {
			_, err := s.SetPaymentState(bg, first.TxHash, PaymentBroadcast, "", t0)
			return err
		}, []common.Hash{first.TxHash}, true},
		{"failed: out of the index", func() error {
			_, err := s.SetPaymentState(bg, first.TxHash, PaymentFailed, "dropped", t0)
			return err
		}, nil, false},
		{"another payment at its nonce", func() error {
			_, _, err := s.Accept(bg, again, t0, nil)
			return err
		}, []common.Hash{again.TxHash}, true},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		raw := openRaw(t, s, first)
		if step.entry && !bytes.Equal(raw, empty) {
			t.Errorf("%s: open entry %x, want %x (its CRC alone)", step.name, raw, empty)
		}
		if !step.entry && raw != nil {
			t.Errorf("%s: open entry %x, want none", step.name, raw)
		}
		if got := openHashes(t, s); !slices.Equal(got, step.open) {
			t.Errorf("%s: open payments %v, want %v", step.name, got, step.open)
		}
	}
	if b, ok, err := s.Chain(testChain).OpenBefore(first.From, first.Nonce+1); err != nil || !ok || b.TxHash != again.TxHash {
		t.Errorf("OpenBefore: %s %v %v, want %s", b.TxHash, ok, err, again.TxHash)
	}
	// The per-payer cap reads the payer's open payments through it.
	putRequest(t, s, "r2")
	more := newPayment("r2")
	more.From, more.Nonce = first.From, first.Nonce+1
	_, _, err := s.AcceptLimited(bg, more, t0, Limits{PerPayer: big.NewInt(150)})
	wantErr(t, "AcceptLimited over the payer's cap", err, ErrPayerLimit)
}

// damageOpen is a change to a closed store's by_sender_nonce or open
// entry for p, each sealed with a right CRC: damage only the two indexes
// read together can show.
type damageOpen struct {
	name string
	do   func(tx *bbolt.Tx, p, other Payment) error
	// atOpen: Open may refuse the file itself (preRelease14 reads the
	// first open entry's value), before any sale.
	atOpen bool
}

var openDamages = []damageOpen{
	{"by_sender_nonce entry gone", func(tx *bbolt.Tx, p, _ Payment) error {
		return tx.Bucket(bucketBySender).Delete(senderNonceKey(p.ChainID, p.From, p.Nonce))
	}, false},
	{"by_sender_nonce names another payment", func(tx *bbolt.Tx, p, other Payment) error {
		k := senderNonceKey(p.ChainID, p.From, p.Nonce)
		return tx.Bucket(bucketBySender).Put(k, seal(bucketBySender, k, other.TxHash[:]))
	}, false},
	{"open holds a hash", func(tx *bbolt.Tx, p, _ Payment) error {
		k := senderNonceKey(p.ChainID, p.From, p.Nonce)
		return tx.Bucket(bucketOpen).Put(k, seal(bucketOpen, k, p.TxHash[:]))
	}, true},
}

// An open entry whose by_sender_nonce entry is gone or names another
// payment, or that holds a value, is damage: the open payments' reads
// refuse it (ErrCorrupt), the scrub reports it as money damage, and the
// full verify (a migration's, compact's) refuses the file.
func TestADamagedOpenEntryIsFound(t *testing.T) {
	for _, d := range openDamages {
		t.Run(d.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			putRequest(t, s, "r-open")
			putRequest(t, s, "r-other")
			putRequest(t, s, "r-new")
			p := mustAccept(t, s, newPayment("r-open"))
			other := mustAccept(t, s, newPayment("r-other"))
			if _, err := s.SetPaymentState(bg, other.TxHash, PaymentConfirmed, "", t0); err != nil {
				t.Fatal(err)
			}
			s.Close()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error { return d.do(tx, p, other) }); err != nil {
				t.Fatal(err)
			}
			if err := verify(db, schemaVersion); !errors.Is(err, ErrCorrupt) {
				t.Errorf("full verify: %v, want the file refused", err)
			}
			db.Close()

			s, err = Open(path, nil)
			if d.atOpen {
				// Its only open entry is the first: refused before READY
				// as a pre-release 14 (preRelease14), not left to the scrub.
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "released") {
					t.Fatalf("Open: %v; want the file refused as pre-release", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v (want it opened: open is the scrub's)", err)
			}
			defer s.Close()
			_, err = s.Chain(testChain).OpenPaymentsAfter(nil, 10)
			wantErr(t, "OpenPaymentsAfter", err, ErrCorrupt)
			_, err = s.OpenPayments()
			wantErr(t, "OpenPayments", err, ErrCorrupt)
			if err := s.Scrub(bg, ScrubOptions{}); err != nil {
				t.Fatalf("Scrub: %v", err)
			}
			in := s.Integrity()
			if !in.Verified || !in.MoneyDamaged {
				t.Fatalf("Integrity: %+v; want verified with money damage", in)
			}
			k := hex.EncodeToString(senderNonceKey(p.ChainID, p.From, p.Nonce))
			found := false
			for _, dm := range in.Damage {
				found = found || dm.Bucket == string(bucketOpen) && dm.Key == k && dm.Money
			}
			if !found {
				t.Errorf("damage reported: %+v; want open key %s, money", in.Damage, k)
			}
			_, _, err = s.Accept(bg, newPayment("r-new"), t0, nil)
			wantErr(t, "Accept after the damage", err, ErrCorrupt)
		})
	}
}

// The migration from 13 empties open's values, a chunk at a time, and
// every open payment is still found through the index; an old value
// that is not the hash by_sender_nonce holds is refused, the file left
// at 13.
func TestTheMigrationTo14EmptiesTheOpenIndex(t *testing.T) {
	path, _ := fill14(t, 40)
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.OpenPayments()
	if err != nil || len(want) == 0 {
		t.Fatalf("OpenPayments: %d, %v", len(want), err)
	}
	s.Close()

	t.Run("every open payment found through it", func(t *testing.T) {
		p := copyFile(t, path)
		step13(t, p, nil)
		db, err := bbolt.Open(p, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		held := 0
		if err := db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketOpen).ForEach(func(k, v []byte) error {
				if len(v) == crcLen+common.HashLength {
					held++
				}
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		if held == 0 {
			t.Fatal("the schema 13 file's open index holds no hash")
		}
		if err := migrate14(db, p, slog.New(slog.DiscardHandler), 3, nil); err != nil {
			t.Fatalf("migrate14: %v", err)
		}
		if err := db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketOpen).ForEach(func(k, v []byte) error {
				if !bytes.Equal(v, seal(bucketOpen, k, nil)) {
					return fmt.Errorf("open key %x holds %x, want its CRC alone", k, v)
				}
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s, err := Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		got, err := s.OpenPayments()
		if err != nil {
			t.Fatalf("OpenPayments after the migration: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d open payments after the migration, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].TxHash != want[i].TxHash || got[i].State != want[i].State {
				t.Errorf("open payment %d: %s %s, want %s %s", i, got[i].TxHash, got[i].State, want[i].TxHash, want[i].State)
			}
		}
	})
	t.Run("an old value not by_sender_nonce's is refused", func(t *testing.T) {
		p := copyFile(t, path)
		step13(t, p, func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketOpen).Cursor()
			first, _ := c.First()
			other, err := getChecked(tx, bucketBySender, first)
			if err != nil {
				return err
			}
			k, _ := c.Last()
			k = bytes.Clone(k)
			return tx.Bucket(bucketOpen).Put(k, seal(bucketOpen, k, bytes.Clone(other)))
		})
		if _, err := Open(p, nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open: %v, want ErrCorrupt", err)
		}
		if schema, _ := dump(t, p); schema != schemaV13 {
			t.Fatalf("schema %q after the refusal, want %q", schema, schemaV13)
		}
	})
}

// step13 steps the closed store at path back to schema 13 (back13), then
// runs also, if set, in the same transaction.
func step13(t *testing.T, path string, also func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error {
		if err := back13(tx); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
