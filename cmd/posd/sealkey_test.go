package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"showpos/terminal/store"
)

// recorder is a slog.Handler that keeps every record, for tests that read
// what posd logged.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// warnings returns the path and mode of every "chmod 600" warning.
func (r *recorder) warnings() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for _, rec := range r.recs {
		if rec.Level != slog.LevelWarn || !strings.Contains(rec.Message, "chmod 600") {
			continue
		}
		var path, mode string
		rec.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "path":
				path = a.Value.String()
			case "mode":
				mode = a.Value.String()
			}
			return true
		})
		out[path] = mode
	}
	return out
}

func TestWarnLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	files := map[string]os.FileMode{
		"private.db":  0o600,
		"owner-ro.db": 0o400,
		"group-r.db":  0o640,
		"other-r.key": 0o604,
		"group-w.key": 0o620,
		"world.key":   0o666,
	}
	var paths []string
	for name, mode := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	paths = append(paths, filepath.Join(dir, "not-made-yet.key"))
	rec := &recorder{}
	warnLoosePermissions(slog.New(rec), paths...)
	got := rec.warnings()
	want := map[string]string{
		filepath.Join(dir, "group-r.db"):  "0640",
		filepath.Join(dir, "other-r.key"): "0604",
		filepath.Join(dir, "group-w.key"): "0620",
		filepath.Join(dir, "world.key"):   "0666",
	}
	if len(got) != len(want) {
		t.Errorf("warned of %v, want %v", got, want)
	}
	for p, m := range want {
		if got[p] != m {
			t.Errorf("warning for %s: mode %q, want %q", p, got[p], m)
		}
	}
}

// The daemon keeps service keys sealed: the store file holds none, the
// operator's list shows none, the sealing key file is made 0600 beside the
// store; without that file posd refuses to start, naming it, and with it
// back the client's requests pass again. A store file others can read is
// warned of at start.
func TestPosdSealsServiceKeys(t *testing.T) {
	tm := newTerminal(t, headless)
	number, key := tm.addClient("Till 4 register", "register")
	if a := tm.send(tm.sign("GET", "/v1/status", "", number, key)); a.status != http.StatusOK {
		t.Fatalf("signed call: %d %s", a.status, a.raw)
	}
	list := tm.operator("GET", "/v1/clients", "")
	if list.status != http.StatusOK || !strings.Contains(string(list.raw), number) || strings.Contains(string(list.raw), key) {
		t.Fatalf("clients list: %d %s", list.status, list.raw)
	}
	tm.stop()

	data := filepath.Join(tm.dir, "data")
	st, keyFile := filepath.Join(data, "showpos.db"), filepath.Join(data, "seal.key")
	raw, err := os.ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{key, base64.StdEncoding.EncodeToString([]byte(key))[:20]} {
		if bytes.Contains(raw, []byte(form)) {
			t.Fatalf("the store file holds the service key (as %q)", form)
		}
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sealing key file: %v, %v; want mode 0600", fi, err)
	}

	sealKey, _ := os.ReadFile(keyFile)
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), slog.New(slog.DiscardHandler), tm.cfgPath, "", tm.addr)
	if !errors.Is(err, store.ErrSealKey) || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("posd without its sealing key file: %v; want ErrSealKey naming %s", err, keyFile)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the refused start made a new sealing key")
	}

	if err := os.WriteFile(keyFile, sealKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(st, 0o640); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, slog.New(rec), tm.cfgPath, "", tm.addr) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("posd: %v", err)
		}
	}()
	tm.op.CloseIdleConnections()
	waitFor(t, tm.op, errc)
	if got := rec.warnings(); got[st] != "0640" || len(got) != 1 {
		t.Errorf("start-up warnings %v; want one for %s, mode 0640", got, st)
	}
	if a := tm.send(tm.sign("GET", "/v1/status", "", number, key)); a.status != http.StatusOK {
		t.Fatalf("signed call with the key file restored: %d %s", a.status, a.raw)
	}
}
