package nfcpay_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"showpos/device"
	"showpos/device/clock/clocktest"
	"showpos/drivers/pn532"
	"showpos/drivers/pn532/pn532test"
	"showpos/terminal/nfcpay"
)

const roleLink = "https://pos.example:8443/v1/requests/7f3e"

// wire is the real pn532 driver on the emulated chip.
func wire(t *testing.T) (*pn532.Dev, *pn532test.Emulator) {
	t.Helper()
	em, err := pn532test.Start()
	if err != nil {
		t.Fatal(err)
	}
	d, err := pn532.New(em.Path(), &pn532.Opts{
		AckTimeout: 60 * time.Millisecond, CommandTimeout: 300 * time.Millisecond,
		PollBudget: 60 * time.Millisecond, PollPause: 5 * time.Millisecond,
		ExchangeTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		em.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Halt()
		em.Close()
	})
	em.Forget()
	return d, em
}

func TestRolesAPlainPhoneReadsTheLinkOnTheWire(t *testing.T) {
	d, em := wire(t)
	var mu sync.Mutex
	var got [][]byte
	em.SetReader(pn532test.ForumReader(func(m []byte, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			got = append(got, m)
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var reads []string
	r := &nfcpay.Roles{Reader: d, Tag: d,
		Timing: nfcpay.Timing{Reader: 70 * time.Millisecond, Tag: 300 * time.Millisecond, Rest: time.Hour},
		OnRead: func(l string) { reads = append(reads, l); cancel() },
	}
	tap, err := r.WaitTap(ctx, linkOnly(roleLink))
	if tap != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitTap = %v, %v; want the context's end after the read", tap, err)
	}
	if len(reads) != 1 || reads[0] != roleLink {
		t.Fatalf("OnRead got %q, want the link once", reads)
	}
	want, err := nfcpay.URIMessage(roleLink)
	if err != nil {
		t.Fatal(err)
	}
	// The phone parses the message once the tag's last answer reaches it,
	// which may be just after the terminal counted the read: wait for it.
	phoneRead := func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), got...)
	}
	for deadline := time.Now().Add(2 * time.Second); len(phoneRead()) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := phoneRead(); len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Errorf("the phone read % X, want % X", got, want)
	}
	// Reader first: the first command after set-up is a poll.
	if cmds := em.Commands(); len(cmds) == 0 || cmds[0][1] != pn532test.CmdInListPassiveTarget {
		t.Errorf("the first role is not the reader's")
	}
}

