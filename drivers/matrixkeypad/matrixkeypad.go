package matrixkeypad

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"showpos/device"
	"showpos/device/clock"
)

// Opts configures the scanning.
type Opts struct {
	// Debounce is how long the rows must stay quiet after an edge before
	// the matrix is scanned. Membrane and tactile switches bounce for
	// 1–10 ms; 20 ms is a safe margin no cashier notices. 0 means 20 ms.
	Debounce time.Duration
	// ScanSettle is the wait between driving a column Low and reading the
	// rows: long enough for the pull-ups to charge the lines' capacitance
	// back (a long ribbon or weak pull-ups need more). 0 means 50 µs.
	ScanSettle time.Duration
	// EdgeTimeout bounds one WaitForEdge call, and so how long Halt takes
	// on pins whose Halt does not interrupt WaitForEdge (sysfs, fakes). Each
	// timeout costs an idle wake-up per row. 0 means 500 ms.
	EdgeTimeout time.Duration
	// Buffer is how many presses are kept while nobody calls ReadKey; a
	// press beyond it is dropped. 0 means 16.
	Buffer int
	// Sleep waits d or until ctx ends (returning ctx's error). Nil means
	// clock.Sleep, a real timer; tests pass their own to record and control
	// time.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultOpts: 20 ms debounce, 50 µs settle, 500 ms edge timeout.
var DefaultOpts = Opts{
	Debounce:    20 * time.Millisecond,
	ScanSettle:  50 * time.Microsecond,
	EdgeTimeout: 500 * time.Millisecond,
	Buffer:      16,
}

// Dev is a matrix keypad. It is safe for concurrent use.
type Dev struct {
	rows   []gpio.PinIO
	cols   []gpio.PinOut
	keymap [][]device.Key
	opts   Opts

	ctx    context.Context // cancelled by Halt
	cancel context.CancelFunc
	wake   chan struct{} // an edge was seen; capacity 1
	out    chan result   // presses and scan errors for ReadKey
	// dropped counts presses (and errors) deliver dropped for a full out.
	dropped atomic.Int64
	wg      sync.WaitGroup
	halt    sync.Once
}

type result struct {
	k   device.Key
	err error
}

var _ device.Keypad = (*Dev)(nil)

// New configures the pins (rows: input, pull-up, both edges; columns: output
// Low) and starts watching the rows. keymap[r][c] is the key at row r,
// column c (device.KeyNone for an unpopulated position); nil means
// DefaultKeymap(), for a 4×4 pad.
func New(rows []gpio.PinIO, cols []gpio.PinOut, keymap [][]device.Key, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	opts := *o
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultOpts.Debounce
	}
	if opts.ScanSettle <= 0 {
		opts.ScanSettle = DefaultOpts.ScanSettle
	}
	if opts.EdgeTimeout <= 0 {
		opts.EdgeTimeout = DefaultOpts.EdgeTimeout
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultOpts.Buffer
	}
	if opts.Sleep == nil {
		opts.Sleep = clock.Sleep
	}
	if len(rows) == 0 || len(cols) == 0 || len(rows) > 64 {
		return nil, fmt.Errorf("matrixkeypad: %d rows × %d columns", len(rows), len(cols))
	}
	for i, p := range rows {
		if p == nil || p == gpio.INVALID {
			return nil, fmt.Errorf("matrixkeypad: row %d: no pin", i)
		}
	}
	for i, p := range cols {
		if p == nil || p == gpio.INVALID {
			return nil, fmt.Errorf("matrixkeypad: column %d: no pin", i)
		}
	}
	if keymap == nil {
		keymap = DefaultKeymap()
	}
	if len(keymap) != len(rows) {
		return nil, fmt.Errorf("matrixkeypad: keymap has %d rows, the pad %d", len(keymap), len(rows))
	}
	km := make([][]device.Key, len(keymap))
	for r, row := range keymap {
		if len(row) != len(cols) {
			return nil, fmt.Errorf("matrixkeypad: keymap row %d has %d keys, the pad %d columns", r, len(row), len(cols))
		}
		km[r] = append([]device.Key(nil), row...)
	}

	d := &Dev{
		rows:   append([]gpio.PinIO(nil), rows...),
		cols:   append([]gpio.PinOut(nil), cols...),
		keymap: km,
		opts:   opts,
		wake:   make(chan struct{}, 1),
		out:    make(chan result, opts.Buffer),
	}
	if err := d.idle(); err != nil {
		return nil, err
	}
	for _, p := range d.rows {
		if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("matrixkeypad: row %s: %w", p, err)
		}
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(len(d.rows) + 1)
	for _, p := range d.rows {
		go d.watch(p)
	}
	go d.run()
	return d, nil
}

// String names the pad and its pins.
func (d *Dev) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "matrixkeypad(%d×%d rows=", len(d.rows), len(d.cols))
	for i, p := range d.rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.Name())
	}
	b.WriteString(" cols=")
	for i, p := range d.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.Name())
	}
	b.WriteByte(')')
	return b.String()
}

// ReadKey returns the next key pressed, or an error a scan met (a column pin
// that failed to switch); presses made while nobody was reading come first,
// in order. After Halt it returns device.ErrHalted.
func (d *Dev) ReadKey(ctx context.Context) (device.Key, error) {
	if d.ctx.Err() != nil {
		return device.KeyNone, device.ErrHalted
	}
	select {
	case r := <-d.out:
		return r.k, r.err
	case <-d.ctx.Done():
		return device.KeyNone, device.ErrHalted
	case <-ctx.Done():
		return device.KeyNone, ctx.Err()
	}
}

