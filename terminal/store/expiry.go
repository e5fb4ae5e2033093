package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// Expiry changes nothing stored: a pending request is expired when its time
// has passed (Request.StatusAt). So a request.expired event needs a write
// of its own, and a moment to make it: ExpireRequests, a bounded sweep the
// daemon runs now and then. It reports a request once it can no longer be
// paid at all, at ExpiresAt + MatchGrace (a handover is refused from
// ExpiresAt, but a chain transfer in a block timed up to MatchGrace later
// still pays it), from the request_expiry index: pending requests by
// expiry, entered by PutRequest, left when the request is paid, cancelled
// or reported expired. The sweep reads only the entries it reports, never
// all requests. (A chain transfer recorded late, from a block timed within
// the grace, can still pay a request reported expired: request.paid then
// follows request.expired. The watcher normally runs seconds behind the
// chain, well inside the grace.)

func expiryKey(r Request) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(max(0, r.ExpiresAt.UnixNano()))) // before 1970: first
	return append(k, r.ID...)
}

// enterExpiry enters a pending r in the expiry index.
func enterExpiry(w *wtx, r Request) error {
	return w.putChecked(bucketRequestExpiry, expiryKey(r), []byte(r.ID))
}

// leaveExpiry removes r's entry, if it has one (paid or cancelled).
func leaveExpiry(w *wtx, r Request) error {
	k := expiryKey(r)
	if w.bucket(bucketRequestExpiry).Get(k) == nil {
		return nil
	}
	return w.del(bucketRequestExpiry, k)
}

// ExpireRequests reports, in one durable write, up to limit pending
// requests whose ExpiresAt + MatchGrace is at or before now, each with a
// request.expired event, oldest expiry first, and takes them out of the
// expiry index so none is reported twice. It returns how many it reported;
// call it again while it returns limit. limit <= 0 means 100. Its cost is
// that of the requests it reports.
func (s *Store) ExpireRequests(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	now = storeTime(now)
	n := 0
	err := s.write(ctx, func(w *wtx) error {
		n = 0
		type due struct {
			k []byte
			r Request
		}
		var dues []due
		c := w.bucket(bucketRequestExpiry).Cursor()
		for k, v := c.First(); k != nil && len(dues) < limit; k, v = c.Next() {
			if len(k) < 8 {
				return fmt.Errorf("bucket %s: key %x: %w", bucketRequestExpiry, k, ErrCorrupt)
			}
			if at := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))); at.Add(MatchGrace).After(now) {
				break
			}
			id, err := checkValue(bucketRequestExpiry, k, v)
			if err != nil {
				return err
			}
			r, err := requestByID(w.tx, string(id))
			if err != nil {
				return err
			}
			if r.Status != RequestPending {
				return fmt.Errorf("bucket %s: request %q is %s: %w", bucketRequestExpiry, id, r.Status, ErrCorrupt)
			}
			dues = append(dues, due{bytes.Clone(k), r})
		}
		for _, d := range dues {
			seq, err := w.nextEvent()
			if err != nil {
				return err
			}
			d.r.LastEvent = seq
			enc, err := encodeRequest(d.r)
			if err != nil {
				return err
			}
			if err := w.putChecked(bucketRequests, []byte(d.r.ID), enc); err != nil {
				return err
			}
			if err := w.putEvent(seq, w.requestEvent(EventRequestExpired, d.r, RequestExpired, now)); err != nil {
				return err
			}
			if err := w.del(bucketRequestExpiry, d.k); err != nil {
				return err
			}
		}
		n = len(dues)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire requests: %w", err)
	}
	return n, nil
}

// NextExpiry is when ExpireRequests will next have a request to report:
// the earliest indexed expiry plus MatchGrace. ok is false when no pending
// request waits to be reported. It reads one key, so a daemon can ask it
// often instead of writing a sweep that finds nothing.
func (s *Store) NextExpiry() (at time.Time, ok bool, err error) {
	err = s.viewAny(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketRequestExpiry).Cursor().First()
		if k == nil {
			return nil
		}
		if len(k) < 8 {
			return fmt.Errorf("bucket %s: key %x: %w", bucketRequestExpiry, k, ErrCorrupt)
		}
		at, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).Add(MatchGrace), true
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next expiry: %w", err)
	}
	return at, ok, nil
}

// migrateEvents brings a schema 9 file to schema 10 in one bbolt
// transaction that also records the new version: the event log and its
// sinks start empty (the log reports what happens from now on; nothing
// before it is replayed), and every pending request that can still be paid
// at now is entered in the expiry index, so its expiry is reported. A
// pending request already past its expiry and grace is not: it expired
// before the log began. It then verifies the file again.
func migrateEvents(db *bbolt.DB, path string, log *slog.Logger, now time.Time) error {
	return migration{from: schemaV9, to: schemaV10, what: "the event log",
		buckets: [][]byte{bucketEvents, bucketEventSinks, bucketRequestExpiry},
		fill: func(tx *bbolt.Tx) ([]any, error) {
			n := 0
			w := &wtx{tx: tx}
			err := tx.Bucket(bucketRequests).ForEach(func(k, v []byte) error {
				body, err := checkValue(bucketRequests, k, v)
				if err != nil {
					return err
				}
				r, err := decodeRequest(k, body)
				if err != nil {
					return fmt.Errorf("request %q: %w", k, err)
				}
				if r.Status != RequestPending || !r.ExpiresAt.Add(MatchGrace).After(now) {
					return nil
				}
				n++
				return enterExpiry(w, r)
			})
			return []any{"pending", n}, err
		}}.run(db, path, log)
}
