package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// Shared parts (schema 14, issue 19). A terminal's requests repeat its id,
// the merchant, the signer and two URLs: about 115 of a request's 260
// stored bytes on a dev terminal, more with a real host name. The till
// splits them off (request.Document.CompactParts, Request.DocShared) and
// the store keeps each distinct part once, under a number the request
// record holds; a new part comes only with a config change. The parts
// are opaque here, kept by their bytes.

// maxDocShared bounds a shared part: the request package's is a few
// hundred bytes (two URLs of at most 2 KiB each and a terminal id).
const maxDocShared = 8 << 10

// findShared returns the number of shared part b if a request has had it
// (0 if none): one read, by its SHA-256, so a sale pays one lookup. It
// only reads, so PutRequest makes it with its checks, before any write.
func findShared(w *wtx, b []byte) (uint64, error) {
	sum := sha256.Sum256(b)
	v, err := w.getChecked(bucketDocSharedIDs, sum[:])
	if err != nil || v == nil {
		return 0, err
	}
	n, err := sharedNumber(v)
	if err != nil {
		return 0, err
	}
	stored, err := docShared(w.tx, n)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(stored, b) {
		return 0, fmt.Errorf("bucket %s: shared part %d is not the bytes its SHA-256 names: %w", bucketDocShared, n, ErrCorrupt)
	}
	return n, nil
}

// addShared stores shared part b, new to the store, and returns its number.
func addShared(w *wtx, b []byte) (uint64, error) {
	n, err := w.nextSeq(bucketDocShared)
	if err != nil {
		return 0, fmt.Errorf("shared part: %w", err)
	}
	sum := sha256.Sum256(b)
	if err := w.putChecked(bucketDocShared, seqKey(n), b); err != nil {
		return 0, fmt.Errorf("shared part: %w", err)
	}
	if err := w.putChecked(bucketDocSharedIDs, sum[:], seqKey(n)); err != nil {
		return 0, fmt.Errorf("shared part: %w", err)
	}
	return n, nil
}

// docShared returns a copy of shared part n; one a request names and the
// store does not hold is damage.
func docShared(tx *bbolt.Tx, n uint64) ([]byte, error) {
	v, err := getChecked(tx, bucketDocShared, seqKey(n))
	if err != nil {
		return nil, fmt.Errorf("shared part %d: %w", n, err)
	}
	if v == nil {
		return nil, fmt.Errorf("bucket %s: shared part %d missing: %w", bucketDocShared, n, ErrCorrupt)
	}
	return bytes.Clone(v), nil
}

// withShared gives r its shared part, for a caller that reads its Doc.
func withShared(tx *bbolt.Tx, r *Request) error {
	if r.shared == 0 {
		return nil
	}
	b, err := docShared(tx, r.shared)
	if err != nil {
		return fmt.Errorf("request %q: %w", r.ID, err)
	}
	r.DocShared = b
	return nil
}

func sharedNumber(v []byte) (uint64, error) {
	if len(v) != 8 || binary.BigEndian.Uint64(v) == 0 {
		return 0, fmt.Errorf("bucket %s: value %x is not a shared part's number: %w", bucketDocSharedIDs, v, ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

// checkDocShared is Open's check of the shared parts (a handful: one per
// config the terminal has signed requests with): each is named by its
// SHA-256, that index names only them, and no number is above the
// bucket's sequence. Each pending request's part is then found
// (checkPendingRequests).
func checkDocShared(tx *bbolt.Tx) error {
	parts, ids := tx.Bucket(bucketDocShared), tx.Bucket(bucketDocSharedIDs)
	if parts == nil || ids == nil {
		// Made, empty, by initSchema (a store from before them); a
		// pending request naming a part then fails checkPendingRequests.
		return nil
	}
	n := 0
	if err := ids.ForEach(func(k, v []byte) error {
		body, err := checkValue(bucketDocSharedIDs, k, v)
		if err != nil {
			return err
		}
		num, err := sharedNumber(body)
		if err != nil {
			return err
		}
		b, err := docShared(tx, num)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(b); !bytes.Equal(k, sum[:]) {
			return fmt.Errorf("bucket %s: key %x names shared part %d of SHA-256 %x: %w", bucketDocSharedIDs, k, num, sum, ErrCorrupt)
		}
		n++
		return nil
	}); err != nil {
		return err
	}
	if k := parts.Stats().KeyN; k != n {
		return fmt.Errorf("bucket %s: %d shared parts, %d named by %s: %w", bucketDocShared, k, n, bucketDocSharedIDs, ErrCorrupt)
	}
	if k, _ := parts.Cursor().Last(); k != nil && (len(k) != 8 || binary.BigEndian.Uint64(k) > parts.Sequence()) {
		return fmt.Errorf("bucket %s: sequence %d below the last key %x: %w", bucketDocShared, parts.Sequence(), k, ErrCorrupt)
	}
	return nil
}
