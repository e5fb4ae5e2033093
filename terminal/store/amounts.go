package store

import (
	"bytes"
	"fmt"
	"math/big"
	"time"

	"go.etcd.io/bbolt"
)

// Unique pending amounts.
//
// A transfer seen on chain names no request: the store tells which request
// it pays by its asset and exact amount alone. So no two requests that a
// transfer could pay at once may share (asset, amount): PutRequest refuses
// one with ErrAmountTaken while another request of that asset and amount
// is pending and not past its expiry plus MatchGrace, checked and reserved
// in the same write, so two requests made at once cannot both have it. The
// till then asks FreeAmount for the smallest free amount above the one
// keyed (a tail in the smallest unit, checkout's rule) and signs that.
//
// The index (bucketAmounts) holds an entry per pending request, keyed by
// asset and amount then request ID. An entry leaves when its request is
// paid or cancelled; an expired request's entry stays, so that a transfer
// made in time but recorded late (the terminal was offline) still finds
// it, until a later PutRequest of the same asset and amount prunes it
// AmountKeep after its expiry.

// MatchGrace is how long after a request's expiry a transfer on chain still
// pays it, measured by the block's timestamp: a payer who sent in the last
// seconds waits for a block (12 s on Ethereum, block timestamps may lag the
// terminal's clock by a few seconds). Within it the request's amount stays
// reserved, so a transfer in the grace cannot pay a newer request.
const MatchGrace = 30 * time.Second

// AmountKeep is how long after its expiry a pending request stays in the
// amounts index, for transfers recorded late; a transfer recorded later
// than that for an expired request is unmatched either way (it is outside
// the grace), so only the reason it is given changes.
const AmountKeep = 24 * time.Hour

// maxAssetKey bounds the asset symbol in an index key.
const maxAssetKey = 255

// amountKey is an amounts index key: len(asset) || asset || amount (32
// bytes, big-endian) || request ID; with id "" it is the prefix of every
// request of (asset, amount).
func amountKey(asset string, amount *big.Int, id string) ([]byte, error) {
	k := make([]byte, 0, 1+len(asset)+32+len(id))
	if len(asset) == 0 || len(asset) > maxAssetKey {
		return nil, fmt.Errorf("asset %q: want 1 to %d bytes", asset, maxAssetKey)
	}
	if amount == nil || amount.Sign() < 0 || amount.BitLen() > 256 {
		return nil, fmt.Errorf("amount %v: want 0 to 2^256-1", amount)
	}
	k = append(k, byte(len(asset)))
	k = append(k, asset...)
	var a [32]byte
	amount.FillBytes(a[:])
	k = append(k, a[:]...)
	return append(k, id...), nil
}

// reservedBy returns the pending request that holds (asset, amount) at
// now: pending, and now before its expiry plus MatchGrace (its ID, status
// and expiry: each request of the amount is read for those alone). It also returns
// the index entries of that (asset, amount) that are stale at now (their
// request no longer pending, or expired more than AmountKeep ago), for
// the caller to prune.
func reservedBy(tx *bbolt.Tx, asset string, amount *big.Int, now time.Time) (holder *Request, stale [][]byte, err error) {
	prefix, err := amountKey(asset, amount, "")
	if err != nil {
		return nil, nil, err
	}
	c := tx.Bucket(bucketAmounts).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		id, err := checkValue(bucketAmounts, k, v)
		if err != nil {
			return nil, nil, err
		}
		status, expires, err := requestHold(tx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("amounts index names request %q: %w", id, err)
		}
		switch {
		case status != RequestPending || !now.Before(expires.Add(AmountKeep)):
			stale = append(stale, bytes.Clone(k))
		case now.Before(expires.Add(MatchGrace)) && holder == nil:
			holder = &Request{ID: string(id), Status: status, ExpiresAt: expires}
		}
	}
	return holder, stale, nil
}

// pendingWithAmount returns the requests in the amounts index for (asset,
// amount), in request ID order: pending ones, expired ones included.
func pendingWithAmount(tx *bbolt.Tx, asset string, amount *big.Int) ([]Request, error) {
	prefix, err := amountKey(asset, amount, "")
	if err != nil {
		return nil, err
	}
	var out []Request
	c := tx.Bucket(bucketAmounts).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		id, err := checkValue(bucketAmounts, k, v)
		if err != nil {
			return nil, err
		}
		r, err := requestByID(tx, string(id))
		if err != nil {
			return nil, fmt.Errorf("amounts index names request %q: %w", id, err)
		}
		if r.Status == RequestPending {
			out = append(out, r)
		}
	}
	return out, nil
}

// requestHold reads the status and expiry of the request stored under id,
// which an index names (its absence is damage): of a binary record those
// alone, of a JSON one the whole record.
func requestHold(tx *bbolt.Tx, id []byte) (RequestStatus, time.Time, error) {
	return requestHoldIn(tx.Bucket(bucketRequests), id)
}

