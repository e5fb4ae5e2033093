package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"showpos/terminal/sealkey"
)

// Options configure Open. A nil *Options means the zero value.
type Options struct {
	// LockTimeout is how long Open waits for the file lock held by another
	// process; 0 means 1s. (bbolt's own 0 would mean wait forever.)
	LockTimeout time.Duration
	// Logger receives open, close and commit-failure events; nil discards.
	Logger *slog.Logger
	// SealKeyPath is the file holding the key that seals the clients'
	// service keys (terminal/sealkey); "" means DefaultSealKeyName in the
	// store's directory. Open makes it (mode 0600) while the store holds no
	// sealed key, and requires it once the store does (see clients_seal.go).
	SealKeyPath string
	// Now is the clock for times the store sets itself (when an unmatched
	// receipt was recorded, when Settle moved a chain payment); nil means
	// time.Now. Other times come from the callers.
	Now func() time.Time
	// Decimals gives an asset's decimals, so that events carry each
	// amount in whole units too (amount_display), written once with the
	// event so every delivery of it is the same bytes; nil: events carry
	// base units only.
	Decimals Decimals
	// EventRetention is how many events the log keeps at least: once it
	// holds 64 more (a sixteenth more, if less), an append also drops the
	// oldest events that every sink has delivered (any, with no sink
	// registered) down to it, so the log stays bounded with no pruner
	// running. 0 means DefaultEventRetention.
	EventRetention uint64
	// HomeChainID is the chain of the default network: the chain of every
	// payment, authorization, cursor and index a store before schema 13
	// holds (that schema keyed them by chain), and of a request stored
	// with no Chains. Open refuses to migrate a file holding any of them
	// without it; a new or empty store needs none.
	HomeChainID uint64
	// VerifyBeforeSales: Accept and RetireChains are refused with
	// ErrVerifying until Scrub has checked the open payments and their
	// indexes (its first part, run at full speed: its cost is the queue's,
	// not the history's). Open reads only a bounded set before it
	// returns, so without this a sale could be decided against an index
	// the scrub has yet to find damaged. posd sets it and starts Scrub at
	// once; false: they are taken at once (tests, tools).
	VerifyBeforeSales bool
	// RequestChain gives the chain a request's signed document (Request.Doc,
	// the till's stored form) is signed for; posd builds it on
	// request.ParseStored. The migration to schema 13 uses it to check that
	// the open payments and pending requests of a store before it are the
	// home chain's (see signedOn). nil: not checked.
	RequestChain func(doc []byte) (uint64, error)
}

// Store is the terminal's durable store: one bbolt file, one writer
// goroutine (the committer), any number of concurrent readers. Its methods
// are safe for concurrent use.
type Store struct {
	path   string
	db     *bbolt.DB
	log    *slog.Logger
	key    *sealkey.Key // seals the clients' service keys
	c      *committer
	now    func() time.Time
	closed atomic.Bool
	// pruneMu serialises Prune calls; prune is where their walks stand
	// (prune.go).
	pruneMu sync.Mutex
	prune   pruneWalk
	home    uint64 // Options.HomeChainID
	// retired are the chains RetireChains took out of service (retire.go),
	// set and read inside writes (ActivateChains outside).
	retireMu sync.Mutex
	retired  map[uint64]bool
	// integ is what the scrubs found (scrub.go); moneyDamaged is set once
	// one found damage in what matters to money: write refuses then.
	integ        integrityState
	moneyDamaged atomic.Bool
	// moneyVerified is set once the open payments and their indexes are
	// known sound: at Open without Options.VerifyBeforeSales, else by the
	// scrub's first part; saleWrite refuses until then.
	moneyVerified atomic.Bool
}

