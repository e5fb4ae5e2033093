package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"showpos/terminal/sealkey"
)

// Sealing at Open (see clients.go for what is sealed and how).
//
// The meta bucket holds a check value under keySealCheck: a fixed text
// sealed with the store's sealing key. It tells "this is another key" (the
// check does not open: every client would fail) from "this record was
// changed" (the check opens, one client's key does not).
//
// The rules, in order:
//
//   - A store holding sealed keys (any client record with a key, or any
//     registration: its pickup secret is sealed) needs its
//     key file: missing, or holding a key that does not open the check, the
//     store is refused with ErrSealKey naming both files. A new key would
//     open none of the keys and lock every client out without a word.
//   - A store holding none (new, or with no clients, or schema 2 with keys
//     in the clear) takes the key file there is, or makes one (0600), and
//     records its check.
//   - A schema 2 store's clear keys are sealed before the store serves
//     anything. With no client key to seal, the schema version and the
//     check are written in one transaction. Otherwise the whole store is
//     copied into a new file under a temporary name (clients' keys sealed,
//     a revoked client's dropped, every other value as it was, bucket
//     sequences kept), fsynced, and renamed over the old one, and the
//     directory fsynced: a crash leaves the old file or the new one, and
//     the new one never held a key in the clear. Rewriting in place would
//     leave the clear keys in bbolt's freed pages, readable in a copy of
//     the file until overwritten. The copy costs one write of the file.
var keySealCheck = []byte("seal_check")

// DefaultSealKeyName is the sealing key file's name beside the store when
// Options.SealKeyPath is empty.
const DefaultSealKeyName = "seal.key"

var (
	sealCheckText = []byte("showpos store sealing key check")
	sealCheckAD   = []byte("showpos/outbox/seal-check/1")
)

// copyTxBytes bounds the keys and values one transaction of the schema 2
// copy holds, so that sealing a large store does not hold it all in memory.
const copyTxBytes = 4 << 20

// sealState is what Open reads of a store before choosing its key.
type sealState struct {
	schema string
	check  []byte // nil: none recorded
	// sealed: some client record holds a key (or cannot be read, which
	// counts as holding one: refusing to guess is safer).
	sealed bool
	clear  int // schema 2: client keys in the clear
}

func readSealState(db *bbolt.DB) (sealState, error) {
	var st sealState
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		if st.schema, err = readSchema(tx); err != nil {
			return err
		}
		if st.check, err = getChecked(tx, bucketMeta, keySealCheck); err != nil {
			return err
		}
		st.check = bytes.Clone(st.check)
		// A registration holds a sealed pickup secret: it needs the key
		// as a client's sealed key does.
		if r := tx.Bucket(bucketRegistrations); r != nil {
			if k, _ := r.Cursor().First(); k != nil {
				st.sealed = true
			}
		}
		return tx.Bucket(bucketClients).ForEach(func(k, v []byte) error {
			body, err := checkValue(bucketClients, k, v)
			if err != nil {
				return err
			}
			rec, err := decodeClientRecord(k, body)
			switch {
			case err != nil:
				st.sealed = true
			case st.schema == schemaV2:
				st.clear += len(rec.Keys)
			case len(rec.Keys) > 0:
				st.sealed = true
			}
			return nil
		})
	})
	return st, err
}

