// Package pn532test is a PN532 emulator on a pseudo-terminal, for testing
// the pn532 driver (or running the terminal) without the chip: the driver
// opens Path() as it would /dev/ttyS1, and the emulator answers on the
// master side as the chip does in HSU mode: ACK, then the response frame.
//
// It knows the commands the driver uses (GetFirmwareVersion,
// SAMConfiguration, SetParameters, RFConfiguration, InListPassiveTarget,
// InDataExchange with "more information" chaining, InRelease, and the
// target mode's TgInitAsTarget, TgGetData, TgSetData), holds at most one
// target in its field (a phone with an APDU responder, or a sticker that
// does not speak ISO-DEP) and at most one reader (a phone's NFC stack
// reading the chip while the chip acts as a tag: a PhoneReader script
// whose APDUs the emulated chip relays), and can be told to misbehave:
// damaged checksums, NACK, the error frame, garbage, silence, a phone
// pulled away.
//
// Its frame codec is written apart from the driver's on purpose, so the
// two check each other.
package pn532test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Target is what is held to the reader.
type Target struct {
	UID     []byte  // NFCID1: 4, 7 or 10 bytes
	SensRes [2]byte // ATQA as the chip reports it
	SelRes  byte    // SAK: bit 0x20 set for ISO 14443-4 (a phone in HCE)
	ATS     []byte  // answer to select, length byte first (ISO-DEP only)
	// Respond answers one APDU (a phone app); nil for a plain tag.
	Respond func(apdu []byte) []byte
}

// Phone is a phone in host card emulation: random-looking 4-byte UID
// starting 08, SAK 0x20, an ATS, and respond as its app.
func Phone(uid byte, respond func(apdu []byte) []byte) *Target {
	return &Target{
		UID: []byte{0x08, uid, 0x5A, 0x3C}, SensRes: [2]byte{0x00, 0x04}, SelRes: 0x20,
		ATS: []byte{0x05, 0x78, 0x80, 0x70, 0x02}, Respond: respond,
	}
}

// Sticker is an NTAG213 sticker: type 2, not ISO-DEP (SAK 0x00).
func Sticker() *Target {
	return &Target{UID: []byte{0x04, 0x91, 0x2C, 0x6A, 0x52, 0x63, 0x80}, SensRes: [2]byte{0x00, 0x44}, SelRes: 0x00}
}

// Fault is one way the emulated chip misbehaves, once.
type Fault int

const (
	// NACK: answer the command with a NACK and drop it.
	NACK Fault = iota + 1
	// Silence: neither ACK nor answer; the command is dropped.
	Silence
	// NoResponse: ACK, then nothing (until the host aborts with an ACK).
	NoResponse
	// ErrorFrame: ACK, then the error frame 00 00 FF 01 FF 7F 81 00
	// instead of the answer; the command is dropped.
	ErrorFrame
	// Garbage: noise bytes before the ACK; the command runs.
	Garbage
	// BadLCS: the answer frame with a wrong length checksum; sent right
	// when the host NACKs it.
	BadLCS
	// BadDCS: the answer frame with a wrong data checksum; sent right
	// when the host NACKs it.
	BadDCS
)

// GarbageBytes is what Garbage sends: line noise with no start code in it.
var GarbageBytes = []byte{0x55, 0xAA, 0x13, 0x37, 0xFE, 0x01, 0x00, 0x42}

// Commands.
const (
	CmdGetFirmwareVersion  = 0x02
	CmdSAMConfiguration    = 0x14
	CmdRFConfiguration     = 0x32
	CmdInDataExchange      = 0x40
	CmdInListPassiveTarget = 0x4A
	CmdInRelease           = 0x52
	CmdSetParameters       = 0x12
	CmdTgInitAsTarget      = 0x8C
	CmdTgGetData           = 0x86
	CmdTgSetData           = 0x8E
)

// Frames.
var (
	ACK        = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}
	NACKFrame  = []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}
	ErrorBytes = []byte{0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00}
)

// MaxPart is the most APDU answer bytes one InDataExchange answer carries
// before the emulator chains the rest (status bit 0x40).
const MaxPart = 252

