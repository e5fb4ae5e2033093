package gpioindicator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"showpos/device"
)

// levels is what both gpiotest pins held during one wait of a pattern.
type levels struct {
	Buzzer, LED gpio.Level
	D           time.Duration
}

func (l levels) String() string { return fmt.Sprintf("buzzer=%s led=%s %s", l.Buzzer, l.LED, l.D) }

// The driver runs against periph's own gpiotest.Pin: New drives both pins
// Low (they start High here), each pattern's steps show on the pins' L
// while the driver waits, and both pins are Low after every Signal.
func TestGpiotestPinsFollowPatterns(t *testing.T) {
	buzzer := &gpiotest.Pin{N: "BUZZER", Num: 18, L: gpio.High}
	led := &gpiotest.Pin{N: "LED", Num: 23, L: gpio.High}
	var mu sync.Mutex
	var seen []levels
	o := Opts{Sleep: func(ctx context.Context, d time.Duration) error {
		l := levels{Buzzer: buzzer.Read(), LED: led.Read(), D: d}
		mu.Lock()
		seen = append(seen, l)
		mu.Unlock()
		return ctx.Err()
	}}
	d, err := New(buzzer, led, &o)
	if err != nil {
		t.Fatal(err)
	}
	if b, l := buzzer.Read(), led.Read(); b != gpio.Low || l != gpio.Low {
		t.Fatalf("after New: buzzer %s, LED %s; want both Low", b, l)
	}
	if s, want := d.String(), "gpioindicator(buzzer=BUZZER(18), led=LED(23))"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
	for _, sig := range []struct {
		s    device.Signal
		name string
	}{
		{device.SignalKey, "key"},
		{device.SignalAccepted, "accepted"},
		{device.SignalRejected, "rejected"},
		{device.SignalAttention, "attention"},
	} {
		s, name := sig.s, sig.name
		mu.Lock()
		seen = nil
		mu.Unlock()
		if err := d.Signal(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b, l := buzzer.Read(), led.Read(); b != gpio.Low || l != gpio.Low {
			t.Errorf("after %s: buzzer %s, LED %s; want both Low", name, b, l)
		}
		mu.Lock()
		got := seen
		mu.Unlock()
		steps := DefaultPatterns()[s]
		if len(got) != len(steps) {
			t.Fatalf("%s: %d waits %v, want %d", name, len(got), got, len(steps))
		}
		for i, st := range steps {
			if want := (levels{st.Buzzer, st.LED, st.D}); got[i] != want {
				t.Errorf("%s step %d: pins %v, want %v", name, i, got[i], want)
			}
		}
		if s == device.SignalAccepted {
			var on time.Duration
			for _, l := range got {
				if l.LED == gpio.High {
					on += l.D
				}
			}
			if on != time.Second {
				t.Errorf("accepted: LED pin High for %s of the pattern, want the whole 1s", on)
			}
		}
	}
}

// Halt in the middle of a real-time pattern leaves both gpiotest pins Low.
func TestGpiotestPinsLowAfterHalt(t *testing.T) {
	buzzer := &gpiotest.Pin{N: "BUZZER", Num: 18}
	led := &gpiotest.Pin{N: "LED", Num: 23}
	d, err := New(buzzer, led, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Signal(context.Background(), device.SignalAccepted) }()
	deadline := time.Now().Add(time.Second)
	for led.Read() != gpio.High { // the pattern has started
		if time.Now().After(deadline) {
			t.Fatal("the LED pin never went High during Accepted")
		}
		time.Sleep(time.Millisecond)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, device.ErrHalted) {
		t.Errorf("Signal = %v, want ErrHalted", err)
	}
	if b, l := buzzer.Read(), led.Read(); b != gpio.Low || l != gpio.Low {
		t.Errorf("after Halt: buzzer %s, LED %s; want both Low", b, l)
	}
}
