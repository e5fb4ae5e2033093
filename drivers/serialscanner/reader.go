package serialscanner

import (
	"fmt"
	"math/rand/v2"
	"time"

	"go.bug.st/serial"

	"showpos/device"
)

// run is the one reader goroutine: it reads the open port until it fails,
// then reopens it, until Halt. It owns every port it opens.
func (d *Dev) run(p serial.Port) {
	defer d.wg.Done()
	for {
		err := d.serve(p)
		p.Close()
		if err == nil { // halted
			return
		}
		d.lost.Store(true)
		d.log.Warn("scanner lost; reconnecting", "scanner", d.which, "path", d.Path(), "err", err)
		if p = d.reconnect(); p == nil {
			return
		}
		d.lost.Store(false)
	}
}

// serve reads p, handing complete payloads to the queue, until Halt (nil)
// or a read error (an unplug: PortClosed, EIO, ENXIO, …).
func (d *Dev) serve(p serial.Port) error {
	sp := newSplitter(d.o.Terminator, d.o.MaxPayload)
	buf := make([]byte, readChunk)
	emit := func(payload []byte, tooLarge bool) {
		if tooLarge {
			d.deliver(item{err: fmt.Errorf("serialscanner: %s: line over %d bytes dropped: %w", d.which, d.o.MaxPayload, device.ErrTooLarge)})
			return
		}
		d.deliver(item{payload: payload})
	}
	for {
		select {
		case <-d.stop:
			return nil
		default:
		}
		// Returns (0, nil) after pollInterval with nothing to read.
		n, err := p.Read(buf)
		if n > 0 {
			sp.feed(buf[:n], emit)
		}
		if err != nil {
			if sp.pending() {
				d.log.Info("scanner: partial payload lost", "scanner", d.which)
			}
			return err
		}
	}
}

// deliver queues it for ReadPayload, dropping the oldest queued item when
// the consumer has fallen queueLen behind.
func (d *Dev) deliver(it item) {
	for {
		select {
		case d.q <- it:
			return
		default:
		}
		// Only this goroutine sends, so after one receive (ours or a
		// consumer's) the next send finds room.
		select {
		case old := <-d.q:
			d.dropped.Add(1)
			d.log.Warn("scanner: payload dropped, nobody reading", "scanner", d.which, "bytes", len(old.payload))
		default:
		}
	}
}

// reconnect reopens the scanner with capped, jittered backoff. It returns
// nil when halted.
func (d *Dev) reconnect() serial.Port {
	b := backoff{min: d.o.ReconnectMin, max: d.o.ReconnectMax}
	start := time.Now()
	warned := false
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(b.next(rand.Float64()))
		select {
		case <-d.stop:
			t.Stop()
			return nil
		case <-t.C:
		}
		p, err := d.connect()
		if err == nil {
			d.log.Info("scanner reconnected", "scanner", d.which, "path", d.Path(),
				"after", time.Since(start).Round(time.Millisecond), "attempts", attempt)
			return p
		}
		if b.cur >= b.max && !warned {
			// Once per outage: the scanner has stayed away through the
			// whole backoff ramp.
			warned = true
			d.log.Warn("scanner still away; retrying", "scanner", d.which, "every", b.max, "err", err)
		} else {
			d.log.Debug("scanner reconnect failed", "scanner", d.which, "attempt", attempt, "err", err)
		}
	}
}

// backoff doubles from min to max; each wait is jittered to [cur/2, cur] so
// that several devices replugged together do not retry in step.
type backoff struct {
	min, max, cur time.Duration
}

// next returns the next wait; r in [0,1) is the jitter.
func (b *backoff) next(r float64) time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + time.Duration(r*float64(b.cur-half))
}
