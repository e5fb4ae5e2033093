package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// preflight runs before bbolt sees the file. It takes (and releases) the
// file lock so that a file being written by another process is reported as
// locked, not corrupt; then it checks, from the raw bytes, what bbolt would
// otherwise trust: both meta pages are valid, the file size is a multiple of
// the page size and covers every page the newest meta page claims. A file
// cut short would otherwise be mmapped and fault on first read.
//
// fresh reports that no file exists at path: Open creates it. An empty
// file is refused: Open never leaves one (see create), so one is a store
// truncated to nothing, and starting empty would drop every payment it
// held without a word.
func preflight(path string, lockTimeout time.Duration) (fresh bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: open %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("store: open %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	release, err := lockFile(f, lockTimeout)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return false, lockedErr(path, lockTimeout)
		}
		return false, fmt.Errorf("store: open %s: lock: %w", path, err)
	}
	defer release()
	// Stat again under the lock: the file may have changed meanwhile.
	if fi, err = f.Stat(); err != nil {
		return false, fmt.Errorf("store: open %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return false, corruptf(path, "the file is empty (0 bytes): truncated? Open never leaves an empty store file; move it aside to start a new store")
	}
	// The file is not read ahead: Open reads a bounded part of it
	// (verifyAtOpen), and reading all of it in large blocks made ext4 keep
	// it in large folios, each later 4 KiB page write then costing
	// whole-folio work (accept p50 with 100,000 queued: 6.8 ms with the
	// read-ahead, 3.6 ms without).
	if _, err := checkMetas(f, fi.Size()); err != nil {
		return false, corruptf(path, "%v", err)
	}
	return false, nil
}

// Offsets in a bbolt v2 page: a 16-byte page header (id, flags, count,
// overflow), then for meta pages: magic, version, page size, flags, root
// bucket (root, sequence), freelist, pgid (high-water mark), txid, checksum
// (FNV-64a of the meta fields before it). Native byte order, as bbolt
// writes it.
const (
	metaMagic     = 0xED0CDAED
	metaVersion   = 2
	metaFlag      = 0x04
	metaLen       = 80 // header through checksum
	minBoltHeader = 1024
)

const freelistFlag = 0x10

type metaPage struct {
	pageSize uint32
	freelist uint64
	pgid     uint64
	txid     uint64
}

func readMeta(f io.ReaderAt, off int64) (metaPage, error) {
	var b [metaLen]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		return metaPage{}, fmt.Errorf("read meta at %d: %v", off, err)
	}
	ne := binary.NativeEndian
	if ne.Uint16(b[8:])&metaFlag == 0 {
		return metaPage{}, fmt.Errorf("page at offset %d is not a meta page", off)
	}
	if ne.Uint32(b[16:]) != metaMagic {
		return metaPage{}, fmt.Errorf("meta at offset %d: bad magic", off)
	}
	if v := ne.Uint32(b[20:]); v != metaVersion {
		return metaPage{}, fmt.Errorf("meta at offset %d: version %d", off, v)
	}
	h := fnv.New64a()
	h.Write(b[16:72])
	if h.Sum64() != ne.Uint64(b[72:]) {
		return metaPage{}, fmt.Errorf("meta at offset %d: checksum mismatch", off)
	}
	m := metaPage{pageSize: ne.Uint32(b[24:]), freelist: ne.Uint64(b[48:]), pgid: ne.Uint64(b[56:]), txid: ne.Uint64(b[64:])}
	if m.pageSize < minBoltHeader || m.pageSize&(m.pageSize-1) != 0 {
		return metaPage{}, fmt.Errorf("meta at offset %d: page size %d", off, m.pageSize)
	}
	return m, nil
}

