package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"testing"

	"go.etcd.io/bbolt"
)

// back14 steps a schema 15 file back to schema 14, in tx: every
// by_sender_nonce value the payment's hash again, as schema 14 wrote it.
func back14(tx *bbolt.Tx) error {
	w := &wtx{tx: tx}
	if _, err := rewriteValues(w, bucketBySender, func(k, body []byte) ([]byte, error) {
		if len(body) != 8 {
			return nil, fmt.Errorf("by_sender_nonce key %x holds %d bytes, want a Seq", k, len(body))
		}
		h, err := senderValueHash(tx, k, body)
		return bytes.Clone(h), err
	}); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV14)))
}

// The migration from schema 14 names every by_sender_nonce entry's
// payment by its Seq a chunk at a time; stopped between any two chunks (a
// crash), the file is still schema 14, opens, and Open migrates it on to
// the same file, bucket by bucket, as one made at schema 15.
func TestOpenMigratesSchema14To15InChunksAndResumesAfterACrash(t *testing.T) {
	path, want := fill14(t, 60)
	if n := senderValuesOfLen(want, 8); n != len(want[string(bucketBySender)]) || n == 0 {
		t.Fatalf("%d of %d by_sender_nonce values a Seq in a file made at %s, want all", n, len(want[string(bucketBySender)]), schemaVersion)
	}
	for _, stopAfter := range []int{0, 1, 2, 5, 9, -1} {
		t.Run(fmt.Sprintf("stopped after %d", stopAfter), func(t *testing.T) {
			p, err := migrateStopped(t, path, back14, migrate15, stopAfter)
			if stopAfter >= 0 {
				if !errors.Is(err, errCrash) {
					t.Fatalf("migrate15: %v, want the crash", err)
				}
				schema, got := dump(t, p)
				if schema != schemaV14 {
					t.Fatalf("schema %q after a crash, want %q", schema, schemaV14)
				}
				// The chunks committed before the crash are kept (the
				// crash comes after the first stopAfter+1): the next run
				// passes over their Seqs.
				if n := senderValuesOfLen(got, 8); n != 4*(stopAfter+1) {
					t.Fatalf("%d by_sender_nonce values a Seq after %d chunks of 4, want %d", n, stopAfter+1, 4*(stopAfter+1))
				}
			} else if err != nil {
				t.Fatal(err)
			}
			openedAs(t, p, want)
		})
	}
}

// A by_sender_nonce hash that is not its payment's, or whose Seq by_seq
// gives to another payment, stops the migration (senderSeq's checks) and
// Open refuses the file: it stays 14, its index as it was.
func TestOpenRefusesASchema14FileWhoseSenderIndexIsWrong(t *testing.T) {
	path, _ := fill14(t, 20)
	tests := []struct {
		name    string
		breakIt func(tx *bbolt.Tx) error
	}{
		{"a hash of another payment", func(tx *bbolt.Tx) error {
			return swapFirstTwo(tx, bucketBySender)
		}},
		{"by_seq naming another payment", func(tx *bbolt.Tx) error {
			return swapFirstTwo(tx, bucketBySeq)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := copyFile(t, path)
			db, err := bbolt.Open(p, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error {
				if err := back14(tx); err != nil {
					return err
				}
				return tt.breakIt(tx)
			}); err != nil {
				t.Fatal(err)
			}
			// The migration's own check, not only Open's verify before it.
			err = migrate15(db, p, slog.New(slog.DiscardHandler), migrateChunk, nil)
			db.Close()
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("migrate15: %v, want ErrCorrupt", err)
			}
			_, before := dump(t, p)
			if _, err := Open(p, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
			schema, after := dump(t, p)
			if schema != schemaV14 {
				t.Fatalf("schema %q after the refusal, want %q", schema, schemaV14)
			}
			if !maps.EqualFunc(after[string(bucketBySender)], before[string(bucketBySender)], bytes.Equal) {
				t.Errorf("by_sender_nonce rewritten by a refused migration")
			}
		})
	}
}

// swapFirstTwo swaps the values of bucket's first two keys, each sealed
// under its new key.
func swapFirstTwo(tx *bbolt.Tx, bucket []byte) error {
	c := tx.Bucket(bucket).Cursor()
	k1, _ := c.First()
	k2, _ := c.Next()
	k1, k2 = bytes.Clone(k1), bytes.Clone(k2)
	w := &wtx{tx: tx}
	v1, err := w.getChecked(bucket, k1)
	if err != nil {
		return err
	}
	v2, err := w.getChecked(bucket, k2)
	if err != nil {
		return err
	}
	v1, v2 = bytes.Clone(v1), bytes.Clone(v2)
	if err := w.putChecked(bucket, k1, v2); err != nil {
		return err
	}
	return w.putChecked(bucket, k2, v1)
}
