package store

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestOpenWaitingOnALockEndsOnTheFileAtThePath is posctl store compact
// -in-place's race: the compactor holds the old file's lock, renames the
// compacted file over the store's name and only then lets go. An Open
// that was already waiting in bbolt's flock must end up on the compacted
// file, never on the old inode (by then only STORE.before-compact), where
// payments it took would never be read again.
func TestOpenWaitingOnALockEndsOnTheFileAtThePath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("watches /proc/self/fdinfo for the waiting open")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "showpos.db")
	for _, p := range []string{path, filepath.Join(dir, "compacted.db")} {
		s, err := Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The compactor's shared lock on the old file.
	holder, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()

	type opened struct {
		db  *bbolt.DB
		err error
	}
	done := make(chan opened, 1)
	go func() {
		db, err := openVerified(path, &bbolt.Options{Timeout: time.Minute})
		done <- opened{db, err}
	}()
	// Wait until the opener holds the old file open for writing, i.e. sits
	// in bbolt's flock on it.
	for deadline := time.Now().Add(30 * time.Second); !openForWriting(t, old); {
		if time.Now().After(deadline) {
			t.Fatal("the opener never opened the store file")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.Rename(filepath.Join(dir, "compacted.db"), path); err != nil {
		t.Fatal(err)
	}
	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.err != nil {
		t.Fatalf("Open: %v", got.err)
	}
	defer got.db.Close()
	now, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if openForWriting(t, old) {
		t.Fatal("Open took the old file, renamed away while it waited for the lock")
	}
	if !openForWriting(t, now) {
		t.Fatal("Open's file is not the one at the path")
	}
}

// openForWriting reports whether this process holds the file fi open
// read-write (bbolt's writer), not only read-only (the holder).
func openForWriting(t *testing.T, fi os.FileInfo) bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		f, err := os.Stat(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !os.SameFile(f, fi) {
			continue
		}
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			v, ok := strings.CutPrefix(line, "flags:")
			if !ok {
				continue
			}
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			if err == nil && flags&uint64(os.O_RDWR) != 0 {
				return true
			}
		}
	}
	return false
}
