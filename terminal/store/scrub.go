package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// The scrub verifies, after the terminal is serving, what Open does not
// read (verifyBounded reads only what does not grow with sales or
// history): first what matters to money, every open payment through the
// indexes that name them and the counts against those indexes; then every
// bucket's every value's CRC, the cross-index checks Open runs on an
// older schema (verify), and last an account of every page of the file.
//
// It reads in chunks, each its own short read transaction of at most
// scrubChunkKeys keys or scrubChunkBytes bytes, resuming after the last
// key: a long read transaction pins the pages freed meanwhile, and the
// file would grow under the writes. Between chunks it sleeps on its
// context so that it reads at most ScrubOptions.BytesPerSecond.
//
// Damage it finds is reported through Integrity, logged once per record,
// and, when it is in what matters to money, takes the store out of
// service: every write but the operator's, and every read but the counts,
// is refused with an error wrapping ErrCorrupt, as a store refused at
// Open takes no sale.
// Damage in settled history only is reported; that record is refused
// when read (its CRC), and sales go on.

// ScrubOptions configure Scrub.
type ScrubOptions struct {
	// BytesPerSecond bounds the scrub's reads (keys and values read, and
	// the file's size for the last page accounting); 0: unbounded.
	BytesPerSecond int64
}

const (
	scrubChunkKeys  = 1000
	scrubChunkBytes = 256 << 10
	// maxDamageListed bounds Integrity.Damage; Integrity.Damaged counts all.
	maxDamageListed = 32
	// maxDamageTracked bounds the records remembered (to report and log
	// each once): past it, a file damaged throughout is counted, not
	// remembered record by record.
	maxDamageTracked = 10000
)

// Damage is one damaged record (or check) the scrub found.
type Damage struct {
	Bucket string
	Key    string // hex
	Err    string
	// Money: the damage is in what matters to money (an open payment, its
	// indexes, the counts); the store then refuses sales.
	Money bool
}

// Integrity is what the scrubs since Open found (Store.Integrity).
type Integrity struct {
	Running bool // a scrub is running now
	// Verified: a scrub ran to its end since Open (damage found or not).
	Verified   bool
	FinishedAt time.Time // when it did
	// CheckedBytes is what the current (or last) scrub has read so far
	// (keys and values, an open payment twice, and the file's size once
	// for the last check: it ends above InUseBytes); InUseBytes the
	// file's size in use when it began.
	CheckedBytes, InUseBytes int64
	Damaged                  int      // damaged records found since Open
	Damage                   []Damage // the first maxDamageListed of them
	// MoneyDamaged: damage in what matters to money was found; every
	// write but the operator's is refused (ErrCorrupt).
	MoneyDamaged bool
	// SalesTaken: the open payments and their indexes are checked (the
	// scrub's first part, or Options.VerifyBeforeSales unset), so Accept no
	// longer answers ErrVerifying; with MoneyDamaged it refuses anyway.
	SalesTaken bool
}

// integrityState is the Store's Integrity, guarded by mu.
type integrityState struct {
	mu   sync.Mutex
	cur  Integrity
	seen map[string]int // bucket + "\x00" + key -> index in all
	all  []Damage
	// afterChunk, if set, runs after each chunk's read transaction has
	// ended, with the bucket walked and the bytes read. Tests set it
	// before Scrub; nil in production.
	afterChunk func(bucket []byte, size int)
}

// Integrity returns what the scrubs since Open found.
func (s *Store) Integrity() Integrity {
	s.integ.mu.Lock()
	defer s.integ.mu.Unlock()
	out := s.integ.cur
	out.Damage = append([]Damage(nil), s.integ.cur.Damage...)
	out.SalesTaken = s.moneyVerified.Load()
	return out
}

// moneyDamagedErr is the refusal of a write once the scrub found damage in
// what matters to money; nil while none was found.
func (s *Store) moneyDamagedErr() error {
	if !s.moneyDamaged.Load() {
		return nil
	}
	return corruptf(s.path, "out of service: damage found after Open in what matters to money (see the store's integrity in status); restore the file")
}

