// Package sdnotify tells systemd how posd is doing: ready, reloading,
// stopping, a status line, and watchdog keep-alives that are sent only while
// the daemon's main loop answers.
//
// It speaks the sd_notify protocol (datagrams of NAME=value lines to the
// unix socket in $NOTIFY_SOCKET) through go-systemd's daemon package, and
// needs no configuration: under systemd with Type=notify the environment
// carries the socket, and WatchdogSec= adds $WATCHDOG_USEC (and
// $WATCHDOG_PID). Outside systemd every call is a no-op, so posd runs the
// same from a shell, a test or a unit. A failure to notify is logged, never
// fatal: a missed READY=1 shows up as a start timeout in systemd, which says
// more than a daemon that refuses to run.
//
// configs/posd.service is the unit this package is written for;
// unit_test.go checks it with systemd-analyze.
//
// See sd_notify(3) and systemd.service(5).
package sdnotify

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends service state to systemd. The zero value is not usable;
// call [New]. Its methods are safe for concurrent use.
type Notifier struct {
	log *slog.Logger
}

// New returns a Notifier that logs its failures to log (nil: discarded).
// It reads $NOTIFY_SOCKET and $WATCHDOG_USEC when used, not here, and
// leaves them set.
func New(log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{log: log}
}

// Ready tells systemd that start-up is done (or a reload is): with
// Type=notify the unit becomes active only now.
func (n *Notifier) Ready() { n.notify(daemon.SdNotifyReady) }

// Stopping tells systemd that the daemon is shutting down (draining).
func (n *Notifier) Stopping() { n.notify(daemon.SdNotifyStopping) }

// Reloading tells systemd that the daemon is reloading its config; call
// Ready when it is done. It carries MONOTONIC_USEC, which systemd 253 and
// later require with RELOADING=1 under Type=notify-reload (older versions
// ignore the field).
func (n *Notifier) Reloading() {
	n.notify(daemon.SdNotifyReloading + "\n" + daemon.SdNotifyMonotonicUsec())
}

// Status sets the one-line status systemctl status shows. Runs of white
// space in text, line breaks included, become one space: each line of a
// notification is an assignment, and a status must not send READY=1.
func (n *Notifier) Status(text string) {
	text = strings.Join(strings.Fields(text), " ")
	n.notify("STATUS=" + text)
}

// notify sends state and reports whether systemd got it.
func (n *Notifier) notify(state string) bool {
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		name, _, _ := strings.Cut(state, "=")
		n.log.Warn("systemd notification not sent", "state", name, "err", err)
	}
	return sent
}

// Watchdog keeps systemd's watchdog fed while alive says the daemon is
// well, until ctx is done. Without a watchdog for this process
// (no WatchdogSec=, or not under systemd) it returns at once.
//
// Every half watchdog interval it calls alive with a deadline of a quarter
// interval, and sends WATCHDOG=1 only when alive returns nil. alive should
// prove that the main loop makes progress, for example by a round trip
// through the store, and must honour its context. When it fails, or is too
// slow, the ping is skipped and logged; a daemon that stays unwell misses
// the watchdog and systemd restarts it (Restart=on-failure). The first
// check runs at once.
func (n *Notifier) Watchdog(ctx context.Context, alive func(context.Context) error) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Error("systemd watchdog: unreadable environment; not pinging it", "err", err)
		return
	}
	if interval <= 0 {
		return
	}
	n.log.Info("systemd watchdog on", "interval", interval)
	tick := time.NewTicker(interval / 2)
	defer tick.Stop()
	for {
		n.check(ctx, alive, interval/4)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check runs one health check and feeds the watchdog if it passed.
func (n *Notifier) check(ctx context.Context, alive func(context.Context) error, timeout time.Duration) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := alive(actx)
	if ctx.Err() != nil {
		return // shutting down: the answer does not matter any more
	}
	if err != nil {
		n.log.Error("health check failed; not feeding the systemd watchdog", "err", err)
		return
	}
	n.notify(daemon.SdNotifyWatchdog)
}
