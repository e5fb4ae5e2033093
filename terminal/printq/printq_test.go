package printq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"showpos/device"
)

// printer is a hand-written device.Printer whose state a test sets: it
// refuses as a real driver does, and records what it printed.
type printer struct {
	mu       sync.Mutex
	state    device.PrinterStatus
	gone     bool
	hang     bool // Print waits for its context to end
	printed  []string
	attempts int
}

var errUnprintable = errors.New("bad job")

func (p *printer) String() string { return "test printer" }
func (p *printer) Columns() int   { return 32 }
func (p *printer) Halt() error    { return nil }

func (p *printer) set(f func(p *printer)) {
	p.mu.Lock()
	f(p)
	p.mu.Unlock()
}

func (p *printer) Status(ctx context.Context) (device.PrinterStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone {
		return device.PrinterStatus{}, device.ErrPrinterGone
	}
	return p.state, nil
}

func (p *printer) Print(ctx context.Context, job device.PrintJob) error {
	p.mu.Lock()
	p.attempts++
	hang := p.hang
	p.mu.Unlock()
	if hang {
		<-ctx.Done()
		return fmt.Errorf("print: %w", ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.gone:
		return fmt.Errorf("escpos: %w", device.ErrPrinterGone)
	case p.state.PaperOut:
		return fmt.Errorf("escpos: %w", device.ErrPaperOut)
	case p.state.CoverOpen:
		return fmt.Errorf("escpos: %w", device.ErrCoverOpen)
	case job.Lines[0].Text == "unprintable":
		return errUnprintable
	}
	p.printed = append(p.printed, job.Lines[0].Text)
	return nil
}

func (p *printer) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.printed)
}

func job(name string) device.PrintJob {
	return device.PrintJob{Lines: []device.PrintLine{{Text: name}}}
}

// outcomes records OnOutcome's calls.
type outcomes struct {
	mu  sync.Mutex
	all []string
}

func (o *outcomes) add(s string) { o.mu.Lock(); o.all = append(o.all, s); o.mu.Unlock() }
func (o *outcomes) count(s string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, x := range o.all {
		if x == s {
			n++
		}
	}
	return n
}

// start runs a queue on p until the test ends.
func start(t *testing.T, p *printer, capacity int) (*Queue, *outcomes) {
	t.Helper()
	return startWith(t, p, capacity, 20*time.Millisecond)
}

// startOn runs a queue on a real driver until the test ends.
func startOn(t *testing.T, p device.Printer) (*Queue, *outcomes) {
	t.Helper()
	return startWith(t, p, 16, 10*time.Second)
}

func startWith(t *testing.T, p device.Printer, capacity int, printTimeout time.Duration) (*Queue, *outcomes) {
	t.Helper()
	out := &outcomes{}
	q, err := New(Options{Printer: p, Capacity: capacity, Retry: time.Millisecond, Poll: time.Millisecond,
		PrintTimeout: printTimeout, OnOutcome: out.add})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return q, out
}

// eventually waits for cond, failing the test after 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestJobsPrintInOrder(t *testing.T) {
	p := &printer{state: device.PrinterStatus{Online: true}}
	q, _ := start(t, p, 16)
	for _, n := range []string{"a", "b", "c", "d"} {
		q.Submit(job(n))
	}
	eventually(t, "four jobs", func() bool { return len(p.got()) == 4 })
	if got := p.got(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("printed %v", got)
	}
	if s := q.Status(); s.Printed != 4 || s.Queued != 0 || !s.Online || s.LastError != "" || s.Printer != "test printer" {
		t.Fatalf("status %+v", s)
	}
}

