package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// The queued index (schema 14): chain (8) || Seq (8) -> nothing (the
// value is its CRC alone: by_seq names the payment of a Seq, the tx hash
// of a handed-over payment or the ID of an authorization), for every
// payment in state queued, whatever its source. A payment enters it in the
// write that accepts it (accept) and leaves it in the write that moves it
// out of queued (planTransitionWith: SetPaymentState, Apply,
// RecordRelayTx, ReportRelayOutcome); no payment ever returns to queued,
// and Prune and RetireChains never touch a queued payment. So a chain's
// first key is its oldest queued payment in acceptance order, found with
// one seek: the broadcaster reports its age every round without reading
// the queue (sync/broadcast).

// queuedKey is a payment's key in the queued index.
func queuedKey(chain, seq uint64) []byte { return chainKey(chain, seqKey(seq)) }

// OldestQueued returns the chain's first payment in acceptance order
// (Seq) that is still queued, handed over or an authorization; ok is
// false when none is. It costs one seek and one record, whatever the
// queue's length.
func (cs *ChainStore) OldestQueued() (p Payment, ok bool, err error) {
	prefix := chainPrefix(cs.id)
	err = cs.view(func(tx *bbolt.Tx) error {
		k, v := tx.Bucket(bucketQueued).Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		var err error
		if p, err = queuedPayment(tx, k, v); err != nil {
			return fmt.Errorf("oldest queued: %w", err)
		}
		ok = true
		return nil
	})
	if err != nil {
		return Payment{}, false, err
	}
	return p, ok, nil
}

// queuedPayment reads the payment a queued entry names: its Seq's in
// by_seq. The entry's CRC, length and emptiness are checked first.
func queuedPayment(tx *bbolt.Tx, k, v []byte) (Payment, error) {
	body, err := checkValue(bucketQueued, k, v)
	if err != nil {
		return Payment{}, err
	}
	if len(k) != 16 || len(body) != 0 {
		return Payment{}, fmt.Errorf("bucket %s: key %x of %d bytes with a %d-byte value, want 16 and none: %w", bucketQueued, k, len(k), len(body), ErrCorrupt)
	}
	h, err := getChecked(tx, bucketBySeq, k[8:])
	if err != nil {
		return Payment{}, fmt.Errorf("bucket %s: key %x: %w", bucketQueued, k, err)
	}
	if h == nil {
		return Payment{}, fmt.Errorf("bucket %s: key %x: Seq %d has no payment: %w", bucketQueued, k, binary.BigEndian.Uint64(k[8:]), ErrCorrupt)
	}
	p, err := paymentByHash(tx, h)
	if err != nil {
		return Payment{}, fmt.Errorf("bucket %s: key %x: %w", bucketQueued, k, err)
	}
	return p, nil
}

// checkQueued requires the queued index (schema 14) to hold exactly the
// queued payments: every entry names a stored payment in state queued of
// the key's chain and Seq, and each chain has as many entries as its
// queued count says. A queued payment missing from the index would be
// reported younger than it is, or not at all; an entry left behind would
// report a payment queued that is not. It decodes the payments the index
// names: the queued ones.
func checkQueued(tx *bbolt.Tx) error {
	idx := tx.Bucket(bucketQueued)
	if idx == nil {
		return fmt.Errorf("bucket %s missing: %w", bucketQueued, ErrCorrupt)
	}
	n := map[uint64]uint64{}
	if err := idx.ForEach(func(k, v []byte) error {
		if err := checkQueuedEntry(tx, k, v); err != nil {
			return err
		}
		n[binary.BigEndian.Uint64(k[:8])]++
		return nil
	}); err != nil {
		return err
	}
	// Every chain's queued count, against its entries.
	if err := tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
		if len(k) <= 8 || PaymentState(k[8:]) != PaymentQueued {
			return nil
		}
		c, err := decodeCount(k, v)
		if err != nil {
			return err
		}
		chain := binary.BigEndian.Uint64(k[:8])
		if c != n[chain] {
			return fmt.Errorf("bucket %s: %d entries on chain %d, but %d payments are queued there: %w", bucketQueued, n[chain], chain, c, ErrCorrupt)
		}
		delete(n, chain)
		return nil
	}); err != nil {
		return err
	}
	for chain, c := range n {
		return fmt.Errorf("bucket %s: %d entries on chain %d, which counts no queued payment: %w", bucketQueued, c, chain, ErrCorrupt)
	}
	return nil
}

// checkQueuedEntry requires one queued entry to name a stored payment in
// state queued of the key's chain and Seq (the scrub checks the index an
// entry at a time; checkQueued, at an upgrade, the whole of it).
func checkQueuedEntry(tx *bbolt.Tx, k, v []byte) error {
	p, err := queuedPayment(tx, k, v)
	if err != nil {
		return err
	}
	chain, seq := binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:])
	if p.State != PaymentQueued || p.ChainID != chain || p.Seq != seq {
		return fmt.Errorf("bucket %s: key %x (chain %d, Seq %d) names payment %s, %s on chain %d with Seq %d: %w",
			bucketQueued, k, chain, seq, p.TxHash, p.State, p.ChainID, p.Seq, ErrCorrupt)
	}
	return nil
}