// openSealing loads (or makes) the store's sealing key, seals a schema 2
// store's keys, and records the key's check. It owns db: on error db is
// closed; on success the returned db (db, or the file that replaced it)
// is open.
func openSealing(db *bbolt.DB, path, keyPath string, lockTimeout time.Duration, log *slog.Logger) (*bbolt.DB, *sealkey.Key, error) {
	fail := func(err error) (*bbolt.DB, *sealkey.Key, error) {
		_ = db.Close()
		return nil, nil, err
	}
	st, err := readSealState(db)
	if err != nil {
		return fail(corruptErr(path, err))
	}
	var key *sealkey.Key
	if st.sealed && st.schema != schemaV2 {
		key, err = sealkey.Load(keyPath)
		if errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Errorf("store: %s holds sealed service keys, and their sealing key file %s is missing: restore it from the backup taken with this store (a new key would open none of them and lock every client out); or, to give up every client, move the store aside: %w", path, keyPath, ErrSealKey))
		}
		if err != nil {
			return fail(fmt.Errorf("store: sealing key of %s: %w", path, err))
		}
		if st.check == nil {
			return fail(corruptf(path, "it holds sealed service keys but no check of their sealing key"))
		}
		if _, err := key.Open(st.check, sealCheckAD); err != nil {
			return fail(fmt.Errorf("store: the sealing key in %s is not the one that sealed the service keys in %s (another terminal's key, or one made after the store was sealed): restore the key file that belongs with this store: %w", keyPath, path, ErrSealKey))
		}
	} else {
		var created bool
		key, created, err = sealkey.LoadOrCreate(keyPath)
		if err != nil {
			return fail(fmt.Errorf("store: sealing key of %s: %w", path, err))
		}
		if created {
			log.Info("store: created the key that seals service keys; back it up with the store", "path", keyPath)
		}
	}

	if st.schema == schemaV2 {
		if st.clear > 0 {
			return sealByCopy(db, path, key, lockTimeout, log)
		}
		if err := db.Update(func(tx *bbolt.Tx) error {
			m := tx.Bucket(bucketMeta)
			if err := m.Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV3))); err != nil {
				return err
			}
			return m.Put(keySealCheck, seal(bucketMeta, keySealCheck, key.Seal(sealCheckText, sealCheckAD)))
		}); err != nil {
			return fail(fmt.Errorf("store: open %s: migrate schema 2 to 3: %w", path, err))
		}
		log.Info("store: migrated schema 2 to 3 (no service key to seal)", "path", path)
		return db, key, nil
	}
	if st.check == nil || !opens(key, st.check) {
		// Nothing sealed yet (st.sealed is false here, or the check
		// would have been required above): record this key's check.
		if st.check != nil {
			log.Warn("store: the store's sealing key check was for another key; no service key was sealed with it, so this key replaces it", "path", path, "key", keyPath)
		}
		if err := db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySealCheck, seal(bucketMeta, keySealCheck, key.Seal(sealCheckText, sealCheckAD)))
		}); err != nil {
			return fail(fmt.Errorf("store: open %s: record the sealing key check: %w", path, err))
		}
	}
	reportUnopened(db, key, path, log)
	return db, key, nil
}

func opens(key *sealkey.Key, check []byte) bool {
	_, err := key.Open(check, sealCheckAD)
	return err == nil
}

// reportUnopened logs every client whose keys do not open with key: the
// check opened, so those records were changed or moved. They are damage
// for that client alone (its requests are refused as store damage), not
// for the store.
func reportUnopened(db *bbolt.DB, key *sealkey.Key, path string, log *slog.Logger) {
	_ = db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketClients).ForEach(func(k, v []byte) error {
			body, err := checkValue(bucketClients, k, v)
			if err == nil {
				_, err = decodeClient(k, body, key)
			}
			if err != nil {
				log.Error("store: a client's record is damaged: its requests are refused; revoke it and register a new client", "path", path, "client", string(k), "err", err)
			}
			return nil
		})
	})
}

