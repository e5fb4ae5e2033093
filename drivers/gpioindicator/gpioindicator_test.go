package gpioindicator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"showpos/device"
)

// wire records, in order, every level written to the fake pins and every
// wait the driver asks for, as "buzzer=High", "led=Low", "sleep 80ms".
type wire struct {
	mu  sync.Mutex
	log []string
}

func (w *wire) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, s)
}

func (w *wire) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.log
	w.log = nil
	return l
}

// pin is a hand-written gpio.PinOut that records its writes on a wire
// shared with the other pin and the sleeps (so their order is checked, and
// a write the driver skips shows), remembers its level and can fail;
// periph's gpiotest.Pin only keeps the last level (gpiotest_test.go runs
// the driver on it).
type pin struct {
	name string
	w    *wire
	mu   sync.Mutex
	l    gpio.Level
	err  error // returned by Out when set
}

func (p *pin) String() string                        { return p.name }
func (p *pin) Halt() error                           { return nil }
func (p *pin) Name() string                          { return p.name }
func (p *pin) Number() int                           { return -1 }
func (p *pin) Function() string                      { return "Out" }
func (p *pin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("no PWM") }
func (p *pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.l = l
	p.w.add(fmt.Sprintf("%s=%s", p.name, l))
	return nil
}
func (p *pin) Level() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.l
}

var _ gpio.PinOut = (*pin)(nil)

// recordSleep logs the wait and returns at once (or ctx's error).
func recordSleep(w *wire) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		w.add("sleep " + d.String())
		return ctx.Err()
	}
}

func newRig(t *testing.T, w *wire, o Opts) (*Dev, *pin, *pin, *wire) {
	t.Helper()
	b, l := &pin{name: "buzzer", w: w}, &pin{name: "led", w: w}
	if o.Sleep == nil {
		o.Sleep = recordSleep(w)
	}
	d, err := New(b, l, &o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.take(), []string{"buzzer=Low", "led=Low"}; !slices.Equal(got, want) {
		t.Fatalf("New wrote %q, want %q", got, want)
	}
	return d, b, l, w
}

func TestSignalPlaysExactPattern(t *testing.T) {
	tests := []struct {
		s    device.Signal
		want []string
	}{
		{device.SignalKey, []string{
			"buzzer=High", "sleep 20ms",
			"buzzer=Low", "led=Low"}},
		{device.SignalAccepted, []string{
			"buzzer=High", "led=High", "sleep 80ms",
			"buzzer=Low", "sleep 80ms",
			"buzzer=High", "sleep 80ms",
			"buzzer=Low", "sleep 760ms",
			"buzzer=Low", "led=Low"}},
		{device.SignalRejected, []string{
			"buzzer=High", "led=High", "sleep 100ms",
			"led=Low", "sleep 100ms",
			"led=High", "sleep 100ms",
			"led=Low", "sleep 100ms",
			"led=High", "sleep 100ms",
			"led=Low", "sleep 100ms",
			"buzzer=Low", "led=Low"}},
		{device.SignalAttention, []string{
			"buzzer=High", "sleep 100ms",
			"buzzer=Low", "sleep 100ms",
			"buzzer=High", "sleep 100ms",
			"buzzer=Low", "sleep 100ms",
			"buzzer=High", "sleep 100ms",
			"buzzer=Low", "led=Low"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.s), func(t *testing.T) {
			d, b, l, w := newRig(t, &wire{}, Opts{})
			if err := d.Signal(context.Background(), tt.s); err != nil {
				t.Fatal(err)
			}
			if got := w.take(); !slices.Equal(got, tt.want) {
				t.Errorf("wire:\n got %q\nwant %q", got, tt.want)
			}
			if b.Level() != gpio.Low || l.Level() != gpio.Low {
				t.Errorf("pins left at %s/%s", b.Level(), l.Level())
			}
		})
	}
}

func TestDefaultPatternDurations(t *testing.T) {
	total := func(steps []Step) (sum time.Duration) {
		for _, s := range steps {
			sum += s.D
		}
		return sum
	}
	p := DefaultPatterns()
	if got := total(p[device.SignalAccepted]); got != time.Second {
		t.Errorf("accepted lasts %s, want the LED on for 1s", got)
	}
	if got := total(p[device.SignalRejected]); got != 600*time.Millisecond {
		t.Errorf("rejected lasts %s, want one 600ms beep", got)
	}
	p[device.SignalKey][0].D = time.Hour // a copy: the next call is unchanged
	if DefaultPatterns()[device.SignalKey][0].D != 20*time.Millisecond {
		t.Error("DefaultPatterns shares its slices")
	}
}

func TestCancelMidPatternLeavesPinsLow(t *testing.T) {
	w := &wire{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	o := Opts{Sleep: func(ctx context.Context, d time.Duration) error {
		w.add("sleep " + d.String())
		if n++; n == 2 {
			cancel() // the caller gives up during the second step
		}
		return ctx.Err()
	}}
	d, b, l, _ := newRig(t, w, o)
	err := d.Signal(ctx, device.SignalAccepted)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Signal = %v, want context.Canceled", err)
	}
	want := []string{
		"buzzer=High", "led=High", "sleep 80ms",
		"buzzer=Low", "sleep 80ms",
		"buzzer=Low", "led=Low"}
	if got := w.take(); !slices.Equal(got, want) {
		t.Errorf("wire:\n got %q\nwant %q", got, want)
	}
	if b.Level() != gpio.Low || l.Level() != gpio.Low {
		t.Errorf("pins left at %s/%s", b.Level(), l.Level())
	}
}

func TestCancelWithRealTimeReturnsEarly(t *testing.T) {
	w := &wire{}
	b, l := &pin{name: "buzzer", w: w}, &pin{name: "led", w: w}
	d, err := New(b, l, nil) // real sleeps
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = d.Signal(ctx, device.SignalAccepted) // 1 s pattern
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Signal = %v", err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("Signal took %s after its ctx ended", el)
	}
	if b.Level() != gpio.Low || l.Level() != gpio.Low {
		t.Errorf("pins left at %s/%s", b.Level(), l.Level())
	}
}