// checkMetas requires both meta pages valid. bbolt alone would fall back to
// the other one silently, losing the newest commit if the damaged page held
// it; for a store whose commits were acknowledged to payers that must be a
// person's decision.
//
// It returns the bytes the newest meta page's pages span.
func checkMetas(f io.ReaderAt, size int64) (int64, error) {
	if size < minBoltHeader {
		return 0, fmt.Errorf("%d bytes, shorter than a bbolt header", size)
	}
	m0, err0 := readMeta(f, 0)
	if err0 != nil {
		// Look for meta page 1 where bbolt would, to tell "damaged" from
		// "not a bbolt file".
		for ps := int64(minBoltHeader); ps <= 1<<24 && ps+metaLen <= size; ps <<= 1 {
			if m1, err := readMeta(f, ps); err == nil && int64(m1.pageSize) == ps {
				return 0, fmt.Errorf("meta page 0 damaged (%v); meta page 1 is valid", err0)
			}
		}
		return 0, fmt.Errorf("not a bbolt file or both meta pages damaged: %v", err0)
	}
	ps := int64(m0.pageSize)
	if size < 4*ps { // bbolt creates files with 4 pages
		return 0, fmt.Errorf("%d bytes, shorter than 4 pages of %d", size, ps)
	}
	m1, err := readMeta(f, ps)
	if err != nil {
		return 0, fmt.Errorf("meta page 1 damaged: %v", err)
	}
	if m1.pageSize != m0.pageSize {
		return 0, fmt.Errorf("meta pages disagree on page size: %d and %d", m0.pageSize, m1.pageSize)
	}
	if size%ps != 0 {
		return 0, fmt.Errorf("size %d is not a multiple of the page size %d", size, ps)
	}
	cur := m0
	if m1.txid > m0.txid {
		cur = m1
	}
	need := int64(cur.pgid) * ps
	if need > size || need <= 0 {
		return 0, fmt.Errorf("truncated: %d bytes, meta claims %d pages of %d", size, cur.pgid, ps)
	}
	return need, checkFreelist(f, cur, ps)
}

// checkFreelist validates the page bbolt reads at Open before anything
// else: a damaged header makes bbolt panic, and a damaged count makes it
// allocate that many ids, which kills the process with out of memory, a
// fatal error no recover catches. Every id listed must be a data page.
func checkFreelist(f io.ReaderAt, m metaPage, ps int64) error {
	if m.freelist < 2 || m.freelist >= m.pgid {
		return fmt.Errorf("freelist page %d outside [2, %d)", m.freelist, m.pgid)
	}
	var h [16]byte
	if _, err := f.ReadAt(h[:], int64(m.freelist)*ps); err != nil {
		return fmt.Errorf("read freelist page %d: %v", m.freelist, err)
	}
	ne := binary.NativeEndian
	id, flags := ne.Uint64(h[:]), ne.Uint16(h[8:])
	count, overflow := uint64(ne.Uint16(h[10:])), uint64(ne.Uint32(h[12:]))
	if id != m.freelist || flags != freelistFlag {
		return fmt.Errorf("freelist page %d damaged (header says page %d, flags %#x)", m.freelist, id, flags)
	}
	if m.freelist+overflow >= m.pgid {
		return fmt.Errorf("freelist page %d: %d overflow pages run past the high-water mark %d", m.freelist, overflow, m.pgid)
	}
	room := (overflow+1)*uint64(ps) - 16
	body := make([]byte, room)
	if _, err := f.ReadAt(body, int64(m.freelist)*ps+16); err != nil {
		return fmt.Errorf("read freelist page %d: %v", m.freelist, err)
	}
	ids := body
	if count == 0xFFFF { // the real count is the first element
		count = ne.Uint64(body)
		ids = body[8:]
	}
	if count > uint64(len(ids))/8 {
		return fmt.Errorf("freelist page %d: %d ids do not fit in %d pages", m.freelist, count, overflow+1)
	}
	for i := range count {
		if pg := ne.Uint64(ids[8*i:]); pg < 2 || pg >= m.pgid {
			return fmt.Errorf("freelist page %d: free page id %d outside [2, %d)", m.freelist, pg, m.pgid)
		}
	}
	return nil
}

