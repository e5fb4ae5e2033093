package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"showpos/terminal/config"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// export streams GET /v1/payments/export to -o FILE (written whole under a
// temporary name, then renamed) or stdout. An export the daemon cut short
// (no row-count trailer) is an error, and leaves no FILE.
func export(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	fs, q := queryFlagSet("export", "from", "to", "format")
	out := fs.String("o", "-", "file to write (- : stdout)")
	if err := fs.Parse(args); err != nil {
		return usageErr("export: %v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("export takes flags only")
	}
	for _, k := range []string{"from", "to"} {
		if v := q.Get(k); v != "" {
			t, err := exportTime(v)
			if err != nil {
				return usageErr("export: -%s %q: want RFC 3339 (2026-12-01T00:00:00Z) or a day (2026-12-01, UTC)", k, v)
			}
			q.Set(k, t.Format(time.RFC3339))
		}
	}
	w, done := stdout, func(bool) error { return nil }
	if *out != "-" {
		f, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".part-*")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		w = f
		done = func(ok bool) error {
			err := f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if !ok || err != nil {
				_ = os.Remove(f.Name())
				return err
			}
			return os.Rename(f.Name(), *out)
		}
	}
	rows, err := c.stream(ctx, withQuery("/v1/payments/export", q), w)
	if derr := done(err == nil); err == nil && derr != nil {
		err = fmt.Errorf("export: write %s: %w", *out, derr)
	}
	if err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(os.Stderr, "posctl: exported %s rows to %s\n", rows, *out)
	}
	return nil
}

// exportTime reads an RFC 3339 time or a day (midnight UTC).
func exportTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

// stream copies a successful answer's body to w as it comes, and returns
// the export's row count from its trailer; an answer without it was cut
// short.
func (c *client) stream(ctx context.Context, path string, w io.Writer) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("reach posd at %s: %w", c.where, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
			return "", fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return "", fmt.Errorf("posd at %s answered %s", c.where, resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return "", fmt.Errorf("export: %w", unwrapURLError(err))
	}
	rows := resp.Trailer.Get(httpapi.ExportRowsTrailer)
	if rows == "" {
		return "", errors.New("export: posd ended the export early (see its log); what was written is incomplete")
	}
	return rows, nil
}

// storeCmd is `posctl store compact`: offline, on the file, with posd
// stopped.
func storeCmd(g globals, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "compact" {
		return usageErr("store takes compact")
	}
	fs := flag.NewFlagSet("store compact", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("store", "", "the store file (default: the one -config names, else "+config.DefaultDataDir+"/showpos.db)")
	out := fs.String("o", "", "write the compacted store here (a new file)")
	inPlace := fs.Bool("in-place", false, "replace the store, keeping the old file as STORE.before-compact")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr("store compact: %v", err)
	}
	if fs.NArg() > 0 || (*out == "") == !*inPlace {
		return usageErr("store compact takes -o NEW or -in-place")
	}
	src, keyPath := *path, ""
	if g.config != "" {
		cfg, err := config.Load(g.config)
		if err != nil {
			return err
		}
		if src == "" {
			src = cfg.StorePath()
		}
		keyPath = cfg.SealKeyPath()
	}
	if src == "" {
		src = filepath.Join(config.DefaultDataDir, "showpos.db")
	}
	if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(src), store.DefaultSealKeyName)
	}
	res, err := compact(src, *out, *inPlace, keyPath)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

type compactResult struct {
	Store       string `json:"store"`
	Compacted   string `json:"compacted"`
	BytesBefore int64  `json:"bytesBefore"`
	BytesAfter  int64  `json:"bytesAfter"`
	// VerifiedBytes is what the scrub of the compacted file read.
	VerifiedBytes int64  `json:"verifiedBytes"`
	Backup        string `json:"backup,omitempty"`
}

// compactLock is how long compact waits for the store's lock: posd holds
// it while it runs.
const compactLock = time.Second

