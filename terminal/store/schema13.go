package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ethereum/go-ethereum/core/types"
	"go.etcd.io/bbolt"
)

// Schema 13: payments on several chains at once. Every per-chain index,
// sum, count and cursor is keyed by the chain id first (8 bytes,
// big-endian), so that one chain's queue is a range of its own (the
// broadcaster of one network never walks another's) and a sender's nonce
// is unique per chain. Payment and unmatched receipt records carry their
// chain_id, requests their Chains. Tx hashes stay store-wide: an EIP-155
// transaction names its chain. A transfer the watcher recorded is its
// chain's (transferID ends with the chain): a balance gap has no hash, and
// a transaction with no chain id (before EIP-155) has one hash on every
// chain it is replayed on.

// chainKeyed are the buckets whose every key schema 13 puts under a chain
// (the transfers' buckets too, their identity ending with it:
// rekeyTransfers).
var chainKeyed = [][]byte{
	bucketBySender, bucketOpen, bucketUnfinal, bucketUnsettled, bucketCounts,
	bucketChainUnfinal,
	bucketAuthNonces, bucketAuthOpen, bucketAuthPayer, bucketAuthUnfinal,
	bucketSpentNonces,
}

// needHome are the buckets a schema 12 file cannot migrate without a home
// chain while any holds a key: what they hold is one chain's.
var needHome = [][]byte{
	bucketPayments, bucketUnmatched, bucketWatch, bucketTransfers, bucketAuthNonces,
	bucketRelayTxs, bucketSpentNonces, bucketBySender,
}

// migrateChains brings a schema 12 file to schema 13 in one bbolt
// transaction (the migration runner's): every payment and unmatched
// receipt gets home as its chain, every request with no Chains gets
// [home], every key of the per-chain buckets goes under home, and the
// watcher's cursor becomes home's. A crash leaves the file wholly 12 or
// wholly 13. A file holding nothing of a chain needs no home: its zero
// counts and sums are dropped. It refuses home, writing nothing, when what
// the file holds to settle or to pay is signed for another chain
// (signedOn; chainOf reads a request's document, nil: only handovers'
// raw transactions are read).
func migrateChains(db *bbolt.DB, path string, log *slog.Logger, home uint64, chainOf func([]byte) (uint64, error)) error {
	return migration{from: schemaV12, to: schemaV13, what: "payments, indexes, sums and the cursor per chain",
		fill: func(tx *bbolt.Tx) ([]any, error) {
			if home == 0 {
				for _, b := range needHome {
					if k, _ := tx.Bucket(b).Cursor().First(); k != nil {
						return nil, fmt.Errorf("bucket %s holds entries: %w", b, ErrNoHomeChain)
					}
				}
				return nil, dropZeros(tx)
			}
			if err := signedOn(tx, home, chainOf); err != nil {
				return nil, err
			}
			w := &wtx{tx: tx}
			payments, err := rewriteValues(w, bucketPayments, func(k, body []byte) ([]byte, error) {
				p, err := decodePayment(k, body)
				if err != nil {
					return nil, err
				}
				p.ChainID = home
				return encodePayment(p)
			})
			if err != nil {
				return nil, err
			}
			if _, err := rewriteValues(w, bucketUnmatched, func(k, body []byte) ([]byte, error) {
				var u unmatchedRecord
				if err := json.Unmarshal(body, &u); err != nil {
					return nil, fmt.Errorf("unmatched: %v: %w", err, ErrCorrupt)
				}
				u.ChainID = home
				return json.Marshal(u)
			}); err != nil {
				return nil, err
			}
			if _, err := rewriteValues(w, bucketRequests, func(k, body []byte) ([]byte, error) {
				r, err := decodeRequest(k, body)
				if err != nil {
					return nil, err
				}
				if len(r.Chains) == 0 {
					r.Chains = []uint64{home}
				}
				return encodeRequest(r)
			}); err != nil {
				return nil, err
			}
			for _, b := range chainKeyed {
				if err := rekey(w, b, home); err != nil {
					return nil, err
				}
			}
			if err := rekeyTransfers(w, home); err != nil {
				return nil, err
			}
			if v, err := getChecked(tx, bucketWatch, keyCursor); err != nil {
				return nil, err
			} else if v != nil {
				v = bytes.Clone(v)
				if err := w.del(bucketWatch, keyCursor); err != nil {
					return nil, err
				}
				if err := w.putChecked(bucketWatch, chainPrefix(home), v); err != nil {
					return nil, err
				}
			}
			return []any{"home_chain", home, "payments", payments}, nil
		}}.run(db, path, log)
}

