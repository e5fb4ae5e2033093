package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"image"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"go.bug.st/serial"

	"showpos/device"
	"showpos/drivers/virtual"
	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/screen"
)

// timedDisplay notes when the result screen is drawn. Other frames (the
// request screen's countdown redraws every second) are not noted: the
// first frame after a scan is not always the result.
type timedDisplay struct {
	device.Display
	result image.Image // the frame to time
	drawn  chan time.Time
}

func (d *timedDisplay) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	err := d.Display.Draw(r, src, sp)
	at := time.Now()
	if screen.SamePicture(src, d.result) {
		select {
		case d.drawn <- at:
		default:
		}
	}
	return err
}

// scanToResult is terminal/cashier's BenchmarkScanToResult: a whole
// terminal in this process (real store and till, real screens, the
// simulator's 320×240 display and its pty scanner, the cashier), n sales
// keyed on the keypad, each paid by writing the signed transaction's hex
// to the scanner's pty; timed from the write until the result screen is
// drawn (the pty, the check, the fsync'd commit and the render).
func scanToResult(ctx context.Context, dir string, n int) (samples, error) {
	data := filepath.Join(dir, "cashier")
	cfg, err := benchConfig(data, 1)
	if err != nil {
		return nil, err
	}
	t, err := openTill(data, cfg, nil)
	if err != nil {
		return nil, err
	}
	defer t.store.Close()
	board, err := virtual.New(&virtual.Opts{Width: 320, Height: 240})
	if err != nil {
		return nil, err
	}
	defer board.Close()
	screens, err := screen.New(screen.Size{W: 320, H: 240})
	if err != nil {
		return nil, err
	}
	// Offline (no chain), an accepted payment shows ACCEPTED.
	disp := &timedDisplay{Display: board.Display(), drawn: make(chan time.Time, 8),
		result: screens.Result(screen.Result{Kind: screen.ResultAccepted})}
	c := cashier.New(cashier.Options{
		Till: t.till, Screens: screens, Display: disp, Keypad: board.Keypad(), Scanner: board.Scanner(),
		Merchant: "Bench", Assets: []asset.Asset{cfg.Assets[0].Asset}, ResultFor: time.Hour,
	})
	// The till tells the cashier of accepted payments, as posd wires it.
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(runCtx) })
	defer func() { cancel(); wg.Wait() }()
	port, err := serial.Open(board.ScannerPath(), &serial.Mode{BaudRate: 9600})
	if err != nil {
		return nil, err
	}
	defer port.Close()
	payer, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}

	quiet := func() { // let the screen settle: no result frame pending
		for {
			select {
			case <-disp.drawn:
			case <-time.After(20 * time.Millisecond):
				return
			}
		}
	}
	var lat samples
	for i := range n {
		for _, k := range []device.Key{device.KeyCancel, device.Key1, device.KeyEnter} {
			board.Press(k)
		}
		raw, id, err := pendingPayment(t, payer, uint64(i))
		if err != nil {
			return nil, err
		}
		quiet()
		start := time.Now()
		if _, err := port.Write([]byte(hexutil.Encode(raw) + "\r")); err != nil {
			return nil, err
		}
		select {
		case at := <-disp.drawn:
			lat = append(lat, at.Sub(start))
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("sale %d (request %s): no result screen within 10 s", i, id)
		}
		if d, err := t.till.Request(id); err != nil || d.Status != "paid" {
			return nil, fmt.Errorf("sale %d: request %s is %v after the scan (%v)", i, id, d, err)
		}
	}
	return lat, nil
}

// pendingPayment waits for the request the keys made and signs its payment.
func pendingPayment(t *till, payer *ecdsa.PrivateKey, nonce uint64) ([]byte, string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if d, err := t.till.Request(""); err == nil && d.Status == "pending" {
			raw, err := signFor(d.Request(), payer, nonce, 0)
			return raw, d.ID, err
		}
		time.Sleep(time.Millisecond)
	}
	return nil, "", fmt.Errorf("the keyed sale made no pending request within 10 s")
}

// renderTimes draws the request screen of a new request (the QR code
// encoded, laid out and drawn: what the cashier waits for after OK) and of
// the same request again (the countdown's redraw, QR code cached), at
// size s; medians of n each. As terminal/screen's BenchmarkRequest and
// BenchmarkRequestTick.
func renderTimes(s screen.Size, n int) (fresh, tick time.Duration, err error) {
	r, err := screen.New(s)
	if err != nil {
		return 0, 0, err
	}
	const (
		uri   = "ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@1337/transfer?address=0x000000000000000000000000000000000000dEaD&uint256=12500000&req=http%3A%2F%2F192.168.1.20%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D"
		short = "HTTP://192.168.1.20:8080/R/" // the short link: checkout.ShortLink
	)
	v := screen.Request{Amount: "12.5", Asset: "TUSD", Remaining: 4*time.Minute + 59*time.Second}
	id := func(i int) string { return fmt.Sprintf("%032s", strconv.Itoa(i)) } // a request id's length
	f, err := timeEach(n, func(i int) error {
		v.URI, v.ShortURI = uri+id(i), short+fmt.Sprintf("%08d", i) // a new QR code each time
		r.Request(v)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	tk, err := timeEach(n, func(int) error { r.Request(v); return nil })
	if err != nil {
		return 0, 0, err
	}
	return f.median(), tk.median(), nil
}
