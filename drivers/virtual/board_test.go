package virtual

import (
	"bufio"
	"context"
	"errors"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"showpos/device"
)

func TestNewRefusesAddressesOthersCouldReach(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.168.1.10:0", "example.com:0", "127.0.0.1"} {
		if b, err := New(&Opts{Listen: addr}); err == nil {
			b.Close()
			t.Errorf("New(Listen %q) accepted", addr)
		}
	}
	b := newBoard(t, &Opts{Listen: "localhost:0"})
	if !strings.HasPrefix(b.URL(), "http://127.0.0.1:") {
		t.Errorf("localhost listens at %s", b.URL())
	}
}

func TestForeignHostIsRefused(t *testing.T) {
	b := newBoard(t, nil)
	// A DNS-rebound name pointing at 127.0.0.1 still says so in Host.
	req, _ := http.NewRequest("GET", b.URL()+"sim/state", nil)
	req.Host = "attacker.example"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: %d, want 421", resp.StatusCode)
	}
}

func TestPageIsSelfContained(t *testing.T) {
	b := newBoard(t, nil)
	resp := get(t, b, "/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for _, path := range []string{"/web/page.js", "/web/page.css"} {
		if resp := get(t, b, path); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if resp := get(t, b, "/nothing"); resp.StatusCode != 404 {
		t.Errorf("GET /nothing: %d", resp.StatusCode)
	}
}

// sse reads Server-Sent Events as (event, data) pairs.
type sse struct{ r *bufio.Reader }

func (s sse) next(t *testing.T) (event, data string) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && event != "":
			return event, data
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

func TestEventsFollowDrawsSignalsAndPrints(t *testing.T) {
	b := newBoard(t, nil)
	resp := get(t, b, "/sim/events")
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	s := sse{bufio.NewReader(resp.Body)}
	expect := func(event, data string) {
		t.Helper()
		if e, d := s.next(t); e != event || d != data {
			t.Fatalf("got %s %s, want %s %s", e, d, event, data)
		}
	}
	expect("screen", `{"version":0}`)
	expect("printer", `{"version":0}`)
	b.Display().Draw(image.Rect(0, 0, 10, 10), image.White, image.Point{})
	expect("screen", `{"version":1}`)
	b.Indicator().Signal(testCtx(t), device.SignalAccepted)
	expect("signal", `{"signal":"accepted","seq":1}`)
	b.Indicator().Signal(testCtx(t), device.SignalRejected)
	expect("signal", `{"signal":"rejected","seq":2}`)
	b.Printer().Print(testCtx(t), device.PrintJob{Lines: []device.PrintLine{{Text: "x"}}})
	expect("printer", `{"version":1}`)
	b.SetPrinter(PrinterState{PaperOut: true})
	expect("printer", `{"version":2}`)
	if got := b.Signals(); len(got) != 2 || got[0] != device.SignalAccepted || got[1] != device.SignalRejected {
		t.Errorf("Signals() = %v", got)
	}
}

// goroutinesSettle waits for the goroutine count to fall to n.
func goroutinesSettle(n int) int {
	var now int
	for range 200 {
		if now = runtime.NumGoroutine(); now <= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return now
}

// openFiles counts this process's open sockets and ptys, what a board
// holds. Close is checked on the process's own descriptors: the port and
// the pty's path, once freed, may be another process's at once (other
// packages' tests run meanwhile; pty numbers are reused lowest first).
func openFiles(t *testing.T) (sockets, ptys int) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		switch {
		case err != nil:
		case strings.HasPrefix(target, "socket:"):
			sockets++
		case target == "/dev/ptmx" || strings.HasPrefix(target, "/dev/pts/"):
			ptys++
		}
	}
	return sockets, ptys
}

func TestCloseStopsEverything(t *testing.T) {
	client.CloseIdleConnections()
	socketsBefore, ptysBefore := openFiles(t)
	before := runtime.NumGoroutine()
	b, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(b.URL(), "http://"), "/")
	path := b.ScannerPath()

	// Keep the board busy: an open event stream, a serial writer, and a
	// terminal waiting for each device.
	resp, err := client.Get(b.URL() + "sim/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sse{bufio.NewReader(resp.Body)}.next(t)
	port := openSerial(t, b)
	port.Write([]byte("0xabc\n"))
	waiting := make(chan error, 3)
	go func() { _, err := b.Keypad().ReadKey(ctx); waiting <- err }()
	go func() { _, err := b.NFC().WaitTap(ctx); waiting <- err }()
	go func() {
		b.Scanner().ReadPayload(ctx) // the "0xabc" line
		_, err := b.Scanner().ReadPayload(ctx)
		waiting <- err
	}()
	if runtime.NumGoroutine() <= before {
		t.Fatal("the board started no goroutines?")
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-waiting; !errors.Is(err, device.ErrHalted) {
			t.Errorf("a waiting call ended with %v, want ErrHalted", err)
		}
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	port.Close()
	resp.Body.Close()
	client.CloseIdleConnections()
	if now := goroutinesSettle(before); now > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before New, %d after Close:\n%s", before, now, buf[:runtime.Stack(buf, true)])
	}
	sockets, ptys := openFiles(t)
	for deadline := time.Now().Add(2 * time.Second); (sockets > socketsBefore || ptys > ptysBefore) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // a closed connection's goroutine lets go of its socket
		sockets, ptys = openFiles(t)
	}
	if sockets > socketsBefore {
		t.Errorf("%d sockets open after Close, %d before New: the page's listener (%s) or a connection left open", sockets, socketsBefore, addr)
	}
	if ptys > ptysBefore {
		t.Errorf("%d ptys open after Close, %d before New: the scanner's (%s) left open", ptys, ptysBefore, path)
	}
	if err := b.Display().Draw(image.Rect(0, 0, 1, 1), image.White, image.Point{}); !errors.Is(err, device.ErrHalted) {
		t.Errorf("Draw after Close: %v", err)
	}
	if err := b.Indicator().Signal(context.Background(), device.SignalKey); !errors.Is(err, device.ErrHalted) {
		t.Errorf("Signal after Close: %v", err)
	}
}