// signedOn checks, before anything is written, that what a schema 12 file
// holds still to settle or to pay is signed for home. Filed under another
// chain, the home network's broadcaster would send a handover to a node
// that refuses it, the relayer would settle an authorization where it
// fails for good, and a request would be watched for where its payer does
// not pay. Each counts against the chain it names:
//
//   - a handed-over payment, in any state: the chain its Raw names
//     (EIP-155). A legacy transaction with no chain id (before EIP-155) is
//     any chain's, and a Raw that does not decode is left to Open's checks
//     (the till stored only what decoded): such a handover is judged as
//     the others below;
//   - every other payment not final and not failed (queued, broadcast,
//     seen or confirmed: an authorization, a chain payment): the chain of
//     its request's signed document, by chainOf (Options.RequestChain);
//   - every request stored pending (expired ones too: before schema 13 all
//     are one chain's, so they tell the same chain): its document's chain.
//
// With chainOf nil only the handovers' Raw is checked. A document that
// chainOf cannot read (or reads as chain 0), or a payment whose request is
// gone, tells no chain and does not count.
func signedOn(tx *bbolt.Tx, home uint64, chainOf func([]byte) (uint64, error)) error {
	payments, requests := map[uint64]int{}, map[uint64]int{}
	docChain := func(id string) (uint64, bool) {
		if chainOf == nil {
			return 0, false
		}
		v, err := getChecked(tx, bucketRequests, []byte(id))
		if err != nil || v == nil {
			return 0, false // damage is Open's checks' to report
		}
		r, err := decodeRequest([]byte(id), v)
		if err != nil {
			return 0, false
		}
		c, err := chainOf(r.Doc)
		return c, err == nil && c != 0
	}
	err := tx.Bucket(bucketPayments).ForEach(func(k, v []byte) error {
		body, err := checkValue(bucketPayments, k, v)
		if err != nil {
			return err
		}
		p, err := decodePayment(k, body)
		if err != nil {
			return fmt.Errorf("bucket %s: key %x: %w", bucketPayments, k, err)
		}
		if p.Source == SourceHandover && len(p.Raw) > 0 {
			var t types.Transaction
			if t.UnmarshalBinary(p.Raw) == nil && t.Protected() {
				if c := t.ChainId(); c.IsUint64() && c.Uint64() != home {
					payments[c.Uint64()]++
				}
				return nil
			}
		}
		if !p.State.toSettle() {
			return nil
		}
		if c, ok := docChain(p.RequestID); ok && c != home {
			payments[c]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if chainOf != nil {
		err = tx.Bucket(bucketRequests).ForEach(func(k, v []byte) error {
			body, err := checkValue(bucketRequests, k, v)
			if err != nil {
				return err
			}
			r, err := decodeRequest(k, body)
			if err != nil {
				return fmt.Errorf("bucket %s: key %q: %w", bucketRequests, k, err)
			}
			if r.Status != RequestPending {
				return nil
			}
			if c, err := chainOf(r.Doc); err == nil && c != 0 && c != home {
				requests[c]++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(payments)+len(requests) == 0 {
		return nil
	}
	// Name the chain most of them are on (a schema 12 file is one
	// chain's: all of them, unless it was written by hand).
	var chain uint64
	n := func(c uint64) int { return payments[c] + requests[c] }
	for c := range payments {
		if n(c) > n(chain) || (n(c) == n(chain) && c < chain) {
			chain = c
		}
	}
	for c := range requests {
		if n(c) > n(chain) || (n(c) == n(chain) && c < chain) {
			chain = c
		}
	}
	var what []string
	if p := payments[chain]; p > 0 {
		what = append(what, fmt.Sprintf("%d %s", p, plural(p, "payment", "payments")))
	}
	if r := requests[chain]; r > 0 {
		what = append(what, fmt.Sprintf("%d pending %s", r, plural(r, "request", "requests")))
	}
	return fmt.Errorf("the store holds %s signed for chain %d, not for chain %d (the first network's): "+
		"start this release once with chain %d as the first network, then change the networks: %w",
		strings.Join(what, " and "), chain, home, chain, ErrHomeChain)
}

// rewriteValues puts f of every value of bucket back under its key. It
// returns how many it rewrote.
func rewriteValues(w *wtx, bucket []byte, f func(k, body []byte) ([]byte, error)) (int, error) {
	type entry struct{ k, v []byte }
	var all []entry
	// Collect first: bbolt does not promise a cursor survives a Put.
	if err := w.bucket(bucket).ForEach(func(k, v []byte) error {
		body, err := checkValue(bucket, k, v)
		if err != nil {
			return err
		}
		nv, err := f(k, body)
		if err != nil {
			return fmt.Errorf("bucket %s: key %x: %w", bucket, k, err)
		}
		all = append(all, entry{bytes.Clone(k), nv})
		return nil
	}); err != nil {
		return 0, err
	}
	for _, e := range all {
		if err := w.putChecked(bucket, e.k, e.v); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}

// rekey moves every entry of bucket under chain (its CRC, which covers
// the key, sealed again).
func rekey(w *wtx, bucket []byte, chain uint64) error {
	return rekeyBy(w, bucket, func(k, v []byte) ([]byte, []byte, error) { return chainKey(chain, k), v, nil })
}

// rekeyTransfers puts the watcher's transfers under chain: a transfer's
// identity (tx hash || index, or zero || block for a gap) gains the chain
// at its end (transferID), its key in chain_transfers becomes chain ||
// block || identity, and its identity entry names chain || block.
func rekeyTransfers(w *wtx, chain uint64) error {
	if err := rekeyBy(w, bucketTransfers, func(k, v []byte) ([]byte, []byte, error) {
		if len(k) != 8+40 {
			return nil, nil, fmt.Errorf("bucket %s: key %x: %w", bucketTransfers, k, ErrCorrupt)
		}
		return chainKey(chain, binary.BigEndian.AppendUint64(bytes.Clone(k), chain)), v, nil
	}); err != nil {
		return err
	}
	return rekeyBy(w, bucketTransferIDs, func(k, block []byte) ([]byte, []byte, error) {
		if len(k) != 40 || len(block) != 8 {
			return nil, nil, fmt.Errorf("bucket %s: key %x, value of %d bytes: %w", bucketTransferIDs, k, len(block), ErrCorrupt)
		}
		return binary.BigEndian.AppendUint64(bytes.Clone(k), chain), chainKey(chain, block), nil
	})
}

// rekeyBy puts every entry of bucket back as f makes it: a new key and
// value (its CRC, which covers the key, sealed again).
func rekeyBy(w *wtx, bucket []byte, f func(k, v []byte) ([]byte, []byte, error)) error {
	type entry struct{ k, v []byte }
	var all []entry
	if err := w.bucket(bucket).ForEach(func(k, v []byte) error {
		body, err := checkValue(bucket, k, v)
		if err != nil {
			return err
		}
		all = append(all, entry{bytes.Clone(k), bytes.Clone(body)})
		return nil
	}); err != nil {
		return err
	}
	for _, e := range all {
		if err := w.del(bucket, e.k); err != nil {
			return err
		}
	}
	for _, e := range all {
		k, v, err := f(e.k, e.v)
		if err != nil {
			return err
		}
		if err := w.putChecked(bucket, k, v); err != nil {
			return err
		}
	}
	return nil
}

// dropZeros deletes the counts and sums of a file that holds no payment:
// all zero, under no chain. One that is not zero is damage.
func dropZeros(tx *bbolt.Tx) error {
	w := &wtx{tx: tx}
	for _, b := range [][]byte{bucketCounts, bucketUnsettled} {
		var keys [][]byte
		if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
			body, err := checkValue(b, k, v)
			if err != nil {
				return err
			}
			zero := string(body) == "0" || len(body) == 0 || bytes.Equal(body, countBytes(0))
			if !zero {
				return fmt.Errorf("bucket %s: key %q holds %x with no payment stored: %w", b, k, body, ErrCorrupt)
			}
			keys = append(keys, bytes.Clone(k))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := w.del(b, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkChainKeys requires, in a schema 13 file, every count to be a
// chain's count of a known state and every unsettled sum a chain's sum of
// an asset: a key without its chain would be counted by no chain's view.
// (The other per-chain buckets' keys are checked against the records
// they name, with their chain: checkIndexes, checkUnfinal, checkChain,
// checkAuthorizations, checkBounded.)
func checkChainKeys(tx *bbolt.Tx) error {
	if err := tx.Bucket(bucketCounts).ForEach(func(k, _ []byte) error {
		if len(k) <= 8 || !PaymentState(k[8:]).Known() {
			return fmt.Errorf("bucket %s: key %q is no chain's count of a state: %w", bucketCounts, k, ErrCorrupt)
		}
		return nil
	}); err != nil {
		return err
	}
	return tx.Bucket(bucketUnsettled).ForEach(func(k, _ []byte) error {
		if len(k) <= 8 {
			return fmt.Errorf("bucket %s: key %q is no chain's asset: %w", bucketUnsettled, k, ErrCorrupt)
		}
		return nil
	})
}
