package pn532

import (
	"errors"
	"fmt"
)

// The PN532 frame codec (user manual UM0701-02 §6.2.1). A frame on the wire:
//
//	normal   00 00 FF LEN LCS TFI PD0…PDn DCS 00        LEN = 1..255
//	extended 00 00 FF FF FF LENM LENL LCS TFI PD0…PDn DCS 00
//	ACK      00 00 FF 00 FF 00
//	NACK     00 00 FF FF 00 00
//	error    00 00 FF 01 FF 7F 81 00   (the chip's "syntax error" frame)
//
// LEN counts TFI and the data; LEN+LCS ≡ 0 and TFI+ΣPD+DCS ≡ 0 (mod 256).
// TFI is D4 to the chip and D5 from it.

const (
	tfiHost = 0xD4 // host → PN532
	tfiChip = 0xD5 // PN532 → host
	tfiErr  = 0x7F // the application-level error frame

	// maxNormalLen is the largest LEN of a normal frame. A longer payload
	// needs an extended frame.
	maxNormalLen = 255
	// maxFrameLen caps LEN (TFI + data) of any frame we build or accept:
	// the chip's buffers hold 264 bytes of TFI + command + data.
	maxFrameLen = 265
)

var (
	ackFrame  = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}
	nackFrame = []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}
	// errFrameBytes is the whole error frame as the chip sends it.
	errFrameBytes = []byte{0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00}
)

// frameKind says what parseFrame found.
type frameKind int

const (
	kindNone  frameKind = iota // no complete frame yet: read more
	kindACK                    // 00 00 FF 00 FF 00
	kindNACK                   // 00 00 FF FF 00 00
	kindError                  // TFI 7F: the chip's syntax error frame
	kindInfo                   // an information frame; payload is TFI and data
)

func (k frameKind) String() string {
	switch k {
	case kindNone:
		return "none"
	case kindACK:
		return "ACK"
	case kindNACK:
		return "NACK"
	case kindError:
		return "error frame"
	case kindInfo:
		return "information frame"
	}
	return fmt.Sprintf("frameKind(%d)", int(k))
}

// Frame errors. A frame with either error is consumed whole (or, for a bad
// LCS, its start code is) so the next parse goes on after it.
var (
	errLCS = errors.New("frame length checksum (LCS) mismatch")
	errDCS = errors.New("frame data checksum (DCS) mismatch")
	errLen = errors.New("frame length out of range")
)

// encodeFrame builds the information frame carrying tfi and data: a normal
// frame when it fits, an extended one otherwise. It panics if tfi and data
// are longer than maxFrameLen: callers bound their input first.
func encodeFrame(tfi byte, data []byte) []byte {
	n := 1 + len(data)
	if n > maxFrameLen {
		panic(fmt.Sprintf("pn532: frame of %d bytes over %d", n, maxFrameLen))
	}
	out := make([]byte, 0, n+10)
	out = append(out, 0x00, 0x00, 0xFF)
	if n <= maxNormalLen {
		out = append(out, byte(n), -byte(n))
	} else {
		hi, lo := byte(n>>8), byte(n)
		out = append(out, 0xFF, 0xFF, hi, lo, -(hi + lo))
	}
	sum := tfi
	out = append(out, tfi)
	for _, b := range data {
		sum += b
	}
	out = append(out, data...)
	return append(out, -sum, 0x00)
}

// encodeCommand is the frame carrying command cmd with its parameters.
func encodeCommand(cmd byte, params []byte) []byte {
	data := make([]byte, 0, 1+len(params))
	data = append(data, cmd)
	return encodeFrame(tfiHost, append(data, params...))
}

// parseFrame looks for one frame at the start of b, skipping any bytes
// before its start code (00 FF), and reports what it found and how many
// bytes of b it used. With kindNone and a nil error nothing complete is
// there yet: keep b[n:] and read more. With an error, b[:n] is a damaged
// frame to drop (and, from the chip, a reason to NACK). The payload of a
// kindInfo frame aliases b and starts with the TFI.
//
// The postamble is not required: a frame ends at its DCS, and the 00 after
// it is skipped as a stray byte by the next call.
func parseFrame(b []byte) (kind frameKind, payload []byte, n int, err error) {
	i := 0
	for {
		if i+1 >= len(b) {
			// Keep a trailing 00: it may be the first half of a start code.
			if i < len(b) && b[i] == 0x00 {
				return kindNone, nil, i, nil
			}
			return kindNone, nil, len(b), nil
		}
		if b[i] == 0x00 && b[i+1] == 0xFF {
			break
		}
		i++
	}
	// b[i:i+2] is the start code.
	h := i + 2
	if len(b) < h+2 {
		return kindNone, nil, i, nil
	}
	ln, lcs := b[h], b[h+1]
	switch {
	case ln == 0x00 && lcs == 0xFF:
		return kindACK, nil, h + 2, nil
	case ln == 0xFF && lcs == 0x00:
		return kindNACK, nil, h + 2, nil
	}
	var size, body int // size: TFI + data; body: index of TFI
	if ln == 0xFF && lcs == 0xFF {
		if len(b) < h+5 {
			return kindNone, nil, i, nil
		}
		hi, lo, xcs := b[h+2], b[h+3], b[h+4]
		if hi+lo+xcs != 0 {
			return kindNone, nil, h, errLCS
		}
		size, body = int(hi)<<8|int(lo), h+5
	} else {
		if ln+lcs != 0 {
			return kindNone, nil, h, errLCS
		}
		size, body = int(ln), h+2
	}
	if size == 0 || size > maxFrameLen {
		return kindNone, nil, h, errLen
	}
	end := body + size + 1 // after DCS
	if len(b) < end {
		return kindNone, nil, i, nil
	}
	var sum byte
	for _, c := range b[body:end] {
		sum += c
	}
	if sum != 0 {
		return kindNone, nil, end, errDCS
	}
	payload = b[body : body+size]
	if size == 1 && payload[0] == tfiErr {
		return kindError, nil, end, nil
	}
	return kindInfo, payload, end, nil
}
