package serialscanner

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"

	"showpos/device"
)

// These tests run the real go.bug.st/serial against a pty pair: the driver
// opens the slave like a tty and the test plays the scanner on the master.

// bench is a scanner on a pty that can be unplugged and plugged back in as a
// new pty (under a new /dev/pts name). Its List reports the current slave
// as USB 05E0:1200 among other ports; its Open counts opens and reports
// each opened and closed path.
type bench struct {
	t      *testing.T
	mu     sync.Mutex
	master *os.File
	slave  *os.File
	path   string // current slave path, "" while unplugged
	opened chan string
	closed chan string
}

func newBench(t *testing.T) *bench {
	b := &bench{t: t, opened: make(chan string, 100), closed: make(chan string, 100)}
	b.plug()
	t.Cleanup(b.unplug)
	return b
}

func (b *bench) plug() {
	m, s, err := pty.Open()
	if err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	b.master, b.slave, b.path = m, s, s.Name()
	b.mu.Unlock()
}

// unplug hangs the pty up: the driver's reads fail with EIO.
func (b *bench) unplug() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.master != nil {
		b.master.Close()
		b.slave.Close()
	}
	b.master, b.slave, b.path = nil, nil, ""
}

func (b *bench) slavePath() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.path
}

func (b *bench) list() ([]*enumerator.PortDetails, error) {
	ports := []*enumerator.PortDetails{
		{Name: "/dev/ttyS0"},
		{Name: "/dev/ttyACM0", IsUSB: true, VID: "1A86", PID: "7523"},
		{Name: "/dev/ttyACM1", IsUSB: true, VID: "05E0", PID: "1201"},
	}
	if p := b.slavePath(); p != "" {
		ports = append(ports, &enumerator.PortDetails{Name: p, IsUSB: true, VID: "05E0", PID: "1200"})
	}
	return ports, nil
}

func (b *bench) open(path string, mode *serial.Mode) (serial.Port, error) {
	if mode.InitialStatusBits != nil {
		b.t.Error("InitialStatusBits set: modem-status calls fail on a pty and on some CDC-ACM devices")
	}
	p, err := serial.Open(path, mode)
	if err != nil {
		return nil, err
	}
	b.opened <- path // serial.Open has made the slave raw: safe to write now
	return &watchedPort{Port: p, path: path, closed: b.closed}, nil
}

type watchedPort struct {
	serial.Port
	path   string
	once   sync.Once
	closed chan string
}

func (p *watchedPort) Close() error {
	p.once.Do(func() { p.closed <- p.path })
	return p.Port.Close()
}

// write plays the scanner. Call only after the driver opened the slave.
func (b *bench) write(s string) {
	b.mu.Lock()
	m := b.master
	b.mu.Unlock()
	if _, err := m.Write([]byte(s)); err != nil {
		b.t.Fatal(err)
	}
}

func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// opts finds the bench's scanner by VID/PID (as a USB scanner is found),
// with a quick reconnect for tests.
func (b *bench) opts() *Opts {
	return &Opts{
		VID: "05e0", PID: "1200",
		ReconnectMin: 2 * time.Millisecond, ReconnectMax: 20 * time.Millisecond,
		Logger: testLogger(b.t),
		List:   b.list,
		Open:   b.open,
	}
}

// start opens d on the bench and waits until the slave is raw.
func (b *bench) start(o *Opts) *Dev {
	b.t.Helper()
	d, err := New(o)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() {
		select {
		case <-goErr(d.Halt):
		case <-time.After(5 * time.Second):
			b.t.Error("Halt hangs")
		}
	})
	if got := wait(b.t, b.opened, "open"); got != b.slavePath() {
		b.t.Fatalf("opened %s, want %s", got, b.slavePath())
	}
	return d
}

func read(t *testing.T, d *Dev) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := d.ReadPayload(ctx)
	return string(p), err
}

