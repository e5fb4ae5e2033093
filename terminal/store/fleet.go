package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// The fleet config bundle: the last one the terminal accepted, as received,
// and the highest version it ever accepted. Layout of bucketFleet:
// "highest" -> version (8 bytes, big-endian); "bundle" -> version (8) ||
// the bundle's bytes. Both change in one transaction, so after a crash the
// file holds the old pair or the new one. The store does not read bundles:
// checking them is terminal/fleet's job.
var (
	bucketFleet     = []byte("fleet")
	keyFleetHighest = []byte("highest")
	keyFleetBundle  = []byte("bundle")
)

// MaxFleetBundle is the largest bundle PutFleetBundle stores, in bytes.
const MaxFleetBundle = 256 << 10

var (
	// ErrBundleNotNewer: PutFleetBundle was given a version at or below the
	// highest ever stored.
	ErrBundleNotNewer = errors.New("fleet bundle version not above the highest accepted")
	// ErrBundleTooLarge: PutFleetBundle was given more than MaxFleetBundle
	// bytes.
	ErrBundleTooLarge = errors.New("fleet bundle too large")
)

// FleetBundle returns the last bundle PutFleetBundle stored and its version;
// (0, nil, nil) if none was ever stored.
func (s *Store) FleetBundle() (version uint64, raw []byte, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		v, err := getChecked(tx, bucketFleet, keyFleetBundle)
		if err != nil {
			return err
		}
		if v == nil {
			return nil
		}
		if len(v) < 8 {
			return fmt.Errorf("fleet bundle record of %d bytes: %w", len(v), ErrCorrupt)
		}
		version = binary.BigEndian.Uint64(v)
		raw = append([]byte(nil), v[8:]...)
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("fleet bundle: %w", err)
	}
	return version, raw, nil
}

// PutFleetBundle stores raw as the current bundle and version as the highest
// accepted, in one durable transaction: when it returns nil both are on
// disk; otherwise neither changed. A version at or below the highest ever
// stored gives ErrBundleNotNewer, so a bundle can never be rolled back, not
// even across restarts or clock changes. raw over MaxFleetBundle bytes gives
// ErrBundleTooLarge.
func (s *Store) PutFleetBundle(ctx context.Context, version uint64, raw []byte) error {
	if len(raw) > MaxFleetBundle {
		return fmt.Errorf("store fleet bundle v%d: %d bytes, at most %d: %w", version, len(raw), MaxFleetBundle, ErrBundleTooLarge)
	}
	ver := binary.BigEndian.AppendUint64(nil, version)
	rec := append(append([]byte(nil), ver...), raw...)
	return s.write(ctx, func(w *wtx) error {
		var highest uint64
		v, err := w.getChecked(bucketFleet, keyFleetHighest)
		if err != nil {
			return fmt.Errorf("store fleet bundle v%d: %w", version, err)
		}
		switch len(v) {
		case 0:
		case 8:
			highest = binary.BigEndian.Uint64(v)
		default:
			return fmt.Errorf("store fleet bundle v%d: highest version of %d bytes: %w", version, len(v), ErrCorrupt)
		}
		if version <= highest {
			return fmt.Errorf("store fleet bundle v%d: highest accepted is v%d: %w", version, highest, ErrBundleNotNewer)
		}
		// Checks done; writes follow.
		if err := w.putChecked(bucketFleet, keyFleetBundle, rec); err != nil {
			return fmt.Errorf("store fleet bundle v%d: %w", version, err)
		}
		if err := w.putChecked(bucketFleet, keyFleetHighest, ver); err != nil {
			return fmt.Errorf("store fleet bundle v%d: %w", version, err)
		}
		return nil
	})
}
