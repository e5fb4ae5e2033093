package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

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
	ctx   context.Context
	fn    func(*wtx) error
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
// it takes every op already queued behind it (up to maxBatch), runs them in
// one bbolt transaction and commits once. Ops that arrive while that commit
// (and its fsync) is in flight wait in the queue and form the next batch, so
// a lone writer pays one fsync with no added delay and N concurrent writers
// pay far fewer than N.
//
// No caller is answered before the commit that makes its answer true is
// fsynced, and that includes idempotent repeats (an Accept of a payment
// already accepted), which write nothing and so commit nothing themselves:
//   - A repeat in the same batch as the write it repeats runs after it in
//     the same transaction, and every op of a batch is answered only after
//     tx.Commit returns, i.e. after its fsyncs; so it is answered with the
//     batch.
//   - A repeat in a later batch cannot run before the earlier batch is
//     committed and fsynced: there is one committer, and it runs batches
//     one after another, beginning the next transaction only once the
//     previous commit has returned.
//
// Readers, in their own transactions, may see a commit a moment before its
// fsync completes; they acknowledge nothing.
type committer struct {
	db    *bbolt.DB
	path  string
	log   *slog.Logger
	queue chan *op

	mu     sync.RWMutex // held for reading while sending on queue; for writing to close it
	closed bool

	stopped chan struct{}
	commits atomic.Uint64 // successful bbolt commits; read by tests

	// decimals is Options.Decimals, for the events' display amounts.
	decimals  Decimals
	retention uint64 // Options.EventRetention
	// appended is closed, and replaced, after each commit that appended
	// events (Store.EventsAppended).
	appendMu sync.Mutex
	appended chan struct{}

	// beforeCommit, if set, runs in the committer just before the bbolt
	// transaction of a batch that wrote commits. Tests set it (before any
	// write they observe) to hold a commit open; nil in production.
	beforeCommit func()
}

func newCommitter(db *bbolt.DB, path string, log *slog.Logger, decimals Decimals, retention uint64) *committer {
	c := &committer{
		db: db, path: path, log: log, decimals: decimals, retention: retention, appended: make(chan struct{}),
		queue:   make(chan *op, maxBatch),
		stopped: make(chan struct{}),
	}
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
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
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

// close stops accepting ops, lets the committer finish every op already
// queued, and waits for it to exit.
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
	for {
		first, ok := <-c.queue
		if !ok {
			return
		}
		batch := []*op{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-c.queue:
				if !ok {
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

// commit runs one batch in one transaction. Every op gets exactly one
// result: its own refusal, nil after a successful commit, or the batch's
// failure.
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

// apply runs the ops and commits. It returns each op's own error, or a
// batch error that every op must get instead.
func (c *committer) apply(ops []*op) (errs []error, err error) {
	tx, err := c.db.Begin(true)
	if err != nil {
		return nil, fmt.Errorf("store %s: begin: %w", c.path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			_ = tx.Rollback()
			errs = nil
			err = fmt.Errorf("store %s: panic in transaction: %v: %w", c.path, r, ErrCorrupt)
		}
	}()
	w := &wtx{tx: tx, decimals: c.decimals, retention: c.retention}
	errs = make([]error, len(ops))
	for i, o := range ops {
		before := w.writes
		opErr := o.fn(w)
		if opErr != nil && w.writes != before {
			_ = tx.Rollback()
			return nil, fmt.Errorf("store %s: batch aborted: %w", c.path, opErr)
		}
		errs[i] = opErr
	}
	if w.writes == 0 {
		// Nothing to make durable: every op read state that an earlier,
		// already fsynced commit wrote.
		return errs, tx.Rollback()
	}
	if c.beforeCommit != nil {
		c.beforeCommit()
	}
	// Commit writes and fdatasyncs the data pages, then the meta page; no
	// op of the batch is answered before it returns.
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store %s: commit: %w", c.path, err)
	}
	c.commits.Add(1)
	if w.events > 0 {
		c.eventsAppended()
	}
	return errs, nil
}

// eventsAppended wakes every reader waiting on the current channel.
func (c *committer) eventsAppended() {
	c.appendMu.Lock()
	close(c.appended)
	c.appended = make(chan struct{})
	c.appendMu.Unlock()
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