// readSchema returns the schema version the file records: schemaV1,
// schemaVersion, some other version (a newer build's file), or "" for a file
// with no buckets yet (Open creates them). Under schema 2 and later the version itself
// carries a CRC; a damaged one is an error wrapping ErrCorrupt.
func readSchema(tx *bbolt.Tx) (string, error) {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
		if empty {
			return "", nil
		}
		return "", fmt.Errorf("bucket %s missing: %w", bucketMeta, ErrCorrupt)
	}
	v := m.Get(keySchema)
	switch {
	case v == nil:
		return "", fmt.Errorf("bucket %s: no schema version: %w", bucketMeta, ErrCorrupt)
	case string(v) == schemaV1:
		return schemaV1, nil
	}
	body, err := checkValue(bucketMeta, keySchema, v)
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// verify reads every key and value of every bucket (touching every page the
// B+trees reach, so a fault happens here, in a goroutine that turns faults
// into panics) and then runs bbolt's consistency check, which walks the same
// pages in a goroutine of its own. From schema 2 on it checks every value's
// CRC and that every index entry names a stored payment; a schema 1 file
// has no CRCs to check (Open migrates it, then verifies it again). Every
// bucket must be one the layout names.
func verify(db *bbolt.DB, schema string) error {
	checked := schema != schemaV1
	return db.View(func(tx *bbolt.Tx) error {
		if err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if !knownBucket(name) {
				return fmt.Errorf("unknown bucket %q", name)
			}
			return walkBucket(b, name, checked)
		}); err != nil {
			return err
		}
		// Schema 13 keys every per-chain entry by its chain first.
		v13 := schemaAtLeast(schema, 13)
		if checked {
			if err := checkIndexes(tx, v13, schemaAtLeast(schema, 14)); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 4) {
			if err := checkUnfinal(tx, schemaAtLeast(schema, 6), v13); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 5) {
			if err := checkChain(tx, schemaAtLeast(schema, 7), v13); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 7) {
			if err := checkRelay(tx); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 8) {
			if err := checkFailures(tx); err != nil {
				return err
			}
			if err := checkZs(tx); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 10) {
			if err := checkEvents(tx); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 11) {
			if err := checkWebhooks(tx); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 12) {
			if err := checkBounded(tx, v13); err != nil {
				return err
			}
		}
		if v13 {
			if err := checkChainKeys(tx); err != nil {
				return err
			}
		}
		if schemaAtLeast(schema, 14) {
			if err := checkQueued(tx); err != nil {
				return err
			}
		}
		// The page accounting the scrub makes (txProblems), not bbolt's
		// tx.Check: that walks the pages in a goroutine of its own, where
		// a fault on a damaged page kills the process instead of failing
		// the Open (openVerifiedOnce recovers faults in its own). Every
		// bucket was walked in order above, so Stats meets no cycle.
		if problems := txProblems(tx); len(problems) > 0 {
			return fmt.Errorf("consistency check: %s", strings.Join(problems, "; "))
		}
		return nil
	})
}

// verifyAtOpen is Open's check of a file before it is served. A file of
// the schema this build writes gets verifyBounded: work bounded by
// configuration and time windows, never by sales or history, so Open's
// cost does not grow with the queue; the rest is the scrub's, after READY
// (scrub.go). A file of an older schema (or a new one) gets the full
// verify, before and after each migration: an upgrade reads the whole file
// once, which is fine.
func verifyAtOpen(db *bbolt.DB, schema string) error {
	if schema != schemaVersion {
		return verify(db, schema)
	}
	return verifyBounded(db, schema)
}

// boundedBuckets are the buckets verifyBounded walks whole, every value's
// CRC checked, each with what its size grows with: none grows with sales
// or history. A bucket that does (payments, requests, the indexes of
// payments, events, transfers, failures, Z reports, the relay journal,
// spent_nonces, pruned_chain_txs, unmatched receipts) is the scrub's.
var boundedBuckets = [][]byte{
	bucketMeta,          // two keys: the schema and the seal check
	bucketClients,       // the integrator clients the operator registered
	bucketClientNonces,  // nonces seen inside the authentication window
	bucketNonceExpiry,   // the same, by expiry
	bucketFleet,         // two keys: the highest version and the bundle
	bucketCounts,        // chains times states
	bucketUnsettled,     // chains times assets
	bucketWatch,         // one cursor per chain
	bucketEventSinks,    // one per sink (mqtt, a webhook per client)
	bucketWebhooks,      // one per client
	bucketRegistrations, // pending ones expire; approved ones are clients
	bucketRegExpiry,     // the same, by expiry
	bucketFailuresOpen,  // failures not yet acknowledged by the operator
	bucketRequestExpiry, // pending requests not yet reported expired
	bucketAmounts,       // pending requests, until AmountKeep after they end
	bucketDocShared,     // one per config requests were signed with (docshared.go)
	bucketDocSharedIDs,  // the same, by SHA-256
}

