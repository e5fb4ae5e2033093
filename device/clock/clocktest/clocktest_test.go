package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"showpos/device/clock/clocktest"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestFake(t *testing.T) {
	cases := []struct {
		name string
		move func(f *clocktest.Fake)
		want time.Time
	}{
		{"stands still", func(*clocktest.Fake) {}, t0},
		{"Set moves forward", func(f *clocktest.Fake) { f.Set(t0.Add(time.Hour)) }, t0.Add(time.Hour)},
		{"Set moves back", func(f *clocktest.Fake) { f.Set(time.Unix(60, 0)) }, time.Unix(60, 0)},
		{"Advance adds", func(f *clocktest.Fake) { f.Advance(time.Minute); f.Advance(time.Second) }, t0.Add(time.Minute + time.Second)},
		{"Advance by a negative step goes back", func(f *clocktest.Fake) { f.Advance(-time.Hour) }, t0.Add(-time.Hour)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := clocktest.NewFake(t0)
			c.move(f)
			if got := f.Now(); !got.Equal(c.want) {
				t.Errorf("Now() = %v, want %v", got, c.want)
			}
		})
	}
}

func TestZeroFakeTellsTheZeroTime(t *testing.T) {
	var f clocktest.Fake
	if got := f.Now(); !got.IsZero() {
		t.Errorf("Now() = %v, want the zero time", got)
	}
}

// TestFakeConcurrent moves the clock while other goroutines read it, as a
// test does while the code under test runs; every step lands (go test -race
// reports an unguarded Fake).
func TestFakeConcurrent(t *testing.T) {
	const movers, steps = 4, 100
	f := clocktest.NewFake(t0)
	var wg sync.WaitGroup
	for range movers {
		wg.Go(func() {
			for range steps {
				f.Advance(time.Second)
				_ = f.Now()
			}
		})
	}
	wg.Wait()
	if got, want := f.Now(), t0.Add(movers*steps*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v after %d steps, want %v", got, movers*steps, want)
	}
}
