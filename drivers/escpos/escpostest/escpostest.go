// Package escpostest is an ESC/POS receipt printer on a pseudo-terminal,
// for testing drivers/escpos and what prints through it on the wire.
//
// The driver opens Path — as a serial port through go.bug.st/serial, or as
// a device file like /dev/usb/lp0 (the slave is raw either way) — and the
// Printer plays the printer on the master: it answers each real-time status
// query DLE EOT n (n = 1, 2, 4) with the byte its State gives, or not at
// all when the state is Silent, and keeps every other byte as printed.
// Like a real printer it looks for DLE EOT anywhere in the stream.
package escpostest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// State is what the printer answers to DLE EOT 1 (printer), 2 (offline
// cause) and 4 (roll paper sensor), as Epson's reference defines the bits.
// A zero byte is never sent.
type State struct{ Printer, Cause, Roll byte }

// States of a printer.
var (
	Ready     = State{0x12, 0x12, 0x12}
	NearEnd   = State{0x12, 0x12, 0x1E} // paper near end: prints
	PaperOut  = State{0x1A, 0x32, 0x72} // offline, stopped at paper end, no paper
	CoverOpen = State{0x1A, 0x16, 0x12} // offline, cover open
	Silent    = State{}                 // answers nothing: off, or unidirectional
)

// Printer is a printer on a pty.
type Printer struct {
	master *os.File
	tty    *os.File
	done   chan struct{}

	mu      sync.Mutex
	state   State
	printed []byte
	queries int
	got     chan struct{} // closed and renewed when bytes arrive
}

// Start opens a pty and serves a printer in state s on it. Close stops it.
func Start(s State) (*Printer, error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	// A non-blocking duplicate of the master goes to Go's poller, so Close
	// can interrupt a Read (pty.Open left the master blocking).
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err == nil {
		err = makeRaw(int(tty.Fd()))
	}
	if err != nil {
		tty.Close()
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	p := &Printer{master: os.NewFile(uintptr(fd), "ptmx"), tty: tty, state: s, done: make(chan struct{}), got: make(chan struct{})}
	go p.serve()
	return p, nil
}

// makeRaw puts the slave in raw mode, as serial.Open does, so that a driver
// opening it as a plain file (the USB printer class) sees bytes unchanged.
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
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// Path is the device the driver opens.
func (p *Printer) Path() string { return p.tty.Name() }

// Close stops the printer and closes the pty.
func (p *Printer) Close() error {
	err := p.master.Close()
	<-p.done
	return errors.Join(err, p.tty.Close())
}

// Set changes what the printer answers from the next query on.
func (p *Printer) Set(s State) {
	p.mu.Lock()
	p.state = s
	p.mu.Unlock()
}

// Printed is every byte received that was not a status query.
func (p *Printer) Printed() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.printed)
}

// Queries counts the status queries received.
func (p *Printer) Queries() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queries
}

// WaitPrinted waits until at least n bytes were printed, or ctx ends.
func (p *Printer) WaitPrinted(ctx context.Context, n int) ([]byte, error) {
	for {
		p.mu.Lock()
		b, got := bytes.Clone(p.printed), p.got
		p.mu.Unlock()
		if len(b) >= n {
			return b, nil
		}
		select {
		case <-got:
		case <-ctx.Done():
			return b, fmt.Errorf("escpostest: %d bytes printed, want %d: %w", len(b), n, ctx.Err())
		}
	}
}

func (p *Printer) serve() {
	defer close(p.done)
	var pending []byte
	buf := make([]byte, 4096)
	for {
		n, err := p.master.Read(buf)
		if err != nil {
			return
		}
		pending = append(pending, buf[:n]...)
		p.mu.Lock()
		for len(pending) > 0 {
			if pending[0] == 0x10 {
				if len(pending) < 3 {
					break // the rest of the query is on its way
				}
				if pending[1] == 0x04 {
					p.answer(pending[2])
					pending = pending[3:]
					continue
				}
			}
			p.printed = append(p.printed, pending[0])
			pending = pending[1:]
		}
		close(p.got)
		p.got = make(chan struct{})
		p.mu.Unlock()
	}
}

// answer replies to DLE EOT n; p.mu is held.
func (p *Printer) answer(n byte) {
	p.queries++
	var b byte
	switch n {
	case 1:
		b = p.state.Printer
	case 2:
		b = p.state.Cause
	case 4:
		b = p.state.Roll
	}
	if b != 0 {
		p.master.Write([]byte{b})
	}
}
