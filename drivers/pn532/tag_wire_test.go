package pn532_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"showpos/device"
	"showpos/drivers/pn532"
	"showpos/drivers/pn532/pn532test"
	"showpos/terminal/nfcpay"
)

// Target-mode frames the driver must write, byte for byte.
const (
	setTagHex    = "00 00 FF 03 FD D4 12 30 EA 00"
	setReaderHex = "00 00 FF 03 FD D4 12 14 06 00"
	// TgInitAsTarget: mode 05, SENS_RES 04 00, NFCID1t 53 50 53,
	// SEL_RES 20, 18 + 10 zero bytes, no Gt, no Tk.
	tgInitHex = "00 00 FF 27 D9 D4 8C 05 04 00 53 50 53 20" +
		" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00" +
		" 00 00 00 00 00 00 00 00 00 00 00 00 81 00"
	tgGetHex = "00 00 FF 02 FE D4 86 A6 00"
)

const tagLink = "https://pos.example:8443/v1/requests/0b5c7d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"

func tagMessage(t *testing.T, link string) []byte {
	t.Helper()
	msg, err := nfcpay.URIMessage(link)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// finished wraps a reader script so that the test can wait for its end:
// the driver is done when it has sent the last answer, the script a
// moment later.
func finished(t *testing.T, run func(transmit func([]byte) ([]byte, error))) (*pn532test.PhoneReader, func()) {
	done := make(chan struct{})
	var once sync.Once
	r := &pn532test.PhoneReader{Run: func(transmit func([]byte) ([]byte, error)) {
		defer once.Do(func() { close(done) })
		run(transmit)
	}}
	return r, func() {
		t.Helper()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("the phone's script did not end")
		}
	}
}

func TestPresentTagIsReadByAPhoneOnTheWire(t *testing.T) {
	d, em := setup(t, nil)
	var m []byte
	var rerr error
	r, wait := finished(t, func(transmit func([]byte) ([]byte, error)) { m, rerr = pn532test.ReadForumTag(transmit) })
	em.SetReader(r)
	msg := tagMessage(t, tagLink)

	read, err := d.PresentTag(ctxT(t, 5*time.Second), msg, 500*time.Millisecond)
	if err != nil || !read {
		t.Fatalf("PresentTag = %v, %v; want read", read, err)
	}
	wait()
	if rerr != nil || !bytes.Equal(m, msg) {
		t.Fatalf("the phone read % X (%v), want % X", m, rerr, msg)
	}
	rx := em.Received()
	for _, f := range []string{setTagHex, tgInitHex, tgGetHex, setReaderHex} {
		if !bytes.Contains(rx, hx(t, f)) {
			t.Errorf("frame % X not on the wire", hx(t, f))
		}
	}
	if !bytes.HasPrefix(rx, hx(t, setTagHex+ackHex)) && !bytes.HasPrefix(rx, hx(t, setTagHex)) {
		t.Errorf("the wire does not start with SetParameters(PICC): % X", rx[:min(len(rx), 12)])
	}
	if !bytes.HasSuffix(rx, hx(t, setReaderHex)) {
		t.Errorf("the wire does not end with SetParameters(reader): % X", rx[max(0, len(rx)-12):])
	}
	// The order of commands: parameters, activation, five APDU rounds
	// (select app, select CC, read CC, select NDEF, read NLEN, read
	// message: six), parameters back.
	var codes []byte
	for _, c := range em.Commands() {
		codes = append(codes, c[1])
	}
	want := []byte{0x12, 0x8C}
	for range 6 {
		want = append(want, 0x86, 0x8E)
	}
	want = append(want, 0x12)
	if !bytes.Equal(codes, want) {
		t.Errorf("commands % X, want % X", codes, want)
	}
	if em.Params() != 0x14 {
		t.Errorf("parameters left at %#02x, want the reader's 0x14", em.Params())
	}
}

