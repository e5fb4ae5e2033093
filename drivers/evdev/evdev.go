package evdev

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"showpos/device"
)

// ErrUnplugged is returned (wrapped, with the device and the read error) by
// ReadKey once the device has gone away: a USB keypad pulled out.
var ErrUnplugged = errors.New("evdev: input device unplugged")

// Opts configures the keypad.
type Opts struct {
	// Keymap maps Linux KEY_* codes to terminal keys; codes absent from it
	// are ignored. Nil means DefaultKeymap(); a non-nil map replaces it
	// wholly (start from DefaultKeymap() to extend it).
	Keymap map[uint16]device.Key
	// Layout of the input_event records: LayoutAuto for a live device,
	// Layout32 or Layout64 to decode records captured on another machine.
	Layout Layout
	// Buffer is how many presses are kept while nobody calls ReadKey before
	// the reader stops reading (and the kernel's own buffer fills). 0 means 16.
	Buffer int
}

// DefaultOpts: the default keymap, this binary's layout.
var DefaultOpts = Opts{}

// Dev is a keypad read through evdev. It is safe for concurrent use.
type Dev struct {
	name   string
	keymap map[uint16]device.Key
	layout Layout // resolved
	closer io.Closer

	keys chan device.Key
	stop chan struct{} // closed by Halt
	done chan struct{} // closed when the reader has ended, after err is set
	err  error         // why the reader ended; read only after done

	haltOnce sync.Once
	haltErr  error
	waitRead bool // Halt waits for the reader (it can unblock it by closing)
}

var _ device.Keypad = (*Dev)(nil)

// NewFromReader decodes input_event records from r. If r is an io.Closer,
// Halt closes it to end the reader goroutine and waits for it; otherwise Halt
// returns at once and the goroutine ends when r's pending Read returns.
func NewFromReader(r io.Reader, o *Opts) (*Dev, error) {
	return newDev("reader", r, o)
}

func newDev(name string, r io.Reader, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	l, err := o.Layout.resolve()
	if err != nil {
		return nil, err
	}
	km := o.Keymap
	if km == nil {
		km = DefaultKeymap()
	} else {
		km = make(map[uint16]device.Key, len(o.Keymap))
		for c, k := range o.Keymap {
			km[c] = k
		}
	}
	n := o.Buffer
	if n <= 0 {
		n = 16
	}
	d := &Dev{
		name:   name,
		keymap: km,
		layout: l,
		keys:   make(chan device.Key, n),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if c, ok := r.(io.Closer); ok {
		d.closer, d.waitRead = c, true
	}
	go d.read(r)
	return d, nil
}

// String names the device.
func (d *Dev) String() string {
	return "evdev(" + d.name + ")"
}

// ReadKey returns the next key pressed. Presses made while nobody was reading
// are returned in order (up to Opts.Buffer). Once the device is gone it
// returns the reason: errors.Is(err, ErrUnplugged) for an unplugged device,
// io.EOF or io.ErrUnexpectedEOF at the end of a reader's bytes.
func (d *Dev) ReadKey(ctx context.Context) (device.Key, error) {
	select {
	case <-d.stop:
		return device.KeyNone, device.ErrHalted
	default:
	}
	select {
	case k := <-d.keys:
		return k, nil
	case <-d.done:
		select { // presses read before the end come first
		case k := <-d.keys:
			return k, nil
		default:
			return device.KeyNone, d.err
		}
	case <-d.stop:
		return device.KeyNone, device.ErrHalted
	case <-ctx.Done():
		return device.KeyNone, ctx.Err()
	}
}

// Halt stops the reader: it closes the device (which releases the grab) and
// waits for the goroutine. ReadKey then returns device.ErrHalted.
func (d *Dev) Halt() error {
	d.haltOnce.Do(func() {
		close(d.stop)
		if d.closer != nil {
			if err := d.closer.Close(); err != nil {
				d.haltErr = fmt.Errorf("evdev: %s: %w", d.name, err)
			}
		}
		if d.waitRead {
			<-d.done
		}
	})
	return d.haltErr
}

// read decodes records until r fails, delivering presses on d.keys.
func (d *Dev) read(r io.Reader) {
	defer close(d.done)
	size := d.layout.size()
	br := bufio.NewReaderSize(r, 64*size) // evdev reads whole records only
	rec := make([]byte, size)
	dropped := false // after SYN_DROPPED, skip up to the next SYN_REPORT
	for {
		n, err := io.ReadFull(br, rec)
		if err != nil {
			d.err = d.readErr(n, err)
			return
		}
		e := decode(rec, d.layout)
		switch {
		case e.Type == evSyn && e.Code == synDropped:
			dropped = true
		case e.Type == evSyn && e.Code == synReport:
			dropped = false
		case dropped || e.Type != evKey || e.Value != valPress:
		default:
			k, ok := d.keymap[e.Code]
			if !ok || k == device.KeyNone {
				continue
			}
			select {
			case d.keys <- k:
			case <-d.stop:
				return
			}
		}
	}
}

const (
	synReport  = 0
	synDropped = 3
)

func (d *Dev) readErr(n int, err error) error {
	select {
	case <-d.stop:
		return device.ErrHalted
	default:
	}
	switch {
	case errors.Is(err, syscall.ENODEV):
		return fmt.Errorf("%w: %s: %w", ErrUnplugged, d.name, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("evdev: %s: truncated record (%d of %d bytes): %w", d.name, n, d.layout.size(), err)
	case errors.Is(err, os.ErrClosed):
		return fmt.Errorf("evdev: %s: closed: %w", d.name, err)
	}
	return fmt.Errorf("evdev: %s: %w", d.name, err)
}