// verifyBounded is verify's part that does not grow with the store (see
// verifyAtOpen): the root holds exactly the layout's buckets; the
// boundedBuckets walked with CRCs; the pending requests their indexes
// (request_expiry, pending_amounts) name, read by key, CRC checked and
// at their index keys; the sequences that issue Seq, failure numbers and
// event seqs at or above their last keys (one seek each); the log's sinks
// within the log; each webhook a stored client's; the counts' and sums'
// keys a chain's. Reads of a damaged mmap fault; openVerifiedOnce turns
// that into ErrCorrupt.
func verifyBounded(db *bbolt.DB, schema string) error {
	v13 := schemaAtLeast(schema, 13)
	return db.View(func(tx *bbolt.Tx) error {
		if err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			if !knownBucket(name) {
				return fmt.Errorf("unknown bucket %q", name)
			}
			return nil
		}); err != nil {
			return err
		}
		// A layout bucket missing is made, empty, by initSchema (as for
		// verify); the scrub's counts check finds an index lost so. But for
		// the queued index (schema 14), which initSchema makes only in a new
		// file: a 14 without it is damage, refused here, not a store whose
		// every accept then fails.
		if schemaAtLeast(schema, 14) && tx.Bucket(bucketQueued) == nil {
			return fmt.Errorf("bucket %s missing: %w", bucketQueued, ErrCorrupt)
		}
		for _, name := range boundedBuckets {
			if b := tx.Bucket(name); b != nil {
				if err := walkBucket(b, name, true); err != nil {
					return err
				}
			}
		}
		if err := checkDocShared(tx); err != nil {
			return err
		}
		if err := checkPendingRequests(tx); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketBySeq, bucketFailures} {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			if k, _ := b.Cursor().Last(); k != nil && (len(k) != 8 || binary.BigEndian.Uint64(k) > b.Sequence()) {
				return fmt.Errorf("bucket %s: sequence %d below the last key %x: %w", name, b.Sequence(), k, ErrCorrupt)
			}
		}
		if err := checkEvents(tx); err != nil {
			return err
		}
		if err := checkWebhooks(tx); err != nil {
			return err
		}
		if v13 {
			return checkChainKeys(tx)
		}
		return nil
	})
}

// checkPendingRequests requires every request_expiry and pending_amounts
// entry to name a stored request, CRC checked, at that entry's key: its
// expiry, or its asset and amount. Pending requests are what a payer may
// still pay: one served changed could take money for the wrong amount.
func checkPendingRequests(tx *bbolt.Tx) error {
	if tx.Bucket(bucketRequestExpiry) == nil || tx.Bucket(bucketAmounts) == nil || tx.Bucket(bucketRequests) == nil {
		return fmt.Errorf("the pending requests' buckets missing: %w", ErrCorrupt)
	}
	if err := tx.Bucket(bucketRequestExpiry).ForEach(func(k, v []byte) error {
		id, err := checkValue(bucketRequestExpiry, k, v)
		if err != nil {
			return err
		}
		r, err := requestByID(tx, string(id))
		if err != nil {
			return fmt.Errorf("bucket %s: key %x: %w", bucketRequestExpiry, k, err)
		}
		if !bytes.Equal(k, expiryKey(r)) {
			return fmt.Errorf("bucket %s: key %x names request %q expiring %s: %w", bucketRequestExpiry, k, r.ID, r.ExpiresAt, ErrCorrupt)
		}
		// A payer may still be served it: its shared part must be there.
		return withShared(tx, &r)
	}); err != nil {
		return err
	}
	return checkAmounts(tx)
}

