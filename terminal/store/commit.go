package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// maxBatch caps how many operations share one bbolt transaction (one fsync).
const maxBatch = 256

// An op is one caller's unit of work. Its fn runs exactly once, inside the
// committer's write transaction, after every op before it in the batch, so it
// sees their writes. fn must do all its reads and checks before its first
// write: an fn that returns an error having written nothing is refused alone;
// one that returns an error (or panics) after writing aborts the whole batch.
type op struct {
	ctx context.Context
	fn  func(*wtx) error // nil: commit what the journal holds (committer.sync)
	// record, if set, gives (once fn has written) what runs fn's writes
	// again (Store.replay): they may then be answered once it is in the
	// journal, and wait in the open transaction for a later commit
	// (journal.go).
	record func() []byte
	key    common.Hash // with record: the payment it writes (committer.holds)
	// clean: fn needs a transaction holding no journaled writes (it
	// reads the file's pages, as the scrub's page accounting does).
	clean bool
	state atomic.Int32 // opWaiting -> opTaken (committer) or opAbandoned (caller)
	done  chan error   // buffered: the committer never blocks on a caller
}

const (
	opWaiting int32 = iota
	opTaken
	opAbandoned
)

// wtx is the write transaction as ops see it. Writes go through put and
// nextSeq so the committer knows whether, and when, an op wrote.
type wtx struct {
	tx        *bbolt.Tx
	writes    int
	events    int      // events appended (putEvent): readers are woken after the commit
	recorded  int      // journaled ops that wrote (Store.JournalCommitted is told)
	decimals  Decimals // for the events' amount_display; nil: none
	retention uint64   // Options.EventRetention (0: the default)
}

func (w *wtx) bucket(name []byte) *bbolt.Bucket { return w.tx.Bucket(name) }

func (w *wtx) put(bucket, key, value []byte) error {
	w.writes++
	b := w.tx.Bucket(bucket)
	if f := fillPercent(bucket); f != 0 {
		// The setting holds for the transaction (bbolt caches the bucket).
		b.FillPercent = f
	}
	if err := b.Put(key, value); err != nil {
		return fmt.Errorf("put %s: %w", bucket, err)
	}
	return nil
}

func (w *wtx) del(bucket, key []byte) error {
	w.writes++
	if err := w.tx.Bucket(bucket).Delete(key); err != nil {
		return fmt.Errorf("delete from %s: %w", bucket, err)
	}
	return nil
}

func (w *wtx) nextSeq(bucket []byte) (uint64, error) {
	w.writes++
	return w.tx.Bucket(bucket).NextSequence()
}

