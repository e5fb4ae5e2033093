package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The journal is how an accept is durable with one small write. An accept
// runs in the committer's open bbolt transaction, as every write does; its
// record (what it was asked, enough to run it again) is appended to the
// journal file and fdatasynced, and then it is answered. The transaction
// is committed later, with every accept journaled since, when the
// committer is idle for a moment, when it holds many or has held them a
// while, when a write that is not an accept comes, or when a reader asks
// (a read always sees every answered write: Store.view). That commit
// records in the meta bucket the last record it holds (keyJournal), and
// the journal starts again from its first byte.
//
// At Open the records after that one are run again, in order, against the
// file as it was committed: they find what they found the first time, so
// they write what they wrote (an accept reads the clock from its record,
// its limits too), and the file gets what was answered. So an accept
// writes its 20-odd index pages once per commit, not once per payment,
// and the payer waits for one fdatasync of a page or two.
//
// The file is made at its full size, zeros after a random 8-byte salt,
// and fsynced with its directory, so an append changes no file metadata and
// fdatasync writes the record alone. A record is
//
//	magic "SPJ2" | length (uint32) | CRC-32C (uint32) | seq (uint64) |
//	first (uint64: the seq of the first record of its append) | body
//
// and the CRC is of the salt, seq, first and body. Records carry a
// sequence that never goes back, so a record left from before the last
// commit (its seq at or below the meta bucket's) is never taken for a new
// one; the salt, which never leaves the file, keeps bytes a payer chose
// (a signed transaction is a record's body) from passing for a record
// when they are left in the file past the last one.
//
// The replay stops at the first record that is not the next one. If a
// record of a later append checks after it, that is damage to an
// answered record: Open refuses the store. Otherwise it is the end: stale
// bytes, or an append the crash tore (its fdatasync had not returned, so
// nobody was answered; a later record of the same append may have reached
// the disk).
type journal struct {
	f    *os.File
	path string
	salt []byte // the file's first bytes
	size int64  // the file's fixed size
	off  int64  // where the next record goes
	next uint64 // the next record's seq
	// durable is the last seq whose append returned, and durableOff the
	// byte after it: an answer rests on them. A failed append's records
	// are above.
	durable    uint64
	durableOff int64
	// committed is the seq the meta bucket names: every record up to it
	// is in the file.
	committed uint64
}

const (
	journalMagic  = "SPJ2"
	journalSalt   = 8
	journalHeader = 4 + 4 + 4 + 8 + 8
	// journalSize is the file's size. Records wait in it only until the
	// next commit (at most maxHeld of them, a few hundred bytes each): a
	// batch that does not fit is committed instead.
	journalSize = 256 << 10
)

// JournalPath is where the journal of the store at path is kept, beside
// it: a store is its file and its journal (journal.go).
func JournalPath(path string) string { return path + "-journal" }

func journalPath(path string) string { return JournalPath(path) }

// errJournalFull: the records do not fit in what is left of the file.
var errJournalFull = errors.New("journal full")

// openJournal opens the journal of the store at path, making it if there is
// none, and reads the records after seq applied, in order. The store's file
// lock must be held.
func openJournal(path string, applied uint64) (*journal, [][]byte, error) {
	jp := journalPath(path)
	f, err := os.OpenFile(jp, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if f, err = makeJournal(jp); err != nil {
			return nil, nil, err
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", jp, err)
	}
	j := &journal{f: f, path: jp, next: applied + 1, durable: applied, committed: applied}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("journal %s: %w", jp, err)
	}
	j.size = st.Size()
	recs, err := j.scan()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return j, recs, nil
}

// makeJournal makes the file whole under a temporary name (zeros, fsynced)
// and links it into place, fsyncing the directory: a journal at its name is
// always full size.
func makeJournal(jp string) (*os.File, error) {
	dir := filepath.Dir(jp)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(jp)+".new-*")
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", jp, err)
	}
	fail := func(err error) (*os.File, error) {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return nil, fmt.Errorf("journal %s: %w", jp, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail(err)
	}
	head := make([]byte, journalSize)
	if _, err := rand.Read(head[:journalSalt]); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(head); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), jp); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		_ = tmp.Close()
		return nil, fmt.Errorf("journal %s: %w", jp, err)
	}
	return tmp, nil
}

// scan reads the records from the first while each is the next one, and
// leaves off after the last; damage to an answered record is an error
// wrapping ErrCorrupt.
func (j *journal) scan() ([][]byte, error) {
	j.salt = make([]byte, journalSalt)
	if j.size < journalSalt+journalHeader {
		j.off, j.durableOff = j.size, j.size // no room: every write commits
		return nil, nil
	}
	if _, err := j.f.ReadAt(j.salt, 0); err != nil {
		return nil, fmt.Errorf("journal %s: read its salt: %w", j.path, err)
	}
	rest := make([]byte, j.size-journalSalt)
	if _, err := j.f.ReadAt(rest, journalSalt); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("journal %s: %w", j.path, err)
	}
	var recs [][]byte
	at := 0
	for {
		seq, first, body, ok := j.record(rest[at:])
		if !ok || seq != j.next || first > seq {
			break
		}
		recs = append(recs, body)
		at += journalHeader + len(body)
		j.next++
		j.durable = seq
	}
	j.off = journalSalt + int64(at)
	j.durableOff = j.off
	// A record of a later append past the end: the one at the end was
	// answered, and is damaged.
	for i := at + 1; i+journalHeader <= len(rest); i++ {
		if string(rest[i:i+4]) != journalMagic {
			continue
		}
		if seq, first, _, ok := j.record(rest[i:]); ok && first > j.next && seq >= first {
			return nil, fmt.Errorf("journal %s: record %d at byte %d does not check, and record %d of a later append, at byte %d, does: %w",
				j.path, j.next, j.off, seq, journalSalt+i, ErrCorrupt)
		}
	}
	return recs, nil
}

