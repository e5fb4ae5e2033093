package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// armSizes builds posd as make build-arm does (static, stripped) for
// ARMv7 and arm64 and returns the two sizes in bytes.
func armSizes(ctx context.Context, dir string) (arm, arm64 int64, err error) {
	build := func(goarch string, env ...string) (int64, error) {
		bin := filepath.Join(dir, "posd-"+goarch)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/posd")
		cmd.Env = append(os.Environ(), append([]string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch}, env...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("go build posd for %s: %v\n%s", goarch, err, out)
		}
		fi, err := os.Stat(bin)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	if arm, err = build("arm", "GOARM=7"); err != nil {
		return 0, 0, err
	}
	if arm64, err = build("arm64"); err != nil {
		return 0, 0, err
	}
	return arm, arm64, nil
}

// boots starts posd on t n times, stopping it after each, and returns
// each start's time to READY=1. The last daemon is left running if keep.
func boots(bin string, t *terminal, n int, keep bool, within time.Duration) (samples, *daemon, error) {
	var out samples
	for i := range n {
		d, err := startPosd(bin, t, within)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, d.ready)
		if keep && i == n-1 {
			return out, d, nil
		}
		if err := d.stop(); err != nil {
			return nil, nil, fmt.Errorf("stop posd: %w", err)
		}
	}
	return out, nil, nil
}

// idle is posd left alone for a while after READY=1.
type idle struct {
	mem  map[string]int64 // from /proc/PID/status, bytes
	cpu  time.Duration    // CPU time used while idle
	span time.Duration    // how long
}

// idleFor leaves posd alone for settle, then reads its memory and the CPU
// time it used meanwhile.
func idleFor(d *daemon, settle time.Duration) (idle, error) {
	before, err := d.cpuTime()
	if err != nil {
		return idle{}, err
	}
	time.Sleep(settle)
	after, err := d.cpuTime()
	if err != nil {
		return idle{}, err
	}
	mem, err := d.status()
	return idle{mem: mem, cpu: after - before, span: settle}, err
}

// evict drops the file's pages from the page cache (posix_fadvise
// DONTNEED; clean pages only, so sync first), so the next boot reads the
// store from the disk as after a power cycle. Only this file is touched.
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
