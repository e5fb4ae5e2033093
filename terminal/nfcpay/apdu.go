package nfcpay

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// AID is the showpos payment application's identifier: "F0" + "SHOWPOS".
// It is proprietary (it starts with F), so it needs no registration.
var AID = []byte{0xF0, 0x53, 0x48, 0x4F, 0x57, 0x50, 0x4F, 0x53}

// The protocol's constants; doc.go has the table.
const (
	// Version is the protocol version the phone states in its SELECT answer.
	Version = 0x01

	// CLA is the class byte of the showpos commands (proprietary, no
	// secure messaging, basic channel).
	CLA = 0x80
	// InsPutRequestChunk carries one chunk of the request document.
	InsPutRequestChunk = 0xD0
	// InsGetTxInfo asks for the length of the signed transaction.
	InsGetTxInfo = 0xD2
	// InsGetTxChunk asks for one chunk of the signed transaction.
	InsGetTxChunk = 0xD4

	// ChunkSize is the most data one PUT-REQUEST-CHUNK carries or one
	// GET-TX-CHUNK returns; every chunk but the last is exactly this long.
	// A 240-byte chunk makes a 245-byte command APDU or a 242-byte
	// response APDU: one PN532 frame each way.
	ChunkSize = 240
	// LastChunk is the bit of P1 that marks the request's last chunk.
	LastChunk = 0x80

	// MaxRequest caps the request document the terminal sends.
	MaxRequest = 64 << 10
	// MaxTx caps the signed transaction the terminal accepts (geth's
	// transaction pool refuses bigger ones anyway).
	MaxTx = 128 << 10
)

// Status words.
const (
	SWOK            = 0x9000 // done
	SWNotFound      = 0x6A82 // SELECT: no app for the AID (answered by Android)
	SWNotReady      = 0x6985 // GET-TX-INFO: not signed yet, ask again; elsewhere: out of sequence
	SWDeclined      = 0x6982 // the payer declined, or the phone could not sign
	SWWrongP1P2     = 0x6A86 // chunk index out of order or past the end
	SWWrongLength   = 0x6700 // Lc or data length wrong
	SWNoMemory      = 0x6A84 // request longer than the phone takes
	SWInsNotSupp    = 0x6D00 // unknown INS
	SWClaNotSupp    = 0x6E00 // unknown CLA
	selectP1ByName  = 0x04
	insSelect       = 0xA4
	txInfoLen       = 4
	selectAnswerLen = 1
)

// Errors Pay returns; each is wrapped with the step that failed. A phone
// that left the field is device.ErrGone, an oversize transaction
// device.ErrTooLarge.
var (
	// ErrNotInstalled: the phone answered 6A 82 to SELECT: the payment
	// app is not installed (or not set up for the AID).
	ErrNotInstalled = errors.New("payment app not installed on the phone")
	// ErrDeclined: the phone answered 69 82: the payer declined, or the
	// app could not sign.
	ErrDeclined = errors.New("payer declined on the phone")
	// ErrMalformed: an answer that breaks the protocol (wrong length, a
	// chunk of the wrong size, an unknown version).
	ErrMalformed = errors.New("malformed answer from the phone")
	// ErrNotReady: the phone kept answering 69 85 to GET-TX-INFO past
	// ReadyTimeout.
	ErrNotReady = errors.New("phone did not finish signing in time")
)

// SWError is a status word the protocol does not expect at that step.
type SWError struct {
	Step string
	SW   uint16
}

func (e *SWError) Error() string {
	return fmt.Sprintf("%s: unexpected status word %02X %02X", e.Step, byte(e.SW>>8), byte(e.SW))
}

// split separates a response APDU into data and status word.
func split(r []byte) ([]byte, uint16, error) {
	if len(r) < 2 {
		return nil, 0, fmt.Errorf("%w: response APDU of %d bytes, no status word", ErrMalformed, len(r))
	}
	n := len(r) - 2
	return r[:n], binary.BigEndian.Uint16(r[n:]), nil
}

// withSW appends status word sw to data.
func withSW(data []byte, sw uint16) []byte {
	out := make([]byte, 0, len(data)+2)
	out = append(out, data...)
	return binary.BigEndian.AppendUint16(out, sw)
}

// SelectAPDU is SELECT by name of AID: 00 A4 04 00 08 F0 53 48 4F 57 50 4F 53 00.
func SelectAPDU() []byte {
	a := []byte{0x00, insSelect, selectP1ByName, 0x00, byte(len(AID))}
	a = append(a, AID...)
	return append(a, 0x00)
}

// PutRequestChunkAPDU is PUT-REQUEST-CHUNK index (0..0x7FFF) with data.
func PutRequestChunkAPDU(index int, last bool, data []byte) []byte {
	p1 := byte(index>>8) & 0x7F
	if last {
		p1 |= LastChunk
	}
	a := []byte{CLA, InsPutRequestChunk, p1, byte(index), byte(len(data))}
	return append(a, data...)
}

// GetTxInfoAPDU is GET-TX-INFO: 80 D2 00 00 04.
func GetTxInfoAPDU() []byte { return []byte{CLA, InsGetTxInfo, 0x00, 0x00, txInfoLen} }

// GetTxChunkAPDU is GET-TX-CHUNK index: 80 D4 P1 P2 00 (Le 00: up to 256).
func GetTxChunkAPDU(index int) []byte {
	return []byte{CLA, InsGetTxChunk, byte(index >> 8), byte(index), 0x00}
}