// expectNothing checks that no further payload is queued or arriving.
func expectNothing(t *testing.T, d *Dev) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if p, err := d.ReadPayload(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %q, %v; want nothing more", p, err)
	}
}

func TestBytesOnTheWire(t *testing.T) {
	for _, c := range wireCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBench(t)
			o := b.opts()
			o.Terminator, o.MaxPayload = c.term, c.max
			d := b.start(o)
			for _, w := range c.writes {
				b.write(w)
				if len(c.writes) > 1 {
					time.Sleep(time.Millisecond) // let the reader see the pieces apart
				}
			}
			for _, want := range c.want {
				got, err := read(t, d)
				if want == tooLarge {
					if !errors.Is(err, device.ErrTooLarge) {
						t.Fatalf("got %q, %v; want ErrTooLarge", got, err)
					}
					continue
				}
				if err != nil || got != want {
					t.Fatalf("got %q, %v; want %q", got, err, want)
				}
			}
			expectNothing(t, d)
		})
	}
}

func TestLongTransactionAtUARTSpeed(t *testing.T) {
	// A 6 KiB raw transaction typed in 64-byte CDC-ACM packets, under the
	// 8 KiB default cap.
	b := newBench(t)
	d := b.start(b.opts())
	tx := "0x02f9" + strings.Repeat("0123456789abcdef", 6<<10/16)
	msg := "  " + tx + "\r\n"
	for i := 0; i < len(msg); i += 64 {
		b.write(msg[i:min(i+64, len(msg))])
	}
	if got, err := read(t, d); err != nil || got != tx {
		t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(tx))
	}
}

func TestTooLargeReportedOnceThenReadsOn(t *testing.T) {
	b := newBench(t)
	o := b.opts()
	o.MaxPayload = 1024
	d := b.start(o)
	big := "0x" + strings.Repeat("ab", 100_000) // 200 KB, streamed
	for i := 0; i < len(big); i += 4096 {
		b.write(big[i:min(i+4096, len(big))])
	}
	b.write("\r\n0xc0ffee\r\n")
	if _, err := read(t, d); !errors.Is(err, device.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if got, err := read(t, d); err != nil || got != "0xc0ffee" {
		t.Fatalf("got %q, %v; want 0xc0ffee", got, err)
	}
	expectNothing(t, d)
}

func TestSlowConsumerLosesOldest(t *testing.T) {
	b := newBench(t)
	d := b.start(b.opts())
	const n = 10
	for i := range n {
		b.write("0x0" + string(rune('0'+i)) + "\r")
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.dropped.Load() < n-queueLen {
		if time.Now().After(deadline) {
			t.Fatalf("dropped %d, want %d", d.dropped.Load(), n-queueLen)
		}
		time.Sleep(time.Millisecond)
	}
	for i := n - queueLen; i < n; i++ {
		want := "0x0" + string(rune('0'+i))
		if got, err := read(t, d); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q (the newest)", got, err, want)
		}
	}
	expectNothing(t, d)
}

func TestUnplugReplug(t *testing.T) {
	b := newBench(t)
	base := runtime.NumGoroutine()
	d := b.start(b.opts())
	b.write("0xfirst\r")
	if got, err := read(t, d); err != nil || got != "0xfirst" {
		t.Fatalf("got %q, %v", got, err)
	}
	for i := range 20 {
		// A ReadPayload already waiting rides through the outage.
		type result struct {
			p   string
			err error
		}
		res := make(chan result, 1)
		go func() {
			p, err := read(t, d)
			res <- result{p, err}
		}()

		old := b.slavePath()
		b.unplug()
		if got := wait(t, b.closed, "close after unplug"); got != old {
			t.Fatalf("closed %s, want %s", got, old)
		}
		if i%2 == 0 {
			// Status reports it gone while it is gone.
			for deadline := time.Now().Add(5 * time.Second); d.Present(); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("Present() still true after the unplug")
				}
			}
			// Let it fail a few times while nothing is there.
			time.Sleep(30 * time.Millisecond)
		}
		b.plug()
		if got := wait(t, b.opened, "reopen"); got != b.slavePath() {
			t.Fatalf("reopened %s, want %s", got, b.slavePath())
		}
		want := "0xreplug" + strings.Repeat("f", i)
		b.write(want + "\r\n")
		r := wait(t, res, "payload after replug")
		if r.err != nil || r.p != want {
			t.Fatalf("replug %d: got %q, %v; want %q", i, r.p, r.err, want)
		}
		if !d.Present() {
			t.Errorf("replug %d: Present() false after a payload was read", i)
		}
		// Checked after the read: the bench signals the open a moment
		// before the driver records the path.
		if !strings.Contains(d.String(), b.slavePath()) {
			t.Errorf("String() = %q, want the new path %s", d, b.slavePath())
		}
		// One reader goroutine, not one per reconnect (+1 for our reader
		// above, which may still be exiting; +1 slack for the runtime).
		if g := runtime.NumGoroutine(); g > base+3 {
			t.Fatalf("replug %d: %d goroutines, started with %d", i, g, base)
		}
	}
	if n := d.opens.Load(); n != 21 {
		t.Errorf("%d successful opens, want 21", n)
	}
	haltPromptly(t, d)
	if g := runtime.NumGoroutine(); g > base+1 {
		t.Errorf("%d goroutines after Halt, started with %d", g, base)
	}
}

