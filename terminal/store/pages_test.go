package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// A page both in a bucket's tree and in the freelist (bbolt would hand it
// out again and a later write would overwrite live records) is found by
// the scrub's page accounting and reported as money damage; a healthy
// store's pages all add up.
func TestTheScrubAccountsForEveryPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 300 {
		putRequest(t, s, reqID(i))
		if i%3 == 0 {
			if _, err := s.CancelRequest(ctx, reqID(i), t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Scrub(ctx, ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	if in := s.Integrity(); !in.Verified || in.Damaged != 0 {
		t.Fatalf("a healthy store: %+v", in)
	}
	s.Close()

	freeALeaf(t, path)

	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v (its bounded check reads no freelist; the scrub's is)", err)
	}
	defer s.Close()
	if err := s.Scrub(ctx, ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	in := s.Integrity()
	found := false
	for _, d := range in.Damage {
		found = found || d.Bucket == "check:bbolt" && strings.Contains(d.Err, "counted twice") && d.Money
	}
	if !found || !in.MoneyDamaged {
		t.Fatalf("Integrity: %+v; want the page counted twice reported, money", in)
	}
}

// The file grows at most allocSize ahead of its pages: bbolt's default
// grows it 16 MiB at a time once it is past 16 MiB, which on a 100,000-
// payment store was a tenth of the file (issue 19's bytes per payment).
func TestTheFileGrowsAMebibyteAheadOfItsPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// 24 MiB in 96 commits, so the file passes 16 MiB a step at a time.
	value := make([]byte, 256<<10)
	for i := range 96 {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("scratch"))
			if err != nil {
				return err
			}
			return b.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), value)
		})
		if err != nil {
			t.Fatal(err)
		}
		var used int64
		if err := s.db.View(func(tx *bbolt.Tx) error { used = tx.Size(); return nil }); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// bbolt grows it to allocSize past the page after the last.
		page := int64(s.db.Info().PageSize)
		if ahead := fi.Size() - used; ahead < 0 || ahead > allocSize+page {
			t.Fatalf("after %d MiB: file %d bytes, pages %d: %d ahead, want 0 to %d", (i+1)/4, fi.Size(), used, ahead, allocSize+page)
		}
	}
}

// freeALeaf damages the closed store file at path: the first leaf page of
// the tree goes into the freelist as well (bbolt would hand it out again,
// and a later write would overwrite live records).
func freeALeaf(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	ps := db.Info().PageSize
	var freelist, leaf int
	_ = db.View(func(tx *bbolt.Tx) error {
		for id := 2; int64(id) < tx.Size()/int64(ps); id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				t.Fatalf("page %d: %v", id, err)
			}
			switch {
			case p.Type == "freelist":
				freelist = id
			case p.Type == "leaf" && leaf == 0:
				leaf = id
			}
		}
		return nil
	})
	db.Close()
	if freelist == 0 || leaf == 0 {
		t.Fatalf("freelist page %d, a leaf %d", freelist, leaf)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, ps)
	if _, err := f.ReadAt(page, int64(freelist*ps)); err != nil {
		t.Fatal(err)
	}
	// bbolt's page: id (8), flags (2), count (2), overflow (4), then the
	// free ids, sorted.
	count := int(binary.LittleEndian.Uint16(page[10:12]))
	if count >= 0xffff || 16+8*(count+1) > ps {
		t.Fatalf("freelist of %d ids: no room for one more in a page", count)
	}
	ids := make([]uint64, 0, count+1)
	for i := range count {
		ids = append(ids, binary.LittleEndian.Uint64(page[16+8*i:]))
	}
	ids = append(ids, uint64(leaf))
	slices.Sort(ids)
	binary.LittleEndian.PutUint16(page[10:12], uint16(len(ids)))
	for i, id := range ids {
		binary.LittleEndian.PutUint64(page[16+8*i:], id)
	}
	if _, err := f.WriteAt(page, int64(freelist*ps)); err != nil {
		t.Fatal(err)
	}
	f.Close()

}

// A file of an older schema gets the full verify at Open, which accounts
// for every page as the scrub does (txProblems, in Open's own goroutine,
// where a fault on a damaged page is recovered): a page both in the tree
// and in the freelist is refused, the file left as it was.
func TestAnOlderFileWithAPageCountedTwiceIsRefusedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		putRequest(t, s, reqID(i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	step13(t, path, nil)
	freeALeaf(t, path)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, nil); !errors.Is(err, ErrCorrupt) || !strings.Contains(fmt.Sprint(err), "counted twice") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open = %v, want ErrCorrupt naming the page counted twice", err)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(after, before) {
		t.Fatalf("the refused file changed (%v)", err)
	}
}
