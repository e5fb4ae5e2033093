package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// crcFixture is a closed store holding one request, one payment and one
// client, each with a marker that appears in its value alone (random bytes
// as they are in a binary record, the client's name), so a test can change
// that value on disk and leave it decodable.
type crcFixture struct {
	path                                 string
	request                              Request
	payment                              Payment
	client                               Client
	requestMark, paymentMark, clientMark []byte
}

func newCRCFixture(t *testing.T) *crcFixture {
	t.Helper()
	ctx := context.Background()
	f := &crcFixture{path: filepath.Join(t.TempDir(), "pos.db")}
	s, err := Open(f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f.request = newRequest("r-crc")
	f.request.Doc = randBytes(48)
	if err := s.PutRequest(ctx, f.request); err != nil {
		t.Fatal(err)
	}
	f.payment = mustAccept(t, s, newPayment("r-crc"))
	f.client = newClient("sn_crc")
	f.client.Name = "Flip Me Register Name"
	if err := s.PutClient(ctx, f.client); err != nil {
		t.Fatal(err)
	}
	f.requestMark = bytes.Clone(f.request.Doc)
	f.paymentMark = bytes.Clone(f.payment.Raw[:48])
	f.clientMark = []byte(f.client.Name)
	return f
}

// flipMarker changes one byte of every copy of mark in the file (old copies
// may linger in free pages) to another byte that keeps the JSON valid: the
// record still decodes, to different contents.
func flipMarker(t *testing.T, path string, mark []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	found := 0
	for off := 0; ; {
		i := bytes.Index(b[off:], mark)
		if i < 0 {
			break
		}
		at := off + i + 4
		c := b[at] ^ 0x01 // letters and digits stay letters and digits
		if c == '+' || c == '/' || c < '0' {
			c = 'A'
		}
		if _, err := fh.WriteAt([]byte{c}, int64(at)); err != nil {
			t.Fatal(err)
		}
		found++
		off += i + len(mark)
	}
	if found == 0 {
		t.Fatalf("marker %q not in the file", mark)
	}
}

func TestOpenRefusesAValueChangedOnDisk(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket []byte
		mark   func(*crcFixture) []byte
	}{
		{"payment", bucketPayments, func(f *crcFixture) []byte { return f.paymentMark }},
		{"request", bucketRequests, func(f *crcFixture) []byte { return f.requestMark }},
		{"client", bucketClients, func(f *crcFixture) []byte { return f.clientMark }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCRCFixture(t)
			flipMarker(t, f.path, tc.mark(f))
			err := openOrScrub(f.path, &Options{LockTimeout: 100 * time.Millisecond})
			if err == nil {
				t.Fatal("Open of a file with a changed value succeeded and its scrub found nothing")
			}
			msg := err.Error()
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(msg, f.path) ||
				!strings.Contains(msg, "bucket "+string(tc.bucket)+" ") || !strings.Contains(msg, "CRC mismatch") {
				t.Fatalf("Open: %v; want ErrCorrupt naming the file, bucket %s and a CRC mismatch", err, tc.bucket)
			}
			t.Logf("Open: %v", err)
		})
	}
}