func TestPresentTagWithNoReaderWaitsThenTheReaderRoleWorks(t *testing.T) {
	d, em := setup(t, nil)
	read, err := d.PresentTag(ctxT(t, 5*time.Second), tagMessage(t, tagLink), 80*time.Millisecond)
	if err != nil || read {
		t.Fatalf("PresentTag with nobody there = %v, %v; want false, nil", read, err)
	}
	if !bytes.Contains(em.Received(), hx(t, tgInitHex+ackHex)) {
		t.Errorf("TgInitAsTarget was not aborted with an ACK: % X", em.Received())
	}
	if em.Params() != 0x14 {
		t.Errorf("parameters left at %#02x, want 0x14", em.Params())
	}
	em.SetTarget(pn532test.Phone(0x11, payer([]byte{0x02, 0xAA}).Respond))
	tap, err := d.WaitTap(ctxT(t, 3*time.Second))
	if err != nil {
		t.Fatalf("WaitTap after the tag role: %v", err)
	}
	tap.Release()
}

func TestPresentTagReaderLeavingEarlyIsNotARead(t *testing.T) {
	d, em := setup(t, nil)
	var answers [][]byte
	r, wait := finished(t, func(transmit func([]byte) ([]byte, error)) {
		for _, a := range []string{
			"00 A4 04 00 07 D2 76 00 00 85 01 01 00",
			"00 A4 00 0C 02 E1 04",
			"00 B0 00 00 02",
		} {
			r, err := transmit(hx(t, a))
			if err != nil {
				return
			}
			answers = append(answers, r)
		}
	})
	em.SetReader(r)
	read, err := d.PresentTag(ctxT(t, 5*time.Second), tagMessage(t, tagLink), 500*time.Millisecond)
	if err != nil || read {
		t.Fatalf("PresentTag = %v, %v; want false, nil (the phone left before the message)", read, err)
	}
	wait()
	if len(answers) != 3 || !bytes.Equal(answers[2][2:], []byte{0x90, 0x00}) {
		t.Errorf("answers % X", answers)
	}
	if em.Params() != 0x14 {
		t.Errorf("parameters left at %#02x, want 0x14", em.Params())
	}
}

func TestPresentTagAnswersMalformedAPDUsWithErrorsAndStillServes(t *testing.T) {
	d, em := setup(t, nil)
	msg := tagMessage(t, tagLink)
	cases := []struct{ apdu, sw string }{
		{"00", "67 00"},
		{"00 A4 04 00 FF D2", "67 00"},
		{"00 A4 00 0C 02 E1 03", "6A 82"}, // no application yet
		{"00 D6 00 00 01 00", "69 82"},
		{"90 B0 00 00 02", "6E 00"},
		{"00 20 00 00", "6D 00"},
	}
	var got [][]byte
	var read []byte
	var readErr error
	r, wait := finished(t, func(transmit func([]byte) ([]byte, error)) {
		for _, c := range cases {
			r, err := transmit(hx(t, c.apdu))
			if err != nil {
				return
			}
			got = append(got, r)
		}
		read, readErr = pn532test.ReadForumTag(transmit)
	})
	em.SetReader(r)
	ok, err := d.PresentTag(ctxT(t, 5*time.Second), msg, 500*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("PresentTag = %v, %v; want read", ok, err)
	}
	wait()
	for i, c := range cases {
		if i >= len(got) || !bytes.Equal(got[i], hx(t, c.sw)) {
			t.Errorf("% X: got % X, want %s", hx(t, c.apdu), got, c.sw)
		}
	}
	if readErr != nil || !bytes.Equal(read, msg) {
		t.Errorf("after the bad APDUs the phone read % X (%v), want % X", read, readErr, msg)
	}
}

func TestPresentTagRefusesBeforeTheWire(t *testing.T) {
	d, em := setup(t, nil)
	for _, n := range []int{0, pn532.MaxNDEF + 1} {
		if _, err := d.PresentTag(ctxT(t, time.Second), make([]byte, n), 50*time.Millisecond); !errors.Is(err, pn532.ErrTooLong) {
			t.Errorf("message of %d bytes: %v, want ErrTooLong", n, err)
		}
	}
	if rx := em.Received(); len(rx) != 0 {
		t.Errorf("sent % X for a refused message", rx)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PresentTag(ctxT(t, time.Second), []byte{0xD0, 0, 0}, 50*time.Millisecond); !errors.Is(err, device.ErrHalted) {
		t.Errorf("after Halt: %v", err)
	}
}

func TestPresentTagHonoursItsContext(t *testing.T) {
	d, _ := setup(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := d.PresentTag(ctx, tagMessage(t, tagLink), time.Hour)
		errc <- err
	}()
	time.Sleep(30 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("PresentTag after cancel: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("PresentTag did not return after its context ended")
	}
}