// damage records d once (by bucket and key), logging it; a record found
// again with Money set becomes money damage.
func (s *Store) damage(d Damage) {
	s.integ.mu.Lock()
	defer s.integ.mu.Unlock()
	if s.integ.seen == nil {
		s.integ.seen = map[string]int{}
	}
	if len(s.integ.all) >= maxDamageTracked {
		s.integ.cur.Damaged++
		if s.integ.cur.Damaged == maxDamageTracked+1 {
			s.log.Error("store: more damage found by the scrub; counted, no longer logged one by one", "path", s.path, "tracked", maxDamageTracked)
		}
		if d.Money {
			s.markMoneyDamaged()
		}
		return
	}
	id := d.Bucket + "\x00" + d.Key
	if i, ok := s.integ.seen[id]; ok {
		if d.Money && !s.integ.all[i].Money {
			s.integ.all[i].Money = true
			if i < len(s.integ.cur.Damage) {
				s.integ.cur.Damage[i].Money = true
			}
			s.markMoneyDamaged()
		}
		return
	}
	s.integ.seen[id] = len(s.integ.all)
	s.integ.all = append(s.integ.all, d)
	s.integ.cur.Damaged++
	if len(s.integ.cur.Damage) < maxDamageListed {
		s.integ.cur.Damage = append(s.integ.cur.Damage, d)
	}
	s.log.Error("store: damaged record found by the scrub", "path", s.path, "bucket", d.Bucket, "key", d.Key, "money", d.Money, "err", d.Err)
	if d.Money {
		s.markMoneyDamaged()
	}
}

// markMoneyDamaged is called with integ.mu held.
func (s *Store) markMoneyDamaged() {
	s.integ.cur.MoneyDamaged = true
	if !s.moneyDamaged.Swap(true) {
		s.log.Error("store: out of service for sales: damage in what matters to money", "path", s.path)
	}
}

