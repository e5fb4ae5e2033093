package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// holdJournaled keeps s's journaled writes in its open transaction until a
// reader or a write that is not an accept asks for a commit: nothing is
// committed on the committer's being idle. Set before s's first write.
func holdJournaled(s *Store) { s.c.idleFor = time.Hour }

// crashImage copies s's file, journal and sealing key as they are now into
// a new directory: what a power cut leaves of a store whose last answers
// rest on the journal. (The copies read the page cache, so they hold every
// write, even one not fsynced yet: bbolt writes nothing of an open
// transaction until its commit.) It returns the copy's path.
func crashImage(t *testing.T, s *Store) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{filepath.Base(s.path), filepath.Base(journalPath(s.path)), DefaultSealKeyName} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(s.path), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, filepath.Base(s.path))
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// acceptJournaled accepts each payment and checks that the answers came
// with no bbolt commit: they rest on the journal alone.
func acceptJournaled(t *testing.T, s *Store, ps ...Payment) []Payment {
	t.Helper()
	commits := s.c.commits.Load()
	var out []Payment
	for _, p := range ps {
		var got Payment
		var repeat bool
		var err error
		if p.Authorization != nil {
			got, repeat, err = s.AcceptAuthorization(context.Background(), p, t0, Limits{Unsettled: big.NewInt(1_000_000), PerPayer: big.NewInt(500)})
		} else {
			got, repeat, err = s.AcceptLimited(context.Background(), p, t0, Limits{Unsettled: big.NewInt(1_000_000)})
		}
		if err != nil || repeat {
			t.Fatalf("accept %s: repeat=%v err=%v", p.TxHash, repeat, err)
		}
		out = append(out, got)
	}
	if got := s.c.commits.Load(); got != commits {
		t.Fatalf("%d bbolt commits while accepting, want none: the journal holds the accepts", got-commits)
	}
	return out
}

