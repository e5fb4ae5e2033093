package store

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"
)

// RequestsWithPrefix returns the stored requests whose id starts with
// prefix, in id order, at most limit of them (more says there may be
// others). It seeks the requests bucket's B+tree to prefix, so it costs
// O(log n) in the stored requests plus the matches read: the short link
// (checkout.RequestByCode) finds its request by the first 10 hex digits of
// the id this way, without an index of its own. An empty prefix or a
// limit under 1 returns nothing.
func (s *Store) RequestsWithPrefix(prefix string, limit int) ([]Request, error) {
	if prefix == "" || limit < 1 {
		return nil, nil
	}
	var out []Request
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRequests)
		if b == nil {
			return fmt.Errorf("bucket %s missing: %w", bucketRequests, ErrCorrupt)
		}
		p := []byte(prefix)
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(out) < limit; k, v = c.Next() {
			body, err := checkValue(bucketRequests, k, v)
			if err != nil {
				return err
			}
			r, err := decodeRequest(k, body)
			if err != nil {
				return err
			}
			if err := withShared(tx, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("requests with id prefix %q: %w", prefix, err)
	}
	return out, nil
}