type injected struct {
	cmd byte // 0: any command
	f   Fault
}

// Emulator is the chip. Its methods are safe to call while the driver
// talks to it.
type Emulator struct {
	master *os.File
	tty    *os.File
	done   chan struct{}

	mu        sync.Mutex
	rx        []byte   // every byte from the host
	cmds      [][]byte // every command frame's TFI and data, in order
	faults    []injected
	dead      bool
	target    *Target
	active    bool // the target is listed (activated) as Tg 1
	present   bool // the target is in the field
	goneAfter int  // InDataExchanges before the target leaves; -1 never
	noneDelay time.Duration
	pending   *time.Timer // a delayed answer, cancelled by the host's ACK
	lastResp  []byte      // the last answer frame, for a NACK
	chain     []byte      // the rest of an answer the host fetches next
	rfItems   [][]byte    // RFConfiguration items received
	buf       []byte

	params   byte         // SetParameters flags
	reader   *PhoneReader // a phone reading tags, in the field
	sess     *readerSession
	sessions int // reader sessions started (activations as a tag)
	wg       sync.WaitGroup
}

// Start opens a pty and serves the chip on its master side; the field is
// empty. Close stops it.
func Start() (*Emulator, error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	// A non-blocking duplicate of the master goes to Go's poller, so Close
	// can interrupt a Read.
	fd, err := unix.Dup(int(m.Fd()))
	_ = m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		_ = tty.Close()
		return nil, err
	}
	if err := makeRaw(int(tty.Fd())); err != nil {
		_ = tty.Close()
		_ = unix.Close(fd)
		return nil, err
	}
	e := &Emulator{
		master: os.NewFile(uintptr(fd), "ptmx"), tty: tty, done: make(chan struct{}),
		goneAfter: -1,
	}
	go e.serve()
	return e, nil
}

// makeRaw puts the slave in raw mode before the driver opens it, so no byte
// the emulator writes is echoed or translated.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// Path is the serial device the driver opens.
func (e *Emulator) Path() string { return e.tty.Name() }

// Close stops the emulator and closes the pty.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.pending != nil {
		e.pending.Stop()
	}
	e.mu.Unlock()
	err := e.master.Close()
	<-e.done
	e.mu.Lock()
	e.endSession()
	e.mu.Unlock()
	e.wg.Wait()
	return errors.Join(err, e.tty.Close())
}

// SetTarget puts t in the field (nil empties it). The driver finds it at
// its next InListPassiveTarget.
func (e *Emulator) SetTarget(t *Target) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.target, e.present, e.active, e.goneAfter, e.chain = t, t != nil, false, -1, nil
}

// RemoveAfter makes the target leave the field after n more
// InDataExchanges: the next one gets status 0x01 (time-out).
func (e *Emulator) RemoveAfter(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.goneAfter = n
}

// NoTargetDelay is how long an InListPassiveTarget with nothing in the field
// takes to answer "none" (0: at once); negative never answers, as a chip
// retrying forever.
func (e *Emulator) NoTargetDelay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noneDelay = d
}

// Inject makes the next command with code cmd (0: any) suffer f. Faults
// queue up in order.
func (e *Emulator) Inject(cmd byte, f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, injected{cmd, f})
}

// Dead makes the chip ignore everything (or come back).
func (e *Emulator) Dead(dead bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dead = dead
}

// Received is every byte the host has sent, wake-up and ACK/NACK included.
func (e *Emulator) Received() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Clone(e.rx)
}

// Commands is every command frame received (TFI D4, command code, params),
// in order.
func (e *Emulator) Commands() [][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([][]byte, len(e.cmds))
	for i, c := range e.cmds {
		out[i] = bytes.Clone(c)
	}
	return out
}

// RFItems is the data of every RFConfiguration received.
func (e *Emulator) RFItems() [][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([][]byte(nil), e.rfItems...)
}

// Forget clears what Received and Commands report.
func (e *Emulator) Forget() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rx, e.cmds = nil, nil
}

