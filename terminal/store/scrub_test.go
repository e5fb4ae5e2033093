package store

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// tamper changes one byte of the value stored at key in bucket, leaving its
// CRC as it was: what a bit flip on the medium does to a record.
func tamper(t *testing.T, path string, bucket, key []byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		v := b.Get(key)
		if len(v) <= crcLen {
			t.Fatalf("bucket %s key %x: value %x to tamper with", bucket, key, v)
		}
		changed := append([]byte(nil), v...)
		changed[0] ^= 0x01
		return b.Put(key, changed)
	}); err != nil {
		t.Fatal(err)
	}
}

// A flipped record of settled history no longer stops the terminal at
// Open: it opens (Open reads only the bounded set), the scrub finds the
// record and reports it, not as money damage; reading it is refused; and
// sales go on.
func TestScrubFindsSettledDamageAndSalesGoOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	settled := paidFrom(t, s, "r-settled", t0, PaymentFinal, randAddr(), 1)
	s.Close()
	tamper(t, path, bucketPayments, settled.TxHash[:])

	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open with a settled payment damaged: %v (want it opened: the scrub checks settled history)", err)
	}
	defer s.Close()
	if in := s.Integrity(); in.Verified || in.Damaged != 0 {
		t.Fatalf("before the scrub: %+v", in)
	}
	if err := s.Scrub(bg, ScrubOptions{}); err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	in := s.Integrity()
	if !in.Verified || in.Running || in.Damaged != 1 || in.MoneyDamaged || in.FinishedAt.IsZero() || in.CheckedBytes <= 0 || in.InUseBytes <= 0 {
		t.Fatalf("Integrity after the scrub: %+v; want verified, one record damaged, not money", in)
	}
	if d := in.Damage[0]; d.Bucket != string(bucketPayments) || d.Key != hex.EncodeToString(settled.TxHash[:]) || d.Money {
		t.Fatalf("damage reported: %+v; want payments %x, not money", d, settled.TxHash)
	}
	if _, err := s.Payment(settled.TxHash); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reading the damaged payment: %v, want ErrCorrupt", err)
	}
	putRequest(t, s, "r-after")
	mustAccept(t, s, newPayment("r-after"))
}

// A flipped open payment is money damage: the scrub reports it so, and the
// store then takes no sale, no request, moves no payment and serves no
// record (ErrCorrupt, which the till and the API answer store_damaged),
// while the operator's acknowledgements and the counts still go through.
func TestScrubFindsOpenPaymentDamageAndRefusesSales(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r-open")
	putClient(t, s, "sn_money")
	open := mustAccept(t, s, newPayment("r-open"))
	other := mustAccept(t, s, func() Payment { putRequest(t, s, "r-other"); return newPayment("r-other") }())
	s.Close()
	tamper(t, path, bucketPayments, open.TxHash[:])

	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v (want it opened: open payments are the scrub's first part)", err)
	}
	defer s.Close()
	putRequest(t, s, "r-before") // sales go on until the scrub finds it
	if err := s.Scrub(bg, ScrubOptions{}); err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	in := s.Integrity()
	if !in.Verified || !in.MoneyDamaged || in.Damaged != 1 {
		t.Fatalf("Integrity: %+v; want verified, one record, money damage", in)
	}
	if d := in.Damage[0]; d.Bucket != string(bucketPayments) || d.Key != hex.EncodeToString(open.TxHash[:]) || !d.Money {
		t.Fatalf("damage reported: %+v", d)
	}
	_, _, err = s.Accept(bg, newPayment("r-before"), t0, nil)
	wantErr(t, "Accept after money damage", err, ErrCorrupt)
	wantErr(t, "PutRequest after money damage", s.PutRequest(bg, newRequest("r-new")), ErrCorrupt)
	_, err = s.SetPaymentState(bg, other.TxHash, PaymentBroadcast, "", t0)
	wantErr(t, "SetPaymentState after money damage", err, ErrCorrupt)
	if _, err := s.AckAllFailures(bg, t0); err != nil {
		t.Fatalf("the operator's AckAllFailures after money damage: %v", err)
	}
	// Out of service as a store refused at Open: reads too (a damaged
	// tree can leave records out of a list with no error), but the counts
	// that status and the watchdog read.
	_, err = s.Payment(other.TxHash)
	wantErr(t, "reading a payment after money damage", err, ErrCorrupt)
	_, err = s.Payments(PaymentFilter{Limit: 10})
	wantErr(t, "listing payments after money damage", err, ErrCorrupt)
	if c, err := s.Counts(); err != nil || c[PaymentQueued] != 2 {
		t.Fatalf("Counts after money damage: %v %v", c, err)
	}
	// The event log is records too (its sinks read it from their own
	// goroutines); the log's ends are not.
	_, err = s.Events(0, 10)
	wantErr(t, "reading events after money damage", err, ErrCorrupt)
	if _, err := s.EventLog(); err != nil {
		t.Errorf("EventLog after money damage: %v", err)
	}
	// Clients still authenticate (checked at Open), so the fleet and the
	// integrators can read the status that says the store is damaged.
	if _, err := s.Client("sn_money"); err != nil {
		t.Errorf("Client after money damage: %v", err)
	}
	// The gauges keep the counts, not zero.
	if st, err := s.Stats(); err != nil || st.Payments[PaymentQueued] != 2 {
		t.Errorf("Stats after money damage: %+v %v; want 2 queued", st, err)
	}
}

