package matrixkeypad

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"showpos/device"
	"showpos/device/clock"
)

// fastOpts: real time, short enough for tests.
func fastOpts() *Opts {
	return &Opts{Debounce: 2 * time.Millisecond, ScanSettle: 10 * time.Microsecond, EdgeTimeout: 20 * time.Millisecond}
}

func newPad(t *testing.T, m *matrix, o *Opts) *Dev {
	t.Helper()
	d, err := New(m.rowPins(), m.colPins(), nil, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d
}

func readKey(t *testing.T, d *Dev) device.Key {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	k, err := d.ReadKey(ctx)
	if err != nil {
		t.Fatalf("ReadKey: %v", err)
	}
	return k
}

// noKey checks nothing is reported for a while.
func noKey(t *testing.T, d *Dev, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	if k, err := d.ReadKey(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: ReadKey = %v, %v; want nothing", why, k, err)
	}
}

func TestEveryKeyReportsItsKey(t *testing.T) {
	m := newMatrix(4, 4)
	d := newPad(t, m, fastOpts())
	want := DefaultKeymap()
	for r := range 4 {
		for c := range 4 {
			m.press([2]int{r, c})
			if k := readKey(t, d); k != want[r][c] {
				t.Errorf("key (%d,%d) read as %v, want %v", r, c, k, want[r][c])
			}
			m.release([2]int{r, c})
		}
	}
	noKey(t, d, "after the last release")
}

func TestDefaultKeymapHasPOSKeys(t *testing.T) {
	var all []device.Key
	for _, row := range DefaultKeymap() {
		all = append(all, row...)
	}
	for _, k := range []device.Key{device.Key0, device.Key5, device.Key9, device.KeyDot, device.KeyEnter, device.KeyCancel, device.KeyClear, device.KeyBackspace, device.KeyF1} {
		if !slices.Contains(all, k) {
			t.Errorf("DefaultKeymap lacks %v", k)
		}
	}
	if len(all) != 16 {
		t.Errorf("%d keys", len(all))
	}
}

// A scan, on the wire: every column High, then one at a time Low with a
// settle wait before the rows are read, then back to all Low (idle) and one
// more read of the idle rows.
func TestScanDrivesOneColumnLowAtATime(t *testing.T) {
	m := newMatrix(4, 4)
	o := fastOpts()
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		m.mu.Lock()
		m.addLog("sleep=" + d.String())
		m.mu.Unlock()
		return clock.Sleep(ctx, d)
	}
	d := newPad(t, m, o)
	if got, want := m.takeLog(), strings.Fields("c0=Low c1=Low c2=Low c3=Low"); !slices.Equal(got, want) {
		t.Fatalf("New wrote %q, want idle %q", got, want)
	}
	m.press([2]int{2, 1}) // 8
	if k := readKey(t, d); k != device.Key8 {
		t.Fatalf("read %v", k)
	}
	rows := func(low int) string {
		var s []string
		for r := range 4 {
			l := "High"
			if r == low {
				l = "Low"
			}
			s = append(s, fmt.Sprintf("r%d=%s", r, l))
		}
		return strings.Join(s, " ")
	}
	want := strings.Fields("sleep=2ms c0=High c1=High c2=High c3=High" +
		" c0=Low sleep=10µs " + rows(-1) + " c0=High" +
		" c1=Low sleep=10µs " + rows(2) + " c1=High" +
		" c2=Low sleep=10µs " + rows(-1) + " c2=High" +
		" c3=Low sleep=10µs " + rows(-1) + " c3=High" +
		" c0=Low c1=Low c2=Low c3=Low")
	// Then quiet waits of 20 × ScanSettle (one, or more while the scan's own
	// edges come through), then the idle rows: row 2 still Low.
	idle := strings.Fields(rows(2))
	got := m.takeLog() // the key is delivered after the idle read
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("first scan:\n got %q\nwant %q", got, want)
	}
	rest := got[len(want):]
	quiet := 0
	for len(rest) > 0 && rest[0] == "sleep=200µs" {
		rest, quiet = rest[1:], quiet+1
	}
	if quiet == 0 || len(rest) < 4 || !slices.Equal(rest[:4], idle) {
		t.Fatalf("after the scan: %q, want quiet waits then %q", got[len(want):], idle)
	}
	// Whatever scans followed (the scan's own edges may cause one), no row
	// was ever read with other than exactly one column Low, or all Low.
	checkOneColumnLow(t, append(want, got[len(want):]...), 4)
}

