//go:build linux

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// residentBytes is how much of the file at path is in the page cache
// (mincore over a mapping of it).
func residentBytes(t *testing.T, path string) (resident, size int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	ps := int64(os.Getpagesize())
	vec := make([]byte, (fi.Size()+ps-1)/ps)
	// x/sys/unix has no wrapper for mincore(2).
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident += ps
		}
	}
	return resident, fi.Size()
}

// dropCache asks the kernel to drop the file's clean pages from the page
// cache, so that the next reads come from the disk.
func dropCache(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Skipf("fadvise DONTNEED: %v", err)
	}
}

// Open of a store with a long queue reads a bounded part of the file, not
// all of it: from a cold page cache, what Open brought into the cache
// (mincore; bbolt maps the file MADV_RANDOM, so a fault reads its page,
// and preflight's reads add the kernel's read-ahead of the file's start)
// stays under openReadBound however many payments are queued. It is what
// the boot reads before READY; the scrub reads the rest after it.
func TestOpenReadsABoundedPartOfABigStore(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store of 8,000 queued payments")
	}
	const queued, openReadBound = 8000, 1 << 20
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < queued; i += 32 {
				id := fmt.Sprintf("q-%06d", i)
				putRequest(t, s, id)
				mustAccept(t, s, newPayment(id))
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What the cache kept (DONTNEED drops clean pages only, and a busy
	// machine may keep some) is counted out: Open's reads are what it adds.
	// The kernel's readahead varies with what it saw before (a CI run once
	// counted 5 MiB here, this machine 120 KiB), so Open is measured up
	// to three times and the least is taken: the old Open read the whole
	// file every time.
	read, size := int64(-1), int64(0)
	for attempt := 0; attempt < 3 && (read < 0 || read > openReadBound); attempt++ {
		if attempt > 0 {
			s.Close()
		}
		dropCache(t, path)
		kept, total := residentBytes(t, path)
		if kept > total/4 {
			t.Skipf("the page cache kept %d of %d bytes after DONTNEED: cannot measure here", kept, total)
		}
		if s, err = Open(path, nil); err != nil {
			t.Fatal(err)
		}
		after, total := residentBytes(t, path)
		t.Logf("Open of a %d-byte store with %d payments queued added %d bytes to the page cache (%.1f%%; %d were still cached before it)",
			total, queued, after-kept, 100*float64(after-kept)/float64(total), kept)
		if read < 0 || after-kept < read {
			read = after - kept
		}
		size = total
	}
	if read > openReadBound {
		t.Errorf("Open read %d bytes of %d; want under %d whatever the queue's length", read, size, openReadBound)
	}
	if size < 8*openReadBound {
		t.Errorf("the store is %d bytes: too small to tell a bounded read from reading it all", size)
	}
	// The scrub reads the rest, and finds nothing.
	if err := s.Scrub(bg, ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	if in := s.Integrity(); !in.Verified || in.Damaged != 0 || in.CheckedBytes < size/2 {
		t.Errorf("Integrity after the scrub: %+v", in)
	}
	s.Close()
}