// What Open still reads is still refused at Open: a client, the fleet
// high-water mark, a pending request, a count. None of them grows with
// sales, and each decides money (who may ask, which config, what a payer
// pays, what is owed).
func TestOpenStillRefusesDamageInTheBoundedSet(t *testing.T) {
	for _, tc := range []struct {
		name        string
		bucket, key []byte
	}{
		{"a client", bucketClients, []byte("sn_bounded")},
		{"the fleet high-water mark", bucketFleet, []byte("highest")},
		{"a pending request", bucketRequests, []byte("r-pending")},
		{"a count", bucketCounts, countKey(testChain, PaymentQueued)},
		{"a pending amount", bucketAmounts, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pos.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutClient(bg, newClient("sn_bounded")); err != nil {
				t.Fatal(err)
			}
			if err := s.PutFleetBundle(bg, 3, []byte(`{"v":3}`)); err != nil {
				t.Fatal(err)
			}
			putRequest(t, s, "r-paid")
			mustAccept(t, s, newPayment("r-paid"))
			pending := putRequest(t, s, "r-pending")
			s.Close()
			key := tc.key
			if key == nil {
				if key, err = amountKey(pending.Asset, pending.Amount, pending.ID); err != nil {
					t.Fatal(err)
				}
			}
			tamper(t, path, tc.bucket, key)
			s, err = Open(path, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open with %s damaged succeeded", tc.name)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// The scrub ends with its context, also while it waits for its rate.
func TestScrubStopsWithItsContext(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 3000)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	first := make(chan struct{})
	var chunks atomic.Int32 // from the first that read bytes, which the rate makes it wait for
	s.integ.afterChunk = func(_ []byte, size int) {
		switch {
		case chunks.Load() > 0:
			chunks.Add(1) // read after the first one with bytes
		case size > 0:
			chunks.Add(1)
			close(first)
		}
	}
	done := make(chan error, 1)
	// 1 byte a second: after its first chunk the scrub would sleep for
	// days; only its context ends it.
	go func() { done <- s.Scrub(ctx, ScrubOptions{BytesPerSecond: 1}) }()
	<-first
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Scrub: %v, want context.Canceled", err)
	}
	if in := s.Integrity(); in.Running || in.Verified {
		t.Fatalf("Integrity after a cancelled scrub: %+v", in)
	}
	if n := chunks.Load(); n != 1 {
		t.Fatalf("%d chunks read after the context ended, want none", n-1)
	}
	// It can be run again, to its end.
	if err := s.Scrub(bg, ScrubOptions{}); err != nil || !s.Integrity().Verified {
		t.Fatalf("second Scrub: %v, %+v", err, s.Integrity())
	}
}

// The scrub reads in chunks, each its own read transaction: between two
// chunks none is open (nothing pins the pages writes free), and a write
// commits there; the scrub goes on to its end and takes none of the
// writes made meanwhile for damage.
func TestScrubReadsInChunksAndWritesGoOn(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 2500) // 3 chunks of requests at least
	putRequest(t, s, "r-open")
	mustAccept(t, s, newPayment("r-open"))
	var chunks, requestChunks, writes int
	s.integ.afterChunk = func(bucket []byte, _ int) {
		chunks++
		if string(bucket) == string(bucketRequests) {
			requestChunks++
		}
		if n := s.db.Stats().OpenTxN; n != 0 {
			t.Errorf("after a chunk of %s: %d read transactions open", bucket, n)
		}
		if chunks%4 == 0 {
			id := "w-" + reqID(chunks)
			putRequest(t, s, id)
			mustAccept(t, s, newPayment(id))
			writes++
		}
	}
	if err := s.Scrub(bg, ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	in := s.Integrity()
	if !in.Verified || in.Damaged != 0 {
		t.Fatalf("Integrity: %+v; want verified, nothing damaged", in)
	}
	if requestChunks < 3 || writes == 0 {
		t.Fatalf("%d chunks of requests, %d writes between chunks; want 3 or more and some", requestChunks, writes)
	}
}

// An index entry whose payment is gone (a key flipped on disk moves the
// record away from its hash) reads as damage, not as an unknown payment:
// Open no longer checks every index against the records, so a read may be
// first to meet it, and the API answers store_damaged, not "try again".
// The scrub reports it as money damage (the open index names it).
func TestAnIndexNamingAMissingPaymentReadsAsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r-gone")
	gone := mustAccept(t, s, newPayment("r-gone"))
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketPayments).Delete(gone.TxHash[:]) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	_, err = s.Payments(PaymentFilter{Limit: 10})
	wantErr(t, "Payments", err, ErrCorrupt)
	_, err = s.Chain(testChain).PaymentBySenderNonce(gone.From, gone.Nonce)
	wantErr(t, "PaymentBySenderNonce", err, ErrCorrupt)
	if err := s.Scrub(bg, ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	if in := s.Integrity(); !in.MoneyDamaged {
		t.Fatalf("Integrity: %+v; want money damage", in)
	}
}

// Writes committing while the scrub runs, through its last check too
// (bbolt's tx.Check reads the live freelist, which a commit changes under
// a read transaction), are never taken for damage.
func TestScrubTakesNoConcurrentWriteForDamage(t *testing.T) {
	s := openTemp(t)
	seedRequests(t, s, 2000)
	ctx, stop := context.WithCancel(bg)
	var wrote atomic.Int64
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			id := "c-" + reqID(i)
			if err := s.PutRequest(ctx, newRequest(id)); err != nil {
				return
			}
			if _, _, err := s.Accept(ctx, newPayment(id), t0, nil); err != nil {
				return
			}
			if wrote.Add(1) == 1 {
				close(first)
			}
		}
	}()
	defer func() { stop(); <-done }()
	<-first
	// Scrub again and again while the writer goes on, until 200 of its
	// sales have committed during scrubs.
	for scrubs := 0; scrubs < 3 || wrote.Load() < 200; scrubs++ {
		if err := s.Scrub(bg, ScrubOptions{}); err != nil {
			t.Fatal(err)
		}
		if in := s.Integrity(); in.Damaged != 0 {
			t.Fatalf("scrub %d, %d sales committed so far: damage reported: %+v", scrubs, wrote.Load(), in.Damage)
		}
	}
}

