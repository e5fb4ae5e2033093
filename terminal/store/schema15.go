package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// Schema 15: schema 14 with every by_sender_nonce value the payment's Seq
// (8 bytes, by_seq naming its hash), not its 32-byte hash: an index with
// an entry for every payment, a quarter of its values' bytes. The layout
// changed, so the number did: a schema 14 build refuses a 15 file as
// unknown rather than take its Seqs for damage.
//
// The migration from 14 walks by_sender_nonce in small transactions
// (inChunks, migrateChunk entries each), rewriting each hash as its
// payment's Seq (senderSeq), an entry already a Seq (an earlier run's, or
// one written by the builds that wrote Seqs under "14") passed over; then
// the whole file is verified and "15" written last, so a crash anywhere
// leaves a schema 14 file that the next Open checks whole and migrates on.

// migrateSenderSeqs brings a schema 14 file to schema 15. Other files are
// left as they are.
func migrateSenderSeqs(db *bbolt.DB, path string, log *slog.Logger) error {
	return migrate15(db, path, log, migrateChunk, nil)
}

// migrate15 is migrateSenderSeqs with the chunk size given and, if set,
// after called after each committed transaction before the schema's (as
// for migrate14).
func migrate15(db *bbolt.DB, path string, log *slog.Logger, chunk int, after func() error) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV14 {
		return nil
	}
	fail := func(err error) error {
		return fmt.Errorf("store: open %s: migrate schema %s to %s: %w", path, schemaV14, schemaV15, err)
	}
	began := time.Now()
	renamed := 0
	if err := inChunks(db, bucketBySender, chunk, chunkStep(db, after), func(w *wtx, k, body []byte) error {
		done, err := senderSeq(w, k, body)
		if done {
			renamed++
		}
		return err
	}); err != nil {
		return fail(err)
	}
	// The whole check before the version is written: a 15 file gets only
	// the bounded check at the next Open (verifyAtOpen), a 14 one the full.
	if err := verify(db, schemaV15); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema %s: %w", schemaV15, err))
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV15)))
	}); err != nil {
		return fail(err)
	}
	log.Info(fmt.Sprintf("store: migrated schema %s to %s: by_sender_nonce names each payment by its Seq", schemaV14, schemaV15),
		"path", path, "by_sender_nonce", renamed, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// senderSeq rewrites by_sender_nonce's entry k, whose checked value is
// body, from the payment's hash to its Seq, and reports whether it did: an
// entry already a Seq is passed over (verify checks it). The payment at
// the hash must be a handed-over one at that key, and by_seq must name it
// at its Seq, or the file is refused (ErrCorrupt).
func senderSeq(w *wtx, k, body []byte) (bool, error) {
	if len(body) != common.HashLength {
		return false, nil
	}
	p, err := paymentByHash(w.tx, body)
	if err != nil {
		return false, fmt.Errorf("key %x: %w", k, err)
	}
	if p.Source != SourceHandover || !bytes.Equal(k, senderNonceKey(p.ChainID, p.From, p.Nonce)) {
		return false, fmt.Errorf("key %x names payment %s (%s) from %s nonce %d: %w", k, p.TxHash, p.Source, p.From, p.Nonce, ErrCorrupt)
	}
	if h, err := w.getChecked(bucketBySeq, seqKey(p.Seq)); err != nil {
		return false, err
	} else if !bytes.Equal(h, body) {
		return false, fmt.Errorf("key %x names payment %s, Seq %d, which %s gives to 0x%x: %w", k, p.TxHash, p.Seq, bucketBySeq, h, ErrCorrupt)
	}
	return true, w.putChecked(bucketBySender, k, seqKey(p.Seq))
}
