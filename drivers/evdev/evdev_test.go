package evdev

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"showpos/device"
)

// A keypad's stream: each key is EV_MSC (scan code), EV_KEY, EV_SYN.
func press(code uint16) []event {
	return []event{
		{Type: evMsc, Code: 4, Value: 0x70059},
		{Type: evKey, Code: code, Value: valPress},
		{Type: evSyn, Code: synReport},
	}
}

func release(code uint16) []event {
	return []event{
		{Type: evMsc, Code: 4, Value: 0x70059},
		{Type: evKey, Code: code, Value: valRelease},
		{Type: evSyn, Code: synReport},
	}
}

func repeat(code uint16) []event {
	return []event{{Type: evKey, Code: code, Value: valRepeat}, {Type: evSyn, Code: synReport}}
}

func stream(l Layout, evs ...[]event) []byte {
	var b []byte
	sec := int64(1_700_000_000)
	for _, group := range evs {
		for _, e := range group {
			e.Sec, e.Usec = sec, 123456
			b = append(b, encode(e, l)...)
		}
		sec++
	}
	return b
}

// readAll reads keys until the reader's end and returns them and the error.
func readAll(t *testing.T, d *Dev) ([]device.Key, error) {
	t.Helper()
	var keys []device.Key
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		k, err := d.ReadKey(ctx)
		cancel()
		if err != nil {
			return keys, err
		}
		keys = append(keys, k)
	}
}

func TestRecordSizes(t *testing.T) {
	if got := len(encode(event{}, Layout32)); got != 16 {
		t.Errorf("32-bit record is %d bytes, want 16", got)
	}
	if got := len(encode(event{}, Layout64)); got != 24 {
		t.Errorf("64-bit record is %d bytes, want 24", got)
	}
	auto, _ := LayoutAuto.resolve()
	want := Layout64
	if runtime.GOARCH == "arm" || runtime.GOARCH == "386" {
		want = Layout32
	}
	if auto != want {
		t.Errorf("LayoutAuto on %s = %d, want %d", runtime.GOARCH, auto, want)
	}
	if _, err := NewFromReader(bytes.NewReader(nil), &Opts{Layout: 48}); err == nil {
		t.Error("layout 48 accepted")
	}
}

// Records written by hand, byte by byte, as the kernel lays them out.
func TestDecodeKnownBytes(t *testing.T) {
	arm := []byte{
		0x00, 0xf1, 0x53, 0x65, // tv_sec 1700000000
		0x40, 0xe2, 0x01, 0x00, // tv_usec 123456
		0x01, 0x00, // EV_KEY
		0x1c, 0x00, // KEY_ENTER
		0x01, 0x00, 0x00, 0x00, // press
	}
	arm64 := []byte{
		0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0,
		0x40, 0xe2, 0x01, 0x00, 0, 0, 0, 0,
		0x01, 0x00, 0x1c, 0x00, 0x02, 0x00, 0x00, 0x00, // repeat
	}
	want := event{Sec: 1700000000, Usec: 123456, Type: evKey, Code: keyEnter, Value: valPress}
	if got := decode(arm, Layout32); got != want {
		t.Errorf("arm: %+v, want %+v", got, want)
	}
	want.Value = valRepeat
	if got := decode(arm64, Layout64); got != want {
		t.Errorf("arm64: %+v, want %+v", got, want)
	}
	neg := append([]byte(nil), arm...)
	copy(neg[12:], []byte{0xff, 0xff, 0xff, 0xff})
	if got := decode(neg, Layout32).Value; got != -1 {
		t.Errorf("value is signed: got %d", got)
	}
}

func TestStreamDeliversPressesOnly(t *testing.T) {
	for _, l := range []Layout{Layout32, Layout64} {
		t.Run(fmt.Sprint(l), func(t *testing.T) {
			b := stream(l,
				press(key1+1), release(key1+1), // "2"
				press(keyKP5), repeat(keyKP5), repeat(keyKP5), release(keyKP5),
				press(30), release(30), // KEY_A: not in the keymap
				press(keyKPDot), release(keyKPDot),
				press(keyDot), release(keyDot),
				press(key0), release(key0),
				press(keyEsc), release(keyEsc),
				press(keyDelete), release(keyDelete),
				press(keyBackspace), release(keyBackspace),
				press(keyF1+3), release(keyF1+3),
				press(keyKPEnter), press(keyEnter), release(keyEnter), release(keyKPEnter),
			)
			d, err := NewFromReader(bytes.NewReader(b), &Opts{Layout: l})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Halt()
			keys, err := readAll(t, d)
			want := []device.Key{device.Key2, device.Key5, device.KeyDot, device.KeyDot, device.Key0,
				device.KeyCancel, device.KeyClear, device.KeyBackspace, device.KeyF4,
				device.KeyEnter, device.KeyEnter}
			if fmt.Sprint(keys) != fmt.Sprint(want) {
				t.Errorf("keys %v, want %v", keys, want)
			}
			if !errors.Is(err, io.EOF) {
				t.Errorf("end: %v, want io.EOF", err)
			}
		})
	}
}