// The queued index is one of the money indexes the scrub checks first: an
// entry left behind for a payment that was sent (its CRC intact, so only
// the check against the record finds it) would have the broadcaster
// report a payment waiting that is not; the scrub reports it as money
// damage, entry by entry and against the queued count.
func TestScrubFindsAQueuedEntryLeftBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r-sent")
	sent := mustAccept(t, s, newPayment("r-sent"))
	putRequest(t, s, "r-queued")
	mustAccept(t, s, newPayment("r-queued"))
	if _, err := s.SetPaymentState(bg, sent.TxHash, PaymentBroadcast, "", t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := queuedKey(sent.ChainID, sent.Seq)
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketQueued).Put(k, seal(bucketQueued, k, nil))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v (want it opened: the queued index is the scrub's)", err)
	}
	defer s.Close()
	if err := s.Scrub(bg, ScrubOptions{}); err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	in := s.Integrity()
	if !in.Verified || !in.MoneyDamaged {
		t.Fatalf("Integrity: %+v; want verified with money damage", in)
	}
	var entry, count bool
	for _, d := range in.Damage {
		entry = entry || (d.Bucket == string(bucketQueued) && d.Key == hex.EncodeToString(k) && d.Money)
		count = count || (d.Bucket == string(bucketCounts) && strings.Contains(d.Err, string(bucketQueued)))
	}
	if !entry || !count {
		t.Fatalf("damage reported: %+v; want the queued entry and the queued count, both money", in.Damage)
	}
}

