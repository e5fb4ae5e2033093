// Package clock is the terminal's time: a Clock that everything reading the
// time is handed — the board's clock, or a test's fake — and Sleep, a pause
// that ends with its context.
//
// It sits beside the device contracts because drivers and the terminal both
// use it, and drivers must never import terminal/. It imports nothing of
// showpos.
package clock

import (
	"context"
	"time"
)

// Clock tells the time. Code that reads the time takes one (an options
// field, nil meaning System) so a test can set it: requests expire, signed
// requests carry timestamps, and a board without a real-time clock boots
// in 1970. Waiting is not the Clock's job: timers and timeouts use real
// time (see Sleep).
type Clock interface{ Now() time.Time }

// System is the board's clock: time.Now.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

var _ Clock = System{}

// Sleep pauses for d, or until ctx is done, whichever comes first. It
// returns nil after the whole pause and ctx.Err() when the context ended
// it. Its timer is stopped on return, so a cancelled pause leaves nothing
// behind.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