func TestDefaultKeymapCoversEveryDigit(t *testing.T) {
	m := DefaultKeymap()
	for i := range 10 {
		top, kp := uint16(key1+i-1), []uint16{keyKP0, keyKP1, keyKP2, keyKP3, keyKP4, keyKP5, keyKP6, keyKP7, keyKP8, keyKP9}[i]
		if i == 0 {
			top = key0
		}
		want := device.Key0 + device.Key(i)
		if m[top] != want || m[kp] != want {
			t.Errorf("digit %d: KEY_%d→%v, KEY_KP%d→%v", i, i, m[top], i, m[kp])
		}
	}
	for i, want := range []device.Key{device.KeyF1, device.KeyF2, device.KeyF3, device.KeyF4} {
		if m[uint16(keyF1+i)] != want {
			t.Errorf("KEY_F%d → %v", i+1, m[uint16(keyF1+i)])
		}
	}
	m[keyEsc] = device.KeyEnter
	if DefaultKeymap()[keyEsc] != device.KeyCancel {
		t.Error("DefaultKeymap shares its map")
	}
}

// chunks hands its bytes out n at a time, as a slow pipe would.
type chunks struct {
	b []byte
	n []int
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := len(c.b)
	if len(c.n) > 0 {
		n, c.n = min(n, c.n[0]), c.n[1:]
	}
	n = copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func TestRecordSplitAcrossReads(t *testing.T) {
	for _, l := range []Layout{Layout32, Layout64} {
		b := stream(l, press(key1+6), release(key1+6), press(key1+7))
		// 1, 5 and 13 bytes: every record is cut somewhere inside.
		r := &chunks{b: b, n: []int{1, 5, 13, 7, 3, 11, 2, 9, 40, 1}}
		d, _ := NewFromReader(r, &Opts{Layout: l})
		keys, err := readAll(t, d)
		if fmt.Sprint(keys) != "[7 8]" || !errors.Is(err, io.EOF) {
			t.Errorf("layout %d: keys %v err %v", l, keys, err)
		}
		d.Halt()
	}
}

func TestTruncatedRecordIsAnError(t *testing.T) {
	b := stream(Layout64, press(key1))
	b = append(b, encode(event{Type: evKey, Code: key1 + 1, Value: 1}, Layout64)[:10]...)
	d, _ := NewFromReader(bytes.NewReader(b), &Opts{Layout: Layout64})
	defer d.Halt()
	keys, err := readAll(t, d)
	if fmt.Sprint(keys) != "[1]" || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "10 of 24") {
		t.Errorf("keys %v err %v", keys, err)
	}
}

// After SYN_DROPPED the kernel lost events; what follows up to the next
// SYN_REPORT is a partial packet and is skipped.
func TestSynDroppedSkipsPartialPacket(t *testing.T) {
	b := stream(Layout64,
		[]event{{Type: evSyn, Code: synDropped}, {Type: evKey, Code: key1, Value: 1}, {Type: evSyn, Code: synReport}},
		press(key1+1))
	d, _ := NewFromReader(bytes.NewReader(b), &Opts{Layout: Layout64})
	defer d.Halt()
	if keys, _ := readAll(t, d); fmt.Sprint(keys) != "[2]" {
		t.Errorf("keys %v, want [2]", keys)
	}
}

func TestCustomKeymap(t *testing.T) {
	km := map[uint16]device.Key{30: device.KeyF1} // KEY_A
	d, _ := NewFromReader(bytes.NewReader(stream(Layout64, press(30), press(key1))), &Opts{Layout: Layout64, Keymap: km})
	defer d.Halt()
	km[30] = device.KeyF2 // New copied it
	if keys, _ := readAll(t, d); fmt.Sprint(keys) != "[F1]" {
		t.Errorf("keys %v, want [F1] (KEY_1 is not in this keymap)", keys)
	}
}

// unplugged returns its bytes, then fails as a read(2) of a removed device.
type unplugged struct{ r io.Reader }

func (u *unplugged) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err == io.EOF {
		return 0, &os.PathError{Op: "read", Path: "/dev/input/event3", Err: syscall.ENODEV}
	}
	return n, err
}