func TestUnplugReplugSymlinkPath(t *testing.T) {
	// A Path such as /dev/serial/by-id/… is a symlink udev moves to the new
	// node on replug: the driver just reopens the path.
	b := newBench(t)
	link := filepath.Join(t.TempDir(), "scanner")
	relink := func() {
		tmp := link + ".new"
		if err := os.Symlink(b.slavePath(), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, link); err != nil {
			t.Fatal(err)
		}
	}
	relink()
	o := b.opts()
	o.Path = link
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer haltPromptly(t, d)
	for i := range 3 {
		wait(t, b.opened, "open")
		want := "0xlink" + string(rune('0'+i))
		b.write(want + "\n")
		if got, err := read(t, d); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
		b.unplug()
		wait(t, b.closed, "close")
		b.plug()
		relink()
	}
}

func haltPromptly(t *testing.T, d *Dev) {
	t.Helper()
	start := time.Now()
	select {
	case err := <-goErr(d.Halt):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("Halt did not return within 1s")
	}
	t.Logf("Halt took %v", time.Since(start))
	if _, err := d.ReadPayload(context.Background()); !errors.Is(err, device.ErrHalted) {
		t.Fatalf("ReadPayload after Halt: %v, want ErrHalted", err)
	}
}

func TestHaltPromptly(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		b := newBench(t)
		d := b.start(b.opts())
		haltPromptly(t, d)
		wait(t, b.closed, "port closed by Halt")
	})
	t.Run("in a long reconnect wait", func(t *testing.T) {
		b := newBench(t)
		o := b.opts()
		o.ReconnectMin, o.ReconnectMax = time.Hour, time.Hour
		d := b.start(o)
		b.unplug()
		wait(t, b.closed, "close after unplug")
		haltPromptly(t, d)
	})
	t.Run("while the scanner stays away", func(t *testing.T) {
		b := newBench(t)
		d := b.start(b.opts())
		b.unplug()
		wait(t, b.closed, "close after unplug")
		time.Sleep(50 * time.Millisecond) // many failed lookups
		haltPromptly(t, d)
	})
	t.Run("mid payload", func(t *testing.T) {
		b := newBench(t)
		d := b.start(b.opts())
		b.write("0x0123")
		haltPromptly(t, d)
	})
	t.Run("wakes a waiting ReadPayload", func(t *testing.T) {
		b := newBench(t)
		d := b.start(b.opts())
		errc := make(chan error, 1)
		go func() {
			_, err := d.ReadPayload(context.Background())
			errc <- err
		}()
		time.Sleep(20 * time.Millisecond)
		haltPromptly(t, d)
		if err := wait(t, errc, "ReadPayload to return"); !errors.Is(err, device.ErrHalted) {
			t.Fatalf("got %v, want ErrHalted", err)
		}
		if err := d.Halt(); err != nil {
			t.Fatalf("second Halt: %v", err)
		}
	})
}

