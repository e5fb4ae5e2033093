package virtual

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"

	"showpos/device"
)

// Phone answers one command APDU with a response APDU, as a phone in host
// card emulation would. It must return when ctx ends (ctx ends too when the
// phone is taken away). Returning an error wrapping device.ErrGone
// simulates pulling the phone out of the field.
type Phone func(ctx context.Context, apdu []byte) ([]byte, error)

// nfc hands phones presented by Board.Tap to WaitTap.
type nfc struct {
	taps     chan *tap // unbuffered: a phone is only taken by a waiting reader
	halted   chan struct{}
	haltOnce sync.Once
}

func newNFC() *nfc { return &nfc{taps: make(chan *tap), halted: make(chan struct{})} }

func (n *nfc) String() string { return "virtual nfc reader" }

// WaitTap returns the next phone presented with Board.Tap.
func (n *nfc) WaitTap(ctx context.Context) (device.Tap, error) {
	select {
	case <-n.halted:
		return nil, fmt.Errorf("virtual nfc: %w", device.ErrHalted)
	default:
	}
	select {
	case t := <-n.taps:
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.halted:
		return nil, fmt.Errorf("virtual nfc: %w", device.ErrHalted)
	}
}

func (n *nfc) Halt() error {
	n.haltOnce.Do(func() { close(n.halted) })
	return nil
}

// Tap holds phone to the reader. The terminal's pending (or next, while ctx
// lasts) WaitTap gets a Tap whose Exchange calls phone. Tap returns nil
// once the terminal Releases the tap; if ctx ends first, the phone leaves
// the field (Exchange then fails with device.ErrGone) and Tap returns
// ctx's error. If no terminal takes the phone before ctx ends, Tap fails
// without phone being called.
func (b *Board) Tap(ctx context.Context, phone Phone) error {
	if phone == nil {
		return errors.New("virtual nfc: nil phone")
	}
	n := b.nfc
	t := newTap(phone)
	defer t.leave()
	select {
	case n.taps <- t:
	case <-ctx.Done():
		return fmt.Errorf("virtual nfc: no terminal waiting for a tap: %w", ctx.Err())
	case <-n.halted:
		return fmt.Errorf("virtual nfc: %w", device.ErrHalted)
	}
	select {
	case <-t.released:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("virtual nfc: phone taken away before release: %w", ctx.Err())
	case <-n.halted:
		return fmt.Errorf("virtual nfc: %w", device.ErrHalted)
	}
}

// tap is one phone in the field.
type tap struct {
	id    []byte
	phone Phone

	present  context.Context // ends when the phone leaves the field
	leave    context.CancelFunc
	released chan struct{}
	relOnce  sync.Once

	mu sync.Mutex // one APDU at a time, as on the air
}

func newTap(phone Phone) *tap {
	// A phone's UID is random per tap: 4 bytes starting with 0x08
	// (ISO/IEC 14443-3 random UID).
	id := make([]byte, 4)
	rand.Read(id)
	id[0] = 0x08
	present, leave := context.WithCancel(context.Background())
	return &tap{id: id, phone: phone, present: present, leave: leave, released: make(chan struct{})}
}

func (t *tap) ID() []byte { return append([]byte(nil), t.id...) }

// Exchange sends apdu to the phone and returns its answer. After the phone
// left (its Tap's ctx ended, or it answered device.ErrGone) or the tap was
// released, it fails with device.ErrGone without calling the phone.
func (t *tap) Exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-t.released:
		return nil, fmt.Errorf("virtual nfc: exchange after release: %w", device.ErrGone)
	default:
	}
	if t.present.Err() != nil {
		return nil, fmt.Errorf("virtual nfc: %w", device.ErrGone)
	}
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(t.present, func() { cancel(device.ErrGone) })
	defer stop()
	resp, err := t.phone(pctx, slices.Clone(apdu))
	switch {
	case errors.Is(err, device.ErrGone):
		t.leave()
		return nil, fmt.Errorf("virtual nfc: %w", err)
	case t.present.Err() != nil:
		return nil, fmt.Errorf("virtual nfc: %w", device.ErrGone)
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("virtual nfc: phone: %w", err)
	}
	return slices.Clone(resp), nil
}

// Release ends the session; the phone's Tap call returns.
func (t *tap) Release() error {
	t.relOnce.Do(func() {
		close(t.released)
		t.leave()
	})
	return nil
}