// Scrub verifies what Open left to it (see the top of scrub.go), in
// chunks at most o.BytesPerSecond, and returns when done, with ctx's error
// when ctx ends first, or ErrClosed. Damage found is not its error: it is
// reported through Integrity (and logged). One scrub at a time: a second
// call while one runs returns at once with an error.
func (s *Store) Scrub(ctx context.Context, o ScrubOptions) error {
	var size int64
	if err := s.viewCommitted(func(tx *bbolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		return err
	}
	s.integ.mu.Lock()
	if s.integ.cur.Running {
		s.integ.mu.Unlock()
		return errors.New("store: a scrub is already running")
	}
	s.integ.cur.Running, s.integ.cur.CheckedBytes, s.integ.cur.InUseBytes = true, 0, size
	s.integ.mu.Unlock()
	defer func() {
		s.integ.mu.Lock()
		s.integ.cur.Running = false
		s.integ.mu.Unlock()
	}()
	// (a) What matters to money: every open payment, through the indexes
	// that name them, then the counts against those indexes. At full
	// speed: its cost grows with the queue, not the history, and sales
	// wait for it (Options.VerifyBeforeSales).
	sc := &scrubber{s: s, ctx: ctx, began: time.Now()}
	for _, ix := range moneyIndexes {
		if err := sc.walk(ix.bucket, true, ix.check); err != nil {
			return err
		}
	}
	if err := sc.counts(); err != nil {
		return err
	}
	if !s.moneyVerified.Load() {
		s.moneyVerified.Store(true) // damage found refuses sales anyway (write)
		s.log.Info("store: open payments and their indexes checked; sales taken", "path", s.path,
			"took", time.Since(sc.began).Round(time.Millisecond), "damage", s.moneyDamaged.Load())
	}
	// (b) The rest at o.BytesPerSecond, paced from here.
	sc.rate, sc.paced, sc.pacedFrom = o.BytesPerSecond, time.Now(), sc.read
	// (b) Everything else: every value's CRC, bucket by bucket.
	for _, name := range allBuckets {
		if isMoneyIndex(name) {
			continue // walked in (a)
		}
		check := entryChecks[string(name)]
		if check == nil {
			check = crcOnly
		}
		if err := sc.walk(name, moneyBucket(name), check); err != nil {
			return err
		}
	}
	if err := sc.final(); err != nil {
		return err
	}
	s.integ.mu.Lock()
	s.integ.cur.Verified, s.integ.cur.FinishedAt = true, s.now()
	s.integ.mu.Unlock()
	s.log.Info("store: scrub finished", "path", s.path, "checked_bytes", sc.read, "took", time.Since(sc.began).Round(time.Millisecond),
		"longest_read_tx", sc.longest.Round(time.Millisecond), "bbolt_check", sc.bboltTook.Round(time.Millisecond), "damaged", s.Integrity().Damaged)
	return nil
}

type scrubber struct {
	s     *Store
	ctx   context.Context
	rate  int64
	began time.Time
	// paced and pacedFrom are where the rate counts from: the time and the
	// bytes read when the paced part began.
	paced     time.Time
	pacedFrom int64
	read      int64
	// longest is the longest read transaction the scrub held (logged): a
	// chunk's is short; the last checks' one is the file's whole walk.
	longest time.Duration
	// bboltTook is how long the page accounting held the writes (logged).
	bboltTook time.Duration
	// unreadable: a chunk's read faulted or panicked (bboltCheck).
	unreadable bool
}

// view is the Store's view, timed.
func (sc *scrubber) view(fn func(*bbolt.Tx) error) error {
	began := time.Now()
	defer func() { sc.longest = max(sc.longest, time.Since(began)) }()
	return sc.s.viewCommitted(fn)
}

// account adds n bytes read and sleeps, on the context, until the rate
// allows the next chunk.
func (sc *scrubber) account(n int64) error {
	sc.read += n
	sc.s.integ.mu.Lock()
	sc.s.integ.cur.CheckedBytes = sc.read
	sc.s.integ.mu.Unlock()
	if err := sc.ctx.Err(); err != nil {
		return err
	}
	if sc.rate <= 0 {
		return nil
	}
	due := sc.paced.Add(time.Duration(float64(sc.read-sc.pacedFrom) / float64(sc.rate) * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-sc.ctx.Done():
		return sc.ctx.Err()
	case <-t.C:
		return nil
	}
}

// report records err, found at key k of bucket, as damage: the record a
// checkValue refusal names if it names one, else bucket and k.
func (sc *scrubber) report(bucket, k []byte, err error, money bool) {
	d := Damage{Bucket: string(bucket), Key: hex.EncodeToString(k), Err: err.Error(), Money: money}
	var re *recordError
	if errors.As(err, &re) {
		d.Bucket, d.Key = re.bucket, hex.EncodeToString([]byte(re.key))
	}
	sc.s.damage(d)
}

// entryCheck checks one entry (k, v) of a bucket in tx; an error is damage.
type entryCheck func(tx *bbolt.Tx, k, v []byte) error

func crcOnly(_ *bbolt.Tx, _, _ []byte) error { return nil } // walk checks every CRC

// entryChecks are the second part's checks of one entry beyond its CRC,
// for the buckets that grow with every payment: verify's checkIndexes,
// split so that they run a chunk at a time, not in the last long read
// transaction.
var entryChecks = map[string]entryCheck{
	string(bucketBySender): func(tx *bbolt.Tx, k, v []byte) error {
		return checkSenderIndexEntry(tx, senderNonceKeyLen, k, v)
	},
	string(bucketBySeq): func(tx *bbolt.Tx, k, v []byte) error {
		return checkIndexEntry(tx.Bucket(bucketPayments), bucketBySeq, 8, k, v)
	},
	// A request decodes and its shared part is stored: one whose part is
	// lost would be served, or its receipt printed, with another's.
	string(bucketRequests): func(tx *bbolt.Tx, k, v []byte) error {
		body, err := checkValue(bucketRequests, k, v)
		if err != nil {
			return err
		}
		r, err := decodeRequest(k, body)
		if err != nil {
			return err
		}
		if r.shared == 0 {
			return nil
		}
		if b := tx.Bucket(bucketDocShared); b == nil || r.shared > b.Sequence() {
			return fmt.Errorf("bucket %s: request %q names shared part %d, beyond those issued: %w", bucketRequests, k, r.shared, ErrCorrupt)
		}
		_, err = docShared(tx, r.shared)
		return err
	},
}

// maxLayoutKey bounds every key the layout writes (the longest, a
// pending amount's, is under 300 bytes; a client name or an event sink's
// is bounded by its own rules well below): a longer one is damage.
const maxLayoutKey = 1024

// senderNonceKeyLen is a by_sender_nonce key's length: chain, sender, nonce.
const senderNonceKeyLen = 8 + common.AddressLength + 8

// walk checks every entry of bucket, a chunk per read transaction, each
// value's CRC first, then check. A chunk whose read fails (a page damaged
// in its structure faults or panics) is reported and ends the bucket's
// walk: the B+tree cannot be followed past it.
func (sc *scrubber) walk(bucket []byte, money bool, check entryCheck) error {
	var after []byte
	for started := false; ; started = true {
		var last []byte
		var n, size int
		done := false
		err := sc.view(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucket)
			if b == nil {
				done = true
				return nil
			}
			c := b.Cursor()
			k, v := c.First()
			if started {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			if started && k != nil && bytes.Compare(k, after) <= 0 {
				// A damaged branch page: the tree is out of order here,
				// and resuming could walk in circles.
				sc.unreadable = true
				sc.report(bucket, after, fmt.Errorf("bucket %s: after key %x the next is %x: keys out of order: %w", bucket, after, k, ErrCorrupt), true)
				done = true
				return nil
			}
			for ; k != nil; k, v = c.Next() {
				n++
				if len(k) > maxLayoutKey {
					// No key the layout writes is this long: the element's
					// length is damaged, and the tree is not followed past
					// it (nor its pages accounted: bboltCheck).
					sc.unreadable = true
					sc.report(bucket, k[:16], fmt.Errorf("bucket %s: a key of %d bytes after %x; the layout's are at most %d: %w", bucket, len(k), after, maxLayoutKey, ErrCorrupt), true)
					done = true
					return nil
				}
				size += len(k) + len(v)
				last = append(last[:0], k...) // every byte read here, where a fault is recovered
				if v == nil {
					sc.report(bucket, k, fmt.Errorf("bucket %s: key %q is a nested bucket; the layout has none: %w", bucket, k, ErrCorrupt), money)
				} else if body, err := checkValue(bucket, k, v); err != nil {
					sc.report(bucket, k, err, money)
				} else if err := check(tx, k, v); err != nil {
					sc.report(bucket, k, err, money)
				} else {
					size += namedRecordLen(tx, bucket, k, body)
				}
				if n >= scrubChunkKeys || size >= scrubChunkBytes {
					return nil
				}
			}
			done = true
			return nil
		})
		if errors.Is(err, ErrClosed) {
			return err
		}
		if err != nil {
			// The tree itself is damaged (a fault or a panic following
			// it): not one record's damage, whatever the bucket.
			sc.unreadable = true
			sc.report(bucket, after, fmt.Errorf("bucket %s after key %x: %w", bucket, after, err), true)
			done = true
		}
		if h := sc.s.integ.afterChunk; h != nil {
			h(bucket, size)
		}
		if err := sc.account(int64(size)); err != nil {
			return err
		}
		if done {
			return nil
		}
		if started && bytes.Compare(last, after) <= 0 {
			sc.unreadable = true
			sc.report(bucket, after, fmt.Errorf("bucket %s: a chunk after key %x ended at %x: keys out of order: %w", bucket, after, last, ErrCorrupt), true)
			return nil
		}
		after = last
	}
}

// namedRecordLen is the length of the payment record an entry's check
// read besides the entry (an index naming a payment by its hash, or
// queued by its Seq), so that the rate counts what the scrub reads: a
// record is several times its index entry. 0 for other buckets.
func namedRecordLen(tx *bbolt.Tx, bucket, k, body []byte) int {
	switch string(bucket) {
	case string(bucketUnfinal), string(bucketBySeq), string(bucketFailuresOpen):
	case string(bucketBySender), string(bucketOpen): // by_sender_nonce names it (senderValueHash, openHash)
		h, err := senderHash(tx, k)
		if err != nil {
			return 0
		}
		body = h
	case string(bucketQueued):
		if len(k) != 16 {
			return 0
		}
		h := tx.Bucket(bucketBySeq).Get(k[8:])
		if len(h) < crcLen {
			return 0
		}
		body = h[:len(h)-crcLen]
	default:
		return 0
	}
	return len(tx.Bucket(bucketPayments).Get(body))
}

// moneyIndex is an index naming open payments (or what settles them),
// with the check of one of its entries.
type moneyIndex struct {
	bucket []byte
	check  entryCheck
}

// moneyIndexes are walked first, in this order. Each check is the one
// Open's full verify makes of that index's entries (checkIndexes,
// checkUnfinal, checkAuthorizations, countChainUnfinal, checkRelay,
// checkFailures), for one entry.
var moneyIndexes = []moneyIndex{
	{bucketOpen, func(tx *bbolt.Tx, k, v []byte) error {
		return checkSenderNonceEntry(tx, bucketOpen, k, v, PaymentState.unsettled)
	}},
	{bucketUnfinal, func(tx *bbolt.Tx, k, v []byte) error {
		return checkSenderNonceEntry(tx, bucketUnfinal, k, v, PaymentState.unfinal)
	}},
	{bucketAuthOpen, func(tx *bbolt.Tx, k, v []byte) error {
		return checkAuthSeqEntry(tx, bucketAuthOpen, k, v, PaymentState.unsettled)
	}},
	{bucketAuthUnfinal, func(tx *bbolt.Tx, k, v []byte) error {
		return checkAuthSeqEntry(tx, bucketAuthUnfinal, k, v, PaymentState.unfinal)
	}},
	{bucketQueued, checkQueuedEntry},
	{bucketChainUnfinal, checkChainUnfinalEntry},
	{bucketRelayLive, checkRelayLiveEntry},
	{bucketFailuresOpen, checkFailureOpenEntry},
}

func isMoneyIndex(name []byte) bool {
	for _, ix := range moneyIndexes {
		if bytes.Equal(ix.bucket, name) {
			return true
		}
	}
	return false
}

// moneyBucket reports whether damage in bucket, found in the scrub's
// second part, is in what matters to money: the counts and sums the till
// decides by, the pending requests' indexes, the clients and the fleet
// bucket (Open checked them all; damage there is new). A damaged payment
// or request record met there is not: every open payment was read in the
// first part, so one found now is settled history (or a record written
// after it, found by its own read).
func moneyBucket(name []byte) bool {
	for _, b := range [][]byte{bucketCounts, bucketUnsettled, bucketRequestExpiry, bucketAmounts, bucketClients, bucketFleet, bucketAuthPayer, bucketDocShared, bucketDocSharedIDs} {
		if bytes.Equal(b, name) {
			return true
		}
	}
	return false
}

// checkSenderNonceEntry: an open or unfinal entry names a handed-over
// payment in a state of its index, at its own chain, sender and nonce.
func checkSenderNonceEntry(tx *bbolt.Tx, bucket, k, v []byte, in func(PaymentState) bool) error {
	p, err := indexedPayment(tx, bucket, k, v)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, err)
	}
	if p.Source != SourceHandover || !in(p.State) || !bytes.Equal(k, senderNonceKey(p.ChainID, p.From, p.Nonce)) {
		return fmt.Errorf("bucket %s: key %x names payment %s (%s, %s) from %s nonce %d: %w", bucket, k, p.TxHash, p.Source, p.State, p.From, p.Nonce, ErrCorrupt)
	}
	return nil
}

