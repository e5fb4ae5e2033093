// Package printq is the terminal's print queue: receipts and reports wait
// here for the printer, so a sale never waits on it.
//
// One goroutine (Run, owned by its context) prints the jobs in the order
// they were submitted. Submit never blocks: the queue holds Options.Capacity
// jobs, and when it is full the oldest waiting job is dropped (counted in
// Status.Dropped and logged) to make room — the payer at the counter now
// wants the newest receipt, and the one whose payer has left can still be
// printed from its record. A job the printer refuses because it is out of
// paper, open or not answering stays at the head of the queue: the queue
// asks the printer's status every Options.Retry and prints it once the
// printer is back, then the rest. A job that can never print (a driver's
// "bad job" error) is dropped and counted as failed. Reprint queues the
// last printed job again.
//
// While nothing waits, the queue still asks the printer every
// Options.Poll, so the terminal's status shows paper out, paper low or the
// cover open before the next sale.
package printq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"showpos/device"
)

// ErrNothingToReprint is returned by Reprint before any job was printed.
var ErrNothingToReprint = errors.New("printq: nothing printed yet")

// Options configures a Queue. A zero field takes DefaultOptions' value.
type Options struct {
	Printer device.Printer // required
	// Capacity is how many jobs wait at most; the oldest is dropped for a
	// new one past it.
	Capacity int
	// Retry is how often the printer is asked whether it is back while a
	// job waits on it (paper out, cover open, gone).
	Retry time.Duration
	// Poll is how often an idle printer is asked how it is, for Status.
	Poll time.Duration
	// PrintTimeout bounds one Print: a printer that takes a job this long
	// is taken as gone, and the job is tried again.
	PrintTimeout time.Duration
	// OnOutcome, if set, is called (from Run's goroutine, or Submit's for
	// "dropped") with each attempt's outcome: "printed", "paper_out",
	// "cover_open", "gone", "failed" (the job is dropped: it can never
	// print) or "dropped" (pushed out of a full queue). For metrics.
	OnOutcome func(outcome string)
	Logger    *slog.Logger
}

// DefaultOptions keep 16 jobs, retry every 2 s and look at an idle
// printer every 5 s (three one-byte status queries: a cashier who opens
// the cover sees the terminal say so at once, not at the next sale).
var DefaultOptions = Options{
	Capacity:     16,
	Retry:        2 * time.Second,
	Poll:         5 * time.Second,
	PrintTimeout: 30 * time.Second,
}

// Status is the queue and its printer as /v1/status shows them.
type Status struct {
	Printer   string `json:"printer"` // the driver and its port, e.g. "escpos(usb /dev/usb/lp0)"
	Online    bool   `json:"online"`  // it answered and can print
	PaperOut  bool   `json:"paperOut"`
	PaperLow  bool   `json:"paperLow"`
	CoverOpen bool   `json:"coverOpen"`
	Queued    int    `json:"queued"` // jobs waiting, the one being printed included
	Printed   uint64 `json:"printed"`
	Failed    uint64 `json:"failed"`  // jobs dropped because they could never print
	Dropped   uint64 `json:"dropped"` // jobs pushed out of a full queue
	// LastError is why the last attempt or status query failed, until a
	// job prints; LastErrorAt is when.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	LastPrinted time.Time `json:"lastPrinted,omitzero"`
	Checked     time.Time `json:"checked,omitzero"` // when the printer last answered or failed to
}

// Queue is the print queue. Its methods are safe for concurrent use.
type Queue struct {
	o    Options
	p    device.Printer
	log  *slog.Logger
	kick chan struct{} // a job was submitted

	mu     sync.Mutex
	jobs   []entry          // oldest first; jobs[0] is printed next
	seq    uint64           // the last entry's number
	last   *device.PrintJob // the last job printed
	status Status
}

// entry is one submission; seq tells it from an equal job submitted again.
type entry struct {
	seq uint64
	job device.PrintJob
}

