package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"showpos/device/clock"
)

func TestSleep(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, stop := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer stop()
	cases := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"a full pause returns nil", context.Background(), time.Millisecond, nil},
		{"a zero pause returns nil", context.Background(), 0, nil},
		{"a cancelled context ends a long pause with Canceled", cancelled, time.Hour, context.Canceled},
		{"a passed deadline ends a long pause with DeadlineExceeded", expired, time.Hour, context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := clock.Sleep(c.ctx, c.d); !errors.Is(err, c.want) {
				t.Errorf("Sleep(%v) = %v, want %v", c.d, err, c.want)
			}
		})
	}
}

// TestSleepEndsWhenCancelledDuring: a pause already under way ends when its
// context is cancelled, not when its duration is up.
func TestSleepEndsWhenCancelledDuring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- clock.Sleep(ctx, time.Hour) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want %v", err, context.Canceled)
	}
}

func TestSystemIsTheWallClock(t *testing.T) {
	before := time.Now()
	got := clock.System{}.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("System.Now() = %v, want between %v and %v", got, before, after)
	}
}
