package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// migrate brings a schema 1 file (values without CRCs) to schema 2 before
// the store serves anything: in one bbolt transaction it appends its CRC
// to every value of every bucket and records the new version, so a crash
// leaves the file wholly schema 1 or wholly schema 2. It then verifies the
// file again, CRCs included. The transaction holds every rewritten value
// in memory: the cost is about the size of the file, once.
//
// Other files are left as they are. Schema 2 to 3 (sealing the clients'
// keys) needs the sealing key and is openSealing's (clients_seal.go);
// schema 3 to 4 is migrateUnfinal's, after it, 4 to 5 migrateChain's and
// 5 to 6 migrateAuthorizations' (authorization.go).
func migrate(db *bbolt.DB, path string, log *slog.Logger) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV1 {
		return nil
	}
	log.Warn("store: migrating schema 1 to 2: adding a CRC to every value", "path", path)
	began := time.Now()
	n, err := migrateV1(db)
	if err != nil {
		return fmt.Errorf("store: open %s: migrate schema 1 to 2: %w", path, err)
	}
	if err := verify(db, schemaV2); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema 2: %w", err))
	}
	log.Info("store: migrated schema 1 to 2", "path", path, "values", n, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// migrateUnfinal brings a schema 3 file (service keys sealed; openSealing
// brings schema 2 that far) to schema 4 in one bbolt transaction that also
// records the new version: it adds the unfinal index, entering every
// confirmed payment, so that payments confirmed before confirmations were
// checked against the canonical chain are followed until their block is
// final too (their records have no block hash: see Delivery.BlockHash).
// It then verifies the file again. Other files are left as they are.
func migrateUnfinal(db *bbolt.DB, path string, log *slog.Logger) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV3 {
		return nil
	}
	began := time.Now()
	n, err := migrateV3(db)
	if err != nil {
		return fmt.Errorf("store: open %s: migrate schema 3 to 4: %w", path, err)
	}
	if err := verify(db, schemaV4); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema 4: %w", err))
	}
	log.Info("store: migrated schema 3 to 4: confirmed payments are followed until final", "path", path,
		"confirmed", n, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// migrateV3 is the schema 3 to 4 step's transaction. It returns how many
// confirmed payments it entered in the unfinal index.
func migrateV3(db *bbolt.DB) (int, error) {
	n := 0
	err := db.Update(func(tx *bbolt.Tx) error {
		u, err := tx.CreateBucketIfNotExists(bucketUnfinal)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketUnfinal, err)
		}
		if payments := tx.Bucket(bucketPayments); payments != nil {
			if err := payments.ForEach(func(k, v []byte) error {
				body, err := checkValue(bucketPayments, k, v)
				if err != nil {
					return err
				}
				p, err := decodePayment(k, body)
				if err != nil {
					return fmt.Errorf("payment 0x%x: %w", k, err)
				}
				if !p.State.unfinal() {
					return nil
				}
				key := legacySenderNonceKey(p.From, p.Nonce)
				n++
				return u.Put(key, seal(bucketUnfinal, key, p.TxHash[:]))
			}); err != nil {
				return err
			}
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return m.Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV4)))
	})
	return n, err
}

// migrateChain brings a schema 4 file (migrateUnfinal brings older ones
// that far) to schema 5 in one bbolt transaction that also records the new
// version: it makes the chain watcher's buckets (empty: the watcher starts
// from its configured start, with no cursor) and enters every pending
// request in the amounts index, so that a transfer paying a request made
// by an older build is matched, and a new request cannot take its amount.
// Payment records are not rewritten: one without a source reads as a
// handover, which every payment of an older build is. It then verifies
// the file again. Other files are left as they are.
func migrateChain(db *bbolt.DB, path string, log *slog.Logger) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV4 {
		return nil
	}
	began := time.Now()
	n, err := migrateV4(db)
	if err != nil {
		return fmt.Errorf("store: open %s: migrate schema 4 to 5: %w", path, err)
	}
	if err := verify(db, schemaV5); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema 5: %w", err))
	}
	log.Info("store: migrated schema 4 to 5: payments seen on chain, pending amounts indexed", "path", path,
		"pending", n, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// migrateV4 is the schema 4 to 5 step's transaction. It returns how many
// pending requests it entered in the amounts index.
func migrateV4(db *bbolt.DB) (int, error) {
	n := 0
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketWatch, bucketTransfers, bucketTransferIDs, bucketChainUnfinal, bucketUnmatched, bucketAmounts} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		amounts := tx.Bucket(bucketAmounts)
		if requests := tx.Bucket(bucketRequests); requests != nil {
			if err := requests.ForEach(func(k, v []byte) error {
				body, err := checkValue(bucketRequests, k, v)
				if err != nil {
					return err
				}
				r, err := decodeRequest(k, body)
				if err != nil {
					return fmt.Errorf("request %q: %w", k, err)
				}
				if r.Status != RequestPending {
					return nil
				}
				key, err := amountKey(r.Asset, r.Amount, r.ID)
				if err != nil {
					return fmt.Errorf("request %q: %w", k, err)
				}
				n++
				return amounts.Put(key, seal(bucketAmounts, key, []byte(r.ID)))
			}); err != nil {
				return err
			}
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return m.Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV5)))
	})
	return n, err
}

// migrateV1 is migrate's transaction. It returns how many values it sealed.
func migrateV1(db *bbolt.DB) (int, error) {
	n := 0
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			b := tx.Bucket(name)
			if b == nil {
				continue // created later by initSchema
			}
			// Collect first: bbolt does not promise a cursor survives a Put.
			type rec struct{ k, v []byte }
			var recs []rec
			if err := b.ForEach(func(k, v []byte) error {
				if v == nil {
					return fmt.Errorf("bucket %s: key %q is a nested bucket", name, k)
				}
				if bytes.Equal(name, bucketMeta) && bytes.Equal(k, keySchema) {
					v = []byte(schemaV2)
				}
				recs = append(recs, rec{bytes.Clone(k), seal(name, k, v)})
				return nil
			}); err != nil {
				return err
			}
			for _, r := range recs {
				if err := b.Put(r.k, r.v); err != nil {
					return fmt.Errorf("bucket %s key %q: %w", name, r.k, err)
				}
			}
			n += len(recs)
		}
		return nil
	})
	return n, err
}