func TestReadOfAValueChangedAfterOpenFailsCorrupt(t *testing.T) {
	f := newCRCFixture(t)
	s, err := Open(f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt reads through a shared mapping of the file, so a write to the
	// file shows in the next read transaction.
	flipMarker(t, f.path, f.requestMark)
	flipMarker(t, f.path, f.paymentMark)
	flipMarker(t, f.path, f.clientMark)

	_, err = s.Request(f.request.ID)
	wantErr(t, "Request", err, ErrCorrupt)
	_, err = s.Payment(f.payment.TxHash)
	wantErr(t, "Payment", err, ErrCorrupt)
	_, err = s.Chain(testChain).PaymentBySenderNonce(f.payment.From, f.payment.Nonce)
	wantErr(t, "PaymentBySenderNonce", err, ErrCorrupt)
	_, err = s.Payments(PaymentFilter{})
	wantErr(t, "Payments", err, ErrCorrupt)
	_, err = s.OpenPayments()
	wantErr(t, "OpenPayments", err, ErrCorrupt)
	_, err = s.Client(f.client.Number)
	wantErr(t, "Client", err, ErrCorrupt)
	_, err = s.Clients()
	wantErr(t, "Clients", err, ErrCorrupt)
	_, err = s.SetPaymentState(context.Background(), f.payment.TxHash, PaymentBroadcast, "", t0)
	wantErr(t, "SetPaymentState", err, ErrCorrupt)
	_, err = s.CancelRequest(context.Background(), f.request.ID, t0)
	wantErr(t, "CancelRequest", err, ErrCorrupt)
	if !strings.Contains(err.Error(), `bucket requests key "r-crc"`) {
		t.Fatalf("CancelRequest: %v; want the bucket and key named", err)
	}
}

func TestOpenRefusesAnIndexEntryWithoutItsPayment(t *testing.T) {
	f := newCRCFixture(t)
	db, err := bbolt.Open(f.path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketPayments).Delete(f.payment.TxHash[:])
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantCorrupt(t, f.path)
}

func TestOpenRefusesAnUnknownBucket(t *testing.T) {
	f := newCRCFixture(t)
	db, err := bbolt.Open(f.path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("paymentz"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantCorrupt(t, f.path)
}

// writeSchema1 writes a store in the schema 1 layout (values without CRCs)
// through bbolt directly, as a build before schema 2 would have.
func writeSchema1(t *testing.T, path string, r Request, p Payment, c Client) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	encR, err := encodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	encP, err := encodePayment(p)
	if err != nil {
		t.Fatal(err)
	}
	encC, err := encodeClearClient(c)
	if err != nil {
		t.Fatal(err)
	}
	sn := legacySenderNonceKey(p.From, p.Nonce)
	nk := nonceKey(c.Number, "n1")
	exp := expiryBytes(t0.Add(time.Hour))
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketBySeq).SetSequence(p.Seq); err != nil {
			return err
		}
		for _, e := range []struct{ b, k, v []byte }{
			{bucketMeta, keySchema, []byte("1")},
			{bucketRequests, []byte(r.ID), encR},
			{bucketPayments, p.TxHash[:], encP},
			{bucketBySender, sn, p.TxHash[:]},
			{bucketOpen, sn, p.TxHash[:]},
			{bucketBySeq, seqKey(p.Seq), p.TxHash[:]},
			{bucketUnsettled, []byte(p.Asset), []byte(p.Amount.String())},
			{bucketCounts, []byte(PaymentQueued), countBytes(1)},
			{bucketClients, []byte(c.Number), encC},
			{bucketClientNonces, nk, exp},
			{bucketNonceExpiry, append(append([]byte(nil), exp...), nk...), []byte{1}},
			{bucketFleet, keyFleetBundle, append(countBytes(3), "bundle three"...)},
			{bucketFleet, keyFleetHighest, countBytes(3)},
		} {
			if err := tx.Bucket(e.b).Put(e.k, e.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenMigratesASchema1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos.db")
	r := newRequest("r-old")
	r.Status, r.PaidTx = RequestPaid, randHash()
	p := newPayment("r-old")
	p.TxHash = r.PaidTx
	p.Seq, p.AcceptedAt, p.UpdatedAt = 1, t0, t0
	c := newClient("sn_old")
	c.Created = t0
	writeSchema1(t, path, r, p, c)
	r.Chains = []uint64{testChain} // schema 13 puts it under the home chain

	var logs bytes.Buffer
	s, err := Open(path, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), HomeChainID: testChain})
	if err != nil {
		t.Fatalf("Open of a schema 1 file: %v", err)
	}
	if !strings.Contains(logs.String(), "migrating schema 1 to 2") || !strings.Contains(logs.String(), "values=13") {
		t.Errorf("log does not report the migration:\n%s", logs.String())
	}
	check := func(s *Store, queued int) {
		t.Helper()
		if got, err := s.Request(r.ID); err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("Request: %+v, %v; want %+v", got, err, r)
		}
		if got, err := s.Payment(p.TxHash); err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("Payment: %+v, %v; want %+v", got, err, p)
		}
		if got, err := s.Chain(testChain).PaymentBySenderNonce(p.From, p.Nonce); err != nil || got.TxHash != p.TxHash {
			t.Errorf("PaymentBySenderNonce: %v, %v", got.TxHash, err)
		}
		if got, err := s.OpenPayments(); err != nil || len(got) != queued {
			t.Errorf("OpenPayments: %d, %v; want %d", len(got), err, queued)
		}
		if got, err := s.Counts(); err != nil || got[PaymentQueued] != queued {
			t.Errorf("Counts: %v, %v", got, err)
		}
		if got, err := s.Chain(testChain).Unsettled("ETH"); err != nil || got.Cmp(big.NewInt(100*int64(queued))) != 0 {
			t.Errorf("Unsettled: %v, %v", got, err)
		}
		if got, err := s.Client(c.Number); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("Client: %+v, %v; want %+v", got, err, c)
		}
		if v, raw, err := s.FleetBundle(); err != nil || v != 3 || string(raw) != "bundle three" {
			t.Errorf("FleetBundle: %d %q %v", v, raw, err)
		}
	}
	check(s, 1)
	// The migrated store works on: the nonce is remembered, Seq goes on.
	ctx := context.Background()
	wantErr(t, "UseNonce replay", s.UseNonce(ctx, c.Number, "n1", t0.Add(time.Hour), t0), ErrNonceReplayed)
	putRequest(t, s, "r-new")
	if got := mustAccept(t, s, newPayment("r-new")); got.Seq != 2 {
		t.Errorf("Seq after migration: %d, want 2", got.Seq)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	logs.Reset()
	s, err = Open(path, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Open after migration: %v", err)
	}
	defer s.Close()
	if strings.Contains(logs.String(), "migrat") {
		t.Errorf("second Open migrated again:\n%s", logs.String())
	}
	check(s, 2)
	if err := s.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketMeta, keySchema)
		if err == nil && string(v) != schemaVersion {
			t.Errorf("schema after migration: %q", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestChecksumCoversBucketKeyAndValue(t *testing.T) {
	v := seal([]byte("requests"), []byte("r1"), []byte(`{"id":"r1"}`))
	for _, tc := range []struct {
		name        string
		bucket, key []byte
		v           []byte
		ok          bool
	}{
		{"as written", []byte("requests"), []byte("r1"), v, true},
		{"other key", []byte("requests"), []byte("r2"), v, false},
		{"other bucket", []byte("payments"), []byte("r1"), v, false},
		{"bucket and key split elsewhere", []byte("request"), []byte("sr1"), v, false},
		{"value changed", []byte("requests"), []byte("r1"), append([]byte{'['}, v[1:]...), false},
		{"too short", []byte("requests"), []byte("r1"), v[:3], false},
	} {
		body, err := checkValue(tc.bucket, tc.key, tc.v)
		if tc.ok && (err != nil || string(body) != `{"id":"r1"}`) {
			t.Errorf("%s: %q, %v", tc.name, body, err)
		}
		if !tc.ok && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", tc.name, err)
		}
	}
}

// The CRC is Castagnoli over uvarint(len bucket) || bucket || uvarint(len
// key) || key || value, whatever the lengths: files written by every
// earlier build check against it. Below 128 bytes of name and key it
// allocates nothing.
func TestRecordCRCIsItsFormulaAtEveryLength(t *testing.T) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	value := []byte("a stored record")
	for _, n := range []int{0, 1, 32, 127, 128, 129, 300, 20000} {
		name := bytes.Repeat([]byte("b"), min(n, 255))
		key := bytes.Repeat([]byte("k"), n)
		var in []byte
		in = binary.AppendUvarint(in, uint64(len(name)))
		in = append(in, name...)
		in = binary.AppendUvarint(in, uint64(len(key)))
		in = append(in, key...)
		in = append(in, value...)
		if got, want := recordCRC(name, key, value), crc32.Checksum(in, tab); got != want {
			t.Errorf("name %d bytes, key %d: CRC %08x, want %08x", len(name), n, got, want)
		}
	}
	bucket, key := []byte("payments"), bytes.Repeat([]byte{0xab}, 32)
	if a := testing.AllocsPerRun(100, func() { recordCRC(bucket, key, value) }); a != 0 {
		t.Errorf("recordCRC of a 32-byte key: %v allocations, want 0", a)
	}
}

// BenchmarkSealAndCheck is the CRC's own cost on a payment-sized value
// (about 900 bytes of JSON): one seal on write, one check on read.
func BenchmarkSealAndCheck(b *testing.B) {
	enc, err := encodePayment(newPayment("r1"))
	if err != nil {
		b.Fatal(err)
	}
	key := randBytes(32)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := checkValue(bucketPayments, key, seal(bucketPayments, key, enc)); err != nil {
			b.Fatal(err)
		}
	}
}
