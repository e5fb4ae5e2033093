package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// withDocShared is newRequest with its doc split: own part and shared.
func withDocShared(id string, shared []byte) Request {
	r := newRequest(id)
	r.DocShared = shared
	return r
}

func sharedParts(t *testing.T, path string) (parts, ids int) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bbolt.Tx) error {
		parts, ids = tx.Bucket(bucketDocShared).Stats().KeyN, tx.Bucket(bucketDocSharedIDs).Stats().KeyN
		return nil
	})
	return parts, ids
}

// The requests of one terminal keep their shared part once; every read
// that gives a request's Doc gives its shared part with it, pending, paid
// or cancelled, and after the store is opened again.
func TestRequestsKeepTheirSharedPartOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	till1 := bytes.Repeat([]byte("till-1 "), 16)
	till2 := []byte("till-2, another config")
	for i, sh := range [][]byte{till1, till1, till1, till2, nil} {
		if err := s.PutRequest(ctx, withDocShared(reqID(i), sh)); err != nil {
			t.Fatalf("PutRequest %d: %v", i, err)
		}
	}
	mustAccept(t, s, newPayment(reqID(1)))
	if _, err := s.CancelRequest(ctx, reqID(2), t0); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{reqID(0): till1, reqID(1): till1, reqID(2): till1, reqID(3): till2, reqID(4): nil}
	check := func(s *Store, when string) {
		t.Helper()
		for id, sh := range want {
			r, err := s.Request(id)
			if err != nil || !bytes.Equal(r.DocShared, sh) || (sh == nil) != (r.DocShared == nil) {
				t.Errorf("%s: Request(%s).DocShared = %q, %v; want %q", when, id, r.DocShared, err, sh)
			}
		}
		pending := 0
		for id := range want {
			if r, err := s.Request(id); err == nil && r.Status == RequestPending {
				pending++
			}
		}
		rs, err := s.PendingRequests(t0, func(string) bool { return true }, 10)
		if err != nil || len(rs) != pending {
			t.Fatalf("%s: PendingRequests: %d, %v; want %d", when, len(rs), err, pending)
		}
		for _, r := range rs {
			if !bytes.Equal(r.DocShared, want[r.ID]) {
				t.Errorf("%s: PendingRequests: %s's DocShared %q, want %q", when, r.ID, r.DocShared, want[r.ID])
			}
		}
	}
	check(s, "open")
	r, err := s.CancelRequest(ctx, reqID(0), t0)
	if err != nil || !bytes.Equal(r.DocShared, till1) {
		t.Errorf("CancelRequest's request: DocShared %q, %v", r.DocShared, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if parts, ids := sharedParts(t, path); parts != 2 || ids != 2 {
		t.Errorf("%d shared parts (%d by SHA-256) for two configs; want 2", parts, ids)
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s, "reopened")
}

// The record holds the part's number, not its bytes.
func TestASharedPartIsNotInTheRecord(t *testing.T) {
	r := withDocShared("r-1", bytes.Repeat([]byte{7}, 200))
	r.shared = 1
	with, err := encodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	r.DocShared, r.shared = nil, 0
	without, err := encodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(with) != len(without)+1 {
		t.Errorf("a record with a shared part: %d bytes, without: %d; want one more (its number)", len(with), len(without))
	}
	back, err := decodeRequest([]byte("r-1"), with)
	if err != nil || back.shared != 1 || back.DocShared != nil {
		t.Errorf("decoded: shared %d, DocShared %q, %v; want number 1 and no bytes until read", back.shared, back.DocShared, err)
	}
}

// A shared part of no bytes or too many is refused, and nothing written.
func TestPutRequestRefusesABadSharedPart(t *testing.T) {
	s := openTemp(t)
	for _, sh := range [][]byte{{}, make([]byte, maxDocShared+1)} {
		if err := s.PutRequest(context.Background(), withDocShared("r-bad", sh)); err == nil {
			t.Errorf("a shared part of %d bytes was taken", len(sh))
		}
	}
	if _, err := s.Request("r-bad"); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("Request after the refusals: %v; want ErrUnknownRequest", err)
	}
}

