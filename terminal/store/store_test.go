package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// damagedFixture builds a closed store file with several commits, enough
// payments that the payments bucket spans pages, and some freed pages.
func damagedFixture(t *testing.T) (path string, pageSize int64) {
	t.Helper()
	s := openTemp(t)
	seedRequests(t, s, 60)
	for i := range 60 {
		p := mustAccept(t, s, newPayment(reqID(i)))
		if i%3 == 0 {
			if _, err := s.SetPaymentState(context.Background(), p.TxHash, PaymentBroadcast, "", t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	path = s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, int64(os.Getpagesize())
}

// pageMap classifies the pages of a closed bbolt file.
type pageMap struct {
	hwm          int
	inUse        map[int]bool // meta, freelist, branch and leaf pages reachable now
	paymentsRoot int
	freelist     int
	pageSize     int64
}

func readPageMap(t *testing.T, path string) pageMap {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pm := pageMap{inUse: map[int]bool{}, pageSize: int64(db.Info().PageSize)}
	tx, err := db.Begin(true) // writable for tx.Page; rolled back, so the file stays as it is
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	err = func() error {
		pm.paymentsRoot = int(tx.Bucket(bucketPayments).Root())
		for id := 0; ; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil {
				pm.hwm = id
				return nil
			}
			switch info.Type {
			case "meta", "freelist", "branch", "leaf":
				pm.inUse[id] = true
				if info.Type == "freelist" {
					pm.freelist = id
				}
				id += info.OverflowCount
			}
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	if pm.paymentsRoot == 0 {
		t.Fatal("payments bucket is inline; the fixture needs more data")
	}
	return pm
}

func overwritePage(t *testing.T, path string, id int, pageSize int64, data func(n int) []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data(int(pageSize)), int64(id)*pageSize); err != nil {
		t.Fatal(err)
	}
}

func zeros(n int) []byte { return make([]byte, n) }

func wantCorrupt(t *testing.T, path string) {
	t.Helper()
	err := openOrScrub(path, &Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("Open of a damaged file succeeded and its scrub found nothing")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v; want ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the file %s", err, path)
	}
	t.Logf("Open: %v", err)
}

func TestOpenRejectsDamage(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string, pm pageMap)
	}{
		{"truncated to half", func(t *testing.T, path string, pm pageMap) {
			if err := os.Truncate(path, int64(pm.hwm/2)*pm.pageSize); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated mid-page", func(t *testing.T, path string, pm pageMap) {
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()-100); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated below a header", func(t *testing.T, path string, pm pageMap) {
			if err := os.Truncate(path, 100); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage file", func(t *testing.T, path string, pm pageMap) {
			if err := os.WriteFile(path, randBytes(64<<10), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"zeroed meta page 0", func(t *testing.T, path string, pm pageMap) {
			overwritePage(t, path, 0, pm.pageSize, zeros)
		}},
		{"zeroed meta page 1", func(t *testing.T, path string, pm pageMap) {
			overwritePage(t, path, 1, pm.pageSize, zeros)
		}},
		{"zeroed payments root page", func(t *testing.T, path string, pm pageMap) {
			overwritePage(t, path, pm.paymentsRoot, pm.pageSize, zeros)
		}},
		{"zeroed freelist page", func(t *testing.T, path string, pm pageMap) {
			overwritePage(t, path, pm.freelist, pm.pageSize, zeros)
		}},
		{"garbage over the payments root page", func(t *testing.T, path string, pm pageMap) {
			overwritePage(t, path, pm.paymentsRoot, pm.pageSize, randBytes)
		}},
		{"zeroed last tree page", func(t *testing.T, path string, pm pageMap) {
			last := 0
			for id := range pm.inUse {
				if id != pm.freelist {
					last = max(last, id)
				}
			}
			overwritePage(t, path, last, pm.pageSize, zeros)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := damagedFixture(t)
			pm := readPageMap(t, path)
			tc.damage(t, path, pm)
			wantCorrupt(t, path)
		})
	}
}

// TestOpenNeverPanicsOnAZeroedPage zeroes each page of a real store in turn.
// Open must never panic; zeroing a page in use must give ErrCorrupt;
// zeroing a free page may open, and then every payment must still read.
func TestOpenNeverPanicsOnAZeroedPage(t *testing.T) {
	path, _ := damagedFixture(t)
	pm := readPageMap(t, path)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "copy.db")
	for id := 0; int64(id)*pm.pageSize < int64(len(orig)); id++ {
		b := bytes.Clone(orig)
		clear(b[int64(id)*pm.pageSize : int64(id+1)*pm.pageSize])
		if err := os.WriteFile(work, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := openOrScrub(work, nil); err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), work) {
				t.Fatalf("page %d: Open: %v; want ErrCorrupt naming the file", id, err)
			}
			continue
		}
		if pm.inUse[id] {
			t.Fatalf("page %d is in use but Open of the zeroed copy succeeded and its scrub found nothing", id)
		}
		s, err := Open(work, nil)
		if err != nil {
			t.Fatalf("page %d (free) zeroed: reopen: %v", id, err)
		}
		ps, err := s.Payments(PaymentFilter{Limit: 1000})
		s.Close()
		if err != nil || len(ps) != 60 {
			t.Fatalf("page %d (free) zeroed: Payments() = %d, %v", id, len(ps), err)
		}
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	s := openTemp(t)
	const timeout = 200 * time.Millisecond
	start := time.Now()
	s2, err := Open(s.Path(), &Options{LockTimeout: timeout})
	took := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v; want ErrLocked", err)
	}
	if msg := err.Error(); !strings.Contains(msg, s.Path()) || !strings.Contains(msg, "posd") {
		t.Fatalf("error %q should name the file and say posd holds it", msg)
	}
	if took < timeout || took > 5*timeout {
		t.Fatalf("second Open gave up after %v; want about %v", took, timeout)
	}
	// The lock is released by Close.
	path := s.Path()
	s.Close()
	s3, err := Open(path, &Options{LockTimeout: timeout})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

