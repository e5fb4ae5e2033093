package escpos

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"showpos/device"
)

// answering is a hand-written Transport: it answers each DLE EOT n from
// status and records every byte written. A Read with nothing to answer
// returns 0 bytes, as a serial port's read timeout does.
type answering struct {
	status  map[byte]byte
	written bytes.Buffer
	unread  []byte
}

func (a *answering) Write(p []byte) (int, error) {
	a.written.Write(p)
	if len(p) == 3 && p[0] == dle && p[1] == eot {
		if b, ok := a.status[p[2]]; ok {
			a.unread = append(a.unread, b)
		}
	}
	return len(p), nil
}

func (a *answering) Read(p []byte) (int, error) {
	if len(a.unread) == 0 {
		return 0, nil
	}
	n := copy(p, a.unread)
	a.unread = a.unread[n:]
	return n, nil
}

func (a *answering) SetReadTimeout(time.Duration) error { return nil }

func TestTheWholeConversation(t *testing.T) {
	// Stray bytes first (a late "offline" answer to an earlier query) are
	// drained; then the three queries, then the job.
	tr := &answering{status: map[byte]byte{1: 0x12, 2: 0x12, 4: 0x12}, unread: []byte{0x1A, 0x00}}
	d, err := New(tr, "test", &Opts{Columns: 32, StatusTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Print(context.Background(), everyKind); err != nil {
		t.Fatal(err)
	}
	job, _ := Layout{Columns: 32, CodeTable: 19}.Encode(everyKind)
	want := append([]byte{dle, eot, 1, dle, eot, 2, dle, eot, 4}, job...)
	if !bytes.Equal(tr.written.Bytes(), want) {
		t.Fatalf("wrote\n% x\nwant\n% x", tr.written.Bytes(), want)
	}
	if d.String() != "escpos(test)" || d.Columns() != 32 {
		t.Errorf("%s, %d columns", d, d.Columns())
	}
}

func TestAnswersWithoutTheFixedBitsAreNotStatus(t *testing.T) {
	// 0xFF and 0x00 lack the fixed bits (1 and 4 set, 0 and 7 clear): a
	// printer that answers only garbage is taken as not answering.
	tr := &answering{status: map[byte]byte{1: 0xFF, 2: 0x00, 4: 0x12}}
	d, _ := New(tr, "garbage", &Opts{StatusTimeout: 20 * time.Millisecond})
	if _, err := d.Status(context.Background()); !errors.Is(err, device.ErrPrinterGone) {
		t.Fatalf("Status: %v, want ErrPrinterGone", err)
	}
}