// Open opens the store at path, creating it if no file exists there. A
// new store is made whole under a temporary name and then linked into
// place (and the directory fsynced), so a file at path is always a store
// Open finished making: an empty file there is damage (a truncation) and
// is refused like any other, never taken for a new store. Before returning
// it takes the
// file lock, checks the meta pages and file size, and reads what does not
// grow with sales (verifyAtOpen; an older schema's file all of it): damage
// there is reported as an error wrapping ErrCorrupt that names the file,
// never as a crash, and never ignored. The rest is Scrub's, after the
// terminal is serving (scrub.go). A file locked by another process gives an error wrapping
// ErrLocked after LockTimeout; one renamed away from path while Open
// waited for its lock (posctl store compact -in-place) is let go and path
// opened again, so Open never runs on a file no longer at path. Last it loads the key that seals the
// clients' service keys (Options.SealKeyPath), making it while the store
// holds no sealed key, seals an older store's clear keys, and refuses a
// store holding sealed keys whose key file is missing or another key with
// an error wrapping ErrSealKey that names both files (clients_seal.go).
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	fresh, err := preflight(path, o.LockTimeout)
	if err != nil {
		return nil, err
	}
	if fresh {
		if err := create(path, o.LockTimeout); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", path, err)
		}
		log.Info("store: created a new store", "path", path)
	}
	db, err := openVerified(path, &bbolt.Options{Timeout: o.LockTimeout})
	if err != nil {
		return nil, err
	}
	if err := migrate(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := initSchema(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	keyPath := o.SealKeyPath
	if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(path), DefaultSealKeyName)
	}
	db, key, err := openSealing(db, path, keyPath, o.LockTimeout, log)
	if err != nil {
		return nil, err
	}
	if err := migrateUnfinal(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateChain(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateAuthorizations(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateRelay(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateFailures(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateRegistrations(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if err := migrateEvents(db, path, log, now()); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateWebhooks(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateBounded(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateChains(db, path, log, o.HomeChainID, o.RequestChain); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateQueued(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateSenderSeqs(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := migrateJournal(db, path, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	jr, err := openJournalOf(db, path, log, o.Decimals, o.EventRetention)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s := &Store{path: path, db: db, log: log, key: key, c: newCommitter(db, path, log, o.Decimals, o.EventRetention, jr, replay), now: now, home: o.HomeChainID}
	s.moneyVerified.Store(!o.VerifyBeforeSales)
	log.Info("store: opened", "path", path, "new", fresh)
	return s, nil
}

// Path is the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close stops accepting writes (they get ErrClosed), waits until every
// write already submitted has its commit outcome, then closes the file.
// Closing twice returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.c.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	j := s.Journal()
	s.log.Info("store: closed", "path", s.path, "journal_appends", j.Appends, "commits", j.Commits,
		"journal_commits", fmt.Sprintf("idle %d, bound %d, read %d, write %d, close %d", j.OnIdle, j.OnBound, j.OnRead, j.OnWrite, j.OnClose))
	return nil
}

// replacedTries bounds how often openVerified reopens a path whose file
// was replaced while it waited for the lock.
const replacedTries = 3

// errReplaced: the file opened is no longer the one at its path.
var errReplaced = errors.New("the file was replaced under its name while Open waited for its lock")

// openVerified opens the bbolt file and checks it (verifyAtOpen). Reads of a damaged
// mmap fault or panic; here both become an ErrCorrupt error.
//
// bbolt takes its flock on the file it opened, by then maybe no longer the
// one at path: posctl store compact -in-place renames the compacted file
// over the store while it holds the old file's lock, and an Open waiting
// on that lock would get it on the old file (now only
// STORE.before-compact), take payments into it, and the next start would
// never read them. So once the lock is held Open checks that the file is
// the one at path, and if not closes it and opens the path again.
func openVerified(path string, bopts *bbolt.Options) (*bbolt.DB, error) {
	for range replacedTries {
		db, err := openVerifiedOnce(path, bopts)
		if !errors.Is(err, errReplaced) {
			return db, err
		}
	}
	return nil, fmt.Errorf("store: open %s: %w, %d times", path, errReplaced, replacedTries)
}

func openVerifiedOnce(path string, bopts *bbolt.Options) (db *bbolt.DB, err error) {
	var file *os.File
	bopts.OpenFile = func(name string, flag int, mode os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, mode)
		file = f
		return f, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			} else if file != nil {
				// bbolt.Open panicked, leaving its mmap, which holds the
				// open file and so its flock: release the lock by hand.
				// The mapping itself leaks; this happens once, at boot.
				unlockFile(file)
				_ = file.Close()
			}
			db, err = nil, corruptf(path, "reading it failed: %v", r)
		}
	}()

	db, err = bbolt.Open(path, 0o600, bopts)
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		return nil, lockedErr(path, bopts.Timeout)
	case errors.Is(err, bbolt.ErrInvalid), errors.Is(err, bbolt.ErrVersionMismatch),
		errors.Is(err, bbolt.ErrChecksum):
		return nil, corruptf(path, "%v", err)
	case err != nil:
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if at, err := stillAt(file, path); err != nil || !at {
		_ = db.Close()
		if err == nil {
			err = errReplaced
		}
		return nil, err
	}
	schema, err := dbSchema(db)
	if err != nil {
		_ = db.Close()
		return nil, corruptErr(path, err)
	}
	if schema != "" && !schemaKnown(schema) {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: unknown schema version %q (this build reads %q to %q)", path, schema, schemaV1, schemaVersion)
	}
	if err := preRelease14(db, schema); err != nil {
		_ = db.Close()
		return nil, corruptErr(path, err)
	}
	if err := verifyAtOpen(db, schema); err != nil {
		_ = db.Close()
		return nil, corruptErr(path, err)
	}
	db.AllocSize = allocSize
	return db, nil
}

// allocSize is how far ahead of its pages bbolt grows the file (it
// truncates the file up and fsyncs it each time). bbolt's default, 16 MiB,
// left a 100,000-payment store a hole of 119 B a payment on average (the
// store file is about 1 KB a payment); 1 MiB costs one more fsync every
// thousand payments or so.
const allocSize = 1 << 20

// preRelease14 refuses a schema 14 or later file without the shared
// parts' buckets, which every such file has from its creation or migration
// (initSchema does not make them in an existing file): written by a build
// from before schema 14 was released, whose records are in a form this
// one does not read, or damaged; made again empty they would give old
// requests the parts of new ones.
func preRelease14(db *bbolt.DB, schema string) error {
	if !schemaAtLeast(schema, 14) {
		return nil
	}
	return db.View(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketDocShared, bucketDocSharedIDs} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("schema %s without bucket %s: written by a build from before schema %s was released (restore the file it migrated from, or start a new store), or damaged: %w",
					schema, name, schemaV14, ErrCorrupt)
			}
		}
		// Such a build also kept the hash in open's values (one seek:
		// every entry of its file has one).
		if b := tx.Bucket(bucketOpen); b != nil {
			if k, v := b.Cursor().First(); k != nil && len(v) != crcLen {
				return fmt.Errorf("schema %s with a %d-byte value in %s: written by a build from before schema %s was released (restore the file it migrated from, or start a new store), or damaged: %w",
					schema, len(v), bucketOpen, schemaV14, ErrCorrupt)
			}
		}
		return nil
	})
}

// stillAt reports whether f, opened from path, is still the file there.
func stillAt(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("store: open %s: %w", path, err)
	}
	now, err := os.Stat(path)
	if err != nil {
		// Gone (moved away meanwhile) is an error too, not a retry:
		// opening again would make an empty file there.
		return false, fmt.Errorf("store: open %s: %w", path, err)
	}
	return os.SameFile(held, now), nil
}

// dbSchema reads the file's schema version ("" for a new file).
func dbSchema(db *bbolt.DB) (schema string, err error) {
	err = db.View(func(tx *bbolt.Tx) error {
		schema, err = readSchema(tx)
		return err
	})
	return schema, err
}

// corruptErr reports err, found checking the file at path, as damage naming
// the file.
func corruptErr(path string, err error) error {
	if errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	return corruptf(path, "%v", err)
}

func corruptf(path, format string, args ...any) error {
	return fmt.Errorf("store: %s: %s: %w", path, fmt.Sprintf(format, args...), ErrCorrupt)
}

func lockedErr(path string, waited time.Duration) error {
	return fmt.Errorf("store: %s: another process (posd) holds the file lock; waited %s: %w", path, waited, ErrLocked)
}

// create makes a new, empty store at path: bbolt's file with the buckets
// and the schema version, built under a temporary name in the same
// directory, fsynced (bbolt syncs every commit), then hard-linked to path
// and the directory fsynced, so the new file's name is durable before any
// commit to it is reported durable. Linking, unlike renaming, fails when a
// file appeared at path meanwhile (another process made it first): that
// file is kept, and Open goes on to check it. On a filesystem without hard
// links it renames instead, where still no file is.
func create(path string, lockTimeout time.Duration) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Close(); err != nil {
		return err
	}
	db, err := bbolt.Open(name, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if err != nil {
		return err
	}
	if err := initSchema(db); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	if err := os.Link(name, path); err != nil && !errors.Is(err, os.ErrExist) {
		// A filesystem without hard links (vfat): rename, which would
		// replace a file made meanwhile, so only where none is yet.
		if _, serr := os.Lstat(path); errors.Is(serr, os.ErrNotExist) {
			if rerr := os.Rename(name, path); rerr != nil {
				return fmt.Errorf("link: %v; rename: %w", err, rerr)
			}
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// initSchema creates the buckets and records the schema version on first
// open, and creates the buckets an older file lacks. openVerified has
// already refused a file of an unknown schema, and migrate has brought a
// schema 1 file to schema 2 (openSealing takes it on to 3, migrateUnfinal
// to 4, migrateChain to 5, migrateAuthorizations to 6, migrateRelay to 7, migrateFailures to 8, migrateRegistrations to 9, migrateEvents to 10, migrateWebhooks to 11, migrateBounded to 12, migrateChains to 13, migrateQueued to 14, migrateSenderSeqs to 15).
func initSchema(db *bbolt.DB) error {
	complete := true
	err := db.View(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				complete = false
			}
		}
		return nil
	})
	if err != nil || complete {
		return err
	}
	return db.Update(func(tx *bbolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
		}
		older := m.Get(keySchema) != nil
		for _, name := range allBuckets {
			if older && (bytes.Equal(name, bucketQueued) || bytes.Equal(name, bucketDocShared) || bytes.Equal(name, bucketDocSharedIDs)) {
				// migrate14 makes them: a file it refuses stays as it was,
				// and a 14 without them is refused (preRelease14).
				continue
			}
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if !older {
			return m.Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaVersion)))
		}
		return nil
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
