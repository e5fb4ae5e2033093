package virtual

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"showpos/device"
)

// DefaultOpts is a 320×240 colour panel on a random loopback port, with an
// 8 KiB scanner line cap.
var DefaultOpts = Opts{
	Listen:         "127.0.0.1:0",
	Width:          320,
	Height:         240,
	MaxPayload:     8 << 10,
	PrinterColumns: 32,
}

// Opts configures a Board. Zero fields take DefaultOpts' values.
type Opts struct {
	// Listen is the page's address. It must be a loopback IP (or
	// "localhost") with a port; port 0 picks a free one.
	Listen string
	// Width and Height are the display's size in pixels (the real panels
	// are 320×240, 240×240 and 128×64).
	Width, Height int
	// Mono makes a 1-bit display: whatever is drawn becomes black or white
	// by a luminance threshold of 50%, as on an SSD1306.
	Mono bool
	// PrinterColumns is the simulated printer's paper width in
	// characters: 32 (58 mm) or 48 (80 mm).
	PrinterColumns int
	// MaxPayload caps one scanner line in bytes, terminator excluded;
	// longer lines are dropped and ReadPayload reports device.ErrTooLarge.
	MaxPayload int
	// Logger receives the board's diagnostics; nil discards them.
	Logger *slog.Logger
	// TapPhone, if set, lets another process tap: POST /sim/tap hands its
	// body to TapPhone, and the phone it returns is presented as by Tap.
	// The board knows no tap protocol itself; the wiring supplies one.
	TapPhone func(body []byte) (Phone, error)
}

// ErrNotLoopback is returned by New for a Listen address that other
// machines could reach.
var ErrNotLoopback = errors.New("virtual: listen address is not loopback")

// maxJSONBody caps the body of the page's JSON requests.
const maxJSONBody = 64 << 10

// Board is a simulated terminal: display, keypad, scanner, NFC reader,
// indicator and receipt printer, with a web page to see and press them.
type Board struct {
	opts Opts
	log  *slog.Logger

	hub       hub
	display   *display
	keypad    *keypad
	scanner   *scanner
	nfc       *nfc
	indicator *indicator
	printer   *printer

	ln  net.Listener
	srv *http.Server
	url string

	done      chan struct{} // closed by Close: SSE streams end
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Compile-time conformance of the simulated devices.
var (
	_ device.Display   = (*display)(nil)
	_ device.Keypad    = (*keypad)(nil)
	_ device.Scanner   = (*scanner)(nil)
	_ device.NFCReader = (*nfc)(nil)
	_ device.Tap       = (*tap)(nil)
	_ device.Indicator = (*indicator)(nil)
	_ device.Printer   = (*printer)(nil)
)

// New starts a board: its scanner pty and its web page. opts nil means
// DefaultOpts. Close stops both.
func New(opts *Opts) (*Board, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
		if o.Listen == "" {
			o.Listen = DefaultOpts.Listen
		}
		if o.Width == 0 && o.Height == 0 {
			o.Width, o.Height = DefaultOpts.Width, DefaultOpts.Height
		}
		if o.MaxPayload == 0 {
			o.MaxPayload = DefaultOpts.MaxPayload
		}
		if o.PrinterColumns == 0 {
			o.PrinterColumns = DefaultOpts.PrinterColumns
		}
	}
	if o.PrinterColumns < 16 || o.PrinterColumns > 255 {
		return nil, fmt.Errorf("virtual: printer of %d columns: want 32 or 48", o.PrinterColumns)
	}
	if o.Width <= 0 || o.Height <= 0 || o.Width > 4096 || o.Height > 4096 {
		return nil, fmt.Errorf("virtual: display size %d×%d out of range", o.Width, o.Height)
	}
	if o.MaxPayload < 0 {
		return nil, fmt.Errorf("virtual: negative MaxPayload %d", o.MaxPayload)
	}
	addr, err := loopbackAddr(o.Listen)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Board{opts: o, log: log, done: make(chan struct{})}
	b.hub.init()
	b.display = newDisplay(o.Width, o.Height, o.Mono, &b.hub)
	b.keypad = newKeypad()
	b.nfc = newNFC()
	b.indicator = newIndicator(&b.hub)
	b.printer = newPrinter(o.PrinterColumns, &b.hub)

	b.scanner, err = newScanner(o.MaxPayload, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.scanner.close()
		return nil, fmt.Errorf("virtual: listen: %w", err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		b.scanner.close()
		return nil, fmt.Errorf("%w: bound %s", ErrNotLoopback, ln.Addr())
	}
	b.ln = ln
	b.url = "http://" + ln.Addr().String() + "/"
	b.srv = &http.Server{
		Handler:           b.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second, // SSE streams extend it per write
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("virtual: web page stopped", "err", err)
		}
	}()
	log.Info("virtual board", "url", b.url, "scanner", b.scanner.path)
	return b, nil
}

// loopbackAddr checks that addr names a loopback host and returns it with
// "localhost" resolved to 127.0.0.1 (a name could resolve elsewhere).
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("virtual: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// URL is the page's address, like http://127.0.0.1:41234/.
func (b *Board) URL() string { return b.url }

// ScannerPath is the pty slave to write scanner payloads to, one a line
// (CR, LF or CRLF), like /dev/pts/7. It is raw: no echo, no line editing.
func (b *Board) ScannerPath() string { return b.scanner.path }

// Display is the simulated panel.
func (b *Board) Display() device.Display { return b.display }

// Keypad is the page's keypad.
func (b *Board) Keypad() device.Keypad { return b.keypad }

// Scanner is the pty scanner.
func (b *Board) Scanner() device.Scanner { return b.scanner }

// NFC is the reader Tap presents phones to.
func (b *Board) NFC() device.NFCReader { return b.nfc }

// Indicator is the page's LED and beeper.
func (b *Board) Indicator() device.Indicator { return b.indicator }

// Printer is the page's receipt printer.
func (b *Board) Printer() device.Printer { return b.printer }

// Close halts every device, stops the web page (open event streams
// included) and the scanner pty, and waits for the board's goroutines.
// It is safe to call more than once.
func (b *Board) Close() error {
	b.closeOnce.Do(func() {
		b.display.Halt()
		b.keypad.Halt()
		b.nfc.Halt()
		b.indicator.Halt()
		b.printer.Halt()
		b.scanner.Halt()
		close(b.done)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := b.srv.Shutdown(ctx); err != nil {
			b.closeErr = fmt.Errorf("virtual: stop web page: %w", err)
			b.srv.Close()
		}
		if err := b.scanner.close(); err != nil && b.closeErr == nil {
			b.closeErr = err
		}
		b.wg.Wait()
	})
	return b.closeErr
}
