package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// Schema 14: the queued index (queued.go), so the oldest queued payment is
// one seek away, payments and requests in a binary form (binrecord.go) of
// about a third of the JSON's size, and the open index without values
// (by_sender_nonce names its payments under the same keys: openHash).
//
// The migration from 13 runs in small transactions, migrateChunk records
// each, not in one: a 250 MB store rewritten in one bbolt transaction
// would hold all of it in memory, on a board with 512 MB. Each step is
// safe to stop between chunks and run again from the start: the queued
// index is emptied and rebuilt whole. The schema is written "14" in the
// last transaction, after every step, so a crash anywhere leaves a schema
// 13 file that Open migrates on. A record is rewritten in the binary form
// only once (a record already binary is passed over); both forms read
// the same meanwhile. No older build serves the file: a schema 13 build
// refuses the queued bucket it does not know. by_sender_nonce keeps the
// hashes schema 14 has: the Seqs are schema 15's, the migration Open runs
// next (schema15.go), so a file left at 14 is one every 14 build reads.

// migrateChunk is how many records one transaction of the migration to
// schema 14 reads and writes.
const migrateChunk = 2000

// migrateQueued brings a schema 13 file to schema 14, verified whole
// before "14" is written. Other files are left as they are.
func migrateQueued(db *bbolt.DB, path string, log *slog.Logger) error {
	return migrate14(db, path, log, migrateChunk, nil)
}

// migrate14 is migrateQueued with the chunk size given and, if set, after
// called after each committed transaction before the schema's: an error
// from it stops the migration there (the tests' crash between chunks).
func migrate14(db *bbolt.DB, path string, log *slog.Logger, chunk int, after func() error) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV13 {
		return nil
	}
	fail := func(err error) error {
		return fmt.Errorf("store: open %s: migrate schema %s to %s: %w", path, schemaV13, schemaV14, err)
	}
	began := time.Now()
	step := chunkStep(db, after)
	// The queued index, from nothing: what an earlier run left is redone.
	if err := step(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketQueued); err != nil && !errors.Is(err, bbolt.ErrBucketNotFound) {
			return fmt.Errorf("empty bucket %s: %w", bucketQueued, err)
		}
		if _, err := tx.CreateBucket(bucketQueued); err != nil {
			return err
		}
		// The shared parts' buckets, empty: no request before 14 has one.
		for _, name := range [][]byte{bucketDocShared, bucketDocSharedIDs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	queued := 0
	enter := func(w *wtx, k, body []byte) error {
		p, err := paymentByHash(w.tx, body)
		if err != nil {
			return fmt.Errorf("index 0x%x: %w", k, err)
		}
		if p.State != PaymentQueued {
			return nil
		}
		queued++
		return w.putChecked(bucketQueued, queuedKey(p.ChainID, p.Seq), nil)
	}
	// open's values become empty, by_sender_nonce naming the payment
	// (openHash), in the same walk: each old value must be the hash
	// by_sender_nonce holds, or the file is refused. One already empty
	// (an earlier run's) is taken as by_sender_nonce's.
	emptied := 0
	if err := inChunks(db, bucketOpen, chunk, step, func(w *wtx, k, body []byte) error {
		h, err := senderHash(w.tx, k)
		if err != nil {
			return err
		}
		if h == nil {
			return fmt.Errorf("key %x: %s holds no payment at that sender and nonce: %w", k, bucketBySender, ErrCorrupt)
		}
		if len(body) != 0 && !bytes.Equal(body, h) {
			return fmt.Errorf("key %x names 0x%x, %s 0x%x: %w", k, body, bucketBySender, h, ErrCorrupt)
		}
		h = bytes.Clone(h)
		if len(body) != 0 {
			emptied++
			if err := w.putChecked(bucketOpen, k, nil); err != nil {
				return err
			}
		}
		return enter(w, k, h)
	}); err != nil {
		return fail(err)
	}
	if err := inChunks(db, bucketAuthOpen, chunk, step, enter); err != nil {
		return fail(err)
	}
	// Payments and requests in the binary form (binrecord.go), a chunk at
	// a time; one already binary (an earlier run's) is passed over.
	rewritten := 0
	reencode := func(bucket []byte, re func(k, body []byte) ([]byte, error)) func(w *wtx, k, body []byte) error {
		return func(w *wtx, k, body []byte) error {
			if len(body) > 0 && body[0] == binVersion {
				return nil
			}
			nv, err := re(k, body)
			if err != nil {
				return fmt.Errorf("key %x: %w", k, err)
			}
			rewritten++
			return w.putChecked(bucket, k, nv)
		}
	}
	if err := inChunks(db, bucketPayments, chunk, step, reencode(bucketPayments, func(k, body []byte) ([]byte, error) {
		p, err := decodePayment(k, body)
		if err != nil {
			return nil, err
		}
		return encodePayment(p)
	})); err != nil {
		return fail(err)
	}
	if err := inChunks(db, bucketRequests, chunk, step, reencode(bucketRequests, func(k, body []byte) ([]byte, error) {
		r, err := decodeRequest(k, body)
		if err != nil {
			return nil, err
		}
		return encodeRequest(r)
	})); err != nil {
		return fail(err)
	}
	// The whole check before the version is written, not after: a file
	// that says 14 is one an earlier schema 14 build serves after only
	// its bounded check, so one failing here must stay a 13 that is
	// checked whole (and migrated) again.
	if err := verify(db, schemaV14); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema %s: %w", schemaV14, err))
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV14)))
	}); err != nil {
		return fail(err)
	}
	log.Info(fmt.Sprintf("store: migrated schema %s to %s: the queued payments indexed in acceptance order, payments and requests binary, the open index without values", schemaV13, schemaV14),
		"path", path, "queued", queued, "records", rewritten, "open", emptied, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// chunkStep is the step of a migration in chunks (inChunks): it runs fn
// in one bbolt transaction and then, if set, after, whose error stops
// the migration there (the tests' crash between chunks).
func chunkStep(db *bbolt.DB, after func() error) func(func(*bbolt.Tx) error) error {
	return func(fn func(tx *bbolt.Tx) error) error {
		if err := db.Update(fn); err != nil {
			return err
		}
		if after != nil {
			return after()
		}
		return nil
	}
}

// inChunks calls fn on every entry of bucket (its value CRC checked, the
// CRC cut off) in key order, chunk entries to a transaction run by step.
// fn may write to any bucket, bucket included: each chunk is read whole
// before fn sees its first entry.
func inChunks(db *bbolt.DB, bucket []byte, chunk int, step func(func(*bbolt.Tx) error) error, fn func(w *wtx, k, body []byte) error) error {
	var last []byte
	for more := true; more; {
		err := step(func(tx *bbolt.Tx) error {
			type entry struct{ k, body []byte }
			var got []entry
			c := tx.Bucket(bucket).Cursor()
			k, v := c.First()
			if last != nil {
				if k, v = c.Seek(last); k != nil && bytes.Equal(k, last) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(got) < chunk; k, v = c.Next() {
				body, err := checkValue(bucket, k, v)
				if err != nil {
					return err
				}
				got = append(got, entry{bytes.Clone(k), bytes.Clone(body)})
			}
			more = len(got) == chunk
			w := &wtx{tx: tx}
			for _, e := range got {
				if err := fn(w, e.k, e.body); err != nil {
					return err
				}
			}
			if len(got) > 0 {
				last = got[len(got)-1].k
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bucket %s after %x: %w", bucket, last, err)
		}
	}
	return nil
}
