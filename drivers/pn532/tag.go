package pn532

import (
	"context"
	"errors"
	"fmt"
	"time"

	"showpos/device"
)

// Target-mode commands (UM0701-02 §7.3.14 onwards) and SetParameters (§7.2.9).
const (
	cmdSetParameters  = 0x12
	cmdTgInitAsTarget = 0x8C
	cmdTgGetData      = 0x86
	cmdTgSetData      = 0x8E
)

// SetParameters flags (UM0701-02 §7.2.9).
const (
	// paramsReader is the chip's baseline for the reader role: automatic
	// ATR_RES and automatic RATS (InListPassiveTarget does RATS itself).
	paramsReader = 0x14
	// paramsTag is the tag role: automatic RATS kept, automatic ATR_RES
	// off (no NFC-DEP), and fISO14443-4_PICC on, which makes the chip run
	// ISO-DEP itself (RATS/ATS, blocks, chaining, presence checks) so that
	// TgGetData and TgSetData carry bare APDUs.
	paramsTag = 0x30
)

// tgInitParams is TgInitAsTarget's parameters for an ISO 14443-4 PICC at
// 106 kbps type A: Mode 0x05 (PassiveOnly | PICCOnly), MifareParams
// (SENS_RES 04 00, NFCID1t 53 50 53 after the chip's own first byte,
// SEL_RES 0x20: ISO 14443-4), FeliCaParams (18 zero bytes, unused),
// NFCID3t (10 zero bytes, unused), no general bytes, no historical bytes.
var tgInitParams = append(append([]byte{
	0x05,
	0x04, 0x00, 0x53, 0x50, 0x53, 0x20,
}, make([]byte, 18+10)...), 0x00, 0x00)

// PresentTag implements device.NFCTag: the chip becomes an NFC Forum Type
// 4 tag (ISO 14443-4 PICC, NDEF Tag Application D2 76 00 00 85 01 01)
// holding ndef, read-only, and waits up to wait for a reader (a phone) to
// activate it. It then answers the reader's APDUs (TgGetData, the tag's
// answer, TgSetData) until the reader has read the whole NDEF file, leaves
// (the chip reports it released or gone), or is silent for
// Opts.TagSession; the whole session is bounded by Opts.TagSession too.
// The chip goes back to the reader's parameters before PresentTag returns.
//
// read is true when a reader read the NDEF file to its end; no reader
// within wait is (false, nil), and so is a reader that left early. Errors
// are chip faults, a message over MaxNDEF (ErrTooLong), ctx's, and
// device.ErrHalted. A Tap from an earlier WaitTap is no longer valid.
func (d *Dev) PresentTag(ctx context.Context, ndef []byte, wait time.Duration) (bool, error) {
	tag, err := newTag4(ndef)
	if err != nil {
		return false, fmt.Errorf("pn532: %s: present tag: %w", d.name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted.Load() {
		return false, fmt.Errorf("pn532: %s: %w", d.name, device.ErrHalted)
	}
	d.session++
	read, err := d.presentTag(ctx, tag, wait)
	if err != nil {
		return read, fmt.Errorf("pn532: %s: present tag: %w", d.name, err)
	}
	return read, nil
}

// presentTag is PresentTag with d.mu held.
func (d *Dev) presentTag(ctx context.Context, tag *tag4, wait time.Duration) (read bool, err error) {
	if err := d.setParameters(ctx, paramsTag); err != nil {
		return false, err
	}
	defer func() {
		if d.halted.Load() {
			return
		}
		// Back to the reader's parameters even when ctx is done: the next
		// WaitTap must find the chip as New left it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*(d.o.AckTimeout+d.o.CommandTimeout))
		defer cancel()
		if rerr := d.setParameters(rctx, paramsReader); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	r, err := d.call(ctx, "TgInitAsTarget", cmdTgInitAsTarget, tgInitParams, wait, pollSilence)
	if errors.Is(err, errTimeout) {
		return false, nil // no reader came
	}
	if err != nil {
		return false, err
	}
	if len(r) < 1 {
		return false, fmt.Errorf("TgInitAsTarget: %w: no mode byte", ErrFrame)
	}
	sctx, cancel := context.WithTimeout(ctx, d.o.TagSession)
	defer cancel()
	for !tag.done() {
		r, err := d.call(sctx, "TgGetData", cmdTgGetData, nil, d.o.TagSession, pollSilence)
		if errors.Is(err, errTimeout) || errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return false, nil // the reader went quiet, or took too long
		}
		if err != nil {
			return false, err
		}
		if gone, err := tgStatus("TgGetData", r); gone || err != nil {
			return false, err
		}
		answer := tag.respond(r[1:])
		r, err = d.call(sctx, "TgSetData", cmdTgSetData, answer, d.o.CommandTimeout, retrySilence)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if gone, err := tgStatus("TgSetData", r); gone || err != nil {
			return false, err
		}
	}
	return true, nil
}

// tgStatus reads a target command's status byte: gone when the reader
// released the tag or left the field (not an error: the phone moved
// away), an error for any other code.
func tgStatus(cmd string, r []byte) (gone bool, err error) {
	if len(r) < 1 {
		return false, fmt.Errorf("%s: %w: no status byte", cmd, ErrFrame)
	}
	c := r[0] & 0x3F
	if c == 0 {
		return false, nil
	}
	se := &StatusError{Cmd: cmd, Code: c}
	if se.Gone() {
		return true, nil
	}
	return false, se
}

// setParameters is SetParameters(flags). Called with d.mu held.
func (d *Dev) setParameters(ctx context.Context, flags byte) error {
	_, err := d.call(ctx, "SetParameters", cmdSetParameters, []byte{flags}, d.o.CommandTimeout, retrySilence)
	return err
}