// committer is the Store's only writer. It waits for an op; when one comes
// it takes every op already queued behind it (up to maxBatch) and runs them
// in its open bbolt transaction. Then, if every op of the batch that wrote
// is journaled (an accept), their records are appended to the journal in
// one fdatasync and the transaction stays open for the next batch; else
// the transaction is committed once. Ops that arrive meanwhile wait in the
// queue and form the next batch, so a lone writer pays one sync with no
// added delay and N concurrent writers pay far fewer than N.
//
// The open transaction is committed, with every journaled write it holds,
// when the committer has been idle for flushIdle, when it holds maxHeld
// records or has held one for maxHold, when a write that is not journaled
// comes, when a reader asks (sync) and at close.
//
// No caller is answered before what makes its answer true is durable: its
// journal record fdatasynced, or its commit; and that includes idempotent
// repeats (an Accept of a payment already accepted), which write nothing
// themselves:
//   - A repeat in the same batch as the write it repeats runs after it in
//     the same transaction, and every op of a batch is answered only after
//     the batch's append or commit returns; so it is answered with the
//     batch.
//   - A repeat in a later batch cannot run before the earlier batch is
//     durable: there is one committer, and it runs batches one after
//     another, beginning the next only once the previous one's append or
//     commit has returned.
//
// Readers, in their own transactions, see what is committed: a moment
// before its fsync completes, as bbolt publishes the meta page before it
// syncs (they acknowledge nothing), and not what waits in the open
// transaction; Store.view asks for that to be committed first.
type committer struct {
	db    *bbolt.DB
	path  string
	log   *slog.Logger
	queue chan *op

	mu     sync.RWMutex // held for reading while sending on queue; for writing to close it
	closed bool

	stopped chan struct{}
	commits atomic.Uint64 // successful bbolt commits; read by tests
	appends atomic.Uint64 // successful journal appends; read by tests
	// flushes counts the commits of journaled writes by what asked for
	// each (flushIdle...): JournalStats.
	flushes [flushCauses]atomic.Uint64

	// decimals is Options.Decimals, for the events' display amounts.
	decimals  Decimals
	retention uint64 // Options.EventRetention
	// appended is closed, and replaced, after each commit that appended
	// events (Store.EventsAppended).
	appendMu sync.Mutex
	appended chan struct{}
	// took is closed, and replaced, after each commit that took held
	// journaled writes (Store.JournalCommitted); under appendMu.
	took chan struct{}

	// jr is the journal (journal.go); nil: every batch that writes is
	// committed. replay runs a record's writes again (Store.replay).
	jr     *journal
	replay func(*wtx, []byte) error
	// tx is the open transaction and w its wtx: the journaled writes since
	// the last commit, whose records are held, in order.
	tx        *bbolt.Tx
	w         *wtx
	held      [][]byte
	heldSince time.Time
	unflushed atomic.Int64 // len(held), for readers (sync)
	keysMu    sync.Mutex
	heldKeys  map[common.Hash]struct{} // the held writes' payments
	idle      *time.Timer              // idleFor after the last journaled batch
	idleFor   time.Duration            // flushIdle; tests set it (before any write) to keep writes held
	// broken is set when the held writes can be neither committed nor
	// made again in a new transaction: every op gets it from then on, and
	// the next Open replays the journal.
	broken error

	// beforeCommit, if set, runs in the committer just before a batch
	// that wrote is made durable: before its journal append, before the
	// bbolt commit. Tests set it (before any write they observe) to hold
	// a commit open; nil in production.
	beforeCommit func()
}

// What commits the journaled writes the open transaction holds.
const (
	flushOnIdle  = iota // the committer idle for idleFor
	flushOnBound        // maxHeld, maxHold, or the journal full
	flushOnRead         // a reader (sync)
	flushOnWrite        // a write that is not journaled
	flushOnClose
	flushCauses
)

const (
	// flushIdle is how long the committer waits with writes held before
	// it commits them: a payer's next payment comes seconds later, so
	// each is in the file (and its events out) a moment after its answer.
	flushIdle = 10 * time.Millisecond
	// maxHeld and maxHold bound what the open transaction holds: under a
	// stream of payments, one commit in maxHeld carries them.
	maxHeld = 256
	maxHold = 250 * time.Millisecond
)

func newCommitter(db *bbolt.DB, path string, log *slog.Logger, decimals Decimals, retention uint64, jr *journal, replay func(*wtx, []byte) error) *committer {
	c := &committer{
		db: db, path: path, log: log, decimals: decimals, retention: retention, appended: make(chan struct{}), took: make(chan struct{}),
		queue:   make(chan *op, maxBatch),
		stopped: make(chan struct{}),
		jr:      jr, replay: replay,
		idle: time.NewTimer(flushIdle), idleFor: flushIdle,
	}
	c.idle.Stop()
	go c.run()
	return c
}

// do runs fn in a durable transaction and returns its error, or the
// transaction's. A nil return means fn's writes were committed and fsynced.
//
// If ctx is done before the committer takes the op into a batch, do returns
// ctx.Err() and fn never runs. Once taken, do waits for the commit whatever
// ctx says: an error must never be returned for a write that then lands.
func (c *committer) do(ctx context.Context, fn func(*wtx) error) error {
	return c.doRecord(ctx, nil, common.Hash{}, fn)
}

// doRecord is do for a write that record runs again (Store.replay): a nil
// return means its record is in the journal, fdatasynced, or its writes
// committed.
func (c *committer) doRecord(ctx context.Context, record func() []byte, key common.Hash, fn func(*wtx) error) error {
	return c.submit(ctx, &op{ctx: ctx, fn: fn, record: record, key: key, done: make(chan error, 1)})
}