func (e *Emulator) serve() {
	defer close(e.done)
	b := make([]byte, 512)
	for {
		n, err := e.master.Read(b)
		if err != nil {
			return
		}
		e.mu.Lock()
		e.rx = append(e.rx, b[:n]...)
		e.buf = append(e.buf, b[:n]...)
		e.process()
		e.mu.Unlock()
	}
}

// process handles every complete host frame in e.buf. Called with e.mu.
func (e *Emulator) process() {
	for {
		i := bytes.Index(e.buf, []byte{0x00, 0xFF})
		if i < 0 {
			if len(e.buf) > 0 && e.buf[len(e.buf)-1] == 0x00 {
				e.buf = e.buf[len(e.buf)-1:]
			} else {
				e.buf = e.buf[:0]
			}
			return
		}
		f := e.buf[i+2:]
		if len(f) < 2 {
			e.buf = e.buf[i:]
			return
		}
		switch {
		case f[0] == 0x00 && f[1] == 0xFF: // ACK: abort
			e.buf = f[2:]
			if e.pending != nil {
				e.pending.Stop()
				e.pending = nil
			}
			if e.sess != nil {
				e.sess.getWaiting = false
			}
			continue
		case f[0] == 0xFF && f[1] == 0x00: // NACK: send the answer again
			e.buf = f[2:]
			if e.lastResp != nil {
				e.write(e.lastResp)
			}
			continue
		}
		var size, body int
		if f[0] == 0xFF && f[1] == 0xFF {
			if len(f) < 5 {
				e.buf = e.buf[i:]
				return
			}
			if byte(f[2]+f[3]+f[4]) != 0 {
				e.buf = f[2:]
				continue
			}
			size, body = int(f[2])<<8|int(f[3]), 5
		} else {
			if byte(f[0]+f[1]) != 0 {
				e.buf = f[2:]
				continue // bad LCS: a chip ignores the frame
			}
			size, body = int(f[0]), 2
		}
		if len(f) < body+size+1 {
			e.buf = e.buf[i:]
			return
		}
		frame := f[body : body+size]
		var sum byte
		for _, c := range f[body : body+size+1] {
			sum += c
		}
		e.buf = f[body+size+1:]
		if sum != 0 || size < 2 || frame[0] != 0xD4 {
			continue // bad DCS or not for us: ignored
		}
		e.cmds = append(e.cmds, bytes.Clone(frame))
		e.command(frame[1], bytes.Clone(frame[2:]))
	}
}

// write sends raw bytes to the host. Called with e.mu.
func (e *Emulator) write(b []byte) {
	_, _ = e.master.Write(b)
}

// Frame builds an information frame around data (its TFI first): a normal
// frame, or an extended one over 255 bytes.
func Frame(data []byte) []byte {
	n := len(data)
	var f []byte
	if n <= 255 {
		f = []byte{0x00, 0x00, 0xFF, byte(n), byte(0x100 - n)}
	} else {
		hi, lo := byte(n>>8), byte(n)
		f = []byte{0x00, 0x00, 0xFF, 0xFF, 0xFF, hi, lo, byte(0x100 - int(hi+lo)&0xFF)}
	}
	var sum int
	for _, c := range data {
		sum += int(c)
	}
	f = append(f, data...)
	return append(f, byte((0x100-sum&0xFF)&0xFF), 0x00)
}

// HostFrame builds a host command frame: TFI D4, cmd, params.
func HostFrame(cmd byte, params ...byte) []byte {
	return Frame(append([]byte{0xD4, cmd}, params...))
}

func (e *Emulator) takeFault(cmd byte) Fault {
	for i, f := range e.faults {
		if f.cmd == 0 || f.cmd == cmd {
			e.faults = append(e.faults[:i], e.faults[i+1:]...)
			return f.f
		}
	}
	return 0
}