// compact rewrites src into a new file with bbolt's compaction (every key
// and value, the buckets' sequences, pages filled), checks the new file
// with store.Open (the bounded set it reads) and then the store's scrub,
// run whole (everything else: what posd verifies after READY), and then
// either leaves it at out or, in place, renames it over src after linking
// src to src.before-compact. Damage in src that Open does not read is
// copied as it is and found by that scrub: nothing is replaced. src is
// opened by store.Open first and held under bbolt's shared lock
// throughout, so a running posd (which holds it exclusively) is refused.
// A posd starting meanwhile waits for the lock (and gives up after its
// lock timeout); if it was already waiting in bbolt's flock when the
// rename happened, the lock it then gets is on the old file, now only
// src.before-compact: store.Open sees the file is no longer the one at
// src and opens src again, so it runs on the compacted file
// (openVerified in terminal/store/store.go).
func compact(src, out string, inPlace bool, keyPath string) (compactResult, error) {
	res := compactResult{Store: src}
	fi, err := os.Stat(src)
	if err != nil {
		return res, fmt.Errorf("store compact: %w", err)
	}
	res.BytesBefore = fi.Size()
	opts := &store.Options{LockTimeout: compactLock, SealKeyPath: keyPath}
	st, err := store.Open(src, opts)
	if errors.Is(err, store.ErrLocked) {
		return res, fmt.Errorf("store compact: %s is in use (is posd running? stop it first): %w", src, err)
	}
	if errors.Is(err, store.ErrNoHomeChain) {
		return res, fmt.Errorf("store compact: %s is an older build's store: start posd on it once (it moves the store to this build's schema under the default network's chain), then compact it: %w", src, err)
	}
	if err != nil {
		return res, fmt.Errorf("store compact: the store does not open cleanly, not compacting it: %w", err)
	}
	if err := st.Close(); err != nil {
		return res, err
	}
	from, err := bbolt.Open(src, 0o600, &bbolt.Options{ReadOnly: true, Timeout: compactLock})
	if errors.Is(err, bbolt.ErrTimeout) {
		return res, fmt.Errorf("store compact: %s is in use (is posd running? stop it first)", src)
	}
	if err != nil {
		return res, fmt.Errorf("store compact: %w", err)
	}
	defer from.Close()

	dir := filepath.Dir(src)
	if !inPlace {
		dir = filepath.Dir(out)
		if _, err := os.Lstat(out); err == nil {
			return res, fmt.Errorf("store compact: %s exists; name a new file", out)
		}
	}
	tmp, err := os.CreateTemp(dir, ".compact-*.db")
	if err != nil {
		return res, fmt.Errorf("store compact: %w", err)
	}
	name := tmp.Name()
	_ = tmp.Close()
	_ = os.Remove(name) // bbolt makes it
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(name)
		}
		// The check's Open made a journal beside the new file; it holds
		// nothing once closed, and the file starts one of its own where
		// it is put.
		_ = os.Remove(store.JournalPath(name))
	}()
	to, err := bbolt.Open(name, 0o600, &bbolt.Options{Timeout: compactLock})
	if err != nil {
		return res, fmt.Errorf("store compact: %w", err)
	}
	if err := bbolt.Compact(to, from, 4<<20); err != nil {
		_ = to.Close()
		return res, fmt.Errorf("store compact: %w", err)
	}
	if err := to.Close(); err != nil {
		return res, fmt.Errorf("store compact: %w", err)
	}
	// The new file must pass every check of the store's before it
	// replaces anything: Open's (the bounded set) and the scrub's, which
	// posd runs after READY (everything else: every record's CRC, the
	// cross-index checks, the account of every page), here whole and
	// unbounded in rate. Open alone would pass a file whose settled
	// history is damaged.
	check, err := store.Open(name, opts)
	if err != nil {
		return res, fmt.Errorf("store compact: the compacted file fails the store's checks, nothing replaced: %w", err)
	}
	verified, err := scrubWhole(check)
	if cerr := check.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return res, fmt.Errorf("store compact: the compacted file fails the store's checks, nothing replaced: %w", err)
	}
	res.VerifiedBytes = verified
	if fi, err := os.Stat(name); err == nil {
		res.BytesAfter = fi.Size()
	}
	if !inPlace {
		if err := os.Link(name, out); err != nil {
			return res, fmt.Errorf("store compact: %w", err)
		}
		res.Compacted = out
		return res, syncDir(dir)
	}
	backup := src + ".before-compact"
	if err := os.Link(src, backup); err != nil {
		return res, fmt.Errorf("store compact: keep the old file as %s: %w", backup, err)
	}
	if err := os.Rename(name, src); err != nil {
		return res, fmt.Errorf("store compact: %w", err)
	}
	keep = true
	res.Compacted, res.Backup = src, backup
	return res, syncDir(dir)
}

// scrubWhole runs st's scrub to its end at no rate bound and returns the
// bytes it read, or an error naming the first damage it found (of how
// many): a store posd would report damaged after READY.
func scrubWhole(st *store.Store) (int64, error) {
	if err := st.Scrub(context.Background(), store.ScrubOptions{}); err != nil {
		return 0, fmt.Errorf("scrub: %w", err)
	}
	in := st.Integrity()
	if !in.Verified {
		return in.CheckedBytes, errors.New("scrub: it did not run to its end")
	}
	if in.Damaged > 0 {
		d := in.Damage[0]
		return in.CheckedBytes, fmt.Errorf("the scrub found damage (%d records); the first: bucket %s key %s: %s", in.Damaged, d.Bucket, d.Key, d.Err)
	}
	return in.CheckedBytes, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
