package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"showpos/terminal/checkout"
	"showpos/terminal/httpapi"
)

// capped is the payer API served as posd serves it (NewServer on
// ListenTCP), counting the connections the server holds open.
type capped struct {
	addr string
	mu   sync.Mutex
	open int // now
	peak int // the most at once
}

func serveCapped(t *testing.T, h http.Handler, maxConns int) *capped {
	t.Helper()
	ln, err := httpapi.ListenTCP("127.0.0.1:0", maxConns)
	if err != nil {
		t.Fatal(err)
	}
	c := &capped{addr: ln.Addr().String()}
	srv := httpapi.NewServer(h, slog.New(slog.DiscardHandler))
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch s {
		case http.StateNew:
			c.open++
			c.peak = max(c.peak, c.open)
		case http.StateClosed, http.StateHijacked:
			c.open--
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return c
}

func (c *capped) counts() (open, peak int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open, c.peak
}

// A flooder holds a connection the way an attacker would, and dials
// again as soon as the server drops it, until ctx ends.
type flooder func(ctx context.Context, conn net.Conn) error

// idleNew sends nothing.
func idleNew(ctx context.Context, conn net.Conn) error {
	_, err := conn.Read(make([]byte, 1))
	return err
}

// idleKeptAlive makes one request, reads the answer, and then sends
// nothing more on the kept-alive connection.
func idleKeptAlive(ctx context.Context, conn net.Conn) error {
	if _, err := io.WriteString(conn, "GET "+checkout.RequestPath+" HTTP/1.1\r\nHost: till\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_, err = conn.Read(make([]byte, 1))
	return err
}

// slowHeader sends a request's header a line a second and never ends it.
func slowHeader(ctx context.Context, conn net.Conn) error {
	if _, err := io.WriteString(conn, "GET "+checkout.RequestPath+" HTTP/1.1\r\n"); err != nil {
		return err
	}
	for ctx.Err() == nil {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
			return err // the server answered or hung up
		}
		if _, err := io.WriteString(conn, "X-Slow: 1\r\n"); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// flood keeps n connections to addr held by f until the test ends.
func flood(t *testing.T, addr string, n int, f flooder) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				var d net.Dialer
				conn, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					continue
				}
				stop := context.AfterFunc(ctx, func() { conn.Close() })
				f(ctx, conn)
				stop()
				conn.Close()
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// TestConnectionCapLetsAPayerThroughAFlood: while the cap's worth of
// connections are held idle, kept alive idle, or trickling a header
// (each dialled again the moment the server drops it), the server holds
// no more than the cap open, and a payer's call still gets its answer:
// the server's timeouts free the slots, and the kernel lets the payer's
// queued connection in ahead of the flood's next ones. How long the
// payer waited is logged (a few seconds: the timeouts in server.go).
func TestConnectionCapLetsAPayerThroughAFlood(t *testing.T) {
	const maxConns = 8
	for _, tc := range []struct {
		name string
		f    flooder
	}{
		{"idle new connections", idleNew},
		{"idle kept-alive connections", idleKeptAlive},
		{"header trickled a line a second", slowHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tm := newTerminal(t)
			doc := tm.request("0.01", "ETH")
			srv := serveCapped(t, httpapi.Payer(tm.till, nil), maxConns)
			flood(t, srv.addr, maxConns, tc.f)
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if open, _ := srv.counts(); open == maxConns {
					break
				}
				if time.Now().After(deadline) {
					open, _ := srv.counts()
					t.Fatalf("the flood holds %d connections, want %d", open, maxConns)
				}
			}
			payer := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
			began := time.Now()
			resp, err := payer.Get("http://" + srv.addr + checkout.RequestPath + "?id=" + doc.ID)
			if err != nil {
				t.Fatalf("the payer got no answer: %v", err)
			}
			resp.Body.Close()
			t.Logf("the payer's answer came %s after its call", time.Since(began).Round(time.Millisecond))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the payer's call: %d, want 200", resp.StatusCode)
			}
			if _, peak := srv.counts(); peak > maxConns {
				t.Errorf("the server held %d connections at once, over its cap of %d", peak, maxConns)
			}
		})
	}
}

// TestListenTCPRefusesNoConnections: a cap under one is a wiring mistake,
// refused before anything listens.
func TestListenTCPRefusesNoConnections(t *testing.T) {
	if ln, err := httpapi.ListenTCP("127.0.0.1:0", 0); err == nil {
		ln.Close()
		t.Error("ListenTCP with a cap of 0 connections: no error")
	}
}