// sameStore fails unless a and b hold the same payments, requests, events,
// counts and unsettled sums for ps.
func sameStore(t *testing.T, a, b *Store, ps []Payment) {
	t.Helper()
	for _, p := range ps {
		pa, err := a.Payment(p.TxHash)
		if err != nil {
			t.Fatalf("before: %v", err)
		}
		pb, err := b.Payment(p.TxHash)
		if err != nil {
			t.Fatalf("after the crash, payment %s: %v", p.TxHash, err)
		}
		if !reflect.DeepEqual(pa, pb) {
			t.Errorf("payment %s: after the crash %+v, answered %+v", p.TxHash, pb, pa)
		}
		ra, err := a.Request(p.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Request(p.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		if rb.Status != RequestPaid || !reflect.DeepEqual(ra, rb) {
			t.Errorf("request %s: after the crash %+v, answered %+v", p.RequestID, rb, ra)
		}
	}
	ea, eb := eventsAfter(t, a, 0), eventsAfter(t, b, 0)
	if !reflect.DeepEqual(ea, eb) {
		t.Errorf("events after the crash: %d %v; before: %d %v", len(eb), kinds(eb), len(ea), kinds(ea))
	}
	ca, err := a.CountsByChain()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.CountsByChain()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ca, cb) {
		t.Errorf("counts after the crash %v, before %v", cb, ca)
	}
	ua, err := a.Chain(testChain).Unsettled("ETH")
	if err != nil {
		t.Fatal(err)
	}
	ub, err := b.Chain(testChain).Unsettled("ETH")
	if err != nil {
		t.Fatal(err)
	}
	if ua.Cmp(ub) != 0 {
		t.Errorf("unsettled after the crash %s, before %s", ub, ua)
	}
}

func TestAnAnsweredAcceptOutlivesACrashBeforeItsCommit(t *testing.T) {
	s := openTemp(t)
	holdJournaled(s)
	for _, id := range []string{"r1", "r2", "r3"} {
		putRequest(t, s, id)
	}
	in := []Payment{newPayment("r1"), newPayment("r2"), newAuthorization("r3")}
	in[1].Nonce = 8
	got := acceptJournaled(t, s, in...)
	path := crashImage(t, s)

	// The file alone has none of them: the journal is all that holds them.
	raw, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketPayments).Get(in[0].TxHash[:]); v != nil {
			t.Error("the crashed file holds the first payment: the test crashed after the commit")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()

	after := openAt(t, path)
	sameStore(t, s, after, got)
	for i, p := range got {
		if p.Seq != uint64(i+1) {
			t.Errorf("payment %d has Seq %d, want %d", i, p.Seq, i+1)
		}
	}
	// The next payment takes the next Seq, and the journal starts over.
	putRequest(t, after, "r4")
	p4 := mustAccept(t, after, newPayment("r4"))
	if p4.Seq != 4 {
		t.Errorf("the next payment after the replay has Seq %d, want 4", p4.Seq)
	}
	if err := after.Close(); err != nil {
		t.Fatal(err)
	}
	again := openAt(t, path)
	for _, p := range append(got, p4) {
		if q, err := again.Payment(p.TxHash); err != nil || q.Seq != p.Seq {
			t.Fatalf("payment %d, reopened: %+v, %v", p.Seq, q, err)
		}
	}
}

func TestAReaderSeesAnAcceptTheJournalHolds(t *testing.T) {
	s := openTemp(t)
	holdJournaled(s)
	putRequest(t, s, "r1")
	p := acceptJournaled(t, s, newPayment("r1"))[0]
	if s.c.unflushed.Load() != 1 {
		t.Fatalf("%d writes held, want 1", s.c.unflushed.Load())
	}
	got, err := s.Payment(p.TxHash)
	if err != nil || got.Seq != p.Seq {
		t.Fatalf("Payment right after its answer: %+v, %v", got, err)
	}
	if r, err := s.Request("r1"); err != nil || r.Status != RequestPaid {
		t.Fatalf("Request right after the answer: %+v, %v", r, err)
	}
	if n := s.c.unflushed.Load(); n != 0 {
		t.Fatalf("%d writes still held after a read", n)
	}
}

func TestTheCommitterCommitsWhatItHoldsWhenIdle(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := acceptJournaled(t, s, newPayment("r1"))[0]
	waitFor(t, "the idle commit", func() bool { return s.c.unflushed.Load() == 0 })
	var v []byte
	if err := s.db.View(func(tx *bbolt.Tx) error { v = tx.Bucket(bucketPayments).Get(p.TxHash[:]); return nil }); err != nil || v == nil {
		t.Fatalf("the payment is not in the file after the idle commit (%v)", err)
	}
}

func TestManyAcceptsAtOnceOutliveACrash(t *testing.T) {
	s := openTemp(t)
	holdJournaled(s)
	const n = maxHeld + 44 // past what one open transaction holds
	ps := make([]Payment, n)
	for i := range ps {
		id := "r" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		putRequest(t, s, id)
		ps[i] = newPayment(id)
	}
	got := make([]Payment, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range ps {
		wg.Go(func() {
			p, _, err := s.Accept(context.Background(), ps[i], t0, nil)
			got[i] = p
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	path := crashImage(t, s)
	sameStore(t, s, openAt(t, path), got)
}

func TestARecordThatDoesNotCheckEndsTheReplay(t *testing.T) {
	s := openTemp(t)
	holdJournaled(s)
	putRequest(t, s, "r1")
	putRequest(t, s, "r2")
	p1 := acceptJournaled(t, s, newPayment("r1"))[0]
	p2 := newPayment("r2")
	p2.Nonce = 8
	acceptJournaled(t, s, p2)
	path := crashImage(t, s)
	// The second record's last byte flipped: as an append torn by the
	// crash, before its fdatasync returned and anyone was answered.
	j, err := os.OpenFile(journalPath(path), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readRecords(j)
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records in the journal (%v), want 2", len(recs), err)
	}
	b := []byte{0}
	if _, err := j.ReadAt(b, recs[1]-1); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := j.WriteAt(b, recs[1]-1); err != nil {
		t.Fatal(err)
	}
	_ = j.Close()

	after := openAt(t, path)
	if _, err := after.Payment(p1.TxHash); err != nil {
		t.Fatalf("the first, whole record: %v", err)
	}
	if _, err := after.Payment(p2.TxHash); !errors.Is(err, ErrUnknownPayment) {
		t.Fatalf("the torn record's payment: %v, want ErrUnknownPayment", err)
	}
	// Its request can be paid again, with the next Seq after the first.
	p := mustAccept(t, after, p2)
	if p.Seq != p1.Seq+1 {
		t.Errorf("Seq %d, want %d", p.Seq, p1.Seq+1)
	}
}

// readRecords returns the offset after each record of the journal f, from
// its first.
func readRecords(f *os.File) ([]int64, error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	j := &journal{salt: b[:journalSalt]}
	var ends []int64
	for at := int64(journalSalt); ; {
		_, _, body, ok := j.record(b[at:])
		if !ok {
			return ends, nil
		}
		at += int64(journalHeader + len(body))
		ends = append(ends, at)
	}
}

func TestARecordThatNoLongerAppliesRefusesTheStore(t *testing.T) {
	s := openTemp(t)
	holdJournaled(s)
	putRequest(t, s, "r1")
	acceptJournaled(t, s, newPayment("r1"))
	path := crashImage(t, s)
	// The request the record paid is gone from the file: run again, the
	// accept would be refused, and an answered payment lost.
	rawUpdate(t, path, func(tx *bbolt.Tx) error { return tx.Bucket(bucketRequests).Delete([]byte("r1")) })
	if s, err := Open(path, nil); !errors.Is(err, ErrCorrupt) {
		if s != nil {
			_ = s.Close()
		}
		t.Fatalf("Open with a record that no longer applies: %v, want ErrCorrupt", err)
	}
}

func TestRecordsBeforeTheLastCommitAreNotRunAgain(t *testing.T) {
	s := openTemp(t)
	holdJournaled(s)
	var got []Payment
	for i, id := range []string{"r1", "r2", "r3"} {
		putRequest(t, s, id) // a commit: the accept before it is in the file
		p := newPayment(id)
		p.Nonce = uint64(10 + i)
		got = append(got, acceptJournaled(t, s, p)...)
	}
	// The journal's first bytes are the last record; the two before it
	// were each overwritten in turn, their bytes beyond it still there.
	path := crashImage(t, s)
	sameStore(t, s, openAt(t, path), got)
}

func TestAcceptRecordRoundTrips(t *testing.T) {
	auth := newAuthorization("r2")
	auth.Source = SourceAuthorization // as accept sets it
	for _, p := range []Payment{newPayment("r1"), auth} {
		p.AcceptedAt, p.UpdatedAt = t0, t0
		for _, lim := range []Limits{{}, {Unsettled: big.NewInt(12345)}, {Unsettled: big.NewInt(1), PerPayer: new(big.Int).Lsh(big.NewInt(1), 200)}} {
			seen := []assetDecimals{{"ETH", 18, true}, {"XYZ", 0, false}}
			rec, err := acceptRecord(p, t0, lim, 77, seen)
			if err != nil {
				t.Fatal(err)
			}
			a, err := decodeAcceptRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			q, l := a.p, a.lim
			if !a.now.Equal(t0) || a.retention != 77 || !reflect.DeepEqual(a.decimals, seen) || q.TxHash != p.TxHash || q.RequestID != p.RequestID || q.Amount.Cmp(p.Amount) != 0 ||
				!reflect.DeepEqual(q.Authorization, p.Authorization) || string(q.Raw) != string(p.Raw) || q.From != p.From || q.Nonce != p.Nonce {
				t.Errorf("round trip of %s: %+v", p.TxHash, a)
			}
			if !sameLimit(l.Unsettled, lim.Unsettled) || !sameLimit(l.PerPayer, lim.PerPayer) {
				t.Errorf("limits %v, want %v", l, lim)
			}
		}
	}
	for _, bad := range [][]byte{nil, {'A'}, make([]byte, 20), append([]byte{'A', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 'x', 'y'}, common.Hash{}.Bytes()...),
		{'A', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 'E', 'T'}} {
		if _, err := decodeAcceptRecord(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode %x: %v, want ErrCorrupt", bad, err)
		}
	}
}

func sameLimit(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Cmp(b) == 0
}

func TestTheScrubAccountsForThePagesWithAcceptsHeld(t *testing.T) {
	s := openTemp(t)
	holdJournaled(s)
	var got []Payment
	for i := range 40 {
		id := fmt.Sprintf("r%d", i)
		putRequest(t, s, id)
		p := newPayment(id)
		got = append(got, acceptJournaled(t, s, p)...)
	}
	putRequest(t, s, "last")
	p := newPayment("last")
	acceptJournaled(t, s, p) // held while the scrub runs
	if err := s.Scrub(context.Background(), ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	in := s.Integrity()
	if !in.Verified || in.Damaged != 0 {
		t.Fatalf("scrub with an accept held: verified %v, %d damaged (%+v)", in.Verified, in.Damaged, in)
	}
	if n := s.c.unflushed.Load(); n != 0 {
		t.Fatalf("%d accepts still held after the scrub's page accounting", n)
	}
}

// tempJournal makes a journal in a new directory, as Open would for a new
// store, and returns the store path it is beside.
func tempJournal(t *testing.T) (*journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pos.db")
	j, recs, err := openJournal(path, 0)
	if err != nil || len(recs) != 0 {
		t.Fatalf("new journal: %d records, %v", len(recs), err)
	}
	t.Cleanup(func() { _ = j.close() })
	return j, path
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func TestADamagedRecordBeforeALaterAppendRefusesTheJournal(t *testing.T) {
	j, path := tempJournal(t)
	var ends []int64
	for _, body := range []string{"first", "second", "third"} {
		if err := j.append([][]byte{[]byte(body)}); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, j.off)
	}
	flipByte(t, journalPath(path), ends[1]-1) // the second's body: answered
	if _, _, err := openJournal(path, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with the second of three appends damaged: %v, want ErrCorrupt (the third was answered after it)", err)
	}
}

func TestAnAppendTornByTheCrashEndsTheJournal(t *testing.T) {
	j, path := tempJournal(t)
	if err := j.append([][]byte{[]byte("alone")}); err != nil {
		t.Fatal(err)
	}
	// One append of three; its middle record did not reach the disk
	// whole, the one after it did: the crash came before its fdatasync
	// returned, so none of the three was answered.
	if err := j.append([][]byte{[]byte("a"), []byte("b"), []byte("c")}); err != nil {
		t.Fatal(err)
	}
	second := int64(journalSalt) + int64(journalHeader+len("alone")) + int64(journalHeader+len("a"))
	flipByte(t, journalPath(path), second+journalHeader) // "b"
	j2, recs, err := openJournal(path, 0)
	if err != nil {
		t.Fatalf("open with an append torn: %v", err)
	}
	defer j2.close()
	if len(recs) != 2 || string(recs[0]) != "alone" || string(recs[1]) != "a" {
		t.Fatalf("records %q, want the whole ones before the tear", recs)
	}
}

func TestBytesAPayerChoseAreNotTakenForARecord(t *testing.T) {
	for _, knowsSalt := range []bool{false, true} {
		j, path := tempJournal(t)
		// A record as a payer would forge it into its signed transaction,
		// to be left in the file past the last record after a commit: the
		// next seq, its own append, a CRC over a salt it guessed.
		forger := &journal{salt: make([]byte, journalSalt)}
		if knowsSalt {
			forger.salt = j.salt // the premise: with the salt it would pass
		}
		forged := make([]byte, journalHeader, journalHeader+8)
		copy(forged, journalMagic)
		forged = append(forged, "forgery!"...)
		binary.BigEndian.PutUint32(forged[4:], 8)
		binary.BigEndian.PutUint64(forged[12:], 3)
		binary.BigEndian.PutUint64(forged[20:], 3)
		binary.BigEndian.PutUint32(forged[8:], forger.sum(forged[12:journalHeader], forged[journalHeader:]))
		pad := []byte("padding-padding-")
		if err := j.append([][]byte{append(append([]byte{}, pad...), forged...)}); err != nil {
			t.Fatal(err)
		}
		j.restart() // committed through 1
		// Record 2 ends where the forged bytes begin.
		if err := j.append([][]byte{make([]byte, len(pad))}); err != nil {
			t.Fatal(err)
		}
		_, recs, err := openJournal(path, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 1, true: 2}[knowsSalt]; len(recs) != want {
			t.Errorf("salt known to the forger %v: %d records replayed, want %d", knowsSalt, len(recs), want)
		}
	}
}

func TestAnAcceptCommittedWithAnotherWriteIsToldToTheFollowers(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	held, release := holdCommits(t, s)
	told := s.JournalCommitted()
	putErr := make(chan error, 2)
	go func() { putErr <- s.PutRequest(context.Background(), newRequest("r2")) }()
	waitHeld(t, held) // r2's commit, held: nothing is journaled
	go func() { putErr <- s.PutRequest(context.Background(), newRequest("r3")) }()
	acc := goAccept(s, newPayment("r1"))
	waitFor(t, "r3 and the accept to queue", func() bool { return len(s.c.queue) == 2 })
	release <- struct{}{}
	waitHeld(t, held) // one batch, r3 and the accept: committed, not journaled
	release <- struct{}{}
	answer(t, acc)
	for range 2 {
		if err := <-putErr; err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-told:
	case <-time.After(5 * time.Second):
		t.Fatal("the commit that took an accept with a request did not tell JournalCommitted")
	}
}

func TestTheReplayWritesTheEventsAsAnswered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	open := func(decimals uint8) *Store {
		s, err := Open(path, &Options{Decimals: func(string) (uint8, bool) { return decimals, true }, EventRetention: 100})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	s := open(2)
	holdJournaled(s)
	putRequest(t, s, "r1")
	got := acceptJournaled(t, s, newPayment("r1"))
	image := crashImage(t, s)
	// The next start has another config: the replay keeps what was
	// answered.
	path = image
	after := open(6)
	sameStore(t, s, after, got)
	es := eventsAfter(t, after, 0)
	if len(es) != 2 || es[0].Payment == nil || es[0].Payment.AmountDisplay != "1" {
		t.Fatalf("events after the replay %+v, want payment.accepted with amount_display 1 (100 at 2 decimals)", es)
	}
}

func TestASchema15FileIsMarkedForTheJournal(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := mustAccept(t, s, newPayment("r1"))
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV15)))
	})
	// A build before the journal reads 15 and not 16: from this Open on,
	// it refuses the file.
	after := openAt(t, path)
	if _, err := after.Payment(p.TxHash); err != nil {
		t.Fatal(err)
	}
	if err := after.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := dump(t, path); got != "16" {
		t.Fatalf("schema %q after Open of a 15 file, want 16", got)
	}
}

// rawUpdate changes the closed store file at path with bbolt alone, as
// damage or an older build would.
func rawUpdate(t *testing.T, path string, fn func(*bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}
