package matrixkeypad

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"showpos/device"
	"showpos/device/clock"
)

// gtPad is a 4×4 keypad made of periph's own fakes: every column is a
// *gpiotest.Pin the driver drives (Out records the level in L), every row a
// *gpiotest.Pin with EdgesChan (In(PullUp, BothEdges) needs it) wrapped in
// gtRow, whose Read models the matrix: gpiotest.Pin.Read returns its fixed
// L, so the wrapper reads Low iff the one pressed key is in that row and
// its column pin's L is Low at that moment. Unlike the hand-written matrix
// in fake_test.go it models one key at a time and raises edges only on a
// press or release, not for the scan's own column switching.
type gtPad struct {
	cols []*gpiotest.Pin
	rows []*gtRow

	mu  sync.Mutex
	key [2]int // the pressed key as (row, column); noGTKey when none
}

var noGTKey = [2]int{-1, -1}

type gtRow struct {
	*gpiotest.Pin
	r   int
	pad *gtPad
}

// Read implements gpio.PinIn: Low iff this row's pressed key connects it to
// a column whose gpiotest pin is Low.
func (p *gtRow) Read() gpio.Level {
	p.pad.mu.Lock()
	k := p.pad.key
	p.pad.mu.Unlock()
	if k[0] == p.r && p.pad.cols[k[1]].Read() == gpio.Low {
		return gpio.Low
	}
	return gpio.High
}

var _ gpio.PinIO = (*gtRow)(nil)

func newGTPad() *gtPad {
	p := &gtPad{key: noGTKey}
	for c := range 4 {
		// Start High, so that Low afterwards proves the driver wrote it.
		p.cols = append(p.cols, &gpiotest.Pin{N: fmt.Sprintf("C%d", c), Num: 10 + c, L: gpio.High})
	}
	for r := range 4 {
		p.rows = append(p.rows, &gtRow{
			Pin: &gpiotest.Pin{N: fmt.Sprintf("R%d", r), Num: r, EdgesChan: make(chan gpio.Level, 16)},
			r:   r,
			pad: p,
		})
	}
	return p
}

func (p *gtPad) rowPins() []gpio.PinIO {
	var ps []gpio.PinIO
	for _, r := range p.rows {
		ps = append(ps, r)
	}
	return ps
}

func (p *gtPad) colPins() []gpio.PinOut {
	var ps []gpio.PinOut
	for _, c := range p.cols {
		ps = append(ps, c)
	}
	return ps
}

// press holds key (r, c) down and sends the falling edge on its row.
func (p *gtPad) press(r, c int) {
	p.mu.Lock()
	p.key = [2]int{r, c}
	p.mu.Unlock()
	p.rows[r].EdgesChan <- gpio.Low
}

// release lets the pressed key go and sends the rising edge on its row.
func (p *gtPad) release() {
	p.mu.Lock()
	k := p.key
	p.key = noGTKey
	p.mu.Unlock()
	p.rows[k[0]].EdgesChan <- gpio.High
}

// colLevels reads every column's L, under the pin's lock.
func (p *gtPad) colLevels() []gpio.Level {
	var ls []gpio.Level
	for _, c := range p.cols {
		ls = append(ls, c.Read())
	}
	return ls
}

func checkColumnsIdle(t *testing.T, p *gtPad, when string) {
	t.Helper()
	for c, l := range p.colLevels() {
		if l != gpio.Low {
			t.Errorf("%s: column %s L = %s, want Low (idle)", when, p.cols[c], l)
		}
	}
}

// Every key of DefaultKeymap, pressed on a pad of gpiotest pins, comes out
// of ReadKey as itself; the columns (gpiotest pins) are Low whenever the pad
// is idle and after every scan; while each scan reads the rows exactly one
// column is Low, in order 0..3; and Halt returns within a few EdgeTimeouts
// although gpiotest's Halt does not interrupt WaitForEdge.
func TestGpiotestPinsEveryKey(t *testing.T) {
	p := newGTPad()
	o := fastOpts()
	var mu sync.Mutex
	var settles [][]gpio.Level // column levels at each ScanSettle wait
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		if d == o.ScanSettle {
			ls := p.colLevels()
			mu.Lock()
			settles = append(settles, ls)
			mu.Unlock()
		}
		return clock.Sleep(ctx, d)
	}
	d, err := New(p.rowPins(), p.colPins(), DefaultKeymap(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })

	checkColumnsIdle(t, p, "after New")
	for _, r := range p.rows {
		r.Lock()
		pull, l := r.P, r.L
		r.Unlock()
		if pull != gpio.PullUp || l != gpio.High {
			t.Errorf("row %s after New: pull %s, L %s; want PullUp, High", r, pull, l)
		}
	}

	want := DefaultKeymap()
	for r := range 4 {
		for c := range 4 {
			p.press(r, c)
			if k := readKey(t, d); k != want[r][c] {
				t.Errorf("key (%d,%d) read as %v, want %v", r, c, k, want[r][c])
			}
			// The key is delivered after the scan put the columns back.
			checkColumnsIdle(t, p, fmt.Sprintf("after the scan of key (%d,%d)", r, c))
			p.release()
		}
	}
	noKey(t, d, "after the last release")
	checkColumnsIdle(t, p, "idle after the last release")

	mu.Lock()
	got := append([][]gpio.Level(nil), settles...)
	mu.Unlock()
	if len(got) < 16*4 {
		t.Errorf("%d column reads, want at least one 4-column scan per key (64)", len(got))
	}
	for i, ls := range got {
		for c, l := range ls {
			if (l == gpio.Low) != (c == i%4) {
				t.Fatalf("scan step %d: columns %v, want only column %d Low", i, ls, i%4)
			}
		}
	}

	start := time.Now()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 200*time.Millisecond {
		t.Errorf("Halt took %s (EdgeTimeout %s)", el, o.EdgeTimeout)
	}
	if _, err := d.ReadKey(context.Background()); !errors.Is(err, device.ErrHalted) {
		t.Errorf("ReadKey after Halt = %v, want ErrHalted", err)
	}
	checkColumnsIdle(t, p, "after Halt")
}
