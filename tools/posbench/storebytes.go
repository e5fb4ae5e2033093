package main

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
)

// storeLayout is where a store file's bytes go, read with bbolt's public
// API alone (Bucket.Stats, Tx.Page, DB.Stats), so that it holds whatever
// buckets the store's schema has.
type storeLayout struct {
	fileSize int64 // the file's size (bbolt grows it ahead of its pages)
	onDisk   int64 // the file's blocks allocated on disk (st_blocks): bbolt grows it by ftruncate, so the part ahead is a hole
	pageSize int
	pages    int64 // the high-water mark: pages in use, free or not

	buckets  []bucketBytes // the top-level buckets, largest first
	root     int64         // the root's own pages (the top-level buckets' headers), bytes
	meta     int64         // the two meta pages, bytes
	freelist int64         // the freelist's pages, bytes
	free     int64         // free pages (and pending ones), bytes
}

// bucketBytes is a top-level bucket with every bucket nested in it.
type bucketBytes struct {
	name           string
	alloc, inuse   int64 // bytes of branch and leaf pages (overflow included) allocated, and of them in use
	branch, leaf   int   // pages: logical branch pages, logical leaf pages
	overflow       int   // overflow pages of both
	keyN, bucketsN int   // keys, and buckets counting itself
}

// storeBytes opens the store file at path read-only (a shared lock: it
// waits up to timeout for posd to have stopped) and reads its layout.
func storeBytes(path string, timeout time.Duration) (storeLayout, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return storeLayout{}, err
	}
	db, err := bbolt.Open(path, 0o400, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: timeout})
	if err != nil {
		return storeLayout{}, fmt.Errorf("open %s read-only: %w", path, err)
	}
	defer db.Close()
	l := storeLayout{fileSize: fi.Size(), pageSize: db.Info().PageSize}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		l.onDisk = st.Blocks * 512
	}
	ps := int64(l.pageSize)
	err = db.View(func(tx *bbolt.Tx) error {
		l.pages = tx.Size() / ps
		var tops int64
		err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			s := b.Stats()
			bb := bucketBytes{name: string(name), alloc: int64(s.BranchAlloc + s.LeafAlloc), inuse: int64(s.BranchInuse + s.LeafInuse),
				branch: s.BranchPageN, leaf: s.LeafPageN, overflow: s.BranchOverflowN + s.LeafOverflowN, keyN: s.KeyN, bucketsN: s.BucketN}
			tops += bb.alloc
			l.buckets = append(l.buckets, bb)
			return nil
		})
		if err != nil {
			return err
		}
		// The meta, freelist and free pages, page by page; the root's own
		// pages are the branch and leaf pages no top-level bucket holds.
		var tree int64
		for id := int64(0); id < l.pages; {
			p, err := tx.Page(int(id))
			if err != nil {
				return fmt.Errorf("page %d: %w", id, err)
			}
			if p == nil {
				break
			}
			n := int64(1)
			switch p.Type {
			case "meta":
				l.meta += ps
			case "freelist":
				n += int64(p.OverflowCount)
				l.freelist += n * ps
			case "free":
				l.free += ps // a free page's header is stale: count it alone
			default: // branch, leaf
				n += int64(p.OverflowCount)
				tree += n * ps
			}
			id += n
		}
		l.root = tree - tops
		return nil
	})
	if err != nil {
		return storeLayout{}, err
	}
	slices.SortStableFunc(l.buckets, func(a, b bucketBytes) int { return cmp.Compare(b.alloc, a.alloc) })
	return l, nil
}

// describe says where the bytes go per payment, of n: each top-level
// bucket holding at least 1% of the file (the rest summed), the free
// pages, and what the file holds beyond its high-water mark.
func (l storeLayout) describe(n int) string {
	if n <= 0 {
		return ""
	}
	per := func(b int64) string { return fmt.Sprintf("%s B", thousands((b+int64(n)/2)/int64(n))) }
	var parts []string
	var rest, restBuckets int64
	for _, b := range l.buckets {
		if b.alloc*100 < l.fileSize {
			rest += b.alloc
			restBuckets++
			continue
		}
		pct := 0.0
		if b.alloc > 0 {
			pct = 100 * float64(b.inuse) / float64(b.alloc)
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s keys; %d leaf + %d branch pages, %d overflow; %.0f%% in use)",
			b.name, per(b.alloc), thousands(int64(b.keyN)), b.leaf, b.branch, b.overflow, pct))
	}
	if restBuckets > 0 {
		parts = append(parts, fmt.Sprintf("%d other buckets, each under 1%% of the file, %s", restBuckets, per(rest)))
	}
	parts = append(parts, fmt.Sprintf("root, meta and freelist pages %s", per(l.root+l.meta+l.freelist)),
		fmt.Sprintf("free pages %s (%s)", per(l.free), mib(l.free)))
	if ahead := l.fileSize - l.pages*int64(l.pageSize); ahead > 0 {
		parts = append(parts, fmt.Sprintf("file grown ahead of its pages %s (%s)", per(ahead), mib(ahead)))
	}
	if l.onDisk > 0 {
		parts = append(parts, fmt.Sprintf("blocks allocated on disk %s (%s: bbolt grows the file by ftruncate, in steps of 1 MiB (the store sets bbolt's AllocSize), and the part ahead of its pages is a hole until written)", per(l.onDisk), mib(l.onDisk)))
	}
	return strings.Join(parts, "; ")
}