func TestUnpluggedIsAClearError(t *testing.T) {
	d, _ := NewFromReader(&unplugged{bytes.NewReader(stream(Layout64, press(key1+2)))}, &Opts{Layout: Layout64})
	defer d.Halt()
	keys, err := readAll(t, d)
	if fmt.Sprint(keys) != "[3]" {
		t.Errorf("keys before unplug: %v", keys)
	}
	if !errors.Is(err, ErrUnplugged) || !errors.Is(err, syscall.ENODEV) {
		t.Fatalf("err = %v, want ErrUnplugged wrapping ENODEV", err)
	}
	t.Log(err)
	// It stays the answer.
	if _, err2 := d.ReadKey(context.Background()); !errors.Is(err2, ErrUnplugged) {
		t.Errorf("second ReadKey: %v", err2)
	}
}

func TestReadKeyHonoursContext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	d, _ := NewFromReader(pr, nil)
	defer d.Halt()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := d.ReadKey(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadKey = %v", err)
	}
}

// An *os.File blocked in read(2) is what New's reader is; Halt must close it,
// stop the goroutine, and turn ReadKey into ErrHalted.
func TestHaltUnblocksReaderOnAFile(t *testing.T) {
	before := runtime.NumGoroutine()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	d, _ := NewFromReader(r, nil)
	if _, err := w.Write(stream(LayoutAuto.mustResolve(), press(keyKP9))); err != nil {
		t.Fatal(err)
	}
	if k, err := d.ReadKey(context.Background()); k != device.Key9 || err != nil {
		t.Fatalf("ReadKey = %v, %v", k, err)
	}
	blocked := make(chan error, 1)
	go func() { _, err := d.ReadKey(context.Background()); blocked <- err }()
	time.Sleep(10 * time.Millisecond)
	start := time.Now()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Halt took %s", el)
	}
	if err := <-blocked; !errors.Is(err, device.ErrHalted) {
		t.Errorf("pending ReadKey = %v", err)
	}
	if _, err := d.ReadKey(context.Background()); !errors.Is(err, device.ErrHalted) {
		t.Errorf("ReadKey after Halt = %v", err)
	}
	if err := d.Halt(); err != nil {
		t.Errorf("second Halt: %v", err)
	}
	waitGoroutines(t, before)
}

// A reader that blocks while nobody reads keys: Halt must not hang on the
// goroutine's send either.
func TestHaltWithUnreadKeys(t *testing.T) {
	before := runtime.NumGoroutine()
	var evs [][]event
	for range 40 {
		evs = append(evs, press(key1))
	}
	pr, pw := io.Pipe()
	go func() { pw.Write(stream(Layout64, evs...)) }()
	d, _ := NewFromReader(pr, &Opts{Layout: Layout64, Buffer: 2})
	time.Sleep(10 * time.Millisecond)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	waitGoroutines(t, before)
}

func (l Layout) mustResolve() Layout {
	r, err := l.resolve()
	if err != nil {
		panic(err)
	}
	return r
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewRefusesWhatIsNotAnInputDevice(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	if _, err := New(filepath.Join(t.TempDir(), "event9"), nil); err == nil || !strings.Contains(err.Error(), "event9") {
		t.Errorf("missing device: %v", err)
	}
	f := filepath.Join(t.TempDir(), "event0")
	os.WriteFile(f, nil, 0o600)
	_, err := New(f, nil)
	if err == nil || !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), "EVIOCGRAB") {
		t.Errorf("regular file: %v", err)
	}
	t.Log(err)
}

func TestNewGrabsARealDevice(t *testing.T) {
	matches, _ := filepath.Glob("/dev/input/event*")
	if len(matches) == 0 {
		t.Skip("no /dev/input/event* here")
	}
	d, err := New(matches[0], nil)
	if err != nil {
		t.Skipf("%s: %v", matches[0], err)
	}
	t.Log(d)
	if err := d.Halt(); err != nil {
		t.Error(err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(stream(Layout32, press(key1), release(key1)), true)
	f.Add(stream(Layout64, press(keyKPEnter), repeat(keyKPEnter)), false)
	f.Fuzz(func(t *testing.T, b []byte, arm bool) {
		l := Layout64
		if arm {
			l = Layout32
		}
		for rest := b; len(rest) >= l.size(); rest = rest[l.size():] {
			e := decode(rest, l)
			if got := encode(e, l); !bytes.Equal(got, rest[:l.size()]) {
				t.Fatalf("round trip %x → %+v → %x", rest[:l.size()], e, got)
			}
		}
		d, err := NewFromReader(bytes.NewReader(b), &Opts{Layout: l})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, d)
		d.Halt()
	})
}