// Halt stops watching and scanning, and waits for the goroutines to end. It
// calls Halt on the row pins to interrupt their WaitForEdge. The columns are
// left Low.
func (d *Dev) Halt() error {
	var errs []error
	d.halt.Do(func() {
		d.cancel()
		for _, p := range d.rows {
			if err := p.Halt(); err != nil {
				errs = append(errs, fmt.Errorf("matrixkeypad: row %s: %w", p, err))
			}
		}
		d.wg.Wait()
	})
	return errors.Join(errs...)
}

// watch forwards the edges of one row to the scanner.
func (d *Dev) watch(p gpio.PinIO) {
	defer d.wg.Done()
	for d.ctx.Err() == nil {
		start := time.Now()
		if p.WaitForEdge(d.opts.EdgeTimeout) {
			d.poke()
			continue
		}
		// A pin that returns false at once (not set up for edges, or an
		// interrupted wait) must not turn this loop into a busy one.
		if rest := d.opts.EdgeTimeout - time.Since(start); rest > d.opts.EdgeTimeout/2 {
			_ = clock.Sleep(d.ctx, rest)
		}
	}
}

// poke wakes the scanner; wakes coalesce.
func (d *Dev) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// edgeSeen consumes a pending wake.
func (d *Dev) edgeSeen() bool {
	select {
	case <-d.wake:
		return true
	default:
		return false
	}
}

// scanQuiet × ScanSettle is how long the rows must be quiet after a scan
// before its own edges are taken as all through: 1 ms by default.
const scanQuiet = 20

// run is the scanner: edge, debounce, scan, report.
func (d *Dev) run() {
	defer d.wg.Done()
	held := make([]uint64, len(d.cols)) // held[c] has bit r set when (r, c) is down
	selfWoken := uint64(1<<64 - 1)      // idle rows that caused the last self-wake
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-d.wake:
		}
		// Wait until a whole Debounce passes without an edge.
		for quiet := false; !quiet; {
			if d.opts.Sleep(d.ctx, d.opts.Debounce) != nil {
				return
			}
			quiet = !d.edgeSeen()
		}
		down, err := d.scan()
		if err != nil {
			if d.ctx.Err() != nil {
				return
			}
			d.deliver(result{err: err})
			continue
		}
		// The scan's own column switching raised edges: wait until they
		// have all come through (no edge for scanQuiet), dropping them,
		// then compare the idle rows with the scan instead. A key that
		// moved meanwhile shows there.
		for range 8 {
			if d.opts.Sleep(d.ctx, scanQuiet*d.opts.ScanSettle) != nil {
				return
			}
			if !d.edgeSeen() {
				break
			}
		}
		if idleRows := d.lowRows(); idleRows != rowsOf(down) {
			if idleRows != selfWoken { // a stuck row must not loop
				selfWoken = idleRows
				d.poke()
			}
		} else {
			selfWoken = 1<<64 - 1
		}
		if k, ok := d.decide(held, down); ok {
			d.deliver(result{k: k})
		}
		held = down
	}
}

// scan drives each column Low in turn and returns, per column, the rows
// read Low; the columns are back to idle (all Low) when it returns.
func (d *Dev) scan() (down []uint64, err error) {
	defer func() {
		if ierr := d.idle(); err == nil {
			err = ierr
		}
	}()
	for _, c := range d.cols {
		if err := c.Out(gpio.High); err != nil {
			return nil, fmt.Errorf("matrixkeypad: column %s: %w", c, err)
		}
	}
	down = make([]uint64, len(d.cols))
	for i, c := range d.cols {
		if err := c.Out(gpio.Low); err != nil {
			return nil, fmt.Errorf("matrixkeypad: column %s: %w", c, err)
		}
		if err := d.opts.Sleep(d.ctx, d.opts.ScanSettle); err != nil {
			return nil, err
		}
		down[i] = d.lowRows()
		if err := c.Out(gpio.High); err != nil {
			return nil, fmt.Errorf("matrixkeypad: column %s: %w", c, err)
		}
	}
	return down, nil
}

// idle drives every column Low.
func (d *Dev) idle() error {
	for _, c := range d.cols {
		if err := c.Out(gpio.Low); err != nil {
			return fmt.Errorf("matrixkeypad: column %s: %w", c, err)
		}
	}
	return nil
}

// lowRows reads every row; bit r is set when row r is Low.
func (d *Dev) lowRows() uint64 {
	var m uint64
	for r, p := range d.rows {
		if p.Read() == gpio.Low {
			m |= 1 << r
		}
	}
	return m
}

func rowsOf(down []uint64) uint64 {
	var m uint64
	for _, rows := range down {
		m |= rows
	}
	return m
}

// decide returns the key to report for a scan, given the previous one: the
// only key newly down, if the scan is unambiguous.
func (d *Dev) decide(held, down []uint64) (device.Key, bool) {
	var seen uint64 // rows with a key down in an earlier column
	found, n := device.KeyNone, 0
	for c, rows := range down {
		if rows&seen != 0 {
			return device.KeyNone, false // two keys in one row
		}
		seen |= rows
		for fresh := rows &^ held[c]; fresh != 0; fresh &= fresh - 1 {
			r := bits.TrailingZeros64(fresh)
			found, n = d.keymap[r][c], n+1
		}
	}
	return found, n == 1 && found != device.KeyNone
}

// deliver queues a result for ReadKey, dropping it when the queue is full:
// a keypad nobody reads must not stall the scanner.
func (d *Dev) deliver(r result) {
	select {
	case d.out <- r:
	default:
		d.dropped.Add(1)
	}
}