func TestReadPayloadHonoursContext(t *testing.T) {
	b := newBench(t)
	d := b.start(b.opts())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := d.ReadPayload(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v", el)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := d.ReadPayload(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want Canceled", err)
	}
	// The scanner still works after a cancelled read.
	b.write("0x01\r")
	if got, err := read(t, d); err != nil || got != "0x01" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestFindByVIDPID(t *testing.T) {
	for _, c := range []struct{ vid, pid string }{
		{"05e0", "1200"}, {"05E0", "1200"}, {"0x05e0", "0x1200"},
	} {
		t.Run(c.vid+":"+c.pid, func(t *testing.T) {
			b := newBench(t)
			o := b.opts()
			o.VID, o.PID = c.vid, c.pid
			d := b.start(o) // fails unless the slave (05E0:1200) was opened
			b.write("0xfound\r")
			if got, err := read(t, d); err != nil || got != "0xfound" {
				t.Fatalf("got %q, %v", got, err)
			}
			if want := "serialscanner(05e0:1200 at " + b.slavePath() + ")"; d.String() != want {
				t.Errorf("String() = %q, want %q", d, want)
			}
		})
	}
}

func TestNewFailsEarly(t *testing.T) {
	b := newBench(t)
	t.Run("no VID:PID match", func(t *testing.T) {
		o := b.opts()
		o.PID = "ABCD"
		_, err := New(o)
		if !errors.Is(err, ErrNoPort) {
			t.Fatalf("got %v, want ErrNoPort", err)
		}
		for _, s := range []string{"05e0:abcd", "/dev/ttyS0", "/dev/ttyACM0 (1a86:7523)", b.slavePath() + " (05e0:1200)"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not name %q", err, s)
			}
		}
	})
	t.Run("no ports at all", func(t *testing.T) {
		o := b.opts()
		o.List = func() ([]*enumerator.PortDetails, error) { return nil, nil }
		if _, err := New(o); !errors.Is(err, ErrNoPort) || !strings.Contains(err.Error(), "found: none") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		o := b.opts()
		o.Path = "/dev/ttyACM-not-here"
		_, err := New(o)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), o.Path) {
			t.Fatalf("got %v, want not-exist naming %s", err, o.Path)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		for _, o := range []Opts{
			{},                             // neither Path nor VID/PID
			{VID: "05e0"},                  // PID missing
			{Path: "/x", Terminator: "\t"}, // unknown terminator
			{Path: "/x", ReconnectMin: time.Second, ReconnectMax: time.Millisecond},
		} {
			o.Open = func(string, *serial.Mode) (serial.Port, error) {
				t.Fatal("opened with bad options")
				return nil, nil
			}
			if _, err := New(&o); err == nil {
				t.Errorf("New(%+v) succeeded", o)
			}
		}
	})
	if n := len(b.opened); n != 0 {
		t.Errorf("%d opens, want 0", n)
	}
}

func TestDefaults(t *testing.T) {
	o, err := withDefaults(Opts{Path: "/dev/ttyUSB0", ReconnectMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if o.Baud != 9600 || o.Terminator != TerminatorAuto || o.MaxPayload != 8<<10 ||
		o.ReconnectMin != 100*time.Millisecond || o.ReconnectMax != 100*time.Millisecond ||
		o.Logger == nil || o.List == nil || o.Open == nil {
		t.Errorf("defaults not applied: %+v", o)
	}
}

// testLogger logs into the test's output, shown on failure or with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// goErr runs f in a goroutine and delivers its error.
func goErr(f func() error) <-chan error {
	c := make(chan error, 1)
	go func() { c <- f() }()
	return c
}