func TestRolesAPhoneWithTheAppStillPays(t *testing.T) {
	d, em := wire(t)
	raw := []byte{0x02, 0xF8, 0x6B, 0x01}
	app := &nfcpay.Phone{Sign: func([]byte) ([]byte, error) { return raw, nil }}
	em.SetTarget(pn532test.Phone(0x21, app.Respond))
	r := &nfcpay.Roles{Reader: d, Tag: d, Timing: nfcpay.Timing{Reader: 200 * time.Millisecond, Tag: 50 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tap, err := r.WaitTap(ctx, linkOnly(roleLink))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := nfcpay.Pay(ctx, tap, []byte(`{"id":"7f3e"}`))
	if err != nil || !bytes.Equal(tx, raw) {
		t.Fatalf("Pay = % X, %v", tx, err)
	}
}

// fakeReader finds no phone: each WaitTap ends with its context, after
// calling each (which may advance a clock or stop the test).
type fakeReader struct {
	calls    int
	deadline []bool // whether each call's context had a deadline
	each     func(call int)
}

func (f *fakeReader) String() string { return "fake reader" }
func (f *fakeReader) Halt() error    { return nil }
func (f *fakeReader) WaitTap(ctx context.Context) (device.Tap, error) {
	f.calls++
	_, ok := ctx.Deadline()
	f.deadline = append(f.deadline, ok)
	if f.each != nil {
		f.each(f.calls)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// fakeTag is read by a phone at the calls listed in reads.
type fakeTag struct {
	msgs  [][]byte
	waits []time.Duration
	reads map[int]bool
	err   error
}

func (f *fakeTag) PresentTag(ctx context.Context, ndef []byte, wait time.Duration) (bool, error) {
	f.msgs = append(f.msgs, ndef)
	f.waits = append(f.waits, wait)
	return f.reads[len(f.msgs)], f.err
}

var quick = nfcpay.Timing{Reader: time.Millisecond, Tag: 7 * time.Millisecond, Rest: 10 * time.Second}

func TestRolesSchedule(t *testing.T) {
	t.Run("no tag: the reader alone, unbounded, as before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rd := &fakeReader{each: func(int) { cancel() }}
		r := &nfcpay.Roles{Reader: rd}
		if _, err := r.WaitTap(ctx, linkOnly(roleLink)); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if rd.calls != 1 || rd.deadline[0] {
			t.Errorf("reader calls %d, deadlines %v; want one without a deadline", rd.calls, rd.deadline)
		}
	})
	t.Run("no request on screen: no tag window", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rd := &fakeReader{each: func(n int) {
			if n == 4 {
				cancel()
			}
		}}
		tag := &fakeTag{}
		r := &nfcpay.Roles{Reader: rd, Tag: tag, Timing: quick}
		if _, err := r.WaitTap(ctx, linkOnly("")); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if len(tag.msgs) != 0 {
			t.Errorf("the tag was presented %d times with nothing on screen", len(tag.msgs))
		}
	})
	t.Run("alternates reader and tag with the link's message and the tag's wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rd := &fakeReader{each: func(n int) {
			if n == 3 {
				cancel()
			}
		}}
		tag := &fakeTag{}
		r := &nfcpay.Roles{Reader: rd, Tag: tag, Timing: quick}
		r.WaitTap(ctx, linkOnly(roleLink))
		want, _ := nfcpay.URIMessage(roleLink)
		if len(tag.msgs) != 2 || !bytes.Equal(tag.msgs[0], want) || tag.waits[0] != quick.Tag {
			t.Errorf("presented %d times (waits %v), want 2 with the link's message and %v", len(tag.msgs), tag.waits, quick.Tag)
		}
		for i, ok := range rd.deadline {
			if !ok {
				t.Errorf("reader window %d has no deadline", i)
			}
		}
	})
	t.Run("after a read the tag rests, then comes back", func(t *testing.T) {
		clk := clocktest.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		ctx, cancel := context.WithCancel(context.Background())
		var presentedAt []int
		tag := &fakeTag{reads: map[int]bool{1: true}}
		rd := &fakeReader{}
		rd.each = func(n int) {
			presentedAt = append(presentedAt, len(tag.msgs))
			switch n {
			case 4:
				clk.Advance(quick.Rest) // the rest is over
			case 6:
				cancel()
			}
		}
		r := &nfcpay.Roles{Reader: rd, Tag: tag, Timing: quick, Clock: clk}
		var reads int
		r.OnRead = func(string) { reads++ }
		r.WaitTap(ctx, linkOnly(roleLink))
		// Window 1, tag read; windows 2-4 rest; window 4's end is past the
		// rest: tag again before window 5, and after it.
		if want := []int{0, 1, 1, 1, 2, 3}; !equalInts(presentedAt, want) {
			t.Errorf("tag presentations before each reader window %v, want %v", presentedAt, want)
		}
		if reads != 1 {
			t.Errorf("OnRead %d times, want 1", reads)
		}
	})
	t.Run("a link the tag cannot carry is an error", func(t *testing.T) {
		tag := &fakeTag{}
		r := &nfcpay.Roles{Reader: &fakeReader{}, Tag: tag, Timing: quick}
		if _, err := r.WaitTap(context.Background(), linkOnly("https://a.io/x y")); !errors.Is(err, nfcpay.ErrMalformed) {
			t.Errorf("err = %v, want ErrMalformed", err)
		}
		if len(tag.msgs) != 0 {
			t.Error("a refused link was presented")
		}
	})
	t.Run("a tag fault is an error naming the role", func(t *testing.T) {
		tag := &fakeTag{err: device.ErrHalted}
		r := &nfcpay.Roles{Reader: &fakeReader{}, Tag: tag, Timing: quick}
		if _, err := r.WaitTap(context.Background(), linkOnly(roleLink)); !errors.Is(err, device.ErrHalted) {
			t.Errorf("err = %v, want ErrHalted", err)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// linkOnly is the tag's content for a request on one network: its link.
func linkOnly(link string) func() nfcpay.TagContent {
	return func() nfcpay.TagContent { return nfcpay.TagContent{Link: link} }
}
