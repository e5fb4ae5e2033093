package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"go.etcd.io/bbolt"
)

// posdBin is the daemon binary TestMain builds once for every harness.
var posdBin string

func TestMain(m *testing.M) {
	os.Exit(runHarnesses(m))
}

func runHarnesses(m *testing.M) int {
	if os.Getenv("SHOWPOS_HARNESS") != "1" {
		return m.Run() // every harness skips
	}
	dir, err := os.MkdirTemp("", "showpos-harness-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	posdBin = filepath.Join(dir, "posd")
	began := time.Now()
	if out, err := exec.Command("go", "build", "-o", posdBin, "showpos/cmd/posd").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "harness: go build showpos/cmd/posd: %v\n%s", err, out)
		return 1
	}
	fmt.Printf("harness: built posd in %s\n", time.Since(began).Round(time.Millisecond))
	return m.Run()
}

// harness skips t unless SHOWPOS_HARNESS=1, and returns a logger into the
// test's output (debug lines with SHOWPOS_HARNESS_LOG=debug).
func harness(t *testing.T) *slog.Logger {
	t.Helper()
	if os.Getenv("SHOWPOS_HARNESS") != "1" {
		t.Skip("proof harness: set SHOWPOS_HARNESS=1 (make harness, make harness-ci)")
	}
	level := slog.LevelInfo
	if os.Getenv("SHOWPOS_HARNESS_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level}))
}

// ciSize reports whether SHOWPOS_HARNESS_SIZE=ci asks for the CI-sized runs.
func ciSize() bool { return os.Getenv("SHOWPOS_HARNESS_SIZE") == "ci" }

// sizeInt is env's value if set, else ci or full by the size asked for.
func sizeInt(t *testing.T, env string, full, ci int) int {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive integer", env, s)
		}
		return n
	}
	if ciSize() {
		return ci
	}
	return full
}

// sizeDuration is sizeInt for durations ("30s", "3m").
func sizeDuration(t *testing.T, env string, full, ci time.Duration) time.Duration {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive duration", env, s)
		}
		return d
	}
	if ciSize() {
		return ci
	}
	return full
}

// figures are a harness's results, printed as a table at its end.
type figures struct {
	name string
	rows [][2]string
}

func (f *figures) add(name, format string, args ...any) {
	f.rows = append(f.rows, [2]string{name, fmt.Sprintf(format, args...)})
}

// print writes the table to stdout (go test -v shows it as it comes).
func (f *figures) print() { f.write(os.Stdout) }

func (f *figures) write(w io.Writer) {
	size := "full"
	if ciSize() {
		size = "ci"
	}
	fmt.Fprintf(w, "\n== %s (size %s) ==\n", f.name, size)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range f.rows {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// durations summarises timings as p50/p99/max.
type durations []time.Duration

func (ds durations) pct(p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1 // nearest rank
	return s[max(0, min(i, len(s)-1))]
}

func (ds durations) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (n=%d)", r(ds.pct(0.50)), r(ds.pct(0.99)), r(ds.pct(1)), len(ds))
}

// checkStore opens the bbolt file read-only and runs bbolt's own
// consistency check (tx.Check: every page reachable once, none both free
// and in use, keys in order), as `bbolt check` does. Faults reading the
// mapping become errors.
func checkStore(path string) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check %s: reading it failed: %v", path, r)
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("check %s: open: %w", path, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		var problems []string
		for e := range tx.Check() {
			problems = append(problems, e.Error())
		}
		if len(problems) > 0 {
			return fmt.Errorf("check %s: %d problems: %s", path, len(problems), strings.Join(problems[:min(5, len(problems))], "; "))
		}
		return nil
	})
}

// dumpStore reads every key and value of every bucket, read-only, as
// "bucket/hex(key)" -> value. Faults reading the mapping become errors.
func dumpStore(path string) (out map[string]string, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("dump %s: reading it failed: %v", path, r)
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("dump %s: open: %w", path, err)
	}
	defer db.Close()
	out = map[string]string{}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					return fmt.Errorf("bucket %s: nested bucket %x", name, k)
				}
				out[fmt.Sprintf("%s/%x", name, k)] = string(v)
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("dump %s: %w", path, err)
	}
	return out, nil
}

// errorsOf collects up to a few error messages for a figure's note.
type errorsOf struct {
	n    int
	some []string
}

func (e *errorsOf) add(err error) {
	e.n++
	if len(e.some) < 5 {
		e.some = append(e.some, err.Error())
	}
}

func (e *errorsOf) err() error {
	if e.n == 0 {
		return nil
	}
	return fmt.Errorf("%d: %w", e.n, errors.New(strings.Join(e.some, " | ")))
}

// fileSize is a file's size for a figure ("?" if it cannot be read).
func fileSize(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
}

// highWater reads, from the raw bytes, the newer of the two bbolt meta
// pages: the bytes the store's pages in use span (its pgid high-water mark
// times the page size) and the page size. bbolt grows its file ahead of
// that.
func highWater(path string) (end int64, pageSize int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("high-water mark: %w", err)
	}
	defer f.Close()
	var best struct{ txid, pgid, ps uint64 }
	for _, off := range []int64{0, -1} {
		var b [80]byte
		if off < 0 {
			off = int64(best.ps) // meta page 1 is one page in
			if off == 0 {
				off = 4096
			}
		}
		if _, err := f.ReadAt(b[:], off); err != nil {
			return 0, 0, fmt.Errorf("high-water mark: read meta at %d: %w", off, err)
		}
		ne := binary.NativeEndian
		if ne.Uint32(b[16:]) != 0xED0CDAED {
			continue
		}
		if txid := ne.Uint64(b[64:]); best.ps == 0 || txid > best.txid {
			best.txid, best.pgid, best.ps = txid, ne.Uint64(b[56:]), uint64(ne.Uint32(b[24:]))
		}
	}
	if best.ps == 0 {
		return 0, 0, fmt.Errorf("high-water mark: %s: no meta page", path)
	}
	return int64(best.pgid * best.ps), int64(best.ps), nil
}