// checkAuthSeqEntry: an auth_open or auth_unfinal entry names an
// authorization in a state of its index, at its own chain and Seq.
func checkAuthSeqEntry(tx *bbolt.Tx, bucket, k, v []byte, in func(PaymentState) bool) error {
	p, err := indexedPayment(tx, bucket, k, v)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, err)
	}
	if p.Source != SourceAuthorization || !in(p.State) || !bytes.Equal(k, chainKey(p.ChainID, seqKey(p.Seq))) {
		return fmt.Errorf("bucket %s: key %x names authorization %s (%s, %s, seq %d): %w", bucket, k, p.TxHash, p.Source, p.State, p.Seq, ErrCorrupt)
	}
	return nil
}

// checkChainUnfinalEntry: a chain_unfinal entry names a chain payment,
// seen or confirmed, at its own chain and block.
func checkChainUnfinalEntry(tx *bbolt.Tx, k, v []byte) error {
	p, err := indexedPayment(tx, bucketChainUnfinal, k, v)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucketChainUnfinal, err)
	}
	want := chainKey(p.ChainID, append(seqKey(p.Delivery.Block), p.TxHash[:]...))
	if p.Source != SourceChain || p.State != PaymentSeen && p.State != PaymentConfirmed || !bytes.Equal(k, want) {
		return fmt.Errorf("bucket %s: key %x names payment %s (%s, %s, block %d): %w", bucketChainUnfinal, k, p.TxHash, p.Source, p.State, p.Delivery.Block, ErrCorrupt)
	}
	return nil
}

