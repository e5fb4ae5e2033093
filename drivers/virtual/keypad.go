package virtual

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"showpos/device"
)

// keyQueue is how many presses wait for ReadKey before the page is told
// the keypad is busy (a terminal that stopped reading keys).
const keyQueue = 64

var errKeypadFull = errors.New("virtual keypad: queue full")

// keypad queues the page's key presses for ReadKey.
type keypad struct {
	keys     chan device.Key
	halted   chan struct{}
	haltOnce sync.Once
}

func newKeypad() *keypad {
	return &keypad{keys: make(chan device.Key, keyQueue), halted: make(chan struct{})}
}

func (k *keypad) String() string { return "virtual keypad" }

// ReadKey returns the next press, in the order they were made.
func (k *keypad) ReadKey(ctx context.Context) (device.Key, error) {
	// A halted keypad reports so even with presses queued.
	select {
	case <-k.halted:
		return device.KeyNone, fmt.Errorf("virtual keypad: %w", device.ErrHalted)
	default:
	}
	select {
	case key := <-k.keys:
		return key, nil
	case <-ctx.Done():
		return device.KeyNone, ctx.Err()
	case <-k.halted:
		return device.KeyNone, fmt.Errorf("virtual keypad: %w", device.ErrHalted)
	}
}

// press queues key without waiting.
func (k *keypad) press(key device.Key) error {
	select {
	case <-k.halted:
		return fmt.Errorf("virtual keypad: %w", device.ErrHalted)
	default:
	}
	select {
	case k.keys <- key:
		return nil
	default:
		return errKeypadFull
	}
}

func (k *keypad) Halt() error {
	k.haltOnce.Do(func() { close(k.halted) })
	return nil
}

// Press queues a key press as if it came from the page.
func (b *Board) Press(key device.Key) error {
	if keyName(key) == "" {
		return fmt.Errorf("virtual keypad: no key %v", key)
	}
	return b.keypad.press(key)
}

// keyName is key's name if it is a real key, else "".
func keyName(key device.Key) string {
	if k, ok := device.ParseKey(key.String()); ok && k == key {
		return key.String()
	}
	return ""
}
