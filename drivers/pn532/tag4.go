package pn532

import (
	"encoding/binary"
	"fmt"
)

// The NFC Forum Type 4 Tag application (T4T technical specification v2.0,
// "NDEF detection procedure" and the command set of ISO/IEC 7816-4).
var (
	// NDEFAppAID is the NDEF Tag Application's name (T4T v2.0).
	NDEFAppAID = []byte{0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01}
)

const (
	// ccFileID is the capability container's file identifier.
	ccFileID = 0xE103
	// ndefFileID is the NDEF file's identifier, as the CC names it.
	ndefFileID = 0xE104
	// tagMLe is the most response data one READ BINARY returns (the CC's
	// MLe): 240 bytes and the status word fit one TgSetData frame.
	tagMLe = 0x00F0
	// tagMLc is the most command data the tag takes (the CC's MLc). The
	// tag is read-only: only SELECT carries data.
	tagMLc = 0x00F0
	// MaxNDEF caps the NDEF message a tag holds: NLEN is two bytes, and a
	// phone reads the message in MLe slices, one TgGetData/TgSetData round
	// each: 1 KiB is five rounds.
	MaxNDEF = 1024
)

// Status words the tag answers (ISO/IEC 7816-4 §5.6, as T4T v2.0 uses them).
const (
	swOK            = 0x9000
	swWrongLength   = 0x6700 // Lc or Le inconsistent with the command
	swNotAllowed    = 0x6982 // security status not satisfied: UPDATE BINARY on a read-only tag
	swNoCurrentEF   = 0x6986 // READ BINARY with no file selected
	swNotFound      = 0x6A82 // application or file not found
	swWrongP1P2     = 0x6A86 // incorrect P1-P2 (SELECT)
	swWrongOffset   = 0x6B00 // READ BINARY offset past the end of the file
	swINSUnknown    = 0x6D00
	swCLAUnknown    = 0x6E00
	insSelect       = 0xA4
	insReadBinary   = 0xB0
	insUpdateBinary = 0xD6
)

// tag4 is the Type 4 tag's state between two APDUs of one reader session:
// which application and file are selected, and how far the NDEF file has
// been read. It answers every APDU with a response APDU; a malformed one
// gets an error status word and changes nothing.
type tag4 struct {
	cc, ndef []byte // the two files, as read
	appSel   bool   // the NDEF Tag Application is selected
	file     []byte // the selected file (cc or ndef), nil if none
	isNDEF   bool   // file is the NDEF file
	readTo   int    // the NDEF file's bytes [0, readTo) have been read in order
}

// newTag4 holds msg (an NDEF message, 1 to MaxNDEF bytes).
func newTag4(msg []byte) (*tag4, error) {
	if len(msg) == 0 || len(msg) > MaxNDEF {
		return nil, fmt.Errorf("NDEF message of %d bytes: %w (1 to %d)", len(msg), ErrTooLong, MaxNDEF)
	}
	ndef := make([]byte, 2, 2+len(msg))
	binary.BigEndian.PutUint16(ndef, uint16(len(msg)))
	ndef = append(ndef, msg...)
	cc := []byte{
		0x00, 0x0F, // CCLEN: 15 bytes
		0x20,                       // mapping version 2.0
		tagMLe >> 8, tagMLe & 0xFF, // MLe
		tagMLc >> 8, tagMLc & 0xFF, // MLc
		0x04, 0x06, // NDEF File Control TLV
		ndefFileID >> 8, ndefFileID & 0xFF,
		byte(len(ndef) >> 8), byte(len(ndef)), // maximum NDEF file size: exactly this one
		0x00, // read access: granted
		0xFF, // write access: none (read-only)
	}
	return &tag4{cc: cc, ndef: ndef}, nil
}

// done reports whether a reader has read the whole NDEF file.
func (t *tag4) done() bool { return t.readTo >= len(t.ndef) }

func sw(code uint16) []byte { return []byte{byte(code >> 8), byte(code)} }

// respond answers one command APDU.
func (t *tag4) respond(apdu []byte) []byte {
	if len(apdu) < 4 {
		return sw(swWrongLength)
	}
	cla, ins, p1, p2 := apdu[0], apdu[1], apdu[2], apdu[3]
	body := apdu[4:]
	if cla != 0x00 {
		return sw(swCLAUnknown)
	}
	switch ins {
	case insSelect:
		return t.selectCmd(p1, p2, body)
	case insReadBinary:
		return t.readBinary(p1, p2, body)
	case insUpdateBinary:
		return sw(swNotAllowed)
	}
	return sw(swINSUnknown)
}

// selectCmd is SELECT by name (P1 04: the application) or by file
// identifier (P1 00, P2 0C: the CC or NDEF file). Body: Lc, data, and an
// optional Le.
func (t *tag4) selectCmd(p1, p2 byte, body []byte) []byte {
	if len(body) < 1 {
		return sw(swWrongLength)
	}
	lc := int(body[0])
	if lc == 0 || len(body) < 1+lc || len(body) > 2+lc {
		return sw(swWrongLength)
	}
	data := body[1 : 1+lc]
	switch {
	case p1 == 0x04 && p2 == 0x00:
		if string(data) != string(NDEFAppAID) {
			return sw(swNotFound)
		}
		t.appSel, t.file, t.isNDEF = true, nil, false
		return sw(swOK)
	case p1 == 0x00 && (p2 == 0x0C || p2 == 0x00):
		if lc != 2 {
			return sw(swWrongLength)
		}
		if !t.appSel {
			return sw(swNotFound)
		}
		switch binary.BigEndian.Uint16(data) {
		case ccFileID:
			t.file, t.isNDEF = t.cc, false
		case ndefFileID:
			t.file, t.isNDEF = t.ndef, true
		default:
			return sw(swNotFound)
		}
		return sw(swOK)
	}
	return sw(swWrongP1P2)
}

// readBinary is READ BINARY of the selected file: P1P2 the offset (P1 bit
// 7 clear), body exactly Le (00 means 256; at most MLe bytes come back).
func (t *tag4) readBinary(p1, p2 byte, body []byte) []byte {
	if len(body) != 1 {
		return sw(swWrongLength)
	}
	if t.file == nil {
		return sw(swNoCurrentEF)
	}
	if p1&0x80 != 0 {
		return sw(swWrongP1P2)
	}
	off := int(p1)<<8 | int(p2)
	if off >= len(t.file) {
		return sw(swWrongOffset)
	}
	le := int(body[0])
	if le == 0 {
		le = 256
	}
	n := min(le, tagMLe, len(t.file)-off)
	out := append(append([]byte(nil), t.file[off:off+n]...), sw(swOK)...)
	if t.isNDEF && off <= t.readTo {
		t.readTo = max(t.readTo, off+n)
	}
	return out
}
