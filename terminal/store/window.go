package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// Windowed reads: for a broadcaster that must not read every open payment
// on every round. Each costs what it returns (plus one index seek), not
// the number of open payments or the history.

// OpenKey is a place in one chain's open index, which is ordered by
// sender (as bytes), then nonce: a payment's From and Nonce.
type OpenKey struct {
	From  common.Address
	Nonce uint64
}

// bytes returns k as stored on chain: chain (8) || sender (20) || nonce (8, big-endian).
func (k OpenKey) bytes(chain uint64) []byte { return senderNonceKey(chain, k.From, k.Nonce) }

// Compare orders keys as the open index does: -1 if k comes before o, 1
// after, 0 if they are the same.
func (k OpenKey) Compare(o OpenKey) int {
	if c := bytes.Compare(k.From[:], o.From[:]); c != 0 {
		return c
	}
	return cmp.Compare(k.Nonce, o.Nonce)
}

// OpenKey returns p's place in the open index (while it is queued or
// broadcast).
func (p Payment) OpenKey() OpenKey { return OpenKey{From: p.From, Nonce: p.Nonce} }

// OpenPaymentsAfter returns at most limit queued or broadcast payments in
// OpenPayments' order (sender, then nonce), starting with the first whose
// key is after after, or with the very first if after is nil; limit 0 (or
// less) means 100. Fewer than limit means the index ends there. Passing the
// key of the last payment returned reads the index a window at a time; a
// payment accepted meanwhile is met if its key is after the window read.
//
// Only the chain's own payments are read: another chain's queue costs
// nothing here.
func (cs *ChainStore) OpenPaymentsAfter(after *OpenKey, limit int) ([]Payment, error) {
	return cs.indexAfter(bucketOpen, after, limit)
}

// UnfinalAfter is OpenPaymentsAfter over the unfinal index: the confirmed
// payments, followed until their block is final, a window at a time.
func (cs *ChainStore) UnfinalAfter(after *OpenKey, limit int) ([]Payment, error) {
	return cs.indexAfter(bucketUnfinal, after, limit)
}

func (cs *ChainStore) indexAfter(bucket []byte, after *OpenKey, limit int) ([]Payment, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []Payment
	prefix := chainPrefix(cs.id)
	err := cs.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		k, v := c.Seek(prefix)
		if after != nil {
			from := after.bytes(cs.id)
			k, v = c.Seek(from)
			if k != nil && bytes.Equal(k, from) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			p, err := indexedPayment(tx, bucket, k, v)
			if err != nil {
				return fmt.Errorf("%s payments after: %w", bucket, err)
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OpenBefore returns the queued or broadcast payment of from with the
// highest nonce below nonce: the one that goes to the chain just before
// it. ok is false if from has none open below nonce.
func (cs *ChainStore) OpenBefore(from common.Address, nonce uint64) (p Payment, ok bool, err error) {
	prefix := chainKey(cs.id, from[:])
	err = cs.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOpen).Cursor()
		k, v := c.Seek(senderNonceKey(cs.id, from, nonce))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		if k == nil || len(k) != 8+common.AddressLength+8 || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		var err error
		if p, err = openPayment(tx, k, v); err != nil {
			return fmt.Errorf("open payment before %s nonce %d: %w", from, nonce, err)
		}
		ok = true
		return nil
	})
	if err != nil {
		return Payment{}, false, err
	}
	return p, ok, nil
}

// LastSeq returns the Seq of the latest accepted payment; 0 if there is
// none. Every payment accepted later has a higher Seq.
func (s *Store) LastSeq() (uint64, error) { return lastSeqIn(s.view) }

// lastSeqIn is LastSeq in view's read transaction.
func lastSeqIn(view viewFunc) (uint64, error) {
	var seq uint64
	err := view(func(tx *bbolt.Tx) error {
		k, v := tx.Bucket(bucketBySeq).Cursor().Last()
		if k == nil {
			return nil
		}
		if _, err := checkValue(bucketBySeq, k, v); err != nil {
			return fmt.Errorf("last seq: %w", err)
		}
		if len(k) != 8 {
			return fmt.Errorf("last seq: key 0x%x of %d bytes: %w", k, len(k), ErrCorrupt)
		}
		seq = binary.BigEndian.Uint64(k)
		return nil
	})
	return seq, err
}

// openPayment reads the payment an open index entry names, CRC checked.
func openPayment(tx *bbolt.Tx, k, v []byte) (Payment, error) {
	return indexedPayment(tx, bucketOpen, k, v)
}