// checkRelayLiveEntry: a relay_live entry names its journal row, live, of
// the authorization it names, and that authorization is stored.
func checkRelayLiveEntry(tx *bbolt.Tx, k, v []byte) error {
	id, err := checkValue(bucketRelayLive, k, v)
	if err != nil {
		return err
	}
	body, err := getChecked(tx, bucketRelayTxs, k)
	if err != nil {
		return err
	}
	if body == nil {
		return fmt.Errorf("bucket %s: key %x names no journal row: %w", bucketRelayLive, k, ErrCorrupt)
	}
	t, err := decodeRelayTx(body)
	if err != nil {
		return fmt.Errorf("bucket %s: key %x: %w", bucketRelayTxs, k, err)
	}
	if !t.State.live() || !bytes.Equal(id, t.AuthID[:]) {
		return fmt.Errorf("bucket %s: key %x names 0x%x, the row is %s of authorization %s: %w", bucketRelayLive, k, id, t.State, t.AuthID, ErrCorrupt)
	}
	p, err := paymentByHash(tx, id)
	if err != nil {
		return fmt.Errorf("bucket %s: key %x: %w", bucketRelayLive, k, err)
	}
	if p.Source != SourceAuthorization {
		return fmt.Errorf("bucket %s: key %x names payment %s of source %s: %w", bucketRelayLive, k, p.TxHash, p.Source, ErrCorrupt)
	}
	return nil
}

