package main

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procIO is what a process has read so far, from /proc/PID/io (all its
// threads, those that have exited included).
type procIO struct {
	rchar     int64 // bytes passed to read(2) and the like, from the page cache or not; mmap faults not counted
	readBytes int64 // bytes the process made the block layer fetch from the disk, mmap faults included
}

func (p procIO) sub(q procIO) procIO {
	return procIO{rchar: p.rchar - q.rchar, readBytes: p.readBytes - q.readBytes}
}

// readProcIO reads /proc/PID/io.
func readProcIO(pid int) (procIO, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return procIO{}, err
	}
	defer f.Close()
	p, err := parseProcIO(f)
	if err != nil {
		return procIO{}, fmt.Errorf("/proc/%d/io: %w", pid, err)
	}
	return p, nil
}

// parseProcIO reads rchar and read_bytes from a /proc/PID/io text; both
// must be there (a kernel without task I/O accounting has no read_bytes,
// and a zero would pass any bound).
func parseProcIO(r io.Reader) (procIO, error) {
	var p procIO
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
			dst = &p.rchar
		case "read_bytes":
			dst = &p.readBytes
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return procIO{}, fmt.Errorf("%s: %w", k, err)
		}
		*dst = n
		have++
	}
	if err := sc.Err(); err != nil {
		return procIO{}, err
	}
	if have != 2 {
		return procIO{}, fmt.Errorf("want rchar and read_bytes, got %d of them", have)
	}
	return p, nil
}

// evictDir drops every regular file directly in dir from the page cache
// (evict), so that the next boot reads the store, the key and the rest of
// posd's data from the disk, as after a power cycle. posd's binary is
// left cached: the figure is the data's. It returns the files' names.
func evictDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type()&fs.ModeType != 0 { // directories, sockets, links
			continue
		}
		if err := evict(filepath.Join(dir, e.Name())); err != nil {
			return names, fmt.Errorf("evict %s: %w", e.Name(), err)
		}
		names = append(names, e.Name())
	}
	return names, nil
}

// corePercent is cpu used over a span as a percentage of one core.
func corePercent(cpu, over time.Duration) string {
	if over <= 0 {
		return "—"
	}
	v := 100 * cpu.Seconds() / over.Seconds()
	if v >= 100 {
		return fmt.Sprintf("%.0f%%", v)
	}
	return fmt.Sprintf("%.2f%%", v)
}

// size formats bytes in B, KiB or MiB, whichever reads best: a boot's reads
// run from a few KiB to hundreds of MiB.
func size(b int64) string {
	switch {
	case b < 1<<10:
		return fmt.Sprintf("%d B", b)
	case b < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return mib(b)
}
