package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// back13 steps a schema 14 file back to schema 13, in tx: no queued
// index, payments and requests as JSON, by_sender_nonce's and open's
// values the tx hash. The migration tests of older schemas make their
// file with this build and step it back so (unchain begins with it).
func back13(tx *bbolt.Tx) error {
	if err := tx.DeleteBucket(bucketQueued); err != nil {
		return err
	}
	w := &wtx{tx: tx}
	if _, err := rewriteValues(w, bucketBySender, func(k, body []byte) ([]byte, error) {
		h, err := senderValueHash(tx, k, body)
		return bytes.Clone(h), err
	}); err != nil {
		return err
	}
	if _, err := rewriteValues(w, bucketOpen, func(k, body []byte) ([]byte, error) {
		if len(body) != 0 {
			return nil, fmt.Errorf("open key %x holds %d bytes, want none", k, len(body))
		}
		h, err := getChecked(tx, bucketBySender, k)
		if err != nil || h == nil {
			return nil, fmt.Errorf("open key %x: by_sender_nonce holds %x: %v", k, h, err)
		}
		return bytes.Clone(h), nil
	}); err != nil {
		return err
	}
	if _, err := rewriteValues(w, bucketPayments, func(k, body []byte) ([]byte, error) {
		p, err := decodePayment(k, body)
		if err != nil {
			return nil, err
		}
		return encodePaymentJSON(p)
	}); err != nil {
		return err
	}
	if _, err := rewriteValues(w, bucketRequests, func(k, body []byte) ([]byte, error) {
		r, err := decodeRequest(k, body)
		if err != nil {
			return nil, err
		}
		return encodeRequestJSON(r)
	}); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV13)))
}

// fill14 makes a store of n payments on two chains, handed over and
// authorizations, queued, broadcast and failed, and returns its path and
// what its buckets hold, closed.
func fill14(t *testing.T, n int) (string, map[string]map[string][]byte) {
	t.Helper()
	s := openTemp(t)
	ctx := context.Background()
	for i := range n {
		id := reqID(i)
		putRequest(t, s, id)
		chain := []uint64{chainA, chainB}[i%2]
		var p Payment
		if i%5 == 0 {
			a, _, err := acceptAuth(t, s, on(chain, newAuthorization(id)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			p = a
		} else {
			p = mustAccept(t, s, on(chain, newPayment(id)))
		}
		switch i % 7 {
		case 2:
			if _, err := s.SetPaymentState(ctx, p.TxHash, PaymentBroadcast, "", t0); err != nil {
				t.Fatal(err)
			}
		case 4:
			if _, err := s.SetPaymentState(ctx, p.TxHash, PaymentFailed, "test", t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, buckets := dump(t, path)
	return path, buckets
}

// The migration from schema 13 builds the queued index a chunk at a time;
// stopped between any two chunks (a crash), the file is still schema 13,
// opens, and Open migrates it on to the same index a whole run builds.
func TestOpenMigratesSchema13To14InChunksAndResumesAfterACrash(t *testing.T) {
	path, want := fill14(t, 60)
	for _, stopAfter := range []int{0, 1, 2, 5, 9, -1} {
		t.Run(fmt.Sprintf("stopped after %d", stopAfter), func(t *testing.T) {
			p, err := migrateStopped(t, path, back13, migrate14, stopAfter)
			if stopAfter >= 0 {
				if !errors.Is(err, errCrash) {
					t.Fatalf("migrate14: %v, want the crash", err)
				}
				if schema, _ := dump(t, p); schema != schemaV13 {
					t.Fatalf("schema %q after a crash, want %q", schema, schemaV13)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				// A whole run leaves a schema 14 file as every 14 build
				// reads it, by_sender_nonce naming hashes: the Seqs are
				// the 14→15 migration's (schema15.go).
				schema, got := dump(t, p)
				if schema != schemaV14 {
					t.Fatalf("schema %q after migrate14, want %q", schema, schemaV14)
				}
				if n := senderValuesOfLen(got, 32); n != len(got[string(bucketBySender)]) || n == 0 {
					t.Fatalf("%d of %d by_sender_nonce values a hash after migrate14, want all", n, len(got[string(bucketBySender)]))
				}
			}
			if len(want[string(bucketQueued)]) == 0 {
				t.Fatal("the store holds nothing queued")
			}
			openedAs(t, p, want)
		})
	}
}

// senderValuesOfLen counts the by_sender_nonce values of n bytes in a
// dump: 8 a Seq, 32 a hash.
func senderValuesOfLen(buckets map[string]map[string][]byte, n int) int {
	c := 0
	for _, v := range buckets[string(bucketBySender)] {
		if len(v) == n {
			c++
		}
	}
	return c
}

// copyFile copies the store at path, and the sealing key beside it, into
// a new temporary directory, and returns the copy's path.
func copyFile(t *testing.T, path string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{filepath.Base(path), DefaultSealKeyName} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, filepath.Base(path))
}

// errCrash is migrateStopped's crash between two chunks.
var errCrash = errors.New("crash")

// migrateStopped copies the store file at path, steps the copy back with
// back, and runs migrate on it in chunks of 4 entries, failing with
// errCrash after stopAfter committed transactions (-1: never, the run
// whole). It returns the copy's path and migrate's error.
func migrateStopped(t *testing.T, path string, back func(*bbolt.Tx) error,
	migrate func(db *bbolt.DB, path string, log *slog.Logger, chunk int, after func() error) error, stopAfter int) (string, error) {
	t.Helper()
	p := copyFile(t, path)
	db, err := bbolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(back); err != nil {
		t.Fatal(err)
	}
	steps := 0
	return p, migrate(db, p, slog.New(slog.DiscardHandler), 4, func() error {
		if steps++; steps > stopAfter && stopAfter >= 0 {
			return errCrash
		}
		return nil
	})
}

// openedAs opens the store file at path (Open migrates it on), closes it,
// and requires it then to be at this build's schema, every by_sender_nonce
// value a Seq, and every bucket as in want.
func openedAs(t *testing.T, path string, want map[string]map[string][]byte) {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open after the migration stopped: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	schema, got := dump(t, path)
	if schema != schemaVersion {
		t.Fatalf("schema %q, want %q", schema, schemaVersion)
	}
	if n := senderValuesOfLen(got, 8); n != len(got[string(bucketBySender)]) || n == 0 {
		t.Fatalf("%d of %d by_sender_nonce values a Seq, want all", n, len(got[string(bucketBySender)]))
	}
	if len(got) != len(want) {
		t.Errorf("%d buckets after the migration, want %d", len(got), len(want))
	}
	for b, kv := range want {
		if !maps.EqualFunc(got[b], kv, bytes.Equal) {
			t.Errorf("bucket %s differs after the migration: %d entries, want %d", b, len(got[b]), len(kv))
		}
	}
}