// New makes a queue for o.Printer; Run prints its jobs.
func New(o Options) (*Queue, error) {
	if o.Printer == nil {
		return nil, errors.New("printq: no printer")
	}
	d := DefaultOptions
	if o.Capacity == 0 {
		o.Capacity = d.Capacity
	}
	if o.Retry == 0 {
		o.Retry = d.Retry
	}
	if o.Poll == 0 {
		o.Poll = d.Poll
	}
	if o.PrintTimeout == 0 {
		o.PrintTimeout = d.PrintTimeout
	}
	if o.Capacity < 1 || o.Retry < 0 || o.Poll < 0 || o.PrintTimeout < 0 {
		return nil, fmt.Errorf("printq: bad options (capacity %d, retry %v, poll %v, print timeout %v)",
			o.Capacity, o.Retry, o.Poll, o.PrintTimeout)
	}
	if o.OnOutcome == nil {
		o.OnOutcome = func(string) {}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Queue{o: o, p: o.Printer, log: o.Logger, kick: make(chan struct{}, 1),
		status: Status{Printer: o.Printer.String()}}, nil
}

// Submit queues job and returns at once. When the queue is full the
// oldest waiting job is dropped to make room; a job being printed at that
// moment finishes.
func (q *Queue) Submit(job device.PrintJob) {
	q.mu.Lock()
	dropped := false
	if len(q.jobs) >= q.o.Capacity {
		q.jobs = q.jobs[1:]
		q.status.Dropped++
		dropped = true
	}
	q.seq++
	q.jobs = append(q.jobs, entry{q.seq, job})
	q.mu.Unlock()
	if dropped {
		q.log.Warn("print queue full: dropped the oldest job", "capacity", q.o.Capacity)
		q.o.OnOutcome("dropped")
	}
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// Reprint queues the last printed job again, or returns
// ErrNothingToReprint.
func (q *Queue) Reprint() error {
	q.mu.Lock()
	last := q.last
	q.mu.Unlock()
	if last == nil {
		return ErrNothingToReprint
	}
	q.Submit(*last)
	return nil
}

// Status is a snapshot of the queue and what the printer last said.
func (q *Queue) Status() Status {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.status
	s.Queued = len(q.jobs)
	return s
}

// Run prints queued jobs until ctx ends; jobs still queued then are lost
// with the process (they are receipts of stored payments, printable again).
func (q *Queue) Run(ctx context.Context) {
	q.check(ctx)
	for {
		job, ok := q.head()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.kick:
			case <-time.After(q.o.Poll):
				q.check(ctx)
			}
			continue
		}
		if q.print(ctx, job) {
			continue
		}
		// The printer cannot take it now: wait until it says it can.
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(q.o.Retry):
			}
			if q.check(ctx) {
				break
			}
		}
	}
}

func (q *Queue) head() (entry, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) == 0 {
		return entry{}, false
	}
	return q.jobs[0], true
}

// pop removes e from the head, unless Submit dropped it there while it
// printed.
func (q *Queue) pop(e entry) {
	if len(q.jobs) > 0 && q.jobs[0].seq == e.seq {
		q.jobs = q.jobs[1:]
	}
}

// print tries job once. It reports whether the queue may go on at once:
// true when the job printed or was dropped as unprintable, false when the
// printer must be waited for.
func (q *Queue) print(ctx context.Context, e entry) bool {
	pctx, cancel := context.WithTimeout(ctx, q.o.PrintTimeout)
	err := q.p.Print(pctx, e.job)
	cancel()
	now := time.Now()
	if err == nil {
		q.mu.Lock()
		q.pop(e)
		q.last = &e.job
		q.status.Printed++
		q.status.LastPrinted = now
		q.status.LastError, q.status.LastErrorAt = "", time.Time{}
		q.status.Online, q.status.PaperOut, q.status.CoverOpen = true, false, false
		q.mu.Unlock()
		q.o.OnOutcome("printed")
		return true
	}
	if ctx.Err() != nil {
		return false // shutting down; the loop sees ctx
	}
	outcome := ""
	switch {
	case errors.Is(err, device.ErrPaperOut):
		outcome = "paper_out"
	case errors.Is(err, device.ErrCoverOpen):
		outcome = "cover_open"
	case errors.Is(err, device.ErrPrinterGone), errors.Is(err, context.DeadlineExceeded), errors.Is(err, device.ErrHalted):
		outcome = "gone"
	}
	q.mu.Lock()
	q.status.LastError, q.status.LastErrorAt = err.Error(), now
	switch outcome {
	case "paper_out":
		q.status.PaperOut, q.status.Online = true, false
	case "cover_open":
		q.status.CoverOpen, q.status.Online = true, false
	case "gone":
		q.status.Online = false
	default:
		q.pop(e)
		q.status.Failed++
	}
	q.mu.Unlock()
	if outcome == "" {
		q.log.Error("print job dropped: it cannot be printed", "printer", q.status.Printer, "err", err)
		q.o.OnOutcome("failed")
		return true
	}
	q.log.Warn("printer cannot print now; the job waits", "printer", q.status.Printer, "err", err)
	q.o.OnOutcome(outcome)
	return false
}

// check asks the printer how it is, records it, and reports whether it can
// print.
func (q *Queue) check(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, q.o.PrintTimeout)
	st, err := q.p.Status(cctx)
	cancel()
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.status.Checked = now
	if err != nil {
		if ctx.Err() == nil {
			q.status.Online = false
			q.status.LastError, q.status.LastErrorAt = err.Error(), now
		}
		return false
	}
	// Some printers stay "online" with the cover open until they are
	// asked to print: online here means able to print.
	ok := st.Online && !st.PaperOut && !st.CoverOpen
	q.status.Online, q.status.PaperOut, q.status.PaperLow, q.status.CoverOpen = ok, st.PaperOut, st.PaperLow, st.CoverOpen
	return ok
}