// record parses the record b begins with, if it checks.
func (j *journal) record(b []byte) (seq, first uint64, body []byte, ok bool) {
	if len(b) < journalHeader || string(b[:4]) != journalMagic {
		return 0, 0, nil, false
	}
	n := int(binary.BigEndian.Uint32(b[4:]))
	if n > len(b)-journalHeader {
		return 0, 0, nil, false
	}
	seq, first = binary.BigEndian.Uint64(b[12:]), binary.BigEndian.Uint64(b[20:])
	body = b[journalHeader : journalHeader+n]
	if j.sum(b[12:journalHeader], body) != binary.BigEndian.Uint32(b[8:]) {
		return 0, 0, nil, false
	}
	return seq, first, bytes.Clone(body), true
}

// sum is a record's CRC: of the salt, its seq and first, and its body.
func (j *journal) sum(seqs, body []byte) uint32 {
	c := crc32.Update(crc32.Checksum(j.salt, castagnoli), castagnoli, seqs)
	return crc32.Update(c, castagnoli, body)
}

// room reports whether bodies of n bytes in all, in k records, fit.
func (j *journal) room(k, n int) bool {
	return j.off+int64(k*journalHeader+n) <= j.size
}

// append writes the records in one write and fdatasyncs. When it returns
// nil they are durable, with seqs up to j.last().
func (j *journal) append(bodies [][]byte) error {
	total := 0
	for _, b := range bodies {
		total += journalHeader + len(b)
	}
	if j.off+int64(total) > j.size {
		return errJournalFull
	}
	buf := make([]byte, 0, total)
	seq, first := j.next, j.next
	for _, b := range bodies {
		var h [journalHeader]byte
		copy(h[:], journalMagic)
		binary.BigEndian.PutUint32(h[4:], uint32(len(b)))
		binary.BigEndian.PutUint64(h[12:], seq)
		binary.BigEndian.PutUint64(h[20:], first)
		binary.BigEndian.PutUint32(h[8:], j.sum(h[12:], b))
		buf = append(append(buf, h[:]...), b...)
		seq++
	}
	// Past the durable records whatever happens: a failed append's bytes
	// may be on the disk, and its seqs are never used again for others.
	at := j.off
	j.off += int64(total)
	j.next = seq
	if _, err := j.f.WriteAt(buf, at); err != nil {
		return fmt.Errorf("journal %s: write: %w", j.path, err)
	}
	if err := fdatasync(j.f); err != nil {
		return fmt.Errorf("journal %s: fdatasync: %w", j.path, err)
	}
	j.durable, j.durableOff = seq-1, j.off
	return nil
}

// forget undoes the appends since the last durable one: their bytes are
// zeroed and fdatasynced, so that no Open runs again a write whose caller
// was told it failed, and their seqs are given out again.
func (j *journal) forget() error {
	if j.off == j.durableOff {
		return nil
	}
	if _, err := j.f.WriteAt(make([]byte, j.off-j.durableOff), j.durableOff); err != nil {
		return fmt.Errorf("journal %s: zero a failed append: %w", j.path, err)
	}
	if err := fdatasync(j.f); err != nil {
		return fmt.Errorf("journal %s: zero a failed append: fdatasync: %w", j.path, err)
	}
	j.off, j.next = j.durableOff, j.durable+1
	return nil
}

// last is the seq of the last record appended, durable or not.
func (j *journal) last() uint64 { return j.next - 1 }

// restart starts the file over: every record in it is committed (the meta
// bucket names the last). Nothing is written: the records left are stale
// by their seqs.
func (j *journal) restart() {
	j.off, j.durableOff = journalSalt, journalSalt
	j.durable, j.committed = j.next-1, j.next-1
}

func (j *journal) close() error { return j.f.Close() }

// JournalStats say how the journal carried the accepts (journal.go).
type JournalStats struct {
	// Appends is how many journal appends answered accepts; Commits how
	// many bbolt commits the store made in all.
	Appends, Commits uint64
	// Held is how many accepts wait in the journal now.
	Held int64
	// What committed the accepts the journal held, by cause: the
	// committer idle a moment, its bounds (256 held, held 250 ms, the
	// journal full), a reader, a write that is not an accept, Close.
	OnIdle, OnBound, OnRead, OnWrite, OnClose uint64
}

// Journal returns the journal's counts since Open.
func (s *Store) Journal() JournalStats {
	c := s.c
	return JournalStats{
		Appends: c.appends.Load(), Commits: c.commits.Load(), Held: c.unflushed.Load(),
		OnIdle: c.flushes[flushOnIdle].Load(), OnBound: c.flushes[flushOnBound].Load(), OnRead: c.flushes[flushOnRead].Load(),
		OnWrite: c.flushes[flushOnWrite].Load(), OnClose: c.flushes[flushOnClose].Load(),
	}
}

// JournalCommitted returns a channel closed by the next commit that takes
// accepts the journal held: from then on a ChainStore's Committed view
// holds them. Take the next channel before acting on one closed, so no
// commit goes unseen.
func (s *Store) JournalCommitted() <-chan struct{} { return s.c.tookChan() }
