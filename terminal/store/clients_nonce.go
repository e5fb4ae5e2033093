package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"
)

// Nonce limits. pruneBatch bounds the expired entries one UseNonce removes:
// each call adds one entry and may remove up to pruneBatch, so a backlog
// drains while no call pays for all of it.
const (
	MaxNonce   = 64
	pruneBatch = 32
)

var (
	minNonceExpiry = time.Unix(0, 0)
	maxNonceExpiry = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func nonceKey(number, nonce string) []byte {
	k := make([]byte, 0, len(number)+1+len(nonce))
	k = append(k, number...)
	k = append(k, 0)
	return append(k, nonce...)
}

func expiryBytes(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())) }

// UseNonce records that the client with that service number used nonce,
// to be remembered until expires; it is durable when UseNonce returns nil,
// and being in the file it survives restarts. A nonce of that client
// already recorded with an expiry at or after now gives ErrNonceReplayed
// and changes nothing; once now is past its expiry it may be used again.
// Each call also deletes up to pruneBatch expired entries (of any client).
// The client itself is not looked up.
func (s *Store) UseNonce(ctx context.Context, number, nonce string, expires, now time.Time) error {
	if err := validNumber(number); err != nil {
		return fmt.Errorf("use nonce: %v", err)
	}
	switch {
	case nonce == "" || len(nonce) > MaxNonce:
		return fmt.Errorf("use nonce of client %q: nonce of %d bytes: want 1 to %d", number, len(nonce), MaxNonce)
	case expires.Before(minNonceExpiry) || expires.After(maxNonceExpiry):
		return fmt.Errorf("use nonce of client %q: expiry %s out of range", number, expires)
	case expires.Before(now):
		return fmt.Errorf("use nonce of client %q: expiry %s before now %s", number, expires, now)
	}
	key := nonceKey(number, nonce)
	exp := expiryBytes(expires)
	return s.operatorWrite(ctx, func(w *wtx) error {
		old, err := w.getChecked(bucketClientNonces, key)
		if err != nil {
			return fmt.Errorf("use nonce of client %q: %w", number, err)
		}
		if old != nil {
			if len(old) != 8 {
				return fmt.Errorf("use nonce of client %q: stored expiry of %d bytes: %w", number, len(old), ErrCorrupt)
			}
			if int64(binary.BigEndian.Uint64(old)) >= now.UnixNano() {
				return fmt.Errorf("use nonce %q of client %q: %w", nonce, number, ErrNonceReplayed)
			}
		}
		// Checks done; writes follow.
		if old != nil {
			if err := w.del(bucketNonceExpiry, append(append([]byte(nil), old...), key...)); err != nil {
				return fmt.Errorf("use nonce of client %q: %w", number, err)
			}
		}
		if err := w.putChecked(bucketClientNonces, key, exp); err != nil {
			return fmt.Errorf("use nonce of client %q: %w", number, err)
		}
		if err := w.putChecked(bucketNonceExpiry, append(append([]byte(nil), exp...), key...), []byte{1}); err != nil {
			return fmt.Errorf("use nonce of client %q: %w", number, err)
		}
		return pruneNonces(w, now)
	})
}

// pruneNonces deletes up to pruneBatch nonce entries that expired before
// now, oldest first.
func pruneNonces(w *wtx, now time.Time) error {
	cutoff := uint64(now.UnixNano())
	var idx [][]byte
	// Only keys are read here; the expiry is the key's first 8 bytes.
	c := w.bucket(bucketNonceExpiry).Cursor()
	for k, _ := c.First(); k != nil && len(idx) < pruneBatch; k, _ = c.Next() {
		if len(k) < 8 || binary.BigEndian.Uint64(k[:8]) >= cutoff {
			break
		}
		idx = append(idx, append([]byte(nil), k...))
	}
	for _, k := range idx {
		if err := w.del(bucketNonceExpiry, k); err != nil {
			return fmt.Errorf("prune nonces: %w", err)
		}
		// The nonce entry goes only if it still holds this expiry: a nonce
		// reused after expiring has a newer one.
		nk := k[8:]
		held, err := w.getChecked(bucketClientNonces, nk)
		if err != nil {
			return fmt.Errorf("prune nonces: %w", err)
		}
		if bytes.Equal(held, k[:8]) {
			if err := w.del(bucketClientNonces, nk); err != nil {
				return fmt.Errorf("prune nonces: %w", err)
			}
		}
	}
	return nil
}