// checkFailureOpenEntry: a failures_open entry names its failure, not
// acknowledged, whose payment it names.
func checkFailureOpenEntry(tx *bbolt.Tx, k, v []byte) error {
	h, err := checkValue(bucketFailuresOpen, k, v)
	if err != nil {
		return err
	}
	if len(k) != 8 {
		return fmt.Errorf("bucket %s: key %x: %w", bucketFailuresOpen, k, ErrCorrupt)
	}
	fl, err := failureAt(tx, binary.BigEndian.Uint64(k))
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucketFailuresOpen, err)
	}
	if fl.Acked() || !bytes.Equal(h, fl.Payment.TxHash[:]) || fl.Payment.State != PaymentFailed {
		return fmt.Errorf("bucket %s: failure %d (acknowledged %v, payment %s %s) out of step with its open entry: %w", bucketFailuresOpen, fl.ID, fl.Acked(), fl.Payment.TxHash, fl.Payment.State, ErrCorrupt)
	}
	return nil
}

// counts checks, in one read transaction that reads the money indexes'
// keys only, that the counts agree with them: queued and broadcast
// payments are the open and auth_open entries, confirmed ones the
// unfinal, auth_unfinal and confirmed chain_unfinal entries, seen ones
// the rest of chain_unfinal; auth_open and auth_payer hold as many.
func (sc *scrubber) counts() error {
	var size int64
	err := sc.view(func(tx *bbolt.Tx) error {
		keys := func(name []byte) uint64 {
			var n uint64
			c := tx.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				n++
				size += int64(len(k) + len(v))
			}
			return n
		}
		bad := func(format string, args ...any) {
			sc.report(bucketCounts, nil, fmt.Errorf(format+": %w", append(args, ErrCorrupt)...), true)
		}
		open, authOpen, authPayer := keys(bucketOpen), keys(bucketAuthOpen), keys(bucketAuthPayer)
		unfinal, authUnfinal := keys(bucketUnfinal), keys(bucketAuthUnfinal)
		var chainConfirmed, chainSeen uint64
		c := tx.Bucket(bucketChainUnfinal).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			size += int64(len(k) + len(v))
			p, err := indexedPayment(tx, bucketChainUnfinal, k, v)
			if err != nil {
				continue // reported by the walk
			}
			switch p.State {
			case PaymentConfirmed:
				chainConfirmed++
			case PaymentSeen:
				chainSeen++
			}
		}
		count := func(state PaymentState) (uint64, bool) {
			n, err := readCount(tx, state)
			if err != nil {
				sc.report(bucketCounts, []byte(state), err, true)
				return 0, false
			}
			return n, true
		}
		if q, ok := count(PaymentQueued); ok {
			if b, ok := count(PaymentBroadcast); ok && q+b != open+authOpen {
				bad("%d payments queued and %d broadcast, but the open indexes hold %d and %d", q, b, open, authOpen)
			}
			if queued := keys(bucketQueued); q != queued {
				bad("%d payments queued, but %s holds %d", q, bucketQueued, queued)
			}
		}
		if n, ok := count(PaymentConfirmed); ok && n != unfinal+authUnfinal+chainConfirmed {
			bad("%d payments confirmed, but the unfinal indexes hold %d, %d and %d chain payments", n, unfinal, authUnfinal, chainConfirmed)
		}
		if n, ok := count(PaymentSeen); ok && n != chainSeen {
			bad("%d payments seen, but %s holds %d", n, bucketChainUnfinal, chainSeen)
		}
		if authOpen != authPayer {
			bad("bucket %s holds %d, %s %d", bucketAuthOpen, authOpen, bucketAuthPayer, authPayer)
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return err
	}
	if err != nil {
		sc.report(bucketCounts, nil, err, true)
	}
	return sc.account(size)
}