// openHash returns the hash of the payment an open entry (k, v) names.
// Since schema 14 open's values are empty (their CRC alone): by_sender_nonce
// holds the hash under the same key, written in the same transaction, and
// while a payment is open no other can take its sender+nonce (nonceFree),
// so the two always name the same payment. A value that is not empty, or
// a key by_sender_nonce does not hold, is damage. A nil v (no entry)
// gives nil, nil.
func openHash(tx *bbolt.Tx, k, v []byte) ([]byte, error) {
	body, err := checkValue(bucketOpen, k, v)
	if err != nil || body == nil {
		return nil, err
	}
	if len(body) != 0 {
		return nil, &recordError{bucket: string(bucketOpen), key: string(k), msg: fmt.Sprintf("bucket %s key %x: value of %d bytes, want none (by_sender_nonce names the payment)", bucketOpen, k, len(body))}
	}
	h, err := senderHash(tx, k)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, &recordError{bucket: string(bucketOpen), key: string(k), msg: fmt.Sprintf("bucket %s key %x: %s holds no payment at that sender and nonce", bucketOpen, k, bucketBySender)}
	}
	return h, nil
}

// senderHash returns the hash of the payment by_sender_nonce names at k,
// nil if it holds no entry there.
func senderHash(tx *bbolt.Tx, k []byte) ([]byte, error) {
	v, err := getChecked(tx, bucketBySender, k)
	if err != nil || v == nil {
		return nil, err
	}
	return senderValueHash(tx, k, v)
}

// senderValueHash returns the hash a by_sender_nonce entry's checked value
// body names. From schema 15 on the value is the payment's Seq (8 bytes),
// by_seq naming its hash: a quarter of the hash's size, in an index with
// an entry for every payment; a 15 file holds Seqs only. Before, it was
// the hash (32 bytes). Both are read: a schema 14 file under migration
// (schema15.go) is verified whole before "15" is written, and may hold
// both. A Seq by_seq does not hold is damage.
func senderValueHash(tx *bbolt.Tx, k, body []byte) ([]byte, error) {
	switch len(body) {
	case common.HashLength:
		return body, nil
	case 8:
		h, err := getChecked(tx, bucketBySeq, body)
		if err != nil {
			return nil, err
		}
		if len(h) != common.HashLength {
			return nil, &recordError{bucket: string(bucketBySender), key: string(k), msg: fmt.Sprintf("bucket %s key %x: names Seq %d, for which %s holds %d bytes, not a payment's hash", bucketBySender, k, binary.BigEndian.Uint64(body), bucketBySeq, len(h))}
		}
		return h, nil
	}
	return nil, &recordError{bucket: string(bucketBySender), key: string(k), msg: fmt.Sprintf("bucket %s key %x: value of %d bytes, want a Seq (8) or a hash (32)", bucketBySender, k, len(body))}
}

// indexHash returns the hash an entry of the index bucket names: its
// value, for by_sender_nonce the payment its Seq names (senderValueHash),
// for open by_sender_nonce's (openHash).
func indexHash(tx *bbolt.Tx, bucket, k, v []byte) ([]byte, error) {
	switch {
	case bytes.Equal(bucket, bucketOpen):
		return openHash(tx, k, v)
	case bytes.Equal(bucket, bucketBySender):
		body, err := checkValue(bucket, k, v)
		if err != nil || body == nil {
			return nil, err
		}
		return senderValueHash(tx, k, body)
	}
	return checkValue(bucket, k, v)
}

// indexedPayment reads the payment an entry of the index bucket names.
func indexedPayment(tx *bbolt.Tx, bucket, k, v []byte) (Payment, error) {
	h, err := indexHash(tx, bucket, k, v)
	if err != nil {
		return Payment{}, err
	}
	p, err := namedPayment(tx, bucket, h)
	if err != nil {
		return Payment{}, fmt.Errorf("index 0x%x: %w", k, err)
	}
	// An open entry's payment is named by another bucket: one at another
	// sender+nonce, or settled, is the two out of step.
	if bytes.Equal(bucket, bucketOpen) && (!p.State.unsettled() || !bytes.Equal(k, senderNonceKey(p.ChainID, p.From, p.Nonce))) {
		return Payment{}, &recordError{bucket: string(bucketOpen), key: string(k), msg: fmt.Sprintf("bucket %s key %x: %s names payment %s (%s) from %s nonce %d", bucketOpen, k, bucketBySender, p.TxHash, p.State, p.From, p.Nonce)}
	}
	return p, nil
}
