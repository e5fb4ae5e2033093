package outbox

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
// keys) needs the sealing key and is openSealing's (clients_seal.go).
func migrate(db *bbolt.DB, path string, log *slog.Logger) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != schemaV1 {
		return nil
	}
	log.Warn("outbox: migrating schema 1 to 2: adding a CRC to every value", "path", path)
	began := time.Now()
	n, err := migrateV1(db)
	if err != nil {
		return fmt.Errorf("outbox: open %s: migrate schema 1 to 2: %w", path, err)
	}
	if err := verify(db, schemaV2); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema 2: %w", err))
	}
	log.Info("outbox: migrated schema 1 to 2", "path", path, "values", n, "took", time.Since(began).Round(time.Millisecond))
	return nil
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