// finalCheck is one of verify's cross-index checks, with whether a
// failure of it is in what matters to money.
type finalCheck struct {
	name  string
	money bool
	run   func(tx *bbolt.Tx) error
}

// finalChecks are verify's cross-index checks (the file is at this
// build's schema: 13 on). Their money flag is false where the first part
// already checked, entry by entry, the money indexes the check covers
// (open, unfinal, relay_live): what is left for them to find is history
// (a by_sender_nonce entry of a pruned payment, a settled authorization's
// journal), and a damaged settled record they trip on must not stop sales.
var finalChecks = []finalCheck{
	// checkIndexes' entries were checked a chunk at a time (entryChecks
	// and the first part); its one seek is left.
	{"seq", true, checkSeqSequence},
	{"unfinal", false, func(tx *bbolt.Tx) error { return checkUnfinal(tx, true, true) }},
	{"chain", false, func(tx *bbolt.Tx) error { return checkChain(tx, true, true) }},
	{"relay", false, checkRelay},
	{"failures", false, checkFailures},
	{"zreports", false, checkZs},
	{"events", false, checkEvents},
	{"webhooks", false, checkWebhooks},
	{"bounded", false, func(tx *bbolt.Tx) error { return checkBounded(tx, true) }},
	{"chain_keys", true, checkChainKeys},
}