func TestAJobTheFailedPrinterRefusedPrintsWhenItIsBack(t *testing.T) {
	for _, c := range []struct {
		name    string
		fail    func(p *printer)
		fix     func(p *printer)
		outcome string
		shows   func(s Status) bool
	}{
		{"paper out", func(p *printer) { p.state.PaperOut = true }, func(p *printer) { p.state.PaperOut = false }, "paper_out",
			func(s Status) bool { return s.PaperOut && !s.Online }},
		{"cover open", func(p *printer) { p.state.CoverOpen = true }, func(p *printer) { p.state.CoverOpen = false }, "cover_open",
			func(s Status) bool { return s.CoverOpen && !s.Online }},
		{"not answering", func(p *printer) { p.gone = true }, func(p *printer) { p.gone = false }, "gone",
			func(s Status) bool { return !s.Online }},
		// It answers status queries but never takes the job: each attempt
		// times out and the job stays.
		{"hanging", func(p *printer) { p.hang = true }, func(p *printer) { p.hang = false }, "gone",
			func(s Status) bool { return true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &printer{state: device.PrinterStatus{Online: true}}
			p.set(c.fail)
			if c.name == "hanging" {
				p.state.Online = true // it says it is fine, then never takes the job
			}
			q, out := start(t, p, 16)
			q.Submit(job("first"))
			eventually(t, "the refusal", func() bool { return out.count(c.outcome) > 0 })
			q.Submit(job("second"))
			s := q.Status()
			if !c.shows(s) || s.Queued != 2 || s.LastError == "" || s.Printed != 0 {
				t.Fatalf("while the printer is down: status %+v", s)
			}
			p.set(c.fix)
			eventually(t, "both jobs", func() bool { return len(p.got()) == 2 })
			if got := p.got(); !slices.Equal(got, []string{"first", "second"}) {
				t.Fatalf("printed %v, want the kept job first", got)
			}
			eventually(t, "a clean status", func() bool {
				s := q.Status()
				return s.Online && !s.PaperOut && !s.CoverOpen && s.LastError == "" && s.Printed == 2 && s.Queued == 0
			})
			if n := out.count("printed"); n != 2 {
				t.Errorf("%d printed outcomes, want 2", n)
			}
		})
	}
}

func TestAFullQueueDropsTheOldestAndSubmitNeverBlocks(t *testing.T) {
	p := &printer{gone: true}
	q, out := start(t, p, 3)
	for i := range 100 {
		q.Submit(job(fmt.Sprint(i)))
	}
	s := q.Status()
	if s.Queued != 3 || s.Dropped != 97 || out.count("dropped") != 97 {
		t.Fatalf("status %+v, %d dropped outcomes; want 3 queued, 97 dropped", s, out.count("dropped"))
	}
	p.set(func(p *printer) { p.gone = false; p.state.Online = true })
	eventually(t, "the kept jobs", func() bool { return len(p.got()) == 3 })
	if got := p.got(); !slices.Equal(got, []string{"97", "98", "99"}) {
		t.Fatalf("printed %v, want the newest three", got)
	}
}

func TestAJobThatCanNeverPrintIsDroppedAndCounted(t *testing.T) {
	p := &printer{state: device.PrinterStatus{Online: true}}
	q, out := start(t, p, 16)
	q.Submit(job("unprintable"))
	q.Submit(job("next"))
	eventually(t, "the next job", func() bool { return len(p.got()) == 1 })
	s := q.Status()
	if s.Failed != 1 || s.Printed != 1 || out.count("failed") != 1 || p.got()[0] != "next" {
		t.Fatalf("status %+v, printed %v", s, p.got())
	}
}

func TestReprintPrintsTheLastJobAgain(t *testing.T) {
	p := &printer{state: device.PrinterStatus{Online: true}}
	q, _ := start(t, p, 16)
	if err := q.Reprint(); !errors.Is(err, ErrNothingToReprint) {
		t.Fatalf("Reprint before any job: %v", err)
	}
	q.Submit(job("a"))
	q.Submit(job("b"))
	eventually(t, "two jobs", func() bool { return len(p.got()) == 2 })
	if err := q.Reprint(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reprint", func() bool { return len(p.got()) == 3 })
	if got := p.got(); !slices.Equal(got, []string{"a", "b", "b"}) {
		t.Fatalf("printed %v", got)
	}
}

func TestAnIdlePrinterIsWatched(t *testing.T) {
	p := &printer{state: device.PrinterStatus{Online: true}}
	q, _ := start(t, p, 16)
	p.set(func(p *printer) { p.state.PaperLow = true })
	eventually(t, "paper low in status", func() bool { return q.Status().PaperLow })
	p.set(func(p *printer) { p.state = device.PrinterStatus{PaperOut: true} })
	eventually(t, "paper out in status", func() bool { s := q.Status(); return s.PaperOut && !s.Online })
	p.set(func(p *printer) { p.gone = true })
	eventually(t, "offline in status", func() bool { s := q.Status(); return !s.Online && s.LastError != "" })
	p.mu.Lock()
	n := p.attempts
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d print attempts with nothing queued", n)
	}
}

func TestNewNeedsAPrinter(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a printer succeeded")
	}
	if _, err := New(Options{Printer: &printer{}, Capacity: -1}); err == nil {
		t.Fatal("negative capacity accepted")
	}
}
