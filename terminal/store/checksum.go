package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"go.etcd.io/bbolt"
)

// Every value the store writes (schema 2) ends with a CRC-32C (Castagnoli),
// 4 bytes big-endian, over
//
//	uvarint(len(bucket)) || bucket || uvarint(len(key)) || key || value
//
// so that a value changed on disk, or moved to another key or bucket, is
// found when it is read. bbolt checksums only its meta pages; without this a
// flipped byte in a data page that leaves the B+tree valid would be served
// as a true record. Keys carry no CRC of their own: a value's CRC covers its
// key, and Open checks that every index entry names a stored payment.
//
// All writes go through wtx.putChecked and all reads through getChecked or
// checkValue; wtx.put (commit.go) writes raw bytes and is for them alone.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const crcLen = 4

func recordCRC(bucket, key, value []byte) uint32 {
	crc := crc32.Update(0, castagnoli, uvarintOf(len(bucket)))
	crc = crc32.Update(crc, castagnoli, bucket)
	crc = crc32.Update(crc, castagnoli, uvarintOf(len(key)))
	crc = crc32.Update(crc, castagnoli, key)
	return crc32.Update(crc, castagnoli, value)
}

// smallUvarints are the bytes 0 to 127, each its own one-byte uvarint.
var smallUvarints = func() (b [128]byte) {
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// uvarintOf is n as a uvarint. Below 128 (every bucket name, every key the
// store makes) it is a slice of smallUvarints: a stack array handed to
// crc32 would be moved to the heap, an allocation at every checked read
// and write.
func uvarintOf(n int) []byte {
	if n < len(smallUvarints) {
		return smallUvarints[n : n+1]
	}
	return binary.AppendUvarint(nil, uint64(n))
}

// seal returns value with its CRC appended, in a new slice.
func seal(bucket, key, value []byte) []byte {
	out := make([]byte, len(value), len(value)+crcLen)
	copy(out, value)
	return binary.BigEndian.AppendUint32(out, recordCRC(bucket, key, value))
}

// checkValue checks a stored value read under key from bucket and returns
// it without its CRC (a sub-slice of v, valid as long as v is). A nil v
// (absent) gives nil, nil. A mismatch is an error wrapping ErrCorrupt that
// names the bucket and key.
func checkValue(bucket, key, v []byte) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if len(v) < crcLen {
		return nil, &recordError{bucket: string(bucket), key: string(key), msg: fmt.Sprintf("bucket %s key %q: value of %d bytes has no room for its CRC", bucket, key, len(v))}
	}
	body := v[:len(v)-crcLen]
	if got, want := recordCRC(bucket, key, body), binary.BigEndian.Uint32(v[len(body):]); got != want {
		return nil, &recordError{bucket: string(bucket), key: string(key), msg: fmt.Sprintf("bucket %s key %q: CRC mismatch (stored %08x, computed %08x)", bucket, key, want, got)}
	}
	return body, nil
}

// recordError is checkValue's refusal of one stored value: it wraps
// ErrCorrupt and names the record, so the scrub reports the damaged
// record itself whichever index led to it (scrub.go).
type recordError struct {
	bucket, key string
	msg         string
}

func (e *recordError) Error() string { return e.msg + ": " + ErrCorrupt.Error() }
func (e *recordError) Unwrap() error { return ErrCorrupt }

// getChecked returns the value stored under key in the top-level bucket,
// CRC checked; nil, nil if there is none. The value is valid for the life
// of tx.
func getChecked(tx *bbolt.Tx, bucket, key []byte) ([]byte, error) {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil, fmt.Errorf("bucket %s missing: %w", bucket, ErrCorrupt)
	}
	return checkValue(bucket, key, b.Get(key))
}

// getChecked is getChecked in the write transaction.
func (w *wtx) getChecked(bucket, key []byte) ([]byte, error) { return getChecked(w.tx, bucket, key) }

// putChecked stores value under key in bucket with its CRC appended.
func (w *wtx) putChecked(bucket, key, value []byte) error {
	return w.put(bucket, key, seal(bucket, key, value))
}
