package procio

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// /proc/PID/io is read field by field; a text without the fields the
// boot figures are made of is an error, never a zero that would pass the
// bound.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       IO
		err        bool
	}{
		{"linux 6", "rchar: 6976\nwchar: 12\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 0\ncancelled_write_bytes: 0\n",
			IO{RChar: 6976, ReadBytes: 4096}, false},
		{"no trailing newline", "rchar: 1\nread_bytes: 2", IO{RChar: 1, ReadBytes: 2}, false},
		{"fields in another order, others unknown", "syscr: 3\nread_bytes: 8192\nnew_field: 9\nrchar: 100\n", IO{RChar: 100, ReadBytes: 8192}, false},
		{"no read_bytes (kernel without task IO accounting)", "rchar: 6976\nwchar: 0\n", IO{}, true},
		{"no rchar", "read_bytes: 4096\n", IO{}, true},
		{"not a number", "rchar: many\nread_bytes: 0\n", IO{}, true},
		{"empty", "", IO{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.text))
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if err == nil && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A process's /proc/PID/io, read by its pid or as /proc/self/io, counts
// the bytes it reads with read(2).
func TestReadCountsReads(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/io is Linux's")
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		read func() (IO, error)
	}{
		{"by pid", func() (IO, error) { return Read(os.Getpid()) }},
		{"self", Self},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := tc.read()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.ReadFile(path); err != nil {
				t.Fatal(err)
			}
			after, err := tc.read()
			if err != nil {
				t.Fatal(err)
			}
			if d := after.Sub(before).RChar; d < 1<<20 {
				t.Errorf("rchar grew by %d reading 1 MiB", d)
			}
		})
	}
}

// A process that is not there has no /proc/PID/io: an error, not a zero.
func TestReadOfNoProcessFails(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/io is Linux's")
	}
	if got, err := Read(-1); err == nil {
		t.Errorf("pid -1: %+v, no error", got)
	}
}
