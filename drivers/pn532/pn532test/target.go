package pn532test

import (
	"bytes"
	"errors"
	"time"
)

// PhoneReader is a phone's NFC stack held to the chip while the chip acts
// as a tag (TgInitAsTarget with PICC emulation): at each activation the
// emulator runs Run in its own goroutine, and every APDU Run transmits is
// what the host's next TgGetData receives; the host's TgSetData is the
// answer transmit returns. Run returning releases the tag (the next
// TgGetData gets status 0x29); transmit fails with ErrTagGone once the
// host has left the target role (another command than TgGetData or
// TgSetData) or the emulator closes.
type PhoneReader struct {
	Run func(transmit func(apdu []byte) ([]byte, error))
}

// ErrTagGone: the emulated chip no longer acts as the tag the reader was
// talking to.
var ErrTagGone = errors.New("pn532test: the tag left (the host ended target mode)")

// TgInitAsTargetMode is the mode byte the emulator answers an activation
// with: 106 kbps, ISO/IEC 14443-4 PICC, MIFARE framing.
const TgInitAsTargetMode = 0x08

// RATS is the initiator command the emulator reports with an activation.
var RATS = []byte{0xE0, 0x80}

// readerSession is one activation of the chip as a tag by the reader.
type readerSession struct {
	toTag      []byte        // an APDU the reader sent, not yet fetched by TgGetData
	getWaiting bool          // a TgGetData waits for the reader's next APDU
	finished   bool          // Run returned: the reader released the tag
	awaiting   bool          // the host has the reader's APDU and owes an answer
	resp       chan []byte   // TgSetData's answer to the reader (cap 1)
	end        chan struct{} // closed when the session ends
	ended      bool
}

// SetReader puts a phone reading tags in the field (nil takes it away).
// It is found by the next TgInitAsTarget; a target set with SetTarget
// stays in the field too (a phone may do both).
func (e *Emulator) SetReader(r *PhoneReader) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reader = r
	if r == nil {
		e.endSession()
	}
}

// ReaderSessions is how many times a reader activated the emulated tag.
func (e *Emulator) ReaderSessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions
}

// Params is the last SetParameters flags byte received.
func (e *Emulator) Params() byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.params
}

// endSession ends the reader session, if any. Called with e.mu.
func (e *Emulator) endSession() {
	if e.sess != nil && !e.sess.ended {
		e.sess.ended = true
		close(e.sess.end)
	}
	e.sess = nil
}

// reply sends a delayed answer to cmd. Called with e.mu.
func (e *Emulator) reply(cmd byte, data []byte) {
	resp := Frame(append([]byte{0xD5, cmd + 1}, data...))
	e.lastResp = resp
	e.write(resp)
}

// initAsTarget activates the chip as a tag when a reader is in the field
// and the host enabled ISO 14443-4 PICC emulation (SetParameters bit
// 0x20: without it the chip does not answer RATS, and a phone looking
// for a Type 4 tag finds none). Otherwise it waits, as the chip does,
// until the host aborts it.
func (e *Emulator) initAsTarget(p []byte) ([]byte, time.Duration, bool) {
	e.active, e.chain = false, nil
	if e.reader == nil || e.params&0x20 == 0 || len(p) < 37 || p[0]&0x04 == 0 || p[6]&0x20 == 0 {
		return nil, 0, false
	}
	s := &readerSession{resp: make(chan []byte, 1), end: make(chan struct{})}
	e.sess = s
	e.sessions++
	run := e.reader.Run
	transmit := func(apdu []byte) ([]byte, error) {
		e.mu.Lock()
		if s.ended {
			e.mu.Unlock()
			return nil, ErrTagGone
		}
		if s.getWaiting {
			s.getWaiting, s.awaiting = false, true
			e.reply(CmdTgGetData, append([]byte{0x00}, apdu...))
		} else {
			s.toTag = bytes.Clone(apdu)
		}
		e.mu.Unlock()
		select {
		case r := <-s.resp:
			return r, nil
		case <-s.end:
			return nil, ErrTagGone
		}
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		run(transmit)
		e.mu.Lock()
		defer e.mu.Unlock()
		s.finished = true
		if s.getWaiting && !s.ended {
			s.getWaiting = false
			e.reply(CmdTgGetData, []byte{0x29})
		}
	}()
	return append([]byte{TgInitAsTargetMode}, RATS...), 0, true
}

// tgGetData hands the host the reader's next APDU, now or when it comes.
func (e *Emulator) tgGetData() ([]byte, time.Duration, bool) {
	s := e.sess
	switch {
	case s == nil:
		return []byte{0x25}, 0, true // invalid device state: not a target
	case s.toTag != nil:
		a := s.toTag
		s.toTag, s.awaiting = nil, true
		return append([]byte{0x00}, a...), 0, true
	case s.finished:
		e.endSession()
		return []byte{0x29}, 0, true // released by the initiator
	}
	s.getWaiting = true
	return nil, 0, false
}

// tgSetData gives the host's answer to the reader.
func (e *Emulator) tgSetData(p []byte) []byte {
	s := e.sess
	if s == nil || s.finished {
		return []byte{0x29}
	}
	if !s.awaiting {
		return []byte{0x25} // an answer nobody asked for
	}
	s.awaiting = false
	select {
	case s.resp <- bytes.Clone(p):
	default:
		return []byte{0x25} // an answer nobody asked for
	}
	return []byte{0x00}
}
