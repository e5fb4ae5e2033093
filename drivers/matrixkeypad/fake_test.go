package matrixkeypad

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// matrix simulates a keypad electrically. Rows have pull-ups; a pressed key
// connects its row and column; a row reads Low when it is connected, through
// any chain of pressed keys, to a column driven Low (so three keys on a
// rectangle's corners pull the fourth corner's row Low too: ghosting, and
// Low wins against a High column). A row whose level changes raises an edge
// on its EdgesChan, as the kernel would, for the scan's own switching too.
//
// The pins are hand-written because gpiotest.Pin cannot model this: several
// keys at once, ghosting, edges raised by the scan's own column switching,
// failing column writes and the ordered wire log. They keep gpiotest.Pin's
// semantics: In with an edge needs EdgesChan and flushes it, WaitForEdge(-1)
// blocks until an edge, Halt does nothing. gpiotest_test.go runs the driver
// on periph's gpiotest.Pin itself.
type matrix struct {
	mu      sync.Mutex
	rows    []*rowPin
	cols    []*colPin
	pressed map[[2]int]bool
	log     []string // column writes "c0=Low" and row reads "r2=High", in order
	logging bool
}

func newMatrix(nr, nc int) *matrix {
	m := &matrix{pressed: map[[2]int]bool{}, logging: true}
	for r := range nr {
		m.rows = append(m.rows, &rowPin{m: m, r: r, EdgesChan: make(chan gpio.Level, 64), level: gpio.High})
	}
	for c := range nc {
		m.cols = append(m.cols, &colPin{m: m, c: c, l: gpio.High})
	}
	return m
}

func (m *matrix) rowPins() []gpio.PinIO {
	var ps []gpio.PinIO
	for _, p := range m.rows {
		ps = append(ps, p)
	}
	return ps
}

func (m *matrix) colPins() []gpio.PinOut {
	var ps []gpio.PinOut
	for _, p := range m.cols {
		ps = append(ps, p)
	}
	return ps
}

// set presses (true) or releases keys, raising the edges that follow.
func (m *matrix) set(down bool, keys ...[2]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if down {
			m.pressed[k] = true
		} else {
			delete(m.pressed, k)
		}
	}
	m.updateLocked()
}

func (m *matrix) press(keys ...[2]int)   { m.set(true, keys...) }
func (m *matrix) release(keys ...[2]int) { m.set(false, keys...) }

// spike raises an edge on row r without any change of level (noise).
func (m *matrix) spike(r int) {
	m.rows[r].EdgesChan <- gpio.Low
}

func (m *matrix) takeLog() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.log
	m.log = nil
	return l
}

func (m *matrix) addLog(s string) {
	if m.logging {
		m.log = append(m.log, s)
	}
}

// levelLocked computes row r's level: Low if a Low column is reachable.
func (m *matrix) levelLocked(r int) gpio.Level {
	seenR, seenC := map[int]bool{r: true}, map[int]bool{}
	queue := []int{r}
	for len(queue) > 0 {
		row := queue[0]
		queue = queue[1:]
		for c := range m.cols {
			if !m.pressed[[2]int{row, c}] || seenC[c] {
				continue
			}
			if m.cols[c].l == gpio.Low {
				return gpio.Low
			}
			seenC[c] = true
			for r2 := range m.rows {
				if m.pressed[[2]int{r2, c}] && !seenR[r2] {
					seenR[r2] = true
					queue = append(queue, r2)
				}
			}
		}
	}
	return gpio.High
}

func (m *matrix) updateLocked() {
	for r, p := range m.rows {
		l := m.levelLocked(r)
		if l == p.level {
			continue
		}
		p.level = l
		if p.edge == gpio.BothEdges || (p.edge == gpio.FallingEdge && l == gpio.Low) || (p.edge == gpio.RisingEdge && l == gpio.High) {
			select { // the kernel's event queue is finite too
			case p.EdgesChan <- l:
			default:
			}
		}
	}
}

type rowPin struct {
	m         *matrix
	r         int
	EdgesChan chan gpio.Level
	// guarded by m.mu
	level gpio.Level
	pull  gpio.Pull
	edge  gpio.Edge
	inErr error
}

func (p *rowPin) String() string   { return p.Name() }
func (p *rowPin) Name() string     { return fmt.Sprintf("R%d", p.r) }
func (p *rowPin) Number() int      { return p.r }
func (p *rowPin) Function() string { return "In" }
func (p *rowPin) Halt() error      { return nil }
func (p *rowPin) Pull() gpio.Pull  { p.m.mu.Lock(); defer p.m.mu.Unlock(); return p.pull }
func (p *rowPin) DefaultPull() gpio.Pull {
	return gpio.PullUp
}
func (p *rowPin) Out(gpio.Level) error                  { return errors.New("row pins are inputs") }
func (p *rowPin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("no PWM") }

func (p *rowPin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.inErr != nil {
		return p.inErr
	}
	if edge != gpio.NoEdge && p.EdgesChan == nil {
		return errors.New("gpiotest: please set p.EdgesChan first")
	}
	p.pull, p.edge = pull, edge
	for {
		select {
		case <-p.EdgesChan:
		default:
			return nil
		}
	}
}

func (p *rowPin) Read() gpio.Level {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	l := p.m.levelLocked(p.r)
	if p.pull != gpio.PullUp && l == gpio.High {
		l = gpio.Low // floating: a row without its pull-up reads anything
	}
	p.m.addLog(fmt.Sprintf("r%d=%s", p.r, l))
	return l
}

func (p *rowPin) WaitForEdge(timeout time.Duration) bool {
	if timeout == -1 {
		<-p.EdgesChan
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-p.EdgesChan:
		return true
	}
}

type colPin struct {
	m   *matrix
	c   int
	l   gpio.Level // guarded by m.mu
	err error      // returned by Out when set
}

func (p *colPin) String() string                        { return p.Name() }
func (p *colPin) Name() string                          { return fmt.Sprintf("C%d", p.c) }
func (p *colPin) Number() int                           { return p.c }
func (p *colPin) Function() string                      { return "Out" }
func (p *colPin) Halt() error                           { return nil }
func (p *colPin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("no PWM") }

func (p *colPin) Out(l gpio.Level) error {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.l = l
	p.m.addLog(fmt.Sprintf("c%d=%s", p.c, l))
	p.m.updateLocked()
	return nil
}

var (
	_ gpio.PinIO  = (*rowPin)(nil)
	_ gpio.PinOut = (*colPin)(nil)
)
