package st7789

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// xfer is one SPI transfer and the D/C level while it happened.
type xfer struct {
	DC gpio.Level
	W  []byte
}

func (x xfer) String() string {
	kind := "data"
	if x.DC == gpio.Low {
		kind = "cmd"
	}
	if len(x.W) > 16 {
		return fmt.Sprintf("%s[%d bytes % X…]", kind, len(x.W), x.W[:16])
	}
	return fmt.Sprintf("%s[% X]", kind, x.W)
}

// bench is a hand-written SPI port, D/C and RST pins, and sleep, all
// recording into one place: every transfer with the D/C level it saw, and
// an ordered log of RST changes, sleeps and command bytes.
type bench struct {
	mu     sync.Mutex
	maxTx  int // what the connection reports as MaxTxSize; 0: undefined
	hz     physic.Frequency
	mode   spi.Mode
	dc     gpio.Level
	xfers  []xfer
	events []string
}

func newBench(maxTx int) *bench { return &bench{maxTx: maxTx, dc: gpio.High} }

func (b *bench) port() spi.Port   { return &fakePort{b: b} }
func (b *bench) dcPin() *fakePin  { return &fakePin{b: b, name: "DC"} }
func (b *bench) rstPin() *fakePin { return &fakePin{b: b, name: "RST"} }
func (b *bench) log(s string)     { b.events = append(b.events, s) }
func (b *bench) sleep(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log("sleep " + d.String())
}

func (b *bench) take() ([]xfer, []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	x, e := b.xfers, b.events
	b.xfers, b.events = nil, nil
	return x, e
}

type fakePort struct {
	b         *bench
	connected bool
}

func (p *fakePort) String() string                    { return "fakespi" }
func (p *fakePort) LimitSpeed(physic.Frequency) error { return nil }
func (p *fakePort) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	if p.connected {
		return nil, fmt.Errorf("connect called twice")
	}
	if bits != 8 {
		return nil, fmt.Errorf("bits = %d, want 8", bits)
	}
	p.connected = true
	p.b.hz, p.b.mode = f, mode
	return &fakeConn{b: p.b}, nil
}

type fakeConn struct{ b *bench }

func (c *fakeConn) String() string               { return "fakespi" }
func (c *fakeConn) Duplex() conn.Duplex          { return conn.Half }
func (c *fakeConn) TxPackets([]spi.Packet) error { return fmt.Errorf("not implemented") }
func (c *fakeConn) MaxTxSize() int               { return c.b.maxTx }
func (c *fakeConn) Tx(w, r []byte) error {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if len(r) != 0 {
		return fmt.Errorf("unexpected read")
	}
	if c.b.maxTx > 0 && len(w) > c.b.maxTx {
		return fmt.Errorf("transfer of %d bytes over MaxTxSize %d", len(w), c.b.maxTx)
	}
	c.b.xfers = append(c.b.xfers, xfer{DC: c.b.dc, W: bytes.Clone(w)})
	if c.b.dc == gpio.Low {
		c.b.log(fmt.Sprintf("cmd %02X", w))
	}
	return nil
}

type fakePin struct {
	b    *bench
	name string
}

func (p *fakePin) String() string                        { return p.name }
func (p *fakePin) Halt() error                           { return nil }
func (p *fakePin) Name() string                          { return p.name }
func (p *fakePin) Number() int                           { return -1 }
func (p *fakePin) Function() string                      { return "Out" }
func (p *fakePin) PWM(gpio.Duty, physic.Frequency) error { return fmt.Errorf("no PWM") }
func (p *fakePin) Out(l gpio.Level) error {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	if p.name == "DC" {
		p.b.dc = l
	} else {
		p.b.log(p.name + " " + l.String())
	}
	return nil
}

// script builds expected transfers.
type script []xfer

func (s script) cmd(c byte, params ...byte) script {
	s = append(s, xfer{DC: gpio.Low, W: []byte{c}})
	if len(params) > 0 {
		s = append(s, xfer{DC: gpio.High, W: params})
	}
	return s
}

// data is pixel bytes as the driver must split them: chunk bytes a
// transfer, the rest in a last one.
func (s script) data(b []byte, chunk int) script {
	for len(b) > 0 {
		n := min(chunk, len(b))
		s = append(s, xfer{DC: gpio.High, W: b[:n]})
		b = b[n:]
	}
	return s
}

// window is CASET, RASET and RAMWR for RAM columns x0..x1, rows y0..y1.
func (s script) window(x0, x1, y0, y1 int) script {
	return s.cmd(cmdCASET, byte(x0>>8), byte(x0), byte(x1>>8), byte(x1)).
		cmd(cmdRASET, byte(y0>>8), byte(y0), byte(y1>>8), byte(y1)).
		cmd(cmdRAMWR)
}

func checkXfers(t *testing.T, got []xfer, want script) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Fatalf("transfer %d: missing, want %v", i, want[i])
		case i >= len(want):
			t.Fatalf("transfer %d: unexpected %v", i, got[i])
		case got[i].DC != want[i].DC || !bytes.Equal(got[i].W, want[i].W):
			t.Fatalf("transfer %d: got %v, want %v", i, got[i], want[i])
		}
	}
	for i, x := range got {
		if x.DC == gpio.Low && len(x.W) != 1 {
			t.Errorf("transfer %d: %v: a D/C-low transfer must be one command byte", i, x)
		}
	}
}
