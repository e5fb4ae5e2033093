package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"
)

// unchain turns a schema 13 file's layout (one chain's) back into schema
// 12's, in tx: keys out from under their chain, the cursor under its old
// key, the records without chain_id or chains. The migration tests of
// older schemas make their file with this build and step it back so.
func unchain(tx *bbolt.Tx) error {
	if err := back13(tx); err != nil {
		return err
	}
	type entry struct{ k, v []byte }
	for _, b := range chainKeyed {
		var all []entry
		if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
			body, err := checkValue(b, k, v)
			if err != nil {
				return err
			}
			all = append(all, entry{bytes.Clone(k), bytes.Clone(body)})
			return nil
		}); err != nil {
			return err
		}
		for _, e := range all {
			if err := tx.Bucket(b).Delete(e.k); err != nil {
				return err
			}
		}
		for _, e := range all {
			if err := tx.Bucket(b).Put(e.k[8:], seal(b, e.k[8:], e.v)); err != nil {
				return err
			}
		}
	}
	rewrite := func(b []byte, f func(k, body []byte) ([]byte, error)) error {
		var all []entry
		if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
			body, err := checkValue(b, k, v)
			if err != nil {
				return err
			}
			nv, err := f(k, body)
			all = append(all, entry{bytes.Clone(k), nv})
			return err
		}); err != nil {
			return err
		}
		for _, e := range all {
			if err := tx.Bucket(b).Put(e.k, seal(b, e.k, e.v)); err != nil {
				return err
			}
		}
		return nil
	}
	drop := func(field string) func(k, body []byte) ([]byte, error) {
		return func(k, body []byte) ([]byte, error) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, fmt.Errorf("%x: %w", k, err)
			}
			delete(m, field)
			return json.Marshal(m)
		}
	}
	if err := rewrite(bucketPayments, drop("chain_id")); err != nil {
		return err
	}
	if err := rewrite(bucketUnmatched, drop("chain_id")); err != nil {
		return err
	}
	if err := rewrite(bucketRequests, drop("chains")); err != nil {
		return err
	}
	// The transfers' identities end with their chain too.
	for _, b := range [][]byte{bucketTransfers, bucketTransferIDs} {
		var all []entry
		if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
			body, err := checkValue(b, k, v)
			if err != nil {
				return err
			}
			all = append(all, entry{bytes.Clone(k), bytes.Clone(body)})
			return nil
		}); err != nil {
			return err
		}
		for _, e := range all {
			if err := tx.Bucket(b).Delete(e.k); err != nil {
				return err
			}
		}
		for _, e := range all {
			k, v := e.k[8:len(e.k)-8], e.v
			if bytes.Equal(b, bucketTransferIDs) {
				k, v = e.k[:len(e.k)-8], e.v[8:]
			}
			if err := tx.Bucket(b).Put(k, seal(b, k, v)); err != nil {
				return err
			}
		}
	}
	w := tx.Bucket(bucketWatch)
	k, v := w.Cursor().First()
	if k == nil {
		return nil
	}
	body, err := checkValue(bucketWatch, k, v)
	if err != nil {
		return err
	}
	body, k = bytes.Clone(body), bytes.Clone(k)
	if err := w.Delete(k); err != nil {
		return err
	}
	return w.Put(keyCursor, seal(bucketWatch, keyCursor, body))
}
