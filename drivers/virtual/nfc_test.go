package virtual

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"showpos/device"
)

// echo answers every APDU with its data and 90 00.
func echo(ctx context.Context, apdu []byte) ([]byte, error) {
	return append(apdu, 0x90, 0x00), nil
}

// present runs b.Tap(phone) in the background; wait returns its result.
func present(t *testing.T, b *Board, ctx context.Context, phone Phone) (wait func() error) {
	done := make(chan error, 1)
	go func() { done <- b.Tap(ctx, phone) }()
	return func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Tap did not return")
			return nil
		}
	}
}

func TestTapRoundTrip(t *testing.T) {
	b := newBoard(t, nil)
	ctx := testCtx(t)
	wait := present(t, b, ctx, echo)
	tap, err := b.NFC().WaitTap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id := tap.ID(); len(id) != 4 || id[0] != 0x08 {
		t.Errorf("ID %x, want a 4-byte random UID (08 …)", id)
	}
	selectAID := []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x00}
	for range 3 {
		resp, err := tap.Exchange(ctx, selectAID)
		if want := append(selectAID[:len(selectAID):len(selectAID)], 0x90, 0x00); err != nil || !bytes.Equal(resp, want) {
			t.Fatalf("Exchange = %x, %v; want %x", resp, err, want)
		}
	}
	if err := tap.Release(); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Errorf("Tap after Release: %v", err)
	}
	if _, err := tap.Exchange(ctx, selectAID); !errors.Is(err, device.ErrGone) {
		t.Errorf("Exchange after Release: %v, want ErrGone", err)
	}
}

func TestPhonePulledAwayIsErrGone(t *testing.T) {
	b := newBoard(t, nil)
	ctx := testCtx(t)
	var calls atomic.Int32
	wait := present(t, b, ctx, func(ctx context.Context, apdu []byte) ([]byte, error) {
		if calls.Add(1) == 2 {
			return nil, device.ErrGone
		}
		return []byte{0x90, 0x00}, nil
	})
	tap, err := b.NFC().WaitTap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tap.Exchange(ctx, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := tap.Exchange(ctx, []byte{2}); !errors.Is(err, device.ErrGone) {
		t.Fatalf("second exchange: %v, want ErrGone", err)
	}
	if _, err := tap.Exchange(ctx, []byte{3}); !errors.Is(err, device.ErrGone) || calls.Load() != 2 {
		t.Errorf("exchange after the phone left: %v (phone called %d times), want ErrGone and no call", err, calls.Load())
	}
	tap.Release()
	if err := wait(); err != nil {
		t.Errorf("Tap: %v", err)
	}
}

func TestPhoneTakenAwayMidExchange(t *testing.T) {
	b := newBoard(t, nil)
	ctx := testCtx(t)
	tapCtx, takeAway := context.WithCancel(ctx)
	inPhone := make(chan struct{})
	wait := present(t, b, tapCtx, func(ctx context.Context, apdu []byte) ([]byte, error) {
		close(inPhone)
		<-ctx.Done() // a phone that answers only when the field is lost
		return nil, ctx.Err()
	})
	tap, err := b.NFC().WaitTap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-inPhone; takeAway() }()
	if _, err := tap.Exchange(ctx, []byte{1}); !errors.Is(err, device.ErrGone) {
		t.Errorf("Exchange while the phone is taken away: %v, want ErrGone", err)
	}
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Tap: %v, want context.Canceled", err)
	}
	tap.Release()
}

func TestTapWithNoTerminalWaiting(t *testing.T) {
	b := newBoard(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	called := false
	err := b.Tap(ctx, func(context.Context, []byte) ([]byte, error) { called = true; return nil, nil })
	if !errors.Is(err, context.DeadlineExceeded) || called {
		t.Errorf("Tap = %v (phone called: %v), want DeadlineExceeded", err, called)
	}
}

func TestWaitTapEnds(t *testing.T) {
	b := newBoard(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.NFC().WaitTap(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitTap without a phone: %v", err)
	}
	b.NFC().Halt()
	if _, err := b.NFC().WaitTap(testCtx(t)); !errors.Is(err, device.ErrHalted) {
		t.Errorf("WaitTap after Halt: %v", err)
	}
	if err := b.Tap(testCtx(t), echo); !errors.Is(err, device.ErrHalted) {
		t.Errorf("Tap after Halt: %v", err)
	}
}
