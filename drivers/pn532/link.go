package pn532

import (
	"context"
	"errors"
	"fmt"
	"time"

	"showpos/device"
)

// readSlice is the longest single Read: how late a cancelled context or a
// Halt is noticed while the driver waits on the chip.
const readSlice = 20 * time.Millisecond

// errTimeout: readFrame's deadline passed with no complete frame.
var errTimeout = errors.New("timed out")

// Reasons a command attempt failed that one resend may cure.
var (
	errNoACK      = errors.New("no ACK")
	errNACKed     = errors.New("chip sent NACK instead of ACK")
	errNoResponse = errors.New("no response after ACK")
)

// alive fails once the Dev is halted (except for Halt's own commands) or
// ctx is done.
func (d *Dev) alive(ctx context.Context) error {
	if d.halted.Load() && !d.closing {
		return device.ErrHalted
	}
	return ctx.Err()
}

// write sends raw bytes to the chip.
func (d *Dev) write(b []byte) error {
	if _, err := d.port.Write(b); err != nil {
		if d.halted.Load() && !d.closing {
			return device.ErrHalted
		}
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// readFrame returns the next frame from the chip, reading until deadline
// in slices of at most readSlice. A damaged frame comes back as errLCS,
// errDCS or errLen, already dropped from the buffer. Garbage between
// frames is skipped.
func (d *Dev) readFrame(ctx context.Context, deadline time.Time) (frameKind, []byte, error) {
	for {
		kind, payload, n, err := parseFrame(d.buf)
		if kind != kindNone || err != nil {
			p := append([]byte(nil), payload...)
			d.buf = d.buf[n:]
			return kind, p, err
		}
		d.buf = d.buf[n:]
		if err := d.alive(ctx); err != nil {
			return kindNone, nil, err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return kindNone, nil, errTimeout
		}
		if err := d.port.SetReadTimeout(min(wait, readSlice)); err != nil {
			return kindNone, nil, fmt.Errorf("set read timeout: %w", err)
		}
		m, err := d.port.Read(d.rd)
		if err != nil {
			if d.halted.Load() && !d.closing {
				return kindNone, nil, device.ErrHalted
			}
			return kindNone, nil, fmt.Errorf("read: %w", err)
		}
		d.buf = append(d.buf, d.rd[:m]...)
		if len(d.buf) > 4*maxFrameLen {
			// A flood with no frame in it: keep only a possible start.
			d.buf = append(d.buf[:0], d.buf[len(d.buf)-1])
		}
	}
}

// callMode says what a silent chip means after its ACK.
type callMode int

const (
	// retrySilence: no answer after the ACK is a fault: abort with an ACK,
	// resend once, then fail.
	retrySilence callMode = iota
	// pollSilence: no answer within the budget is "nothing found": abort
	// with an ACK and return errTimeout (InListPassiveTarget).
	pollSilence
)

// call sends command cmd with params and returns the data of the chip's
// answer (after its TFI and response code). wait bounds the answer once the
// chip has acknowledged; ctx bounds everything. On a missing or refused
// ACK, an error frame, or (with retrySilence) a missing answer, it sends an
// ACK (which aborts whatever the chip is doing, UM0701-02 §6.2.1.3) and
// sends the command once more; a damaged answer is asked for again with a
// NACK (§6.2.1.4).
func (d *Dev) call(ctx context.Context, name string, cmd byte, params []byte, wait time.Duration, mode callMode) ([]byte, error) {
	frame := encodeCommand(cmd, params)
	var last error
	for attempt := range 2 {
		if attempt > 0 {
			if err := d.write(ackFrame); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		resp, err := d.attempt(ctx, frame, cmd, wait, mode)
		switch {
		case err == nil:
			return resp, nil
		case errors.Is(err, errNoACK), errors.Is(err, errNACKed), errors.Is(err, ErrSyntax),
			errors.Is(err, errNoResponse) && mode == retrySilence:
			last = err
			continue
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if errors.Is(last, errNoACK) || errors.Is(last, errNACKed) || errors.Is(last, errNoResponse) {
		last = fmt.Errorf("%w (%w)", ErrNoAnswer, last)
	}
	return nil, fmt.Errorf("%s: %w, after one retry", name, last)
}

// attempt is one send of frame: wait for the ACK, then for the answer.
func (d *Dev) attempt(ctx context.Context, frame []byte, cmd byte, wait time.Duration, mode callMode) ([]byte, error) {
	if err := d.alive(ctx); err != nil {
		return nil, err
	}
	// Stale bytes (a late answer to an aborted command) go before we ask.
	d.buf = d.buf[:0]
	_ = d.port.ResetInputBuffer()
	if err := d.write(frame); err != nil {
		return nil, err
	}

	deadline := time.Now().Add(d.o.AckTimeout)
	for acked := false; !acked; {
		kind, _, err := d.readFrame(ctx, deadline)
		switch {
		case errors.Is(err, errTimeout):
			return nil, errNoACK
		case errors.Is(err, errLCS), errors.Is(err, errDCS), errors.Is(err, errLen):
			continue // noise on the line; the ACK may still come
		case err != nil:
			d.abortIfCancelled(err)
			return nil, err
		}
		switch kind {
		case kindACK:
			acked = true
		case kindNACK:
			return nil, errNACKed
		case kindError:
			return nil, ErrSyntax
		}
		// An information frame before the ACK is a stale answer: skip it.
	}

	deadline = time.Now().Add(wait)
	for nacks := 0; ; {
		kind, p, err := d.readFrame(ctx, deadline)
		switch {
		case errors.Is(err, errTimeout):
			// Stop the chip working on (and later answering) this command.
			_ = d.write(ackFrame)
			if mode == pollSilence {
				return nil, errTimeout
			}
			return nil, errNoResponse
		case errors.Is(err, errLCS), errors.Is(err, errDCS), errors.Is(err, errLen):
			if nacks == 2 {
				_ = d.write(ackFrame)
				return nil, fmt.Errorf("%w: %w (still damaged after %d NACKs)", ErrFrame, err, nacks)
			}
			nacks++
			if err := d.write(nackFrame); err != nil {
				return nil, err
			}
			if later := time.Now().Add(d.o.AckTimeout); later.After(deadline) {
				deadline = later
			}
			continue
		case err != nil:
			d.abortIfCancelled(err)
			return nil, err
		}
		switch kind {
		case kindError:
			return nil, ErrSyntax
		case kindInfo:
			if len(p) >= 2 && p[0] == tfiChip && p[1] == cmd+1 {
				return p[2:], nil
			}
			// Not the answer to this command: a stale one. Skip it.
		}
		// A repeated ACK or a NACK from the chip: nothing to do.
	}
}

// abortIfCancelled tells the chip to drop the current command when the
// caller gave up (ctx done or Halt), so it does not answer into the next one.
func (d *Dev) abortIfCancelled(err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, device.ErrHalted) {
		_, _ = d.port.Write(ackFrame)
	}
}