// checkAmounts requires every pending_amounts entry to name a stored
// request, CRC checked, of that entry's asset and amount.
func checkAmounts(tx *bbolt.Tx) error {
	return tx.Bucket(bucketAmounts).ForEach(func(k, v []byte) error {
		id, err := checkValue(bucketAmounts, k, v)
		if err != nil {
			return err
		}
		r, err := requestByID(tx, string(id))
		if err != nil {
			return fmt.Errorf("bucket %s: key %x: %w", bucketAmounts, k, err)
		}
		want, err := amountKey(r.Asset, r.Amount, r.ID)
		if err != nil || !bytes.Equal(want, k) {
			return fmt.Errorf("bucket %s: key %x names request %q of %s %s: %w", bucketAmounts, k, r.ID, r.Amount, r.Asset, ErrCorrupt)
		}
		return nil
	})
}

// keyLen is the length of a per-chain key whose rest is n bytes: from
// schema 13 on the chain id (8) comes first.
func keyLen(v13 bool, n int) int {
	if v13 {
		return 8 + n
	}
	return n
}

// keyed is a per-chain entry's key as stored: under chain from schema 13
// on, rest alone before.
func keyed(v13 bool, chain uint64, rest []byte) []byte {
	if v13 {
		return chainKey(chain, rest)
	}
	return rest
}

func knownBucket(name []byte) bool {
	for _, b := range allBuckets {
		if bytes.Equal(b, name) {
			return true
		}
	}
	return false
}

var walkSink byte

// walkBucket reads every key and value of b. With checked, every value's
// CRC is verified (which reads all of it); otherwise it touches one byte in
// 512, enough to fault on every page.
//
// The keys must come in order and be no longer than the layout writes
// (maxLayoutKey), as the scrub's walk requires: a damaged branch page
// puts them out of order (and could lead the walk in a circle), a damaged
// element gives a length off the page; either is damage, and the page
// accounting after it is not run on a tree that cannot be followed.
func walkBucket(b *bbolt.Bucket, name []byte, checked bool) error {
	var x byte
	var prev []byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) > maxLayoutKey {
			return fmt.Errorf("bucket %s: a key of %d bytes after %x; the layout's are at most %d: %w", name, len(k), prev, maxLayoutKey, ErrCorrupt)
		}
		if prev != nil && bytes.Compare(k, prev) <= 0 {
			return fmt.Errorf("bucket %s: after key %x the next is %x: keys out of order: %w", name, prev, k, ErrCorrupt)
		}
		prev = append(prev[:0], k...)
		if v == nil {
			return fmt.Errorf("bucket %s: key %q is a nested bucket; the layout has none", name, k)
		}
		if checked {
			if _, err := checkValue(name, k, v); err != nil {
				return err
			}
			continue
		}
		for i := 0; i < len(v); i += 512 {
			x ^= v[i]
		}
		if len(v) > 0 {
			x ^= v[len(v)-1]
		}
	}
	walkSink ^= x
	return nil
}

// checkIndexes requires every entry of the payment indexes (sender+nonce,
// open, acceptance order) to name a stored payment, every key to have its
// index's length, and the by_seq bucket's sequence, which issues Seq, to be
// at or above every Seq used, so that no Seq is issued twice. A damaged key
// fails its value's CRC already; this catches an entry whose record is gone.
// Open's entries are checked by checkOpenEntry (v14: their values empty).
func checkIndexes(tx *bbolt.Tx, v13, v14 bool) error {
	payments := tx.Bucket(bucketPayments)
	if payments == nil {
		return nil // a store from before the buckets were made; Open makes them
	}
	for _, idx := range []struct {
		name   []byte
		keyLen int
	}{{bucketBySender, keyLen(v13, common.AddressLength+8)}, {bucketOpen, keyLen(v13, common.AddressLength+8)}, {bucketUnfinal, keyLen(v13, common.AddressLength+8)}, {bucketBySeq, 8}} {
		b := tx.Bucket(idx.name)
		if b == nil {
			continue
		}
		if err := b.ForEach(func(k, v []byte) error {
			switch {
			case bytes.Equal(idx.name, bucketOpen):
				return checkOpenEntry(tx, v14, idx.keyLen, k, v)
			case bytes.Equal(idx.name, bucketBySender):
				return checkSenderIndexEntry(tx, idx.keyLen, k, v)
			}
			return checkIndexEntry(payments, idx.name, idx.keyLen, k, v)
		}); err != nil {
			return err
		}
	}
	return checkSeqSequence(tx)
}