// requestHoldIn is requestHold in the requests bucket b, for a caller
// that reads many (nil: the bucket is missing).
func requestHoldIn(b *bbolt.Bucket, id []byte) (RequestStatus, time.Time, error) {
	if b == nil {
		return "", time.Time{}, fmt.Errorf("bucket %s missing: %w", bucketRequests, ErrCorrupt)
	}
	v, err := checkValue(bucketRequests, id, b.Get(id))
	if err != nil {
		return "", time.Time{}, err
	}
	switch {
	case v == nil:
		return "", time.Time{}, fmt.Errorf("request %q missing: %w", id, ErrCorrupt)
	case len(v) > 0 && v[0] == binVersion:
		return requestHoldBinary(v)
	}
	r, err := decodeRequestJSON(v)
	return r.Status, r.ExpiresAt, err
}

func requestByID(tx *bbolt.Tx, id string) (Request, error) {
	v, err := getChecked(tx, bucketRequests, []byte(id))
	if err != nil {
		return Request{}, err
	}
	if v == nil {
		return Request{}, fmt.Errorf("request %q missing: %w", id, ErrCorrupt)
	}
	return decodeRequest([]byte(id), v)
}

// unreserve removes r's entry from the amounts index (it was paid or
// cancelled).
func unreserve(w *wtx, r Request) error {
	k, err := amountKey(r.Asset, r.Amount, r.ID)
	if err != nil {
		return err
	}
	if w.bucket(bucketAmounts).Get(k) == nil {
		return nil
	}
	return w.del(bucketAmounts, k)
}

// reserve enters r in the amounts index.
func reserve(w *wtx, r Request) error {
	k, err := amountKey(r.Asset, r.Amount, r.ID)
	if err != nil {
		return err
	}
	return w.putChecked(bucketAmounts, k, []byte(r.ID))
}

// FreeAmount returns the smallest amount in [amount, amount+room) of asset
// that no request holds at now (see PutRequest), and ok false if every one
// is held. It only reads: PutRequest decides, so a caller racing another
// for the same amount gets ErrAmountTaken and asks again.
func (s *Store) FreeAmount(asset string, amount, room *big.Int, now time.Time) (free *big.Int, ok bool, err error) {
	if room == nil || room.Sign() <= 0 {
		room = big.NewInt(1)
	}
	if _, err := amountKey(asset, amount, ""); err != nil {
		return nil, false, fmt.Errorf("free amount: %w", err)
	}
	now = storeTime(now)
	end := new(big.Int).Add(amount, room)
	err = s.view(func(tx *bbolt.Tx) error {
		free, ok, err = firstFree(tx, asset, amount, end, now)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return free, ok, nil
}

// firstFree returns the smallest amount in [amount, end) of asset that no
// request holds at now, in one pass over the index from (asset, amount):
// each entry of each amount up to the free one is read once, in key
// order, with its request's status and expiry (as reservedBy reads them:
// the same entries, the same errors). Holders are counted in cursor
// steps, not in seeks: a till keying one price all day (1,000 pending
// requests on consecutive tails) finds the next tail in one walk.
func firstFree(tx *bbolt.Tx, asset string, amount, end *big.Int, now time.Time) (*big.Int, bool, error) {
	prefix, err := amountKey(asset, amount, "")
	if err != nil {
		return nil, false, err
	}
	assetLen := 1 + len(asset) // the length byte and the symbol
	next := new(big.Int).Set(amount)
	sought := prefix[assetLen:] // next, as the index's 32 bytes
	held := false               // an entry of next read so far holds it
	// advance moves next on by one, once all its entries are read and one
	// held it; false: none is left below end.
	advance := func() (bool, error) {
		if next.Add(next, big.NewInt(1)); next.Cmp(end) >= 0 {
			return false, nil
		}
		k, err := amountKey(asset, next, "")
		if err != nil {
			return false, fmt.Errorf("free amount %s %s: %w", next, asset, err)
		}
		sought, held = k[assetLen:], false
		return true, nil
	}
	requests := tx.Bucket(bucketRequests)
	c := tx.Bucket(bucketAmounts).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix[:assetLen]); k, v = c.Next() {
		if len(k) < assetLen+32 {
			continue // no (asset, amount) of its own: no amount's seek meets it
		}
		if bytes.Compare(k[assetLen:assetLen+32], sought) > 0 {
			// Past next's entries (they only grow by one, so never before it).
			if !held {
				return next, true, nil
			}
			if more, err := advance(); !more || err != nil {
				return nil, false, err
			}
			if bytes.Compare(k[assetLen:assetLen+32], sought) > 0 {
				return next, true, nil // no entry of next: free
			}
		}
		id, err := checkValue(bucketAmounts, k, v)
		if err != nil {
			return nil, false, fmt.Errorf("free amount %s %s: %w", next, asset, err)
		}
		status, expires, err := requestHoldIn(requests, id)
		if err != nil {
			return nil, false, fmt.Errorf("free amount %s %s: amounts index names request %q: %w", next, asset, id, err)
		}
		if status == RequestPending && now.Before(expires.Add(MatchGrace)) {
			held = true
		}
	}
	if !held {
		return next, true, nil
	}
	if more, err := advance(); !more || err != nil {
		return nil, false, err
	}
	return next, true, nil // the index holds nothing past the last held amount
}
