package pn532

import (
	"context"
	"errors"
	"fmt"

	"showpos/device"
)

// maxChained bounds the InDataExchange rounds of one answer (status bit
// 0x40, "more information"), whatever MaxAnswer says.
const maxChained = 32

// Tap is a session with one ISO 14443-4 target the chip has activated
// (RATS done, ATS read). It is only valid until Release, the next WaitTap,
// or Halt.
type Tap struct {
	d       *Dev
	tg      byte
	id      []byte
	ats     []byte
	session uint64
	gone    bool // the chip said the target is gone
	done    bool // released
}

var _ device.Tap = (*Tap)(nil)

// ID is the target's NFCID1; phones draw a random one for each tap.
func (t *Tap) ID() []byte { return append([]byte(nil), t.id...) }

// ATS is the target's answer to select, length byte first.
func (t *Tap) ATS() []byte { return append([]byte(nil), t.ats...) }

// Exchange sends apdu (at most MaxAPDU bytes) with InDataExchange and
// returns the target's answer, status word included. When the chip sets
// the "more information" bit (0x40) in its status, Exchange asks for the
// rest with InDataExchange carrying no data and joins the parts, up to
// Opts.MaxAnswer bytes. A chip status that means the target is gone
// (time-out 0x01, RF errors, 0x13, 0x27, 0x29, 0x2A, 0x2B) comes back as a
// *StatusError that unwraps to device.ErrGone, and so does every later
// Exchange on this Tap.
//
// An InDataExchange the chip acknowledged but never answered is sent once
// more (after an ACK that aborts it): the target may see a command twice,
// which the showpos tap protocol allows for (nfcpay's APDUs are
// idempotent).
func (t *Tap) Exchange(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) == 0 {
		return nil, errors.New("pn532: exchange: empty APDU")
	}
	if len(apdu) > MaxAPDU {
		return nil, fmt.Errorf("pn532: exchange: APDU of %d bytes: %w (max %d)", len(apdu), ErrTooLong, MaxAPDU)
	}
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := t.usable(); err != nil {
		return nil, err
	}
	wait := d.o.ExchangeTimeout
	params := append([]byte{t.tg}, apdu...)
	var out []byte
	for round := 0; ; round++ {
		r, err := d.call(ctx, "InDataExchange", cmdInDataExchange, params, wait, retrySilence)
		if err != nil {
			return nil, fmt.Errorf("pn532: %s: %w", d.name, err)
		}
		if len(r) < 1 {
			return nil, fmt.Errorf("pn532: %s: InDataExchange: %w: no status byte", d.name, ErrFrame)
		}
		if c := r[0] & 0x3F; c != 0 {
			se := &StatusError{Cmd: "InDataExchange", Code: c}
			if se.Gone() {
				t.gone = true
			}
			return nil, fmt.Errorf("pn532: %s: %w", d.name, se)
		}
		out = append(out, r[1:]...)
		if len(out) > d.o.MaxAnswer {
			return nil, fmt.Errorf("pn532: %s: InDataExchange: answer over %d bytes: %w", d.name, d.o.MaxAnswer, ErrTooLong)
		}
		if r[0]&0x40 == 0 {
			return out, nil
		}
		if round+1 == maxChained {
			return nil, fmt.Errorf("pn532: %s: InDataExchange: answer in over %d parts: %w", d.name, maxChained, ErrTooLong)
		}
		params = []byte{t.tg} // "more information": fetch the next part
	}
}

// usable is nil while the Tap may talk. Called with d.mu held.
func (t *Tap) usable() error {
	switch {
	case t.d.halted.Load():
		return fmt.Errorf("pn532: %s: %w", t.d.name, device.ErrHalted)
	case t.done || t.session != t.d.session:
		return fmt.Errorf("pn532: %s: %w", t.d.name, ErrReleased)
	case t.gone:
		return fmt.Errorf("pn532: %s: %w", t.d.name, device.ErrGone)
	}
	return nil
}

// Release ends the session with InRelease. A target already gone is not
// an error, nor is a second Release.
func (t *Tap) Release() error {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.done || t.session != d.session || d.halted.Load() {
		t.done = true
		return nil
	}
	t.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*(d.o.AckTimeout+d.o.CommandTimeout))
	defer cancel()
	err := d.release(ctx, t.tg)
	var se *StatusError
	if errors.As(err, &se) && (se.Gone() || t.gone) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pn532: %s: %w", d.name, err)
	}
	return nil
}
