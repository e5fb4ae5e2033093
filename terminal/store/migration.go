package store

import (
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// migration is one step of Open's schema upgrades from schema 7 on: in one
// bbolt transaction it makes its buckets (empty), lets fill write what the
// new schema needs from the records already there, and records the new
// version; then it runs Open's checks on the file again. A file at any
// other version is left as it is.
type migration struct {
	from, to string
	what     string   // the log line's summary
	buckets  [][]byte // made, empty
	// fill runs in the same transaction after the buckets are made; what
	// it returns is logged (key, value pairs).
	fill func(tx *bbolt.Tx) (logged []any, err error)
}

func (m migration) run(db *bbolt.DB, path string, log *slog.Logger) error {
	schema, err := dbSchema(db)
	if err != nil {
		return corruptErr(path, err)
	}
	if schema != m.from {
		return nil
	}
	began := time.Now()
	var logged []any
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range m.buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if m.fill != nil {
			var err error
			if logged, err = m.fill(tx); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(m.to)))
	})
	if err != nil {
		return fmt.Errorf("store: open %s: migrate schema %s to %s: %w", path, m.from, m.to, err)
	}
	if err := verify(db, m.to); err != nil {
		return corruptErr(path, fmt.Errorf("after migrating to schema %s: %w", m.to, err))
	}
	log.Info(fmt.Sprintf("store: migrated schema %s to %s: %s", m.from, m.to, m.what),
		append([]any{"path", path, "took", time.Since(began).Round(time.Millisecond)}, logged...)...)
	return nil
}
