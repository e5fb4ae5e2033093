package pn532_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"

	"showpos/device"
	"showpos/drivers/pn532"
	"showpos/drivers/pn532/pn532test"
	"showpos/terminal/nfcpay"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Frames the driver must write, byte for byte (independently computed).
const (
	wakeHex = "55 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
	samHex  = "00 00 FF 05 FB D4 14 01 14 01 02 00"
	rfHex   = "00 00 FF 06 FA D4 32 05 02 01 0A E8 00"
	fwHex   = "00 00 FF 02 FE D4 02 2A 00"
	listHex = "00 00 FF 04 FC D4 4A 01 00 E1 00"
	selHex  = "00 00 FF 11 EF D4 40 01 00 A4 04 00 08 F0 53 48 4F 57 50 4F 53 00 18 00"
	relHex  = "00 00 FF 03 FD D4 52 01 D9 00"
	offHex  = "00 00 FF 04 FC D4 32 01 00 F9 00"
	ackHex  = "00 00 FF 00 FF 00"
	nackHex = "00 00 FF FF 00 00"
)

// testOpts keep fault tests quick; the budgets still hold under -race.
var testOpts = pn532.Opts{
	AckTimeout:      60 * time.Millisecond,
	CommandTimeout:  300 * time.Millisecond,
	PollBudget:      150 * time.Millisecond,
	PollPause:       5 * time.Millisecond,
	ExchangeTimeout: 500 * time.Millisecond,
}

// setup starts an emulator and opens the driver on its pty, through the
// real serial library.
func setup(t *testing.T, o *pn532.Opts) (*pn532.Dev, *pn532test.Emulator) {
	t.Helper()
	em, err := pn532test.Start()
	if err != nil {
		t.Fatal(err)
	}
	if o == nil {
		o = &testOpts
	}
	d, err := pn532.New(em.Path(), o)
	if err != nil {
		em.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Halt(); err != nil {
			t.Errorf("Halt: %v", err)
		}
		em.Close()
	})
	em.Forget()
	return d, em
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed ^ byte(i) ^ byte(i>>8)
	}
	return b
}

