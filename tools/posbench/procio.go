package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

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