// A pending request's shared part lost or changed is damage Open finds
// before READY: a payer could be served a request with another merchant.
func TestOpenRefusesADamagedSharedPart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(tx *bbolt.Tx) error
	}{
		{"the part deleted", func(tx *bbolt.Tx) error {
			if err := tx.Bucket(bucketDocSharedIDs).ForEach(func(k, _ []byte) error { return tx.Bucket(bucketDocSharedIDs).Delete(k) }); err != nil {
				return err
			}
			return tx.Bucket(bucketDocShared).Delete(seqKey(1))
		}},
		{"the part rewritten, CRC and all", func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketDocShared).Put(seqKey(1), seal(bucketDocShared, seqKey(1), []byte("another merchant")))
		}},
		{"its SHA-256 entry lost", func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(bucketDocSharedIDs).Cursor().First()
			return tx.Bucket(bucketDocSharedIDs).Delete(k)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutRequest(context.Background(), withDocShared("r-1", []byte("till-1"))); err != nil {
				t.Fatal(err)
			}
			s.Close()
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.damage); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err = Open(path, &Options{LockTimeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("Open took the damaged store")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v; want ErrCorrupt", err)
			}
		})
	}
}

// A schema 14 or 15 file that has lost both shared parts' buckets is
// refused (preRelease14): made again empty, they would give the old
// requests the parts of new ones (the numbers start again at 1).
func TestOpenRefusesA14WithoutTheSharedBuckets(t *testing.T) {
	for _, schema := range []string{schemaV14, schemaVersion} {
		t.Run(schema, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutRequest(context.Background(), withDocShared("r-1", []byte("config 1: merchant A"))); err != nil {
				t.Fatal(err)
			}
			mustAccept(t, s, newPayment("r-1")) // paid: Open's pending check does not read it
			s.Close()
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error {
				if schema == schemaV14 {
					if err := back14(tx); err != nil {
						return err
					}
				}
				if err := tx.DeleteBucket(bucketDocShared); err != nil {
					return err
				}
				return tx.DeleteBucket(bucketDocSharedIDs)
			}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err = Open(path, &Options{LockTimeout: 100 * time.Millisecond})
			if err == nil {
				defer s.Close()
				_ = s.PutRequest(context.Background(), withDocShared("r-2", []byte("config 2: merchant B")))
				r, _ := s.Request("r-1")
				t.Fatalf("Open took a %s without its shared parts; r-1's part now reads %q", schema, r.DocShared)
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "doc_shared") {
				t.Fatalf("Open: %v; want ErrCorrupt naming the bucket", err)
			}
			if got, _ := dump(t, path); got != schema {
				t.Fatalf("schema %q after the refusal, want %q", got, schema)
			}
		})
	}
}

// A settled request whose shared part is gone (with its SHA-256 entry, so
// the parts agree among themselves) is found by the scrub.
func TestTheScrubFindsARequestWithoutItsSharedPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRequest(context.Background(), withDocShared("r-1", []byte("config 1"))); err != nil {
		t.Fatal(err)
	}
	mustAccept(t, s, newPayment("r-1"))
	s.Close()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketDocSharedIDs).Cursor().First()
		if err := tx.Bucket(bucketDocSharedIDs).Delete(k); err != nil {
			return err
		}
		return tx.Bucket(bucketDocShared).Delete(seqKey(1))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = openOrScrub(path, &Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "requests") {
		t.Fatalf("Open and scrub: %v; want the request reported damaged", err)
	}
}

// A request the binary form cannot hold (an expiry past 2262, in
// nanoseconds) with a shared part is refused before the write, not by
// aborting the batch it shares with other sales.
func TestPutRequestRefusesARecordWithAPartBeforeTheWrite(t *testing.T) {
	s := openTemp(t)
	r := withDocShared("r-far", []byte("config 1"))
	r.ExpiresAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.PutRequest(context.Background(), r)
	if err == nil || strings.Contains(err.Error(), "batch") {
		t.Fatalf("PutRequest: %v; want a refusal of this request alone", err)
	}
	if _, err := s.Request("r-far"); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("Request: %v; want ErrUnknownRequest", err)
	}
	r.DocShared = nil // without a part it is stored as JSON, as before
	if err := s.PutRequest(context.Background(), r); err != nil {
		t.Errorf("the same without a shared part: %v", err)
	}
}
