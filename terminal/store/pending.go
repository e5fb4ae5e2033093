package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// PendingRequests returns the pending requests that expire at or after from
// (the expiry index's entries from there on: requests made and not yet
// paid, cancelled or reported expired) whose id match accepts, in expiry
// order, at most limit of them (more says there may be others). It reads
// the index's keys, each holding its id, and the records of the matches
// only: O(P) in the requests payable at from, which neither the store nor
// the queue grows. The short link (checkout.RequestByCode) finds its
// request so, by bits of the id that are random (a request id's first
// ones are its time: request.New). A nil match or a limit under 1
// returns nothing.
func (s *Store) PendingRequests(from time.Time, match func(id string) bool, limit int) ([]Request, error) {
	if match == nil || limit < 1 {
		return nil, nil
	}
	var out []Request
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRequestExpiry).Cursor()
		at := binary.BigEndian.AppendUint64(nil, uint64(max(0, from.UnixNano())))
		for k, v := c.Seek(at); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) <= 8 {
				return fmt.Errorf("bucket %s: key %x: %w", bucketRequestExpiry, k, ErrCorrupt)
			}
			if !match(string(k[8:])) {
				continue
			}
			id, err := checkValue(bucketRequestExpiry, k, v)
			if err != nil {
				return err
			}
			body, err := getChecked(tx, bucketRequests, id)
			if err != nil {
				return err
			}
			if body == nil {
				return fmt.Errorf("bucket %s: key %x names request %q, which is not stored: %w", bucketRequestExpiry, k, id, ErrCorrupt)
			}
			r, err := decodeRequest(id, body)
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
		return nil, fmt.Errorf("pending requests from %s: %w", from.Format(time.RFC3339), err)
	}
	return out, nil
}