func TestAlreadyCancelledWritesNothing(t *testing.T) {
	d, _, _, w := newRig(t, &wire{}, Opts{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Signal(ctx, device.SignalKey); !errors.Is(err, context.Canceled) {
		t.Fatalf("Signal = %v", err)
	}
	if got := w.take(); len(got) != 0 {
		t.Errorf("wire: %q, want nothing", got)
	}
}

func TestMissingPinIsSkipped(t *testing.T) {
	for _, tc := range []struct {
		name    string
		invalid gpio.PinOut
	}{{"nil", nil}, {"INVALID", gpio.INVALID}} {
		t.Run("led "+tc.name, func(t *testing.T) {
			w := &wire{}
			b := &pin{name: "buzzer", w: w}
			d, err := New(b, tc.invalid, &Opts{Sleep: recordSleep(w)})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Signal(context.Background(), device.SignalAccepted); err != nil {
				t.Fatal(err)
			}
			want := []string{"buzzer=Low",
				"buzzer=High", "sleep 80ms", "buzzer=Low", "sleep 80ms",
				"buzzer=High", "sleep 80ms", "buzzer=Low", "sleep 760ms",
				"buzzer=Low"}
			if got := w.take(); !slices.Equal(got, want) {
				t.Errorf("wire:\n got %q\nwant %q", got, want)
			}
			if s := d.String(); s != "gpioindicator(buzzer=buzzer, led=none)" {
				t.Errorf("String() = %q", s)
			}
		})
	}
	t.Run("buzzer nil", func(t *testing.T) {
		w := &wire{}
		d, err := New(nil, &pin{name: "led", w: w}, &Opts{Sleep: recordSleep(w)})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Signal(context.Background(), device.SignalKey); err != nil {
			t.Fatal(err)
		}
		want := []string{"led=Low", "sleep 20ms", "led=Low"}
		if got := w.take(); !slices.Equal(got, want) {
			t.Errorf("wire:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("both nil", func(t *testing.T) {
		if _, err := New(nil, gpio.INVALID, nil); err == nil {
			t.Error("New with no pins succeeded")
		}
	})
}

func TestCustomPatterns(t *testing.T) {
	w := &wire{}
	pats := map[device.Signal][]Step{device.SignalKey: {{Buzzer: gpio.High, LED: gpio.High, D: time.Millisecond}}}
	d, err := New(&pin{name: "buzzer", w: w}, &pin{name: "led", w: w}, &Opts{Patterns: pats, Sleep: recordSleep(w)})
	if err != nil {
		t.Fatal(err)
	}
	pats[device.SignalKey][0].D = time.Hour // New copied the steps
	if err := d.Signal(context.Background(), device.SignalKey); err != nil {
		t.Fatal(err)
	}
	if got := w.take(); !slices.Contains(got, "sleep 1ms") {
		t.Errorf("wire %q: caller's later edit leaked in", got)
	}
	if err := d.Signal(context.Background(), device.SignalRejected); err == nil {
		t.Error("a signal without a pattern was played")
	}
	bad := map[device.Signal][]Step{device.SignalKey: {{D: -time.Second}}}
	if _, err := New(&pin{name: "b", w: w}, nil, &Opts{Patterns: bad}); err == nil {
		t.Error("negative duration accepted")
	}
}

func TestPinErrorStillForcesLow(t *testing.T) {
	d, b, l, _ := newRig(t, &wire{}, Opts{})
	l.mu.Lock()
	l.err = errors.New("line gone")
	l.mu.Unlock()
	err := d.Signal(context.Background(), device.SignalAccepted)
	if err == nil {
		t.Fatal("a failing LED pin went unreported")
	}
	if b.Level() != gpio.Low {
		t.Errorf("buzzer left %s", b.Level())
	}
}

func TestHaltStopsPatternAndRefusesMore(t *testing.T) {
	w := &wire{}
	b, l := &pin{name: "buzzer", w: w}, &pin{name: "led", w: w}
	d, err := New(b, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Signal(context.Background(), device.SignalAccepted) }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, device.ErrHalted) {
		t.Errorf("playing Signal = %v, want ErrHalted", err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("Halt took %s", el)
	}
	if b.Level() != gpio.Low || l.Level() != gpio.Low {
		t.Errorf("pins left at %s/%s", b.Level(), l.Level())
	}
	if err := d.Signal(context.Background(), device.SignalKey); !errors.Is(err, device.ErrHalted) {
		t.Errorf("Signal after Halt = %v", err)
	}
	if err := d.Halt(); err != nil {
		t.Errorf("second Halt: %v", err)
	}
}

func TestSignalsDoNotOverlap(t *testing.T) {
	var mu sync.Mutex
	playing, overlap := 0, false
	w := &wire{}
	o := Opts{Sleep: func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		playing++
		if playing > 1 {
			overlap = true
		}
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		playing--
		mu.Unlock()
		return nil
	}}
	d, err := New(&pin{name: "buzzer", w: w}, &pin{name: "led", w: w}, &o)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := d.Signal(context.Background(), device.SignalAttention); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if overlap {
		t.Error("two patterns played at once")
	}
}