// checkIndexEntry is checkIndexes' check of one entry (k, v) of the
// payment index name, whose keys are keyLen bytes: the scrub runs it a
// chunk at a time (scrub.go).
func checkIndexEntry(payments *bbolt.Bucket, name []byte, keyLen int, k, v []byte) error {
	h, err := checkValue(name, k, v)
	if err != nil {
		return err
	}
	if len(k) != keyLen {
		return fmt.Errorf("bucket %s: key %x of %d bytes, want %d: %w", name, k, len(k), keyLen, ErrCorrupt)
	}
	if len(h) != common.HashLength || payments.Get(h) == nil {
		return fmt.Errorf("bucket %s: key %x names payment 0x%x, which is not stored: %w", name, k, h, ErrCorrupt)
	}
	return nil
}

// checkSenderIndexEntry is checkIndexes' check of one by_sender_nonce
// entry: its key of keyLen bytes and the payment it names (by Seq, or by
// hash in an older entry: senderValueHash) stored.
func checkSenderIndexEntry(tx *bbolt.Tx, keyLen int, k, v []byte) error {
	if len(k) != keyLen {
		return fmt.Errorf("bucket %s: key %x of %d bytes, want %d: %w", bucketBySender, k, len(k), keyLen, ErrCorrupt)
	}
	h, err := indexHash(tx, bucketBySender, k, v)
	if err != nil {
		return err
	}
	if tx.Bucket(bucketPayments).Get(h) == nil {
		return fmt.Errorf("bucket %s: key %x names payment 0x%x, which is not stored: %w", bucketBySender, k, h, ErrCorrupt)
	}
	return nil
}

// checkOpenEntry is checkIndexes' check of one open entry: its key of
// keyLen bytes and its payment stored. From schema 14 (v14) its value is
// empty and by_sender_nonce names the payment, queued or broadcast, at the
// same key (the scrub's check: checkSenderNonceEntry); a schema 13 file
// may hold either the hash or, where a migration to 14 stopped part way
// (schema14.go), the empty value already.
func checkOpenEntry(tx *bbolt.Tx, v14 bool, keyLen int, k, v []byte) error {
	body, err := checkValue(bucketOpen, k, v)
	if err != nil {
		return err
	}
	if len(k) != keyLen {
		return fmt.Errorf("bucket %s: key %x of %d bytes, want %d: %w", bucketOpen, k, len(k), keyLen, ErrCorrupt)
	}
	if v14 {
		return checkSenderNonceEntry(tx, bucketOpen, k, v, PaymentState.unsettled)
	}
	h := body
	if len(body) == 0 {
		if h, err = openHash(tx, k, v); err != nil {
			return err
		}
	}
	if len(h) != common.HashLength || tx.Bucket(bucketPayments).Get(h) == nil {
		return fmt.Errorf("bucket %s: key %x names payment 0x%x, which is not stored: %w", bucketOpen, k, h, ErrCorrupt)
	}
	return nil
}

// checkSeqSequence requires by_seq's sequence, which issues Seq, to be at
// or above every Seq used (one seek).
func checkSeqSequence(tx *bbolt.Tx) error {
	if b := tx.Bucket(bucketBySeq); b != nil {
		if k, _ := b.Cursor().Last(); k != nil && binary.BigEndian.Uint64(k) > b.Sequence() {
			return fmt.Errorf("bucket %s: sequence %d below the highest Seq %d: %w", bucketBySeq, b.Sequence(), binary.BigEndian.Uint64(k), ErrCorrupt)
		}
	}
	return nil
}

