package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/net/netutil"
)

// How long a connection may hold one of the listener's slots (see
// ListenTCP) doing nothing. Once the slots are taken, a new connection
// waits in the kernel's queue until one frees, and the kernel's queue is
// served in order: so while a flood of idle connections holds every slot,
// a payer's connection is let in within these few seconds, ahead of the
// flood's next ones.
const (
	// headerTimeout is how long a connection has to send its request's
	// header, from its first byte (or, on a new connection, from its
	// accept). A phone sends it in one packet; 5 s leaves room for a lossy
	// Wi-Fi's retransmissions. With TLS the handshake before it gets as
	// long again (net/http's handshake timeout is the least of the
	// server's timeouts).
	headerTimeout = 5 * time.Second
	// idleTimeout is how long a kept-alive connection may wait for its
	// next request. A payer's next call (the signed payment after the
	// request was read) comes tens of seconds later, so a longer wait would
	// save it nothing but one handshake, while it let idle connections hold
	// slots for a minute.
	idleTimeout = 5 * time.Second
)

// MetricsMaxConns caps the metrics listener (api.metrics_listen): a
// scraper holds one connection, a person with curl another.
const MetricsMaxConns = 4

// NewServer wraps h in a server with timeouts fit for a terminal on a shop
// network: a client that trickles its headers or body, never reads its
// answer, or keeps a connection idle, is cut off instead of holding it.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// ListenTCP listens on addr and holds at most maxConns connections open at
// once (netutil.LimitListener): more wait in the kernel's queue until one
// closes, so a flood of connections costs the daemon at most maxConns file
// descriptors and what a server keeps for each, never all it has.
func ListenTCP(addr string, maxConns int) (net.Listener, error) {
	if maxConns < 1 {
		return nil, fmt.Errorf("listen on %s: at most %d connections", addr, maxConns)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return netutil.LimitListener(l, maxConns), nil
}

// ListenUnix listens on a unix socket at path with mode 0660, so only the
// daemon's user and group can drive the terminal. A socket left behind by a
// daemon that died is replaced; one that still answers is an error.
func ListenUnix(path string) (net.Listener, error) {
	if _, err := os.Stat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("operator socket %s: another daemon is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale operator socket %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("operator socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on operator socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, fmt.Errorf("operator socket %s: %w", path, err)
	}
	return l, nil
}
