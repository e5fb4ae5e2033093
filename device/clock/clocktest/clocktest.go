// Package clocktest has a clock.Clock for tests: a Fake that stands still
// until the test moves it.
package clocktest

import (
	"sync"
	"time"

	"showpos/device/clock"
)

// Fake is a clock.Clock that tells the time the test set. It is safe for
// concurrent use: the code under test may read it from its own goroutines
// while the test moves it. The zero Fake tells the zero time.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

var _ clock.Clock = (*Fake)(nil)

// NewFake returns a Fake set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the time last set.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t, forward or back.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// Advance moves the clock by d (back when d is negative).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}