// checkUnfinal requires the unfinal index (schema 4) to hold exactly the
// confirmed payments: every entry names a confirmed payment at its own
// sender and nonce, and there are as many entries as the confirmed count
// says. A payment confirmed but missing from the index would never be
// followed to final, nor sent again if its block were lost. It decodes
// only the payments the index names: the confirmed ones not yet final.
//
// With auth (schema 6) it checks the authorizations' indexes too
// (checkAuthorizations), whose confirmed ones are in auth_unfinal.
func checkUnfinal(tx *bbolt.Tx, auth, v13 bool) error {
	idx, payments := tx.Bucket(bucketUnfinal), tx.Bucket(bucketPayments)
	if idx == nil || payments == nil {
		return fmt.Errorf("bucket %s or %s missing: %w", bucketUnfinal, bucketPayments, ErrCorrupt)
	}
	n := uint64(0)
	if err := idx.ForEach(func(k, v []byte) error {
		n++
		h, err := checkValue(bucketUnfinal, k, v)
		if err != nil {
			return err
		}
		body, err := checkValue(bucketPayments, h, payments.Get(h))
		if err != nil {
			return err
		}
		p, err := decodePayment(h, body)
		if err != nil {
			return err
		}
		if !p.State.unfinal() || !bytes.Equal(k, keyed(v13, p.ChainID, legacySenderNonceKey(p.From, p.Nonce))) {
			return fmt.Errorf("bucket %s: key %x names payment %s, %s from %s nonce %d: %w", bucketUnfinal, k, p.TxHash, p.State, p.From, p.Nonce, ErrCorrupt)
		}
		return nil
	}); err != nil {
		return err
	}
	c, err := readCount(tx, PaymentConfirmed)
	if err != nil {
		return err
	}
	// Confirmed chain payments are in their own index (checkChain).
	chainConfirmed, _, err := countChainUnfinal(tx, v13)
	if err != nil {
		return err
	}
	var authConfirmed uint64
	if auth {
		if authConfirmed, err = checkAuthorizations(tx, v13); err != nil {
			return err
		}
	}
	if c != n+chainConfirmed+authConfirmed {
		return fmt.Errorf("bucket %s: %d entries, %d confirmed chain payments and %d confirmed authorizations, but %d payments are confirmed: %w",
			bucketUnfinal, n, chainConfirmed, authConfirmed, c, ErrCorrupt)
	}
	return nil
}

// countChainUnfinal counts the chain_unfinal entries (schema 5) naming
// confirmed and seen payments; it checks each names a chain payment in
// one of those states at its own block. A file without the bucket has
// none.
func countChainUnfinal(tx *bbolt.Tx, v13 bool) (confirmed, seen uint64, err error) {
	idx, payments := tx.Bucket(bucketChainUnfinal), tx.Bucket(bucketPayments)
	if idx == nil || payments == nil {
		return 0, 0, nil
	}
	err = idx.ForEach(func(k, v []byte) error {
		h, err := checkValue(bucketChainUnfinal, k, v)
		if err != nil {
			return err
		}
		body, err := checkValue(bucketPayments, h, payments.Get(h))
		if err != nil {
			return err
		}
		p, err := decodePayment(h, body)
		if err != nil {
			return err
		}
		want := keyed(v13, p.ChainID, append(binary.BigEndian.AppendUint64(nil, p.Delivery.Block), p.TxHash[:]...))
		if p.Source != SourceChain || !bytes.Equal(k, want) {
			return fmt.Errorf("bucket %s: key %x names payment %s (%s, block %d): %w", bucketChainUnfinal, k, p.TxHash, p.Source, p.Delivery.Block, ErrCorrupt)
		}
		switch p.State {
		case PaymentConfirmed:
			confirmed++
		case PaymentSeen:
			seen++
		default:
			return fmt.Errorf("bucket %s: key %x names payment %s in state %s: %w", bucketChainUnfinal, k, p.TxHash, p.State, ErrCorrupt)
		}
		return nil
	})
	return confirmed, seen, err
}