// command runs one host command. Called with e.mu.
func (e *Emulator) command(cmd byte, p []byte) {
	if e.dead {
		return
	}
	if e.pending != nil { // a new command aborts a delayed answer
		e.pending.Stop()
		e.pending = nil
	}
	if e.sess != nil {
		e.sess.getWaiting = false
		if cmd != CmdTgGetData && cmd != CmdTgSetData {
			e.endSession() // the host left the target role
		}
	}
	fault := e.takeFault(cmd)
	switch fault {
	case NACK:
		e.write(NACKFrame)
		return
	case Silence:
		return
	case Garbage:
		e.write(GarbageBytes)
	}
	e.write(ACK)
	switch fault {
	case NoResponse:
		return
	case ErrorFrame:
		e.lastResp = ErrorBytes
		e.write(ErrorBytes)
		return
	}
	data, delay, ok := e.answer(cmd, p)
	if !ok {
		return
	}
	resp := Frame(append([]byte{0xD5, cmd + 1}, data...))
	e.lastResp = resp
	out := bytes.Clone(resp)
	switch fault {
	case BadLCS:
		out[4]++
	case BadDCS:
		out[len(out)-2]++
	}
	if delay == 0 {
		e.write(out)
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.pending == t {
			e.pending = nil
			e.write(out)
		}
	})
	e.pending = t
}

// answer is the data after the response code, and how long the chip takes
// to send it. ok false: no answer ever (a search that never ends).
func (e *Emulator) answer(cmd byte, p []byte) (data []byte, delay time.Duration, ok bool) {
	switch cmd {
	case CmdGetFirmwareVersion:
		return []byte{0x32, 0x01, 0x06, 0x07}, 0, true
	case CmdSAMConfiguration:
		return nil, 0, true
	case CmdRFConfiguration:
		e.rfItems = append(e.rfItems, p)
		if len(p) >= 2 && p[0] == 0x01 && p[1]&0x01 == 0 { // field off
			e.active, e.chain = false, nil
		}
		return nil, 0, true
	case CmdInListPassiveTarget:
		if len(p) < 2 || p[0] < 1 || p[1] != 0x00 {
			return []byte{0x00}, 0, true
		}
		if !e.present || e.target == nil {
			e.active = false
			if e.noneDelay < 0 {
				return nil, 0, false
			}
			return []byte{0x00}, e.noneDelay, true
		}
		t := e.target
		e.active, e.chain = true, nil
		d := []byte{0x01, 0x01, t.SensRes[0], t.SensRes[1], t.SelRes, byte(len(t.UID))}
		d = append(d, t.UID...)
		if t.SelRes&0x20 != 0 {
			d = append(d, t.ATS...)
		}
		return d, 0, true
	case CmdInDataExchange:
		return e.exchange(p), 0, true
	case CmdInRelease:
		e.active, e.chain = false, nil
		return []byte{0x00}, 0, true
	case CmdSetParameters:
		if len(p) == 1 {
			e.params = p[0]
		}
		return nil, 0, true
	case CmdTgInitAsTarget:
		return e.initAsTarget(p)
	case CmdTgGetData:
		return e.tgGetData()
	case CmdTgSetData:
		return e.tgSetData(p), 0, true
	}
	return []byte{0x00}, 0, true
}

func (e *Emulator) exchange(p []byte) []byte {
	if len(p) < 1 || p[0]&0x3F != 1 || !e.active {
		return []byte{0x27} // not acceptable in this context
	}
	if !e.present {
		e.active = false
		return []byte{0x01}
	}
	var ans []byte
	if len(p) == 1 && e.chain != nil {
		ans, e.chain = e.chain, nil
	} else {
		if e.goneAfter == 0 {
			e.present, e.active = false, false
			return []byte{0x01} // time-out: the phone is gone
		}
		if e.goneAfter > 0 {
			e.goneAfter--
		}
		if e.target.Respond == nil {
			return []byte{0x01}
		}
		ans = e.target.Respond(bytes.Clone(p[1:]))
	}
	if len(ans) > MaxPart {
		e.chain = bytes.Clone(ans[MaxPart:])
		return append([]byte{0x40}, ans[:MaxPart]...)
	}
	return append([]byte{0x00}, ans...)
}

// String describes the emulator for test logs.
func (e *Emulator) String() string { return fmt.Sprintf("pn532test on %s", e.Path()) }