// final runs verify's cross-index checks in one read transaction (they
// compare whole indexes with each other, so they need one state), then
// the page accounting (bboltCheck). A check that fails on a record the walks
// already reported adds nothing; one that fails otherwise is reported
// under "check:<name>". Its reads are accounted as the file's size.
func (sc *scrubber) final() error {
	var size int64
	err := sc.view(func(tx *bbolt.Tx) error {
		size = tx.Size()
		for _, c := range finalChecks {
			if sc.ctx.Err() != nil {
				return nil
			}
			if err := c.run(tx); err != nil {
				sc.report([]byte("check:"+c.name), nil, err, c.money)
			}
		}
		return nil
	})
	if errors.Is(err, ErrClosed) {
		return err
	}
	if err != nil {
		sc.report([]byte("check:indexes"), nil, err, false)
	}
	if err := sc.ctx.Err(); err != nil {
		return err
	}
	if err := sc.bboltCheck(); err != nil {
		return err
	}
	return sc.account(size)
}

// bboltCheck accounts for every page of the file (txProblems) in the
// committer, in a write transaction that writes nothing: writes wait for
// it (the scrub logs how long: "bbolt_check"). Not in a read transaction
// beside the writes: Tx.Page reads the live freelist, whose maps a
// committing write changes, and bbolt then dies with a concurrent map
// access no recover catches. The committer's faults on a damaged page
// are recovered (SetPanicOnFault).
//
// Not bbolt's tx.Check: it walks the pages in a goroutine of its own,
// where a fault on a damaged element (a key's position or length off the
// mmap, which the walks need not touch) kills the process; the corrupt
// harness saw posd die so, in 3 cases of 4,400. Nor once a walk could not
// read a chunk or found the keys out of order: Stats follows the tree's
// page ids with no guard against a cycle.
func (sc *scrubber) bboltCheck() error {
	if sc.unreadable {
		return nil
	}
	var problems []string
	began := time.Now()
	if sc.s.closed.Load() {
		return sc.bboltFailed(ErrClosed)
	}
	// In a transaction holding no journaled accept: the accounting
	// reads the pages as committed.
	err := sc.s.c.doClean(sc.ctx, func(w *wtx) error {
		problems = txProblems(w.tx)
		return nil
	})
	if err != nil {
		return sc.bboltFailed(err)
	}
	sc.bboltTook = time.Since(began)
	sc.bboltReport(problems)
	return nil
}

func txProblems(tx *bbolt.Tx) []string {
	ps := int64(tx.DB().Info().PageSize)
	high := tx.Size() / ps
	all := tx.Cursor().Bucket().Stats() // the root and every bucket in it
	tree := int64(all.BranchPageN + all.BranchOverflowN + all.LeafPageN + all.LeafOverflowN)
	var meta, freelist, free int64
	for id := int64(0); id < high; {
		p, err := tx.Page(int(id))
		if err != nil {
			return []string{fmt.Sprintf("page %d: %v", id, err)}
		}
		if p == nil {
			break
		}
		n := int64(1)
		switch p.Type {
		case "meta":
			meta++
		case "freelist":
			n += int64(p.OverflowCount)
			freelist += n
		case "free":
			free++
		default: // branch, leaf: the tree's, counted by Stats
			n += int64(p.OverflowCount)
		}
		id += n
	}
	got := tree + meta + freelist + free
	switch {
	case got > high:
		return []string{fmt.Sprintf("%d pages below the high-water mark, but the tree holds %d, the freelist %d in %d pages, meta %d: %d counted twice (a free page still in the tree, or a page in two)",
			high, tree, free, freelist, meta, got-high)}
	case got < high:
		return []string{fmt.Sprintf("%d pages below the high-water mark, but the tree holds %d, the freelist %d in %d pages, meta %d: %d in neither (lost)",
			high, tree, free, freelist, meta, high-got)}
	}
	return nil
}

func (sc *scrubber) bboltReport(problems []string) {
	if len(problems) > 0 {
		sc.report([]byte("check:bbolt"), nil, fmt.Errorf("page accounting: %s: %w", strings.Join(problems, "; "), ErrCorrupt), true)
	}
}

// bboltFailed reports a check that could not run (a fault reading a
// page: damage) and passes on the store closing or ctx ending.
func (sc *scrubber) bboltFailed(err error) error {
	if errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	sc.report([]byte("check:bbolt"), nil, err, true)
	return nil
}
