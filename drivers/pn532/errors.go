package pn532

import (
	"errors"
	"fmt"

	"showpos/device"
)

// Errors the driver returns besides device.ErrGone and device.ErrHalted.
var (
	// ErrNoAnswer: the chip did not acknowledge (no ACK, or a NACK) or
	// answer a command, even after the one retry. Wiring, baud rate, HSU
	// mode or power.
	ErrNoAnswer = errors.New("chip did not answer")
	// ErrSyntax: the chip sent its error frame (00 00 FF 01 FF 7F 81 00):
	// it found the command frame malformed.
	ErrSyntax = errors.New("chip reported a syntax error (error frame)")
	// ErrFrame: the chip's answer arrived damaged again after a NACK, or
	// did not parse as the answer to the command.
	ErrFrame = errors.New("bad frame from chip")
	// ErrTooLong: an APDU over MaxAPDU bytes, or an answer over
	// Opts.MaxAnswer bytes.
	ErrTooLong = errors.New("too long")
	// ErrReleased: the Tap was released, or a later WaitTap replaced it.
	ErrReleased = errors.New("tap released")
)

// StatusError is a non-zero error code (the low six bits of the status
// byte) the chip returned for a command. It unwraps to device.ErrGone for
// the codes that mean the target is no longer there to talk to.
type StatusError struct {
	Cmd  string // the command, e.g. "InDataExchange"
	Code byte   // the error code, 0x01..0x3F
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s: status %#02x", e.Cmd, e.Code)
	if t, ok := statusText[e.Code]; ok {
		s += " (" + t + ")"
	}
	if e.Gone() {
		s += ": " + device.ErrGone.Error()
	}
	return s
}

// Gone reports whether the code means the target left or no longer
// answers: time-out, RF-level errors, a broken ISO-DEP exchange, or a
// target the chip no longer has in its list.
func (e *StatusError) Gone() bool {
	switch e.Code {
	case 0x01, 0x02, 0x03, 0x0B, 0x13, 0x27, 0x29, 0x2A, 0x2B:
		return true
	}
	return false
}

// Unwrap gives device.ErrGone for the codes Gone reports.
func (e *StatusError) Unwrap() error {
	if e.Gone() {
		return device.ErrGone
	}
	return nil
}

// statusText is table 4 of the user manual (§7.1, "Error handling").
var statusText = map[byte]string{
	0x01: "time-out, the target has not answered",
	0x02: "CRC error",
	0x03: "parity error",
	0x04: "erroneous bit count in anticollision",
	0x05: "MIFARE framing error",
	0x06: "abnormal bit collision",
	0x07: "communication buffer too small",
	0x09: "RF buffer overflow",
	0x0A: "RF field not switched on in time",
	0x0B: "RF protocol error",
	0x0D: "overheating",
	0x0E: "internal buffer overflow",
	0x10: "invalid parameter",
	0x12: "DEP: command not supported by the target",
	0x13: "DEP/ISO-DEP: data format does not match the specification",
	0x14: "MIFARE authentication error",
	0x23: "ISO 14443-3: UID check byte wrong",
	0x25: "DEP: invalid device state",
	0x26: "operation not allowed in this configuration",
	0x27: "command not acceptable in the current context",
	0x29: "target released by the initiator",
	0x2A: "card ID does not match: the card was swapped",
	0x2B: "the card disappeared",
	0x2C: "NFCID3 mismatch",
	0x2D: "over-current",
	0x2E: "NAD missing in DEP frame",
}
