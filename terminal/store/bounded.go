package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// Schema 11: what the bounded store needs to delete records without
// losing a guard (prune.go).
//
// spent_nonces keeps, per sender, the highest nonce of a handed-over
// payment that was final when Prune deleted it. A final payment's nonce
// was mined, and an account's nonces are mined in order, so no
// transaction of that sender with that nonce or a lower one can ever be
// mined: Accept refuses one with ErrNonceConflict, as it did while the
// payment was stored (and for lower nonces too). One entry per payer,
// whatever the number of its payments.
//
// pruned_chain_txs keeps the hash of each transaction a wallet sent
// itself (a chain payment, seen by the watcher) that Prune deleted once
// final, and of each acknowledged unmatched receipt it deleted. Its raw transaction stays readable on chain, and handed over for
// a later request it would be taken offline and then found mined: Accept
// refuses it with ErrTxReused, as it did while the payment was stored. The
// store keeps no nonce for a chain payment, so this is one key a payment
// (about 50 bytes with bbolt's overhead), not one a payer.
//
// relay_by_auth indexes the relayer's journal by authorization, so that
// Prune finds every row (and through them every hash) of the
// authorization it deletes, a seek instead of a walk of the journal.
var (
	bucketSpentNonces = []byte("spent_nonces")  // chain (8) || sender (20) -> nonce (8): the highest nonce of a final handed-over payment pruned
	bucketRelayByAuth = []byte("relay_by_auth") // authorization ID (32) || relay_txs key (36) -> "" : every journal row of each authorization
	// tx hash (32) -> "": a chain payment's transaction, pruned when final
	bucketPrunedChainTxs = []byte("pruned_chain_txs")
)

// prunedChainTx says whether hash is a chain payment Prune deleted.
func prunedChainTx(tx *bbolt.Tx, hash common.Hash) (bool, error) {
	v, err := getChecked(tx, bucketPrunedChainTxs, hash[:])
	return v != nil, err
}

func relayByAuthKey(auth common.Hash, rowKey []byte) []byte {
	return append(append(make([]byte, 0, common.HashLength+len(rowKey)), auth[:]...), rowKey...)
}

// spentNonce is the highest nonce of from's pruned final payments; ok
// false when none was pruned.
func spentNonce(tx *bbolt.Tx, chain uint64, from common.Address) (nonce uint64, ok bool, err error) {
	v, err := getChecked(tx, bucketSpentNonces, chainKey(chain, from[:]))
	if err != nil || v == nil {
		return 0, false, err
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("bucket %s: key %x: %d bytes: %w", bucketSpentNonces, from, len(v), ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), true, nil
}

// migrateBounded brings a schema 11 file to schema 12 in one bbolt
// transaction that also records the new version: spent_nonces starts
// empty (nothing was pruned before), relay_by_auth gets an entry for every
// row of the journal. It then verifies the file again.
func migrateBounded(db *bbolt.DB, path string, log *slog.Logger) error {
	return migration{from: schemaV11, to: schemaV12, what: "the bounded store's guards",
		buckets: [][]byte{bucketSpentNonces, bucketRelayByAuth, bucketPrunedChainTxs},
		fill: func(tx *bbolt.Tx) ([]any, error) {
			rows := 0
			w := &wtx{tx: tx}
			err := tx.Bucket(bucketRelayTxs).ForEach(func(k, v []byte) error {
				body, err := checkValue(bucketRelayTxs, k, v)
				if err != nil {
					return err
				}
				t, err := decodeRelayTx(body)
				if err != nil {
					return fmt.Errorf("bucket %s: key %x: %w", bucketRelayTxs, k, err)
				}
				rows++
				return w.putChecked(bucketRelayByAuth, relayByAuthKey(t.AuthID, k), nil)
			})
			return []any{"relay_rows", rows}, err
		}}.run(db, path, log)
}

// checkBounded requires relay_by_auth to hold exactly one entry per
// journal row, under the row's own authorization, and every spent_nonces
// entry to be a sender (under its chain, from schema 13 on) and a nonce.
func checkBounded(tx *bbolt.Tx, v13 bool) error {
	idx, rows := tx.Bucket(bucketRelayByAuth), tx.Bucket(bucketRelayTxs)
	spent := tx.Bucket(bucketSpentNonces)
	// pruned_chain_txs is not walked: it grows with the chain payments
	// ever pruned, and Accept checks the one value it reads.
	if idx == nil || rows == nil || spent == nil || tx.Bucket(bucketPrunedChainTxs) == nil {
		return fmt.Errorf("schema 12 buckets missing: %w", ErrCorrupt)
	}
	n := 0
	if err := idx.ForEach(func(k, v []byte) error {
		n++
		if _, err := checkValue(bucketRelayByAuth, k, v); err != nil {
			return err
		}
		if len(k) != common.HashLength+36 {
			return fmt.Errorf("bucket %s: key %x of %d bytes: %w", bucketRelayByAuth, k, len(k), ErrCorrupt)
		}
		body, err := checkValue(bucketRelayTxs, k[common.HashLength:], rows.Get(k[common.HashLength:]))
		if err != nil {
			return err
		}
		if body == nil {
			return fmt.Errorf("bucket %s: key %x names no journal row: %w", bucketRelayByAuth, k, ErrCorrupt)
		}
		t, err := decodeRelayTx(body)
		if err != nil {
			return err
		}
		if !bytes.Equal(t.AuthID[:], k[:common.HashLength]) {
			return fmt.Errorf("bucket %s: key %x, but the row is authorization %s's: %w", bucketRelayByAuth, k, t.AuthID, ErrCorrupt)
		}
		return nil
	}); err != nil {
		return err
	}
	if m := rows.Stats().KeyN; m != n {
		return fmt.Errorf("bucket %s: %d entries for %d journal rows: %w", bucketRelayByAuth, n, m, ErrCorrupt)
	}
	return spent.ForEach(func(k, v []byte) error {
		body, err := checkValue(bucketSpentNonces, k, v)
		if err != nil {
			return err
		}
		if len(k) != keyLen(v13, common.AddressLength) || len(body) != 8 {
			return fmt.Errorf("bucket %s: key %x, value of %d bytes: %w", bucketSpentNonces, k, len(body), ErrCorrupt)
		}
		return nil
	})
}