func checkOneColumnLow(t *testing.T, log []string, ncols int) {
	t.Helper()
	cols := make([]string, ncols)
	for i := range cols {
		cols[i] = "Low"
	}
	for i, e := range log {
		var c int
		var l string
		if n, _ := fmt.Sscanf(e, "c%d=%s", &c, &l); n == 2 {
			cols[c] = l
			continue
		}
		if strings.HasPrefix(e, "r") {
			if low := strings.Count(strings.Join(cols, " "), "Low"); low != 1 && low != ncols {
				t.Fatalf("entry %d %q: read with columns %v", i, e, cols)
			}
		}
	}
}

// A gate holds the scanner in its debounce wait until the test lets it go.
type gate struct {
	debounce time.Duration
	entered  chan struct{}
	open     chan struct{}
}

func newGate(debounce time.Duration) *gate {
	return &gate{debounce: debounce, entered: make(chan struct{}, 100), open: make(chan struct{})}
}

func (g *gate) sleep(ctx context.Context, d time.Duration) error {
	if d == g.debounce {
		select {
		case g.entered <- struct{}{}:
		default:
		}
		select {
		case <-g.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return clock.Sleep(ctx, d)
}

func TestBounceReportsOnePress(t *testing.T) {
	m := newMatrix(4, 4)
	o := fastOpts()
	g := newGate(o.Debounce)
	o.Sleep = g.sleep
	d := newPad(t, m, o)
	k := [2]int{1, 2} // 6
	m.press(k)
	<-g.entered // the scanner saw the first edge and waits for quiet
	for range 5 {
		m.release(k)
		m.press(k)
	}
	// Let the watcher pass the bounces on, so the debounce restarts.
	time.Sleep(10 * time.Millisecond)
	close(g.open)
	if got := readKey(t, d); got != device.Key6 {
		t.Fatalf("read %v", got)
	}
	noKey(t, d, "bounces after the press")
	if n := len(g.entered); n < 1 {
		t.Errorf("the debounce did not restart on the bounces (%d more waits)", n)
	}
}

// Bounce that makes the contact look open during a scan still reports once.
func TestBounceDuringRelease(t *testing.T) {
	m := newMatrix(4, 4)
	d := newPad(t, m, fastOpts())
	k := [2]int{3, 1} // 0
	m.press(k)
	if got := readKey(t, d); got != device.Key0 {
		t.Fatalf("read %v", got)
	}
	for range 5 {
		m.release(k)
		m.press(k)
	}
	m.release(k)
	noKey(t, d, "release bounce")
}

func TestHeldKeyReportsOnce(t *testing.T) {
	m := newMatrix(4, 4)
	o := fastOpts()
	var settles atomic.Int32 // four per scan
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		if d == o.ScanSettle {
			settles.Add(1)
		}
		return clock.Sleep(ctx, d)
	}
	d := newPad(t, m, o)
	k := [2]int{2, 3} // Enter
	m.press(k)
	if got := readKey(t, d); got != device.KeyEnter {
		t.Fatalf("read %v", got)
	}
	n := settles.Load()
	time.Sleep(100 * time.Millisecond)
	if extra := (settles.Load() - n) / 4; extra > 2 {
		t.Errorf("%d scans while the key was held, no edge", extra)
	}
	for range 5 { // noise on the held key's row makes it scan again
		m.spike(2)
		time.Sleep(5 * time.Millisecond)
	}
	noKey(t, d, "key held")
	m.release(k)
	noKey(t, d, "key released")
	m.press(k)
	if got := readKey(t, d); got != device.KeyEnter {
		t.Fatalf("second press read %v", got)
	}
}

// Rollover to a key in another row is seen; the first key stays reported once.
func TestRolloverToAnotherRow(t *testing.T) {
	m := newMatrix(4, 4)
	d := newPad(t, m, fastOpts())
	m.press([2]int{0, 0}) // 1
	if got := readKey(t, d); got != device.Key1 {
		t.Fatalf("read %v", got)
	}
	m.press([2]int{1, 0}) // 4, same column, 1 still down
	if got := readKey(t, d); got != device.Key4 {
		t.Fatalf("rollover read %v", got)
	}
	m.release([2]int{0, 0})
	noKey(t, d, "releasing the first key")
}

func TestAmbiguousPatternsReportNothing(t *testing.T) {
	tests := []struct {
		name string
		keys [][2]int
	}{
		{"two keys in one row", [][2]int{{0, 0}, {0, 2}}},
		{"two keys pressed together", [][2]int{{0, 0}, {1, 1}}},
		{"three corners (ghost on the fourth)", [][2]int{{0, 0}, {0, 1}, {1, 0}}},
		{"all four corners", [][2]int{{1, 1}, {1, 3}, {3, 1}, {3, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMatrix(4, 4)
			d := newPad(t, m, fastOpts())
			m.press(tt.keys...)
			noKey(t, d, tt.name)
			m.release(tt.keys...)
			noKey(t, d, "release")
			m.press([2]int{2, 2})
			if got := readKey(t, d); got != device.Key9 {
				t.Fatalf("after the ambiguous press, read %v", got)
			}
		})
	}
}

// Ghosting built up one key at a time: 1, then 2 (same row: no edge; noise
// on the row makes a scan that sees both, with row 0 driven Low and High at
// once: not trusted), then 4, whose scan shows 5 as well. Only 1 is reported.
func TestGhostBuiltUpKeyByKey(t *testing.T) {
	m := newMatrix(4, 4)
	d := newPad(t, m, fastOpts())
	m.press([2]int{0, 0})
	if got := readKey(t, d); got != device.Key1 {
		t.Fatalf("read %v", got)
	}
	m.press([2]int{0, 1})
	m.spike(0)
	noKey(t, d, "second key in the row")
	m.press([2]int{1, 0})
	noKey(t, d, "third corner")
	m.release([2]int{0, 0}, [2]int{0, 1}, [2]int{1, 0})
	noKey(t, d, "releases")
}

// A key released during a scan: its edge is taken for one of the scan's
// own and dropped, but the idle read after the scan disagrees with it, so
// the driver scans again and sees the release. Without that, pressing the
// same key again would be taken for the key still held.
func TestReleaseDuringScanIsNotLost(t *testing.T) {
	m := newMatrix(4, 4)
	o := fastOpts()
	var d *Dev
	waits := 0
	released := make(chan struct{})
	o.Sleep = func(ctx context.Context, dur time.Duration) error {
		if dur == scanQuiet*o.ScanSettle {
			if waits++; waits == 1 { // the quiet wait after the first scan
				m.release([2]int{0, 2})
				for len(d.wake) == 0 { // the watcher forwarded the edge
					time.Sleep(time.Millisecond)
				}
				close(released)
			}
		}
		return clock.Sleep(ctx, dur)
	}
	d = newPad(t, m, o)
	m.press([2]int{0, 2})
	if got := readKey(t, d); got != device.Key3 {
		t.Fatalf("read %v", got)
	}
	<-released
	time.Sleep(20 * time.Millisecond) // the rescan
	m.press([2]int{0, 2})
	if got := readKey(t, d); got != device.Key3 {
		t.Fatalf("second press read %v", got)
	}
}

// A row stuck Low (a shorted membrane) is ambiguous in every scan; it must
// not make the driver scan in a loop.
func TestStuckRowDoesNotLoop(t *testing.T) {
	m := newMatrix(4, 4)
	o := fastOpts()
	var settles atomic.Int32 // four per scan
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		if d == o.ScanSettle {
			settles.Add(1)
		}
		return clock.Sleep(ctx, d)
	}
	d := newPad(t, m, o)
	m.press([2]int{1, 0}, [2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3})
	noKey(t, d, "stuck row")
	time.Sleep(50 * time.Millisecond)
	if n := settles.Load() / 4; n > 2 {
		t.Errorf("%d scans for one stuck row", n)
	}
}

func TestReadKeyHonoursContext(t *testing.T) {
	m := newMatrix(4, 4)
	d := newPad(t, m, fastOpts())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if k, err := d.ReadKey(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadKey = %v, %v", k, err)
	}
}

func TestHaltStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	m := newMatrix(4, 4)
	d, err := New(m.rowPins(), m.colPins(), nil, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n < before+5 {
		t.Fatalf("%d goroutines after New, want %d (4 rows + scanner)", n, before+5)
	}
	m.press([2]int{0, 0})
	readKey(t, d)
	pending := make(chan error, 1)
	go func() { _, err := d.ReadKey(context.Background()); pending <- err }()
	time.Sleep(5 * time.Millisecond)
	start := time.Now()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 200*time.Millisecond {
		t.Errorf("Halt took %s (EdgeTimeout 20ms)", el)
	}
	if err := <-pending; !errors.Is(err, device.ErrHalted) {
		t.Errorf("pending ReadKey = %v", err)
	}
	if _, err := d.ReadKey(context.Background()); !errors.Is(err, device.ErrHalted) {
		t.Errorf("ReadKey after Halt = %v", err)
	}
	if err := d.Halt(); err != nil {
		t.Errorf("second Halt: %v", err)
	}
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// Halt during a debounce wait returns at once.
func TestHaltDuringDebounce(t *testing.T) {
	m := newMatrix(4, 4)
	o := fastOpts()
	g := newGate(o.Debounce)
	o.Sleep = g.sleep
	d := newPad(t, m, o)
	m.press([2]int{0, 0})
	<-g.entered
	done := make(chan error)
	go func() { done <- d.Halt() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(time.Second):
		t.Fatal("Halt blocked by a debounce wait")
	}
}

func TestNewValidates(t *testing.T) {
	m := newMatrix(4, 4)
	three := [][]device.Key{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}}
	short := [][]device.Key{{1, 2, 3, 4}, {1, 2, 3}, {1, 2, 3, 4}, {1, 2, 3, 4}}
	if _, err := New(m.rowPins(), m.colPins(), three, nil); err == nil {
		t.Error("3-row keymap on 4 rows accepted")
	}
	if _, err := New(m.rowPins(), m.colPins(), short, nil); err == nil {
		t.Error("short keymap row accepted")
	}
	if _, err := New(m.rowPins()[:3], m.colPins(), nil, nil); err == nil {
		t.Error("default 4×4 keymap on 3 rows accepted")
	}
	if _, err := New(nil, m.colPins(), nil, nil); err == nil {
		t.Error("no rows accepted")
	}
	if _, err := New([]gpio.PinIO{m.rows[0], gpio.INVALID, m.rows[2], m.rows[3]}, m.colPins(), nil, nil); err == nil {
		t.Error("INVALID row accepted")
	}
	m.rows[1].EdgesChan = nil // as gpiotest.Pin without EdgesChan
	_, err := New(m.rowPins(), m.colPins(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "R1") {
		t.Errorf("row refusing edges: %v", err)
	}
}

func TestNewConfiguresRows(t *testing.T) {
	m := newMatrix(2, 3)
	km := [][]device.Key{{device.Key1, device.Key2, device.KeyNone}, {device.KeyEnter, device.KeyNone, device.KeyCancel}}
	d, err := New(m.rowPins(), m.colPins(), km, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	for _, r := range m.rows {
		if r.Pull() != gpio.PullUp || r.edge != gpio.BothEdges {
			t.Errorf("%s: pull %s edge %s", r, r.Pull(), r.edge)
		}
	}
	if s := d.String(); s != "matrixkeypad(2×3 rows=R0,R1 cols=C0,C1,C2)" {
		t.Errorf("String() = %q", s)
	}
	km[1][2] = device.KeyF4 // New copied the keymap
	m.press([2]int{1, 2})
	if got := readKey(t, d); got != device.KeyCancel {
		t.Errorf("read %v", got)
	}
	m.release([2]int{1, 2})
	m.press([2]int{1, 1}) // unpopulated
	noKey(t, d, "KeyNone position")
}

func TestColumnFailureIsReported(t *testing.T) {
	m := newMatrix(4, 4)
	d := newPad(t, m, fastOpts())
	m.mu.Lock()
	m.cols[2].err = errors.New("line gone")
	m.mu.Unlock()
	m.press([2]int{0, 0})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := d.ReadKey(ctx)
	if err == nil || !strings.Contains(err.Error(), "C2") {
		t.Fatalf("ReadKey = %v, want the failing column named", err)
	}
}

func TestUnreadPressesAreBounded(t *testing.T) {
	m := newMatrix(4, 4)
	o := fastOpts()
	o.Buffer = 2
	d := newPad(t, m, o)
	// Each key is held until the driver has taken its press (queued, or
	// for the third, dropped), not for a time: under emulation a scan
	// can take longer than any short hold.
	taken := func() int { return len(d.out) + int(d.dropped.Load()) }
	for i, k := range [][2]int{{0, 0}, {0, 1}, {0, 2}} {
		m.press(k)
		deadline := time.Now().Add(5 * time.Second)
		for taken() < i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("press %d never taken", i+1)
			}
			time.Sleep(time.Millisecond)
		}
		m.release(k)
		time.Sleep(15 * time.Millisecond)
	}
	if n := d.dropped.Load(); n != 1 {
		t.Errorf("%d presses dropped, want the third", n)
	}
	if a, b := readKey(t, d), readKey(t, d); a != device.Key1 || b != device.Key2 {
		t.Errorf("read %v %v, want the first two", a, b)
	}
	noKey(t, d, "the third press overflowed")
}