// doClean is do for an fn that reads the file's pages: the journaled
// writes held are committed before it runs.
func (c *committer) doClean(ctx context.Context, fn func(*wtx) error) error {
	return c.submit(ctx, &op{ctx: ctx, fn: fn, clean: true, done: make(chan error, 1)})
}

func (c *committer) submit(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.queue <- o:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opWaiting, opAbandoned) {
			return ctx.Err()
		}
		return <-o.done
	}
}

// sync commits what the journal holds, if anything: a read after it sees
// every write answered before it was called.
func (c *committer) sync() error {
	if c == nil || c.unflushed.Load() == 0 {
		return nil
	}
	return c.do(context.Background(), nil)
}

// readHeld runs fn, a read, in the committer's transaction, which holds
// the journaled writes: for a read when they cannot be committed (sync
// failed), so that it still sees every answered write. fn must not write.
func (c *committer) readHeld(fn func(*bbolt.Tx) error) error {
	return c.do(context.Background(), func(w *wtx) error { return fn(w.tx) })
}

// holds reports whether a held write is of the payment with hash key.
func (c *committer) holds(key common.Hash) bool {
	if c == nil || c.unflushed.Load() == 0 {
		return false
	}
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	_, ok := c.heldKeys[key]
	return ok
}

// syncs is how many times writes were made durable: commits and journal
// appends.
func (c *committer) syncs() uint64 { return c.commits.Load() + c.appends.Load() }

// close stops accepting ops, lets the committer finish every op already
// queued, commit what it holds, and waits for it to exit.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	<-c.stopped
}

