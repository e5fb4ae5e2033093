package virtual

import (
	"context"
	"fmt"
	"sync"

	"showpos/device"
)

// keepSignals is how many recent signals the indicator remembers.
const keepSignals = 16

// signalNames are the page's names for signals (CSS classes, SSE data).
var signalNames = map[device.Signal]string{
	device.SignalKey:       "key",
	device.SignalAccepted:  "accepted",
	device.SignalRejected:  "rejected",
	device.SignalAttention: "attention",
}

// indicator records signals for the page; it plays them instantly.
type indicator struct {
	hub *hub

	mu     sync.Mutex
	recent []device.Signal // oldest first, at most keepSignals
	seq    uint64          // signals played so far
	halted bool
}

func newIndicator(hub *hub) *indicator { return &indicator{hub: hub} }

func (i *indicator) String() string { return "virtual indicator" }

// Signal records s, shows it on the page and returns at once.
func (i *indicator) Signal(ctx context.Context, s device.Signal) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := signalNames[s]; !ok {
		return fmt.Errorf("virtual indicator: unknown signal %d", s)
	}
	i.mu.Lock()
	if i.halted {
		i.mu.Unlock()
		return fmt.Errorf("virtual indicator: %w", device.ErrHalted)
	}
	i.recent = append(i.recent, s)
	if len(i.recent) > keepSignals {
		i.recent = i.recent[len(i.recent)-keepSignals:]
	}
	i.seq++
	i.mu.Unlock()
	i.hub.notify()
	return nil
}

func (i *indicator) Halt() error {
	i.mu.Lock()
	i.halted = true
	i.mu.Unlock()
	return nil
}

// last returns the latest signal and how many were played.
func (i *indicator) last() (device.Signal, uint64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if len(i.recent) == 0 {
		return 0, 0
	}
	return i.recent[len(i.recent)-1], i.seq
}

// Signals returns the latest signals played, oldest first (at most 16).
func (b *Board) Signals() []device.Signal {
	b.indicator.mu.Lock()
	defer b.indicator.mu.Unlock()
	return append([]device.Signal(nil), b.indicator.recent...)
}
