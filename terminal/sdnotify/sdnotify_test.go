package sdnotify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSystemd is the service manager's end of $NOTIFY_SOCKET: a unixgram
// socket in a temp dir that collects the datagrams posd sends.
type fakeSystemd struct {
	conn *net.UnixConn
}

// listen makes a socket and points $NOTIFY_SOCKET at it for the test.
func listen(t *testing.T) *fakeSystemd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return &fakeSystemd{conn: conn}
}

// next returns the next datagram, or fails after a while.
func (s *fakeSystemd) next(t *testing.T) string {
	t.Helper()
	msg, ok := s.within(2 * time.Second)
	if !ok {
		t.Fatal("no notification arrived")
	}
	return msg
}

// within returns the next datagram if one arrives within d.
func (s *fakeSystemd) within(d time.Duration) (string, bool) {
	s.conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	n, _, err := s.conn.ReadFromUnix(buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func TestNotificationsReachSystemd(t *testing.T) {
	sd := listen(t)
	n := New(nil)

	n.Ready()
	if got := sd.next(t); got != "READY=1" {
		t.Errorf("Ready sent %q", got)
	}
	n.Status("3 payments queued")
	if got := sd.next(t); got != "STATUS=3 payments queued" {
		t.Errorf("Status sent %q", got)
	}
	n.Stopping()
	if got := sd.next(t); got != "STOPPING=1" {
		t.Errorf("Stopping sent %q", got)
	}
	n.Reloading()
	if got := sd.next(t); !regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*\n$`).MatchString(got) {
		t.Errorf("Reloading sent %q, want RELOADING=1 and MONOTONIC_USEC", got)
	}
}

func TestStatusCannotInjectAssignments(t *testing.T) {
	sd := listen(t)
	New(nil).Status("all good\nREADY=1\r\n")
	if got := sd.next(t); got != "STATUS=all good READY=1" {
		t.Errorf("Status sent %q: a line break would make systemd read READY=1", got)
	}
}

func TestOutsideSystemdEverythingIsANoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	var logs bytes.Buffer
	n := New(slog.New(slog.NewTextHandler(&logs, nil)))
	n.Ready()
	n.Status("x")
	n.Reloading()
	n.Stopping()

	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Watchdog(t.Context(), func(context.Context) error {
			t.Error("alive called without a watchdog")
			return nil
		})
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Watchdog did not return at once without a watchdog")
	}
	if logs.Len() > 0 {
		t.Errorf("logged outside systemd:\n%s", logs.String())
	}
}

func TestAFailedNotificationIsLoggedNotFatal(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody-listens"))
	var logs bytes.Buffer
	New(slog.New(slog.NewTextHandler(&logs, nil))).Ready()
	if !strings.Contains(logs.String(), "state=READY") {
		t.Errorf("the failure was not logged with its state:\n%s", logs.String())
	}
}

func TestWatchdogPingsOnlyWhileAlive(t *testing.T) {
	sd := listen(t)
	const interval = 200 * time.Millisecond // pings every 100ms
	t.Setenv("WATCHDOG_USEC", strconv.Itoa(int(interval/time.Microsecond)))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	var (
		sick   atomic.Bool
		checks atomic.Int64
	)
	alive := func(ctx context.Context) error {
		checks.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			t.Error("alive got no deadline")
		}
		if sick.Load() {
			return errors.New("store round trip failed")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { New(nil).Watchdog(ctx, alive) })
	defer func() {
		cancel()
		wg.Wait()
	}()

	for range 3 {
		if got := sd.next(t); got != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", got)
		}
	}

	sick.Store(true)
	// A ping already on its way may still arrive; after that, none.
	sd.within(interval)
	before := checks.Load()
	if msg, ok := sd.within(3 * interval); ok {
		t.Fatalf("got %q while alive fails", msg)
	}
	if checks.Load() == before {
		t.Error("alive was not checked again while failing")
	}

	sick.Store(false)
	if got := sd.next(t); got != "WATCHDOG=1" {
		t.Errorf("got %q after recovery, want WATCHDOG=1", got)
	}

	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Watchdog did not return when its context ended")
	}
}

func TestWatchdogForAnotherProcessIsNotOurs(t *testing.T) {
	listen(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(nil).Watchdog(t.Context(), func(context.Context) error {
			t.Error("alive called for another process's watchdog")
			return nil
		})
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Watchdog did not return at once")
	}
}
