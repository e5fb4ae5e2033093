package pn532test

import (
	"encoding/binary"
	"fmt"
)

// ForumReader is a phone reading an NFC Forum Type 4 tag as its NFC stack
// does (T4T v2.0 §5.4, NDEF detection and read): SELECT the NDEF Tag
// Application D2 76 00 00 85 01 01, SELECT the capability container E1 03
// and READ BINARY its 15 bytes, SELECT the NDEF file the CC names, READ
// BINARY NLEN (2 bytes), then the message in slices of at most the CC's
// MLe. done is called once with the message, or with what went wrong.
// It is written apart from the driver's tag, so the two check each other.
func ForumReader(done func(ndef []byte, err error)) *PhoneReader {
	return &PhoneReader{Run: func(transmit func([]byte) ([]byte, error)) {
		done(ReadForumTag(transmit))
	}}
}

// ReadForumTag is ForumReader's procedure, for a script that does more
// around it: it returns the NDEF message the tag holds.
func ReadForumTag(transmit func([]byte) ([]byte, error)) ([]byte, error) {
	cmd := func(step string, apdu []byte) ([]byte, error) {
		r, err := transmit(apdu)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", step, err)
		}
		if len(r) < 2 {
			return nil, fmt.Errorf("%s: answer of %d bytes", step, len(r))
		}
		if sw := r[len(r)-2:]; sw[0] != 0x90 || sw[1] != 0x00 {
			return nil, fmt.Errorf("%s: status % X", step, sw)
		}
		return r[:len(r)-2], nil
	}
	if _, err := cmd("select application", []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01, 0x00}); err != nil {
		return nil, err
	}
	if _, err := cmd("select CC", []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x03}); err != nil {
		return nil, err
	}
	cc, err := cmd("read CC", []byte{0x00, 0xB0, 0x00, 0x00, 0x0F})
	if err != nil {
		return nil, err
	}
	if len(cc) != 15 || binary.BigEndian.Uint16(cc) < 15 || cc[2]>>4 != 2 || cc[7] != 0x04 || cc[8] != 0x06 || cc[13] != 0x00 {
		return nil, fmt.Errorf("read CC: not a readable T4T v2 CC: % X", cc)
	}
	mle := int(binary.BigEndian.Uint16(cc[3:]))
	maxSize := int(binary.BigEndian.Uint16(cc[11:]))
	if mle < 0x0F {
		return nil, fmt.Errorf("read CC: MLe %d below 15", mle)
	}
	if _, err := cmd("select NDEF file", []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, cc[9], cc[10]}); err != nil {
		return nil, err
	}
	nlen, err := cmd("read NLEN", []byte{0x00, 0xB0, 0x00, 0x00, 0x02})
	if err != nil {
		return nil, err
	}
	if len(nlen) != 2 {
		return nil, fmt.Errorf("read NLEN: %d bytes", len(nlen))
	}
	n := int(binary.BigEndian.Uint16(nlen))
	if n == 0 || n+2 > maxSize {
		return nil, fmt.Errorf("read NLEN: %d with a file of at most %d bytes", n, maxSize)
	}
	msg := make([]byte, 0, n)
	for len(msg) < n {
		off := 2 + len(msg)
		le := min(n-len(msg), mle, 0xFF)
		part, err := cmd("read NDEF", []byte{0x00, 0xB0, byte(off >> 8), byte(off), byte(le)})
		if err != nil {
			return nil, err
		}
		if len(part) == 0 || len(part) > le {
			return nil, fmt.Errorf("read NDEF at %d: %d bytes for Le %d", off, len(part), le)
		}
		msg = append(msg, part...)
	}
	return msg, nil
}
