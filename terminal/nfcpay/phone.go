package nfcpay

import (
	"bytes"
	"encoding/binary"
)

// Phone answers the terminal's APDUs as a payer's phone app would: it
// takes the request document and returns the signed raw transaction Sign
// makes of it. It is the reference for the phone side of the protocol and
// what simulators and tests put in the field.
//
// A Phone is stateful across one tap; a SELECT of AID starts a new
// transaction (as a new tap does), and Reset forgets everything. It is not
// safe for concurrent use (one reader talks to one phone at a time).
type Phone struct {
	// Sign returns the raw signed transaction for requestDoc, or an error
	// when the payer declines or the request cannot be signed (the
	// terminal then reads 69 82).
	Sign func(requestDoc []byte) ([]byte, error)

	selected bool
	req      []byte
	next     int    // index of the next PUT-REQUEST-CHUNK
	prev     []byte // the last chunk accepted, for an idempotent resend
	prevLast bool
	complete bool // the last chunk arrived; Sign has run
	tx       []byte
	signErr  bool
}

// Reset forgets the tap: the next command must be SELECT.
func (p *Phone) Reset() {
	*p = Phone{Sign: p.Sign}
}

// Respond takes one command APDU and returns the response APDU, status
// word included. It never panics on malformed input.
func (p *Phone) Respond(apdu []byte) []byte {
	if len(apdu) < 4 {
		return withSW(nil, SWWrongLength)
	}
	cla, ins, p1, p2 := apdu[0], apdu[1], apdu[2], apdu[3]
	if cla == 0x00 && ins == insSelect {
		return p.selectApp(p1, apdu[4:])
	}
	if !p.selected {
		// Without SELECT Android routes nothing to the app.
		return withSW(nil, SWNotReady)
	}
	if cla != CLA {
		return withSW(nil, SWClaNotSupp)
	}
	switch ins {
	case InsPutRequestChunk:
		return p.put(p1, p2, apdu[4:])
	case InsGetTxInfo:
		return p.info(p1, p2)
	case InsGetTxChunk:
		return p.chunk(int(p1)<<8 | int(p2))
	}
	return withSW(nil, SWInsNotSupp)
}

func (p *Phone) selectApp(p1 byte, body []byte) []byte {
	if p1 != selectP1ByName || len(body) < 1 {
		return withSW(nil, SWNotFound)
	}
	lc := int(body[0])
	if len(body) < 1+lc || !bytes.Equal(body[1:1+lc], AID) {
		p.Reset()
		return withSW(nil, SWNotFound)
	}
	p.Reset()
	p.selected = true
	return withSW([]byte{Version}, SWOK)
}

func (p *Phone) put(p1, p2 byte, body []byte) []byte {
	if len(body) < 1 {
		return withSW(nil, SWWrongLength)
	}
	lc := int(body[0])
	data := body[1:]
	if lc == 0 || lc > ChunkSize || len(data) != lc {
		return withSW(nil, SWWrongLength)
	}
	idx, last := int(p1&^LastChunk)<<8|int(p2), p1&LastChunk != 0
	// The same chunk again (the reader resent a command whose answer was
	// lost) is accepted and changes nothing.
	if idx == p.next-1 && last == p.prevLast && bytes.Equal(data, p.prev) {
		return withSW(nil, SWOK)
	}
	if p.complete {
		return withSW(nil, SWNotReady)
	}
	if idx != p.next {
		return withSW(nil, SWWrongP1P2)
	}
	if len(p.req)+len(data) > MaxRequest {
		return withSW(nil, SWNoMemory)
	}
	p.req = append(p.req, data...)
	p.prev, p.prevLast = append(p.prev[:0], data...), last
	p.next++
	if last {
		p.complete = true
		p.sign()
	}
	return withSW(nil, SWOK)
}

func (p *Phone) sign() {
	if p.Sign == nil {
		p.signErr = true
		return
	}
	tx, err := p.Sign(append([]byte(nil), p.req...))
	if err != nil || len(tx) == 0 {
		p.signErr = true
		return
	}
	p.tx = tx
}

func (p *Phone) info(p1, p2 byte) []byte {
	switch {
	case p1 != 0 || p2 != 0:
		return withSW(nil, SWWrongP1P2)
	case !p.complete:
		return withSW(nil, SWNotReady)
	case p.signErr:
		return withSW(nil, SWDeclined)
	}
	return withSW(binary.BigEndian.AppendUint32(nil, uint32(len(p.tx))), SWOK)
}

func (p *Phone) chunk(idx int) []byte {
	switch {
	case !p.complete:
		return withSW(nil, SWNotReady)
	case p.signErr:
		return withSW(nil, SWDeclined)
	}
	off := idx * ChunkSize
	if off >= len(p.tx) {
		return withSW(nil, SWWrongP1P2)
	}
	return withSW(p.tx[off:min(off+ChunkSize, len(p.tx))], SWOK)
}