// payer is a phone app signing tx for whatever it is asked.
func payer(tx []byte) *nfcpay.Phone {
	return &nfcpay.Phone{Sign: func([]byte) ([]byte, error) { return tx, nil }}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestNewWakesAndConfiguresTheChip(t *testing.T) {
	em, err := pn532test.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	d, err := pn532.New(em.Path(), &testOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := hx(t, wakeHex+samHex+rfHex+fwHex)
	if got := em.Received(); !bytes.Equal(got, want) {
		t.Errorf("on the wire:\n got % X\nwant % X", got, want)
	}
	if s := d.String(); !strings.Contains(s, em.Path()) || !strings.Contains(s, "v1.6") {
		t.Errorf("String() = %q: want the path and the firmware", s)
	}
	em.Forget()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if got, want := em.Received(), hx(t, offHex); !bytes.Equal(got, want) {
		t.Errorf("Halt sent % X, want RF field off % X", got, want)
	}
	if err := d.Halt(); err != nil {
		t.Errorf("second Halt: %v", err)
	}
	if _, err := d.WaitTap(context.Background()); !errors.Is(err, device.ErrHalted) {
		t.Errorf("WaitTap after Halt: %v", err)
	}
}

func TestNewFailsEarlyNamingThePath(t *testing.T) {
	em, err := pn532test.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	em.Dead(true)
	start := time.Now()
	_, err = pn532.New(em.Path(), &testOpts)
	if err == nil {
		t.Fatal("New succeeded with no chip")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), em.Path()) || !errors.Is(err, pn532.ErrNoAnswer) {
		t.Errorf("error %q: want the path and ErrNoAnswer", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v to give up", d)
	}
	// It sent SAMConfiguration twice with an abort between, then stopped.
	want := hx(t, wakeHex+samHex+ackHex+samHex)
	if got := em.Received(); !bytes.Equal(got, want) {
		t.Errorf("on the wire:\n got % X\nwant % X", got, want)
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := pn532.New("/dev/showpos-no-such-port", nil); err == nil || !strings.Contains(err.Error(), "/dev/showpos-no-such-port") {
		t.Errorf("missing port: %v", err)
	}
	if _, err := pn532.New("/dev/null", &pn532.Opts{PassiveRetries: 0xFF}); err == nil || !strings.Contains(err.Error(), "forever") {
		t.Errorf("PassiveRetries 0xFF: %v", err)
	}
}

func TestTapPaysThroughTheChip(t *testing.T) {
	d, em := setup(t, nil)
	req, tx := pattern(2048, 0x21), pattern(5120, 0x42)
	phone := &nfcpay.Phone{Sign: func(got []byte) ([]byte, error) {
		if !bytes.Equal(got, req) {
			return nil, fmt.Errorf("request of %d bytes differs", len(got))
		}
		return tx, nil
	}}
	em.SetTarget(pn532test.Phone(0x77, phone.Respond))

	tap, err := d.WaitTap(ctxT(t, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if id := tap.ID(); !bytes.Equal(id, []byte{0x08, 0x77, 0x5A, 0x3C}) {
		t.Errorf("ID % X", id)
	}
	got, err := nfcpay.Pay(ctxT(t, device.DefaultTapTimeout), tap, req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tx) {
		t.Fatalf("got %d bytes, not the %d-byte tx the phone signed", len(got), len(tx))
	}

	// The wire: poll, then SELECT in an InDataExchange, …, then InRelease.
	wire := em.Received()
	want := hx(t, listHex+selHex)
	if !bytes.HasPrefix(wire, want) {
		t.Errorf("wire starts % X\nwant         % X", wire[:min(len(wire), len(want))], want)
	}
	if !bytes.HasSuffix(wire, hx(t, relHex)) {
		t.Errorf("wire ends % X, want InRelease % X", wire[max(0, len(wire)-10):], hx(t, relHex))
	}
	cmds := em.Commands()
	if n := len(cmds); n != 1+1+9+1+22+1 {
		t.Errorf("%d commands; want poll, SELECT, 9 PUT, INFO, 22 GET, release", n)
	}
	for _, c := range cmds {
		if len(c) > 2+1+pn532.MaxAPDU {
			t.Errorf("command of %d bytes", len(c))
		}
	}
}

func TestNonISODEPTagIsSkipped(t *testing.T) {
	d, em := setup(t, nil)
	em.SetTarget(pn532test.Sticker())
	go func() {
		time.Sleep(100 * time.Millisecond)
		em.SetTarget(pn532test.Phone(0x31, payer([]byte{1}).Respond))
	}()
	tap, err := d.WaitTap(ctxT(t, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if id := tap.ID(); id[0] != 0x08 || id[1] != 0x31 {
		t.Errorf("got the tap of % X, want the phone's", id)
	}
	wire := em.Received()
	if !bytes.HasPrefix(wire, hx(t, listHex+relHex+listHex)) {
		t.Errorf("wire % X: want poll, release of the sticker, poll again", wire[:min(len(wire), 40)])
	}
}

func TestWaitTapWithNoPhoneEndsWithTheContext(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration // how the chip answers an empty field
	}{
		{"chip answers none at once", 0},
		{"chip answers none slowly", 40 * time.Millisecond},
		{"chip searches past the budget", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, em := setup(t, nil)
			em.NoTargetDelay(tc.delay)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			start := time.Now()
			_, err := d.WaitTap(ctx)
			took := time.Since(start)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			if over := took - 200*time.Millisecond; over > testOpts.PollBudget {
				t.Errorf("returned %v after the cancel: over the poll budget", over)
			}
			if tc.delay < 0 && !bytes.Contains(em.Received(), hx(t, listHex+ackHex)) {
				t.Errorf("no ACK aborting the endless search")
			}
			// Usable afterwards.
			em.NoTargetDelay(0)
			em.SetTarget(pn532test.Phone(1, payer([]byte("tx")).Respond))
			tap, err := d.WaitTap(ctxT(t, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if tx, err := nfcpay.Pay(ctxT(t, time.Second), tap, []byte("r")); err != nil || string(tx) != "tx" {
				t.Fatalf("Pay = %q, %v", tx, err)
			}
		})
	}
}

// Each fault, injected once, is absorbed: the tap still pays, and the wire
// shows the driver's answer to it.
func TestFaultsAreAbsorbed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cmd   byte
		fault pn532test.Fault
		wire  string // must appear in what the driver sent
	}{
		{"NACK instead of ACK", pn532test.CmdInDataExchange, pn532test.NACK, selHex + ackHex + selHex},
		{"silence", pn532test.CmdInDataExchange, pn532test.Silence, selHex + ackHex + selHex},
		{"ACK but no answer", pn532test.CmdInDataExchange, pn532test.NoResponse, selHex + ackHex + ackHex + selHex},
		{"error frame", pn532test.CmdInDataExchange, pn532test.ErrorFrame, selHex + ackHex + selHex},
		{"garbage before the ACK", pn532test.CmdInDataExchange, pn532test.Garbage, selHex},
		{"bad LCS", pn532test.CmdInDataExchange, pn532test.BadLCS, selHex + nackHex},
		{"bad DCS", pn532test.CmdInDataExchange, pn532test.BadDCS, selHex + nackHex},
		{"bad DCS on a poll", pn532test.CmdInListPassiveTarget, pn532test.BadDCS, listHex + nackHex},
		{"silence on a poll", pn532test.CmdInListPassiveTarget, pn532test.Silence, listHex + ackHex + listHex},
		{"error frame on release", pn532test.CmdInRelease, pn532test.ErrorFrame, relHex + ackHex + relHex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, em := setup(t, nil)
			tx := pattern(700, 3)
			em.SetTarget(pn532test.Phone(2, payer(tx).Respond))
			em.Inject(tc.cmd, tc.fault)
			tap, err := d.WaitTap(ctxT(t, 2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			got, err := nfcpay.Pay(ctxT(t, 2*time.Second), tap, []byte("request"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tx) {
				t.Fatalf("tx differs")
			}
			if !bytes.Contains(em.Received(), hx(t, tc.wire)) {
				t.Errorf("wire lacks % X", hx(t, tc.wire))
			}
		})
	}
}

// The same fault twice: the one retry is spent, the error is clear, and
// the next tap works.
func TestRepeatedFaultFailsClearly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault pn532test.Fault
		is    error
		text  string
	}{
		{"silence", pn532test.Silence, pn532.ErrNoAnswer, "no ACK"},
		{"no answer", pn532test.NoResponse, pn532.ErrNoAnswer, "no response"},
		{"error frame", pn532test.ErrorFrame, pn532.ErrSyntax, "after one retry"},
		{"NACK", pn532test.NACK, pn532.ErrNoAnswer, "NACK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, em := setup(t, nil)
			em.SetTarget(pn532test.Phone(3, payer([]byte("tx")).Respond))
			tap, err := d.WaitTap(ctxT(t, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			em.Inject(pn532test.CmdInDataExchange, tc.fault)
			em.Inject(pn532test.CmdInDataExchange, tc.fault)
			_, err = tap.Exchange(ctxT(t, 2*time.Second), nfcpay.SelectAPDU())
			if err == nil {
				t.Fatal("Exchange succeeded through two faults")
			}
			t.Log(err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %q", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), "InDataExchange") {
				t.Errorf("error %q: want %q and the command", err, tc.text)
			}
			tap.Release()
			tap, err = d.WaitTap(ctxT(t, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if tx, err := nfcpay.Pay(ctxT(t, time.Second), tap, []byte("r")); err != nil || string(tx) != "tx" {
				t.Fatalf("next tap: %q, %v", tx, err)
			}
		})
	}
}

func TestPhonePulledAwayIsGone(t *testing.T) {
	d, em := setup(t, nil)
	em.SetTarget(pn532test.Phone(4, payer(pattern(3000, 1)).Respond))
	tap, err := d.WaitTap(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	em.RemoveAfter(5)
	_, err = nfcpay.Pay(ctxT(t, 2*time.Second), tap, pattern(2000, 2))
	if !errors.Is(err, device.ErrGone) {
		t.Fatalf("err = %v, want ErrGone", err)
	}
	var se *pn532.StatusError
	if !errors.As(err, &se) || se.Code != 0x01 {
		t.Errorf("err = %v, want the chip's status 0x01", err)
	}
	t.Log(err)
	// The tap stays gone without asking the chip.
	em.Forget()
	if _, err := tap.Exchange(context.Background(), nfcpay.SelectAPDU()); !errors.Is(err, pn532.ErrReleased) && !errors.Is(err, device.ErrGone) {
		t.Errorf("Exchange on a gone tap: %v", err)
	}
	if len(em.Commands()) != 0 {
		t.Errorf("a gone tap talked to the chip: % X", em.Commands())
	}
	// The phone comes back: a new tap pays.
	tx := pattern(1000, 9)
	em.SetTarget(pn532test.Phone(5, payer(tx).Respond))
	tap, err = d.WaitTap(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := nfcpay.Pay(ctxT(t, 2*time.Second), tap, []byte("r")); err != nil || !bytes.Equal(got, tx) {
		t.Fatalf("next tap: %d bytes, %v", len(got), err)
	}
}

// An answer longer than one frame comes in parts (status bit 0x40); the
// driver fetches the rest with InDataExchange carrying only Tg.
func TestChainedAnswer(t *testing.T) {
	long := pattern(600, 7)
	d, em := setup(t, nil)
	em.SetTarget(pn532test.Phone(6, func([]byte) []byte { return long }))
	tap, err := d.WaitTap(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	em.Forget()
	got, err := tap.Exchange(ctxT(t, time.Second), []byte{0x80, 0x01, 0x00, 0x00})
	if err != nil || !bytes.Equal(got, long) {
		t.Fatalf("got %d bytes, %v; want the 600", len(got), err)
	}
	more := hx(t, "00 00 FF 03 FD D4 40 01 EB 00")
	if n := bytes.Count(em.Received(), more); n != 2 {
		t.Errorf("%d InDataExchange(1) for the rest, want 2 (600 = 252+252+96)", n)
	}

	// With a smaller cap the same answer is refused.
	o := testOpts
	o.MaxAnswer = 300
	d2, em2 := setup(t, &o)
	em2.SetTarget(pn532test.Phone(6, func([]byte) []byte { return long }))
	tap2, err := d2.WaitTap(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tap2.Exchange(ctxT(t, time.Second), []byte{0x80, 0x01, 0x00, 0x00}); !errors.Is(err, pn532.ErrTooLong) {
		t.Errorf("err = %v, want ErrTooLong", err)
	}
}

func TestAPDULimits(t *testing.T) {
	d, em := setup(t, nil)
	seen := make(chan []byte, 1) // the emulator runs the phone on its own goroutine
	em.SetTarget(pn532test.Phone(7, func(a []byte) []byte { seen <- a; return []byte{0x90, 0x00} }))
	tap, err := d.WaitTap(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	em.Forget()
	if _, err := tap.Exchange(ctxT(t, time.Second), make([]byte, pn532.MaxAPDU+1)); !errors.Is(err, pn532.ErrTooLong) {
		t.Errorf("255-byte APDU: %v", err)
	}
	if len(em.Received()) != 0 {
		t.Errorf("an oversize APDU reached the wire")
	}
	apdu := pattern(pn532.MaxAPDU, 5) // goes in an extended frame
	if r, err := tap.Exchange(ctxT(t, time.Second), apdu); err != nil || !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("254-byte APDU: % X, %v", r, err)
	}
	if got := <-seen; !bytes.Equal(got, apdu) {
		t.Errorf("the phone got %d bytes, not the 254 sent", len(got))
	}
	if !bytes.HasPrefix(em.Received(), hx(t, "00 00 FF FF FF 01 01 FE D4 40 01")) {
		t.Errorf("not an extended frame: % X", em.Received()[:11])
	}
}

func TestReleasedTapRefuses(t *testing.T) {
	d, em := setup(t, nil)
	em.SetTarget(pn532test.Phone(8, payer([]byte("tx")).Respond))
	tap, err := d.WaitTap(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := tap.Release(); err != nil {
		t.Fatal(err)
	}
	if err := tap.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if _, err := tap.Exchange(context.Background(), nfcpay.SelectAPDU()); !errors.Is(err, pn532.ErrReleased) {
		t.Errorf("Exchange after Release: %v", err)
	}
	// A new WaitTap supersedes an unreleased tap.
	t1, _ := d.WaitTap(ctxT(t, time.Second))
	if _, err := d.WaitTap(ctxT(t, time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := t1.Exchange(context.Background(), nfcpay.SelectAPDU()); !errors.Is(err, pn532.ErrReleased) {
		t.Errorf("Exchange on a superseded tap: %v", err)
	}
}

func TestHaltStopsAWaitTap(t *testing.T) {
	d, em := setup(t, nil)
	em.NoTargetDelay(-1)
	errc := make(chan error, 1)
	go func() {
		_, err := d.WaitTap(context.Background())
		errc <- err
	}()
	time.Sleep(80 * time.Millisecond)
	start := time.Now()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, device.ErrHalted) {
			t.Errorf("WaitTap: %v, want ErrHalted", err)
		}
	case <-time.After(time.Second):
		t.Fatal("WaitTap still running after Halt")
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("Halt took %v", took)
	}
	if !bytes.Contains(em.Received(), hx(t, offHex)) {
		t.Errorf("Halt did not switch the field off")
	}
}

func TestGoneTapStaysGone(t *testing.T) {
	d, em := setup(t, nil)
	em.SetTarget(pn532test.Phone(9, payer([]byte("tx")).Respond))
	tap, err := d.WaitTap(ctxT(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	em.RemoveAfter(0)
	if _, err := tap.Exchange(ctxT(t, time.Second), nfcpay.SelectAPDU()); !errors.Is(err, device.ErrGone) {
		t.Fatalf("err = %v, want ErrGone", err)
	}
	em.Forget()
	if _, err := tap.Exchange(ctxT(t, time.Second), nfcpay.SelectAPDU()); !errors.Is(err, device.ErrGone) {
		t.Errorf("second Exchange: %v, want ErrGone", err)
	}
	if len(em.Commands()) != 0 {
		t.Errorf("a gone tap talked to the chip")
	}
	if err := tap.Release(); err != nil {
		t.Errorf("Release of a gone tap: %v", err)
	}
}

// NewPort takes a port the caller owns: Halt leaves it open.
func TestNewPortLeavesThePortToItsOwner(t *testing.T) {
	em, err := pn532test.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	p, err := serial.Open(em.Path(), &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	d, err := pn532.NewPort(p, &testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write([]byte{0x00}); err != nil {
		t.Errorf("port closed by Halt: %v", err)
	}
}
