// Package procio says what a process has read, from /proc/PID/io: the bytes
// it passed through read(2) and the like (rchar) and the bytes it made the
// block layer fetch from the disk (read_bytes, mmap faults included).
//
// posd reads its own just before it sends READY=1 and logs it on its
// "posd ready" line: what its boot read, the figure issue 19 bounds.
// tools/posbench reads a posd's from outside. Both fields are required: a
// kernel without task I/O accounting has no read_bytes, and a zero read in
// its place would pass any bound. Linux only; elsewhere every read fails.
package procio

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// IO is what a process has read so far (all its threads, those that have
// exited included).
type IO struct {
	RChar     int64 // bytes passed to read(2) and the like, from the page cache or not; mmap faults not counted
	ReadBytes int64 // bytes the process made the block layer fetch from the disk, mmap faults included
}

// Sub is what was read between q and p (p read later).
func (p IO) Sub(q IO) IO {
	return IO{RChar: p.RChar - q.RChar, ReadBytes: p.ReadBytes - q.ReadBytes}
}

// Read reads /proc/PID/io of process pid.
func Read(pid int) (IO, error) {
	return readFile(fmt.Sprintf("/proc/%d/io", pid))
}

// Self reads /proc/self/io: what the calling process has read.
func Self() (IO, error) {
	return readFile("/proc/self/io")
}

func readFile(path string) (IO, error) {
	f, err := os.Open(path)
	if err != nil {
		return IO{}, err
	}
	defer f.Close()
	p, err := Parse(f)
	if err != nil {
		return IO{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse reads rchar and read_bytes from a /proc/PID/io text; both must be
// there, or it is an error (never a zero).
func Parse(r io.Reader) (IO, error) {
	var p IO
	var have int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "rchar":
			dst = &p.RChar
		case "read_bytes":
			dst = &p.ReadBytes
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return IO{}, fmt.Errorf("%s: %w", k, err)
		}
		*dst = n
		have++
	}
	if err := sc.Err(); err != nil {
		return IO{}, err
	}
	if have != 2 {
		return IO{}, fmt.Errorf("want rchar and read_bytes, got %d of them", have)
	}
	return p, nil
}