func (c *committer) run() {
	defer close(c.stopped)
	// A fault reading the mmap (the file damaged after Open) becomes a panic
	// that commit recovers, not a crash of the daemon.
	debug.SetPanicOnFault(true)
	var next *op // a clean op, which runs in a batch of its own
	for {
		var idle <-chan time.Time
		if len(c.held) > 0 {
			idle = c.idle.C
		}
		first := next
		next = nil
		if first == nil {
			select {
			case o, ok := <-c.queue:
				if !ok {
					c.shut()
					return
				}
				first = o
			case <-idle:
				if err := c.flush(flushOnIdle); err != nil {
					c.log.Error("store commit of journaled writes failed", "path", c.path, "held", len(c.held), "err", err)
				}
				continue
			}
		}
		batch := []*op{first}
	drain:
		for len(batch) < maxBatch && !first.clean {
			select {
			case o, ok := <-c.queue:
				if !ok {
					break drain
				}
				if o.clean {
					next = o
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		c.commit(batch)
	}
}

// shut commits what is held and closes the journal: the queue is closed.
func (c *committer) shut() {
	if err := c.flush(flushOnClose); err != nil {
		c.log.Error("store commit of journaled writes at close failed: the next open replays them", "path", c.path, "held", len(c.held), "err", err)
	}
	if c.tx != nil {
		_ = c.tx.Rollback()
		c.tx, c.w = nil, nil
	}
	if c.jr != nil {
		if err := c.jr.close(); err != nil {
			c.log.Error("store journal close failed", "path", c.path, "err", err)
		}
	}
}

// commit runs one batch. Every op gets exactly one result: its own
// refusal, nil once durable, or the batch's failure.
func (c *committer) commit(batch []*op) {
	taken := batch[:0]
	for _, o := range batch {
		if !o.state.CompareAndSwap(opWaiting, opTaken) {
			continue // the caller gave up; its fn never runs
		}
		if err := o.ctx.Err(); err != nil {
			o.done <- err
			continue
		}
		taken = append(taken, o)
	}
	if len(taken) == 0 {
		return
	}
	if c.broken != nil {
		for _, o := range taken {
			o.done <- c.broken
		}
		return
	}
	errs, err := c.apply(taken)
	if err != nil {
		c.log.Error("store batch failed", "path", c.path, "ops", len(taken), "err", err)
		for _, o := range taken {
			o.done <- err
		}
		return
	}
	for i, o := range taken {
		o.done <- errs[i]
	}
}

// apply runs the ops in the open transaction (begun if none is), then
// journals or commits. It returns each op's own error, or a batch error
// that every op must get instead.
func (c *committer) apply(ops []*op) (errs []error, err error) {
	if len(c.held) > 0 && slices.ContainsFunc(ops, func(o *op) bool { return o.clean }) {
		if err := c.flush(flushOnWrite); err != nil {
			return nil, err
		}
	}
	if c.tx == nil {
		tx, err := c.db.Begin(true)
		if err != nil {
			return nil, fmt.Errorf("store %s: begin: %w", c.path, err)
		}
		c.tx, c.w = tx, &wtx{tx: tx, decimals: c.decimals, retention: c.retention}
	}
	w := c.w
	defer func() {
		if r := recover(); r != nil {
			c.remake()
			errs = nil
			err = fmt.Errorf("store %s: panic in transaction: %v: %w", c.path, r, ErrCorrupt)
		}
	}()
	errs = make([]error, len(ops))
	var (
		records [][]byte
		keys    []common.Hash
	)
	mustCommit, cause := false, flushOnBound
	for i, o := range ops {
		if o.fn == nil {
			mustCommit, cause = true, flushOnRead
			continue
		}
		before := w.writes
		opErr := o.fn(w)
		if w.writes == before {
			errs[i] = opErr
			continue
		}
		if opErr != nil {
			c.remake()
			return nil, fmt.Errorf("store %s: batch aborted: %w", c.path, opErr)
		}
		if o.record == nil || c.jr == nil {
			mustCommit, cause = true, flushOnWrite
		} else {
			records, keys = append(records, o.record()), append(keys, o.key)
			w.recorded++
		}
	}
	if w.writes == 0 {
		// Nothing to make durable: every op read state that an earlier,
		// already fsynced commit wrote.
		_ = c.tx.Rollback()
		c.tx, c.w = nil, nil
		return errs, nil
	}
	if !mustCommit && (len(records) == 0 || c.journaled(records, keys)) {
		// Read only, over writes already journaled; or journaled now.
		return errs, nil
	}
	return errs, c.flush(cause)
}

// journaled appends records to the journal and holds their writes in the
// open transaction, if the bounds allow and the append succeeds.
func (c *committer) journaled(records [][]byte, keys []common.Hash) bool {
	if len(c.held)+len(records) > maxHeld || (len(c.held) > 0 && time.Since(c.heldSince) >= maxHold) {
		return false
	}
	if c.beforeCommit != nil {
		c.beforeCommit()
	}
	if err := c.jr.append(records); err != nil {
		if !errors.Is(err, errJournalFull) {
			c.log.Warn("store journal append failed: committing instead", "path", c.path, "err", err)
		}
		return false
	}
	c.appends.Add(1)
	if len(c.held) == 0 {
		c.heldSince = time.Now()
	}
	c.held = append(c.held, records...)
	c.keysMu.Lock()
	if c.heldKeys == nil {
		c.heldKeys = make(map[common.Hash]struct{})
	}
	for _, k := range keys {
		c.heldKeys[k] = struct{}{}
	}
	c.keysMu.Unlock()
	c.unflushed.Store(int64(len(c.held)))
	c.idle.Reset(c.idleFor)
	return true
}

// flush commits the open transaction, recording the last journal record
// it holds in the meta bucket, and starts the journal over.
func (c *committer) flush(cause int) error {
	if c.tx == nil {
		return nil
	}
	if len(c.held) > 0 {
		c.flushes[cause].Add(1)
	}
	took := c.w.recorded > 0 // held, or journaled writes committed at once
	if c.jr != nil && c.jr.last() > c.jr.committed {
		if err := c.w.putChecked(bucketMeta, keyJournal, seqKey(c.jr.last())); err != nil {
			c.remake()
			return fmt.Errorf("store %s: %w", c.path, err)
		}
	}
	if c.beforeCommit != nil {
		c.beforeCommit()
	}
	events := c.w.events
	// Commit writes and fdatasyncs the data pages, then the meta page; no
	// op of the batch is answered before it returns.
	err := c.tx.Commit()
	c.tx, c.w = nil, nil
	if err != nil {
		// bbolt rolled it back: the held writes are made again.
		c.remake()
		return fmt.Errorf("store %s: commit: %w", c.path, err)
	}
	c.commits.Add(1)
	if c.jr != nil {
		c.jr.restart()
	}
	c.held = nil
	c.keysMu.Lock()
	clear(c.heldKeys)
	c.keysMu.Unlock()
	c.unflushed.Store(0)
	c.idle.Stop()
	if events > 0 {
		c.eventsAppended()
	}
	if took {
		c.appendMu.Lock()
		close(c.took)
		c.took = make(chan struct{})
		c.appendMu.Unlock()
	}
	return nil
}

// remake drops the open transaction and makes the held writes again in a
// new one from their records: a batch failed. A failed append's records
// are zeroed first, so no Open runs them. If either fails the committer is
// broken: the journal holds every answered write, for the next Open.
func (c *committer) remake() {
	if c.tx != nil {
		_ = c.tx.Rollback()
		c.tx, c.w = nil, nil
	}
	if c.jr == nil {
		return
	}
	if err := c.jr.forget(); err != nil {
		c.breaks(err)
		return
	}
	if len(c.held) == 0 {
		return
	}
	tx, err := c.db.Begin(true)
	if err != nil {
		c.breaks(fmt.Errorf("begin: %w", err))
		return
	}
	w := &wtx{tx: tx, decimals: c.decimals, retention: c.retention, recorded: len(c.held)}
	if err := c.replayAll(w, c.held); err != nil {
		_ = tx.Rollback()
		c.breaks(err)
		return
	}
	c.tx, c.w = tx, w
	// Committed by the next try: an idle commit that failed (a full
	// disk) is not left to a write or a read that may not come.
	c.idle.Reset(time.Second)
}

// replayAll runs records' writes again in w, recovering a fault.
func (c *committer) replayAll(w *wtx, records [][]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v: %w", r, ErrCorrupt)
		}
	}()
	for i, rec := range records {
		if err := c.replay(w, rec); err != nil {
			return fmt.Errorf("journal record %d of %d: %w", i+1, len(records), err)
		}
	}
	return nil
}

func (c *committer) breaks(err error) {
	c.broken = fmt.Errorf("store %s: the journaled writes cannot be made again until it is opened again: %w", c.path, err)
	c.log.Error("store out of service", "path", c.path, "held", len(c.held), "err", err)
}

// eventsAppended wakes every reader waiting on the current channel.
func (c *committer) eventsAppended() {
	c.appendMu.Lock()
	close(c.appended)
	c.appended = make(chan struct{})
	c.appendMu.Unlock()
}

func (c *committer) tookChan() <-chan struct{} {
	c.appendMu.Lock()
	defer c.appendMu.Unlock()
	return c.took
}

func (c *committer) appendedChan() <-chan struct{} {
	c.appendMu.Lock()
	defer c.appendMu.Unlock()
	return c.appended
}

// fillPercent is how full bbolt fills a page of bucket when it splits it
// (0: bbolt's default, half). A half-full page left behind is filled again
// only by keys that sort into it: by_seq was half empty.
//   - A bucket whose keys only grow (appendOnly) fills its pages whole.
//   - Requests are keyed by a UUIDv7 (request.New): a new one goes at
//     or near the end. But a request's record grows when it is paid (its
//     transaction's hash), and one that grows in a whole page splits it
//     into a whole page and one with a record or two in it: at 1.0 a
//     100,000-payment fill left the bucket 64% in use. 0.9 leaves room
//     for that: 88% in use (0.85: 84%, 0.95: 86%, 0.97: 79%; random ids,
//     at bbolt's half: 67%).
func fillPercent(bucket []byte) float64 {
	switch {
	case appendOnly(bucket):
		return 1.0
	case bytes.Equal(bucket, bucketRequests):
		return 0.9
	}
	return 0
}

// appendOnly reports whether bucket's keys only ever grow (a sequence, or
// a Seq under its chain), so its pages can be filled whole: nothing is
// ever put between two keys already there.
func appendOnly(bucket []byte) bool {
	for _, b := range [][]byte{bucketBySeq, bucketQueued, bucketAuthOpen, bucketEvents, bucketUnmatched,
		bucketFailures, bucketFailuresOpen, bucketZs} {
		if bytes.Equal(b, bucket) {
			return true
		}
	}
	return false
}