// sealByCopy migrates a schema 2 store holding clear keys to schema 3 by
// writing a sealed copy and renaming it over path (see the rules above).
// It owns db like openSealing.
func sealByCopy(db *bbolt.DB, path string, key *sealkey.Key, lockTimeout time.Duration, log *slog.Logger) (*bbolt.DB, *sealkey.Key, error) {
	began := time.Now()
	log.Warn("store: migrating schema 2 to 3: sealing the service keys kept in the clear, by writing a sealed copy of the store", "path", path, "key", key.String())
	dir := filepath.Dir(path)
	// A copy left by a crash mid-way (sealed keys only) is dropped: this
	// process holds the store's lock, so no other one is writing it.
	pattern := "." + filepath.Base(path) + ".seal-*"
	if stale, _ := filepath.Glob(filepath.Join(dir, pattern)); len(stale) > 0 {
		for _, f := range stale {
			_ = os.Remove(f)
		}
		log.Info("store: removed copies left by an interrupted sealing", "path", path, "files", len(stale))
	}
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("store: open %s: migrate schema 2 to 3: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // on failure; after the rename there is none
	n, err := writeSealedCopy(db, tmp, key, lockTimeout)
	if err == nil {
		err = os.Rename(tmpName, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: open %s: migrate schema 2 to 3: %w", path, err)
	}
	ndb, err := openVerified(path, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, nil, fmt.Errorf("after sealing service keys: %w", err)
	}
	log.Info("store: migrated schema 2 to 3", "path", path, "keys_sealed", n, "took", time.Since(began).Round(time.Millisecond))
	return ndb, key, nil
}

// writeSealedCopy copies every bucket of src into the empty file tmp (a
// bbolt file made here), sealing client keys, and closes it. It returns
// how many keys it sealed.
func writeSealedCopy(src *bbolt.DB, tmp *os.File, key *sealkey.Key, lockTimeout time.Duration) (int, error) {
	name := tmp.Name()
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	dst, err := bbolt.Open(name, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return 0, err
	}
	sealed := 0
	err = src.View(func(stx *bbolt.Tx) error {
		dtx, err := dst.Begin(true)
		if err != nil {
			return err
		}
		defer func() { _ = dtx.Rollback() }()
		size := 0
		if err := stx.ForEach(func(bname []byte, sb *bbolt.Bucket) error {
			if _, err := dtx.CreateBucket(bname); err != nil {
				return fmt.Errorf("bucket %s: %w", bname, err)
			}
			if err := dtx.Bucket(bname).SetSequence(sb.Sequence()); err != nil {
				return fmt.Errorf("bucket %s: %w", bname, err)
			}
			return sb.ForEach(func(k, v []byte) error {
				switch {
				case bytes.Equal(bname, bucketMeta) && bytes.Equal(k, keySchema):
					v = seal(bucketMeta, keySchema, []byte(schemaV3))
				case bytes.Equal(bname, bucketClients):
					enc, n, err := sealClearClient(k, v, key)
					if err != nil {
						return err
					}
					v, sealed = seal(bucketClients, k, enc), sealed+n
				}
				if size += len(k) + len(v); size > copyTxBytes {
					if err := dtx.Commit(); err != nil {
						return err
					}
					if dtx, err = dst.Begin(true); err != nil {
						return err
					}
					size = len(k) + len(v)
				}
				return dtx.Bucket(bname).Put(k, v)
			})
		}); err != nil {
			return err
		}
		if err := dtx.Bucket(bucketMeta).Put(keySealCheck, seal(bucketMeta, keySealCheck, key.Seal(sealCheckText, sealCheckAD))); err != nil {
			return err
		}
		return dtx.Commit()
	})
	// bbolt fsyncs every commit; Close releases the file.
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return sealed, err
}

// sealClearClient re-encodes a schema 2 client record (value v, CRC
// included) with its keys sealed. A revoked client's keys, never honoured
// again, are dropped rather than sealed.
func sealClearClient(number, v []byte, key *sealkey.Key) ([]byte, int, error) {
	body, err := checkValue(bucketClients, number, v)
	if err != nil {
		return nil, 0, err
	}
	rec, err := decodeClientRecord(number, body)
	if err != nil {
		return nil, 0, fmt.Errorf("client %q: %w", number, err)
	}
	c := clientMeta(rec)
	if c.Revoked.IsZero() {
		for i, k := range rec.Keys {
			if k.Secret == nil || k.Sealed != nil {
				return nil, 0, fmt.Errorf("client %q: key %d of a schema 2 record is not in the clear: %w", number, i, ErrCorrupt)
			}
			c.Keys = append(c.Keys, ClientKey{Secret: k.Secret, NotAfter: k.NotAfter})
		}
	}
	enc, err := encodeClient(c, key)
	return enc, len(c.Keys), err
}
