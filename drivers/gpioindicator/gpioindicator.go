package gpioindicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"showpos/device"
	"showpos/device/clock"
)

// Step is one segment of a pattern: both pins are set to the given levels
// and held for D.
type Step struct {
	Buzzer gpio.Level
	LED    gpio.Level
	D      time.Duration
}

// Opts configures the indicator.
type Opts struct {
	// Patterns maps each signal to the steps played for it. Nil means
	// DefaultPatterns(); a non-nil map replaces it wholly, and a signal
	// missing from it is refused by Signal.
	Patterns map[device.Signal][]Step
	// Sleep waits d or until ctx ends, returning ctx's error in that case.
	// Nil means clock.Sleep, a real timer. Tests replace it to record the
	// durations.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultOpts uses DefaultPatterns and real time.
var DefaultOpts = Opts{}

// DefaultPatterns returns a fresh copy of the patterns described in the
// package documentation.
func DefaultPatterns() map[device.Signal][]Step {
	const H, L = gpio.High, gpio.Low
	ms := time.Millisecond
	return map[device.Signal][]Step{
		device.SignalKey: {
			{Buzzer: H, LED: L, D: 20 * ms},
		},
		device.SignalAccepted: { // LED steady for 1 s, two short beeps
			{Buzzer: H, LED: H, D: 80 * ms},
			{Buzzer: L, LED: H, D: 80 * ms},
			{Buzzer: H, LED: H, D: 80 * ms},
			{Buzzer: L, LED: H, D: 760 * ms},
		},
		device.SignalRejected: { // one long beep, LED blinks 3×
			{Buzzer: H, LED: H, D: 100 * ms},
			{Buzzer: H, LED: L, D: 100 * ms},
			{Buzzer: H, LED: H, D: 100 * ms},
			{Buzzer: H, LED: L, D: 100 * ms},
			{Buzzer: H, LED: H, D: 100 * ms},
			{Buzzer: H, LED: L, D: 100 * ms},
		},
		device.SignalAttention: { // three short beeps
			{Buzzer: H, LED: L, D: 100 * ms},
			{Buzzer: L, LED: L, D: 100 * ms},
			{Buzzer: H, LED: L, D: 100 * ms},
			{Buzzer: L, LED: L, D: 100 * ms},
			{Buzzer: H, LED: L, D: 100 * ms},
		},
	}
}

// Dev is a buzzer and an LED. It is safe for concurrent use.
type Dev struct {
	buzzer, led gpio.PinOut // nil when absent
	patterns    map[device.Signal][]Step
	sleep       func(ctx context.Context, d time.Duration) error

	halt   context.Context // done once Halt is called
	cancel context.CancelFunc
	busy   chan struct{} // a token held while a pattern plays
}

var _ device.Indicator = (*Dev)(nil)

// New drives both pins Low and returns the indicator. buzzer or led may be
// nil or gpio.INVALID (absent); not both.
func New(buzzer, led gpio.PinOut, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	d := &Dev{buzzer: present(buzzer), led: present(led), patterns: o.Patterns, sleep: o.Sleep}
	if d.buzzer == nil && d.led == nil {
		return nil, errors.New("gpioindicator: neither a buzzer nor an LED pin")
	}
	if d.patterns == nil {
		d.patterns = DefaultPatterns()
	} else {
		d.patterns = make(map[device.Signal][]Step, len(o.Patterns))
		for s, steps := range o.Patterns {
			for i, st := range steps {
				if st.D < 0 {
					return nil, fmt.Errorf("gpioindicator: signal %d step %d: negative duration %s", s, i, st.D)
				}
			}
			d.patterns[s] = append([]Step(nil), steps...)
		}
	}
	if d.sleep == nil {
		d.sleep = clock.Sleep
	}
	for _, p := range []gpio.PinOut{d.buzzer, d.led} {
		if p != nil {
			if err := p.Out(gpio.Low); err != nil {
				return nil, fmt.Errorf("gpioindicator: %s: %w", p, err)
			}
		}
	}
	d.halt, d.cancel = context.WithCancel(context.Background())
	d.busy = make(chan struct{}, 1)
	return d, nil
}

func present(p gpio.PinOut) gpio.PinOut {
	if p == nil || p == gpio.INVALID {
		return nil
	}
	return p
}

func name(p gpio.PinOut) string {
	if p == nil {
		return "none"
	}
	return p.String()
}

// String names the pins.
func (d *Dev) String() string {
	return "gpioindicator(buzzer=" + name(d.buzzer) + ", led=" + name(d.led) + ")"
}

// Signal plays the pattern for s. It returns ctx's error if ctx ends first and
// device.ErrHalted after Halt; both pins are Low when it returns.
func (d *Dev) Signal(ctx context.Context, s device.Signal) error {
	steps, ok := d.patterns[s]
	if !ok {
		return fmt.Errorf("gpioindicator: no pattern for signal %d", s)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case d.busy <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.halt.Done():
		return device.ErrHalted
	}
	defer func() { <-d.busy }()
	if d.halt.Err() != nil {
		return device.ErrHalted
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.halt, cancel)()

	err := d.play(ctx, steps)
	if lerr := d.allLow(); err == nil {
		err = lerr
	}
	if err != nil && d.halt.Err() != nil {
		return device.ErrHalted
	}
	return err
}

// play writes a pin only when its level changes; pins start Low.
func (d *Dev) play(ctx context.Context, steps []Step) error {
	cur := Step{Buzzer: gpio.Low, LED: gpio.Low}
	for _, st := range steps {
		if d.buzzer != nil && st.Buzzer != cur.Buzzer {
			if err := d.buzzer.Out(st.Buzzer); err != nil {
				return fmt.Errorf("gpioindicator: buzzer %s: %w", d.buzzer, err)
			}
		}
		if d.led != nil && st.LED != cur.LED {
			if err := d.led.Out(st.LED); err != nil {
				return fmt.Errorf("gpioindicator: led %s: %w", d.led, err)
			}
		}
		cur = st
		if err := d.sleep(ctx, st.D); err != nil {
			return err
		}
	}
	return nil
}

// allLow drives both pins Low unconditionally, whatever play left behind.
func (d *Dev) allLow() error {
	var errs []error
	for _, p := range []gpio.PinOut{d.buzzer, d.led} {
		if p != nil {
			if err := p.Out(gpio.Low); err != nil {
				errs = append(errs, fmt.Errorf("gpioindicator: %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Halt stops a pattern in progress, drives both pins Low and makes further
// Signal calls return device.ErrHalted. It may be called more than once.
func (d *Dev) Halt() error {
	d.cancel()
	d.busy <- struct{}{} // wait for a playing pattern to stop
	defer func() { <-d.busy }()
	return d.allLow()
}
