package virtual

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"

	"showpos/device"
)

var splitCases = []struct {
	name   string
	max    int
	chunks []string
	want   []string // "!" stands for ErrTooLarge
}{
	{"LF", 16, []string{"0xabc\n"}, []string{"0xabc"}},
	{"CR", 16, []string{"0xabc\r"}, []string{"0xabc"}},
	{"CRLF", 16, []string{"0xabc\r\n0xdef\r\n"}, []string{"0xabc", "0xdef"}},
	{"CRLF split across reads", 16, []string{"0xabc\r", "\n0xdef\n"}, []string{"0xabc", "0xdef"}},
	{"line split across reads", 16, []string{"0x", "ab", "c\n"}, []string{"0xabc"}},
	{"trimmed", 16, []string{"  0xabc \t\n"}, []string{"0xabc"}},
	{"empty lines skipped", 16, []string{"\n\r\n \n0xabc\n\n"}, []string{"0xabc"}},
	{"no terminator yet", 16, []string{"0xabc"}, nil},
	{"exactly max", 5, []string{"0xabc\n"}, []string{"0xabc"}},
	{"over max, once, then on", 5, []string{"0xabcd\n0x1\n"}, []string{"!", "0x1"}},
	{"over max across reads", 4, []string{"0xab", "cdef", "0123\r\n", "ok\n"}, []string{"!", "ok"}},
	{"spaces count toward max", 4, []string{"  ab  \n"}, []string{"!"}},
}

func split(max int, chunks []string) []string {
	s := splitter{max: max}
	var got []string
	for _, c := range chunks {
		s.feed([]byte(c), func(it scanItem) {
			if errors.Is(it.err, device.ErrTooLarge) {
				got = append(got, "!")
			} else {
				got = append(got, string(it.payload))
			}
		})
	}
	return got
}

func TestSplitter(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := split(tc.max, tc.chunks); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzSplitter(f *testing.F) {
	for _, tc := range splitCases {
		f.Add(strings.Join(tc.chunks, ""), tc.max)
	}
	f.Fuzz(func(t *testing.T, in string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		whole := split(max, []string{in})
		// Bytes arriving one at a time split the same way.
		var bytewise []string
		for i := range len(in) {
			bytewise = append(bytewise, in[i:i+1])
		}
		if got := split(max, bytewise); !slices.Equal(got, whole) {
			t.Fatalf("byte by byte %q, whole %q", got, whole)
		}
		for _, p := range whole {
			if p == "!" {
				continue
			}
			if p == "" || len(p) > max || strings.ContainsAny(p, "\r\n") || strings.TrimSpace(p) != p {
				t.Fatalf("bad payload %q", p)
			}
		}
	})
}

// openSerial opens the scanner's pty as a payer's tool would.
func openSerial(t *testing.T, b *Board) serial.Port {
	t.Helper()
	// No InitialStatusBits: modem lines are ENOTTY on a pty.
	p, err := serial.Open(b.ScannerPath(), &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatalf("serial.Open(%s): %v", b.ScannerPath(), err)
	}
	return p
}

func TestScannerReadsLinesWrittenWithGoBugStSerial(t *testing.T) {
	b := newBoard(t, &Opts{MaxPayload: 64})
	ctx := testCtx(t)
	long := "0x" + strings.Repeat("f", 100)
	p := openSerial(t, b)
	if _, err := p.Write([]byte("0xabc\r\n0xdef\n" + long + "\r\n0x123\r")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0xabc", "0xdef", "!", "0x123"} {
		got, err := b.Scanner().ReadPayload(ctx)
		if want == "!" {
			if !errors.Is(err, device.ErrTooLarge) {
				t.Fatalf("over-cap line: %q, %v; want ErrTooLarge", got, err)
			}
			continue
		}
		if err != nil || string(got) != want {
			t.Fatalf("ReadPayload = %q, %v; want %q", got, err, want)
		}
	}
	// Writers come and go: a second tool after the first closed.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openSerial(t, b)
	defer p.Close()
	p.Write([]byte("0x456\n"))
	if got, err := b.Scanner().ReadPayload(ctx); err != nil || string(got) != "0x456" {
		t.Fatalf("after reopening: %q, %v", got, err)
	}
}

func TestCrashedWriterDoesNotLockThePty(t *testing.T) {
	b := newBoard(t, nil)
	// A writer that set the exclusive flag (as serial.Open does) and died.
	fd, err := unix.Open(b.ScannerPath(), unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	// Root may open regardless; the flag itself must go.
	deadline := time.Now().Add(3 * unlockEvery)
	for {
		excl, err := unix.IoctlGetInt(int(b.scanner.slave.Fd()), unix.TIOCGEXCL)
		if err != nil {
			t.Fatal(err)
		}
		if excl == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pty stayed locked after its writer died")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestScannerReadsLinesWrittenLikeEcho(t *testing.T) {
	b := newBoard(t, nil)
	// echo 0xabc > /dev/pts/N: open, write, close; no termios changes.
	f, err := os.OpenFile(b.ScannerPath(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("0xabc\n")
	f.Close()
	if got, err := b.Scanner().ReadPayload(testCtx(t)); err != nil || string(got) != "0xabc" {
		t.Fatalf("ReadPayload = %q, %v", got, err)
	}
}

func TestPostScan(t *testing.T) {
	b := newBoard(t, &Opts{MaxPayload: 8})
	ctx := testCtx(t)
	for _, tc := range []struct {
		body string
		code int
		want string // payload read, "!" for ErrTooLarge, "" for nothing
	}{
		{"0xabc", http.StatusNoContent, "0xabc"},
		{"0xabcdef\r\n", http.StatusNoContent, "0xabcdef"},
		{"0xabcdef0", http.StatusRequestEntityTooLarge, "!"},
		{strings.Repeat("x", 1000), http.StatusRequestEntityTooLarge, "!"},
		{" \r\n", http.StatusBadRequest, ""},
		{"a\nb", http.StatusBadRequest, ""},
	} {
		code, answer := post(t, b, "/sim/scan", "text/plain", tc.body)
		if code != tc.code {
			t.Errorf("POST %q: %d %s, want %d", tc.body, code, answer, tc.code)
		}
		if tc.want == "" {
			continue
		}
		got, err := b.Scanner().ReadPayload(ctx)
		if tc.want == "!" {
			if !errors.Is(err, device.ErrTooLarge) {
				t.Errorf("POST %q: read %q, %v; want ErrTooLarge", tc.body, got, err)
			}
		} else if err != nil || !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("POST %q: read %q, %v; want %q", tc.body, got, err, tc.want)
		}
	}
}

func TestHaltedScanner(t *testing.T) {
	b := newBoard(t, nil)
	b.Scanner().Halt()
	if _, err := b.Scanner().ReadPayload(testCtx(t)); !errors.Is(err, device.ErrHalted) {
		t.Errorf("ReadPayload after Halt: %v", err)
	}
	if code, _ := post(t, b, "/sim/scan", "text/plain", "0xabc"); code != http.StatusServiceUnavailable {
		t.Errorf("POST after Halt: %d, want 503", code)
	}
}