// A file of a schema this build does not know, the next one (a newer
// build's) included, is refused as unknown and left as it is.
func TestOpenRefusesUnknownSchema(t *testing.T) {
	for _, schema := range []string{"17", "99"} {
		t.Run(schema, func(t *testing.T) {
			s := openTemp(t)
			path := s.Path()
			s.Close()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schema)))
			}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = Open(path, nil)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("unknown schema version %q", schema)) {
				t.Fatalf("Open of a schema %s file: %v; want an unknown schema error", schema, err)
			}
			if got, _ := dump(t, path); got != schema {
				t.Fatalf("schema %q after the refusal, want %q", got, schema)
			}
		})
	}
}

func TestOpenCreatesAStoreWhereNoFileIs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	if s.Path() != path {
		t.Fatalf("Path() = %s, want %s", s.Path(), path)
	}
	putRequest(t, s, "r1")
	s.Close()
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Request("r1"); err != nil {
		t.Fatalf("request lost across reopen: %v", err)
	}
	s.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"new.db", "new.db-journal", DefaultSealKeyName}; !reflect.DeepEqual(names, want) {
		t.Fatalf("directory holds %v; want %v (the store, its journal and its sealing key, no temporary file left)", names, want)
	}
}

// TestOpenRefusesAnEmptyFile: a store truncated to 0 bytes (a filesystem
// repair, a bad copy) must not start as a new, empty store: that would drop
// every queued payment in silence. Open never leaves an empty file itself.
func TestOpenRefusesAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "showpos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r1")
	s.Close()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, nil)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("Open of an emptied store: %v; want ErrCorrupt naming the file and saying it is empty", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("the refused file was changed: %v, %v", fi, err)
	}
}

// TestOpenRejectsAnAbsurdFreelistCount gives the freelist page a valid
// header but an element count far beyond the file. bbolt.Open would try to
// allocate that many ids (a fatal out-of-memory, which recover cannot
// catch); the preflight check must refuse it first.
func TestOpenRejectsAnAbsurdFreelistCount(t *testing.T) {
	path, _ := damagedFixture(t)
	pm := readPageMap(t, path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(pm.freelist) * pm.pageSize
	var hdr [24]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		t.Fatal(err)
	}
	binary.NativeEndian.PutUint16(hdr[10:], 0xFFFF) // the real count is the first element
	binary.NativeEndian.PutUint64(hdr[16:], 1<<36)
	if _, err := f.WriteAt(hdr[:], off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wantCorrupt(t, path)
}

// TestOpenVerifiedRecoversFaultsAndReleasesTheLock skips the preflight
// checks to reach the last line of defence: bbolt reading past the end of
// a truncated file (a SIGBUS made a panic by SetPanicOnFault) or panicking
// on a damaged page. Each must give ErrCorrupt, twice in a row: the first
// attempt must not leave the file locked.
func TestOpenVerifiedRecoversFaultsAndReleasesTheLock(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string, pm pageMap)
	}{
		{"truncated below the freelist page (a fault: SIGBUS)", func(t *testing.T, path string, pm pageMap) {
			if err := os.Truncate(path, int64(pm.freelist)*pm.pageSize); err != nil {
				t.Fatal(err)
			}
		}},
		{"zeroed freelist page", func(t *testing.T, path string, pm pageMap) {
			overwritePage(t, path, pm.freelist, pm.pageSize, zeros)
		}},
		// A zeroed payments root page is no longer read before READY:
		// the scrub meets it (TestOpenRejectsDamage).
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := damagedFixture(t)
			pm := readPageMap(t, path)
			tc.damage(t, path, pm)
			for range 2 {
				db, err := openVerified(path, &bbolt.Options{Timeout: 100 * time.Millisecond})
				if err == nil {
					db.Close()
					t.Fatal("openVerified of a damaged file succeeded")
				}
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
					t.Fatalf("openVerified: %v; want ErrCorrupt naming the file", err)
				}
				t.Logf("openVerified: %v", err)
			}
		})
	}
}