// checkChain requires the schema 5 buckets to agree (see chain.go and
// amounts.go): the chain_unfinal index names exactly the seen chain
// payments (as many as the seen count) and confirmed ones at their own
// blocks; every recorded transfer has its identity entry and the other way
// round, and names what it became (a stored payment, an unmatched
// receipt); as many unmatched receipts as the count says; every amounts
// index entry names a stored request of that asset and amount; the
// cursor, if any, decodes. A transfer recorded without its outcome would
// be neither matched again (its identity says recorded) nor listed.
func checkChain(tx *bbolt.Tx, relay, v13 bool) error {
	for _, name := range [][]byte{bucketWatch, bucketTransfers, bucketTransferIDs, bucketChainUnfinal, bucketUnmatched, bucketAmounts} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %s missing: %w", name, ErrCorrupt)
		}
	}
	_, seen, err := countChainUnfinal(tx, v13)
	if err != nil {
		return err
	}
	if c, err := readCount(tx, PaymentSeen); err != nil {
		return err
	} else if c != seen {
		return fmt.Errorf("bucket %s: %d seen payments, but the count says %d: %w", bucketChainUnfinal, seen, c, ErrCorrupt)
	}
	if err := tx.Bucket(bucketWatch).ForEach(func(k, _ []byte) error {
		if v13 != (len(k) == 8) || !v13 && !bytes.Equal(k, keyCursor) {
			return fmt.Errorf("bucket %s: key %x: %w", bucketWatch, k, ErrCorrupt)
		}
		_, _, err := readCursor(tx, k)
		return err
	}); err != nil {
		return err
	}
	// A transfer's key: [chain (8) ||] block (8) || its identity (40, and
	// from schema 13 on its chain's 8 more: the key's own).
	at, idLen := keyLen(v13, 8), keyLen(v13, 40)
	ids, transfers, payments := tx.Bucket(bucketTransferIDs), tx.Bucket(bucketTransfers), tx.Bucket(bucketPayments)
	unmatched := tx.Bucket(bucketUnmatched)
	n := 0
	if err := transfers.ForEach(func(k, v []byte) error {
		n++
		body, err := checkValue(bucketTransfers, k, v)
		if err != nil {
			return err
		}
		var rec transferRecord
		if err := json.Unmarshal(body, &rec); err != nil || len(k) != at+idLen {
			return fmt.Errorf("bucket %s: key %x: %v: %w", bucketTransfers, k, err, ErrCorrupt)
		}
		if v13 && !bytes.Equal(k[:8], k[len(k)-8:]) {
			return fmt.Errorf("bucket %s: key %x: its identity names another chain: %w", bucketTransfers, k, ErrCorrupt)
		}
		if b, err := checkValue(bucketTransferIDs, k[at:], ids.Get(k[at:])); err != nil || !bytes.Equal(b, k[:at]) {
			return fmt.Errorf("bucket %s: key %x has no identity entry at its block: %w", bucketTransfers, k, ErrCorrupt)
		}
		switch rec.Outcome {
		case outcomePayment, outcomeHandover:
			if payments.Get(rec.TxHash[:]) == nil {
				return fmt.Errorf("bucket %s: key %x names payment %s, which is not stored: %w", bucketTransfers, k, rec.TxHash, ErrCorrupt)
			}
		case outcomeSettlement:
			if h := tx.Bucket(bucketRelayHashes); !relay || h == nil || h.Get(rec.TxHash[:]) == nil {
				return fmt.Errorf("bucket %s: key %x names settlement %s, which the relayer did not sign: %w", bucketTransfers, k, rec.TxHash, ErrCorrupt)
			}
		case outcomeUnmatched:
			if unmatched.Get(seqKey(rec.Unmatched)) == nil {
				return fmt.Errorf("bucket %s: key %x names unmatched receipt %d, which is not stored: %w", bucketTransfers, k, rec.Unmatched, ErrCorrupt)
			}
		default:
			return fmt.Errorf("bucket %s: key %x: outcome %q: %w", bucketTransfers, k, rec.Outcome, ErrCorrupt)
		}
		return nil
	}); err != nil {
		return err
	}
	if m := ids.Stats().KeyN; m != n {
		return fmt.Errorf("bucket %s: %d entries for %d transfers: %w", bucketTransferIDs, m, n, ErrCorrupt)
	}
	if c, err := readCount(tx, PaymentUnmatched); err != nil {
		return err
	} else if m := unmatched.Stats().KeyN; uint64(m) != c {
		return fmt.Errorf("bucket %s: %d receipts, but the count says %d: %w", bucketUnmatched, m, c, ErrCorrupt)
	}
	return checkAmounts(tx)
}