// The event log is not read before READY, and its sinks read it from
// their own goroutines: a damaged page of it met by Events is an error
// wrapping ErrCorrupt, never a panic that would kill posd at every start.
func TestADamagedEventsPageIsAnErrorNotACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		id := fmt.Sprintf("e-%04d", i)
		putRequest(t, s, id)
		mustAccept(t, s, newPayment(id))
	}
	s.Close()

	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	ps := db.Info().PageSize
	_ = db.View(func(tx *bbolt.Tx) error { root = uint64(tx.Bucket(bucketEvents).Root()); return nil })
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, ps)
	if _, err := f.ReadAt(page, int64(root)*int64(ps)); err != nil {
		t.Fatal(err)
	}
	// A branch page: 16-byte header (id, flags, count, overflow), then
	// elements of pos, ksize (4 bytes each) and the child's page id (8).
	ne := binary.NativeEndian
	if flags, count := ne.Uint16(page[8:]), ne.Uint16(page[10:]); flags != 0x01 || count < 3 {
		t.Fatalf("events root page %d: flags %#x, %d elements; want a branch of 3 or more", root, flags, count)
	}
	el := 16 + 16*int(ne.Uint16(page[10:])/2)
	pos, ksize := ne.Uint32(page[el:]), ne.Uint32(page[el+4:])
	child := ne.Uint64(page[el+8:])
	seq := binary.BigEndian.Uint64(page[el+int(pos) : el+int(pos)+int(ksize)])
	if _, err := f.WriteAt([]byte{0x40, 0x00}, int64(child)*int64(ps)+8); err != nil { // flags no page type has
		t.Fatal(err)
	}
	f.Close()

	s, err = Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v (want it opened: the event log is the scrub's)", err)
	}
	defer s.Close()
	_, err = s.Events(seq-1, 10)
	wantErr(t, "Events over the damaged page", err, ErrCorrupt)
}

// With VerifyBeforeSales (posd), no sale is decided before the scrub has
// checked the open payments and their indexes: Accept and RetireChains
// are refused ErrVerifying (send again) until its first part is done,
// even while its paced second part still runs; requests are made at once.
func TestNoSaleBeforeTheOpenPaymentsAreChecked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	putRequest(t, s, "r-queued")
	sent := newPayment("r-queued")
	stored := mustAccept(t, s, sent)
	s.Close()

	s, err = Open(path, &Options{VerifyBeforeSales: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	putRequest(t, s, "r-early") // a request decides no sale: taken at once
	_, _, err = s.Accept(bg, newPayment("r-early"), t0, nil)
	wantErr(t, "Accept before the scrub", err, ErrVerifying)
	if s.Integrity().SalesTaken {
		t.Error("Integrity says sales are taken before the scrub")
	}
	// A payer sending again a payment stored before the restart (its
	// answer lost) is told it is accepted, never "send again" for a
	// payment that is stored.
	if got, repeat, err := s.Accept(bg, sent, t0, nil); err != nil || !repeat || got.TxHash != stored.TxHash {
		t.Fatalf("repeat before the scrub: %v, repeat %v, %s; want the stored payment as a repeat", err, repeat, got.TxHash)
	}
	wantErr(t, "RetireChains before the scrub", s.RetireChains(bg, []uint64{testChain + 1}), ErrVerifying)

	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	paced := make(chan struct{})
	var once sync.Once
	var during error
	s.integ.afterChunk = func(bucket []byte, _ int) {
		if isMoneyIndex(bucket) {
			// Mid-way through the first part: still no sale. (Accept
			// refuses before its write, so it does not wait on the scrub.)
			_, _, during = s.Accept(bg, newPayment("r-early"), t0, nil)
			return
		}
		once.Do(func() { close(paced) })
	}
	done := make(chan error, 1)
	go func() { done <- s.Scrub(ctx, ScrubOptions{BytesPerSecond: 1}) }()
	select { // the first part is done; the second crawls at 1 byte a second
	case <-paced:
	case err := <-done:
		t.Fatalf("Scrub returned before its paced part: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the scrub's first part did not end within a minute")
	}
	wantErr(t, "Accept during the first part", during, ErrVerifying)
	if !s.Integrity().SalesTaken {
		t.Error("Integrity says no sales are taken once the open payments are checked")
	}
	if _, _, err := s.Accept(bg, newPayment("r-early"), t0, nil); err != nil {
		t.Fatalf("Accept once the open payments are checked: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Scrub: %v", err)
	}
}

// The scrub's rate counts what it reads: an index entry's check reads the
// payment record it names, several times the entry, and that is counted
// too (else the paced part reads several times store.scrub_rate).
func TestScrubCountsTheRecordsItsIndexChecksRead(t *testing.T) {
	s := openTemp(t)
	var records int
	for i := range 50 {
		id := fmt.Sprintf("c-%02d", i)
		putRequest(t, s, id)
		p := mustAccept(t, s, newPayment(id))
		if err := s.viewAny(func(tx *bbolt.Tx) error {
			records += len(tx.Bucket(bucketPayments).Get(p.TxHash[:]))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	read := map[string]int{}
	s.integ.afterChunk = func(bucket []byte, size int) { read[string(bucket)] += size }
	if err := s.Scrub(bg, ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	// Each of these names all 50 payments: their records are counted
	// with each (the payments bucket's own walk counts them once more).
	for _, b := range [][]byte{bucketOpen, bucketQueued, bucketBySender, bucketBySeq} {
		if read[string(b)] < records {
			t.Errorf("bucket %s: %d bytes counted, want at least the %d bytes of the records its entries name", b, read[string(b)], records)
		}
	}
}
