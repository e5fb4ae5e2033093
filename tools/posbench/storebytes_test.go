package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"showpos/tools/devchain"
)

// The bytes-per-payment row says where every page of the store file goes:
// the top-level buckets, the root, the meta and freelist pages and the
// free pages add up to the file's high-water mark, on a store the fill
// writes with terminal/store.
func TestStoreBytesAccountForEveryPage(t *testing.T) {
	data := t.TempDir()
	cfg, err := benchConfig(data, 1)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := openTill(data, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	payers := []*payer{{key: devchain.PayerKey(0)}, {key: devchain.PayerKey(1)}}
	if err := tl.fill(context.Background(), n, 2, payers, nil, nil); err != nil {
		tl.store.Close()
		t.Fatal(err)
	}
	path := filepath.Join(data, "showpos.db")

	// While the store is open its file is locked: the row waits for posd
	// to stop, and says so rather than hanging.
	if _, err := storeBytes(path, 200*time.Millisecond); err == nil {
		t.Error("read the layout of a store held open")
	}
	if err := tl.store.Close(); err != nil {
		t.Fatal(err)
	}

	l, err := storeBytes(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l.pageSize <= 0 || l.pages <= 0 || l.fileSize < l.pages*int64(l.pageSize) {
		t.Fatalf("layout %+v", l)
	}
	// Every page up to the high-water mark was written once: the disk holds
	// at least those (the part of the file ahead of them may be a hole).
	if l.onDisk < l.pages*int64(l.pageSize) {
		t.Errorf("%d bytes allocated on disk for %d pages of %d", l.onDisk, l.pages, l.pageSize)
	}
	sum := l.root + l.meta + l.freelist + l.free
	var names []string
	for _, b := range l.buckets {
		if b.inuse > b.alloc || b.alloc%int64(l.pageSize) != 0 && b.alloc != 0 {
			t.Errorf("bucket %s: %d in use of %d allocated", b.name, b.inuse, b.alloc)
		}
		sum += b.alloc
		names = append(names, b.name)
	}
	if want := l.pages * int64(l.pageSize); sum != want {
		t.Errorf("buckets, root, meta, freelist and free pages add up to %d bytes, the high-water mark is %d: %+v", sum, want, l)
	}
	if l.meta != 2*int64(l.pageSize) {
		t.Errorf("meta %d bytes, want two pages", l.meta)
	}
	// Some bucket holds a key per payment (whatever the schema calls it),
	// and the list is largest first.
	most := 0
	for _, b := range l.buckets {
		most = max(most, b.keyN)
	}
	if most < n {
		t.Errorf("no bucket holds %d keys (the payments): %v", n, names)
	}
	if !slices.IsSortedFunc(l.buckets, func(a, b bucketBytes) int { return int(b.alloc - a.alloc) }) {
		t.Errorf("buckets not largest first: %+v", l.buckets)
	}
	if d := l.describe(n); d == "" {
		t.Error("no description")
	}
}
