package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func wantFleetBundle(t *testing.T, s *Store, version uint64, raw []byte) {
	t.Helper()
	v, got, err := s.FleetBundle()
	if err != nil || v != version || !bytes.Equal(got, raw) {
		t.Fatalf("FleetBundle = v%d %q %v, want v%d %q", v, got, err, version, raw)
	}
}

func TestFleetBundleNoneStored(t *testing.T) {
	s := openTemp(t)
	v, raw, err := s.FleetBundle()
	if v != 0 || raw != nil || err != nil {
		t.Fatalf("FleetBundle = %d %q %v, want 0 nil nil", v, raw, err)
	}
}

func TestFleetBundleStoredAndRead(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.PutFleetBundle(ctx, 3, []byte(`{"v":3}`)); err != nil {
		t.Fatal(err)
	}
	wantFleetBundle(t, s, 3, []byte(`{"v":3}`))
	if err := s.PutFleetBundle(ctx, 7, []byte(`{"v":7}`)); err != nil {
		t.Fatal(err)
	}
	wantFleetBundle(t, s, 7, []byte(`{"v":7}`))
	s = reopen(t, s)
	wantFleetBundle(t, s, 7, []byte(`{"v":7}`))
}

func TestFleetBundleNotNewerRefused(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.PutFleetBundle(ctx, 5, []byte("five")); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		for _, v := range []uint64{5, 4, 1, 0} {
			err := s.PutFleetBundle(ctx, v, []byte("older"))
			if !errors.Is(err, ErrBundleNotNewer) || !strings.Contains(err.Error(), "v5") {
				t.Errorf("PutFleetBundle(v%d) = %v, want ErrBundleNotNewer naming v5", v, err)
			}
		}
		wantFleetBundle(t, s, 5, []byte("five"))
	}
	check(s)
	check(reopen(t, s))
}

func TestFleetBundleSizeCap(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	err := s.PutFleetBundle(ctx, 1, make([]byte, MaxFleetBundle+1))
	if !errors.Is(err, ErrBundleTooLarge) {
		t.Fatalf("PutFleetBundle(too large) = %v, want ErrBundleTooLarge", err)
	}
	wantFleetBundle(t, s, 0, nil)
	full := bytes.Repeat([]byte{'x'}, MaxFleetBundle)
	if err := s.PutFleetBundle(ctx, 1, full); err != nil {
		t.Fatalf("PutFleetBundle(MaxFleetBundle bytes) = %v", err)
	}
	wantFleetBundle(t, s, 1, full)
}

// A store written before bundles existed gains the bucket at Open.
func TestFleetBucketCreatedInOlderFile(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketFleet) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantFleetBundle(t, s, 0, nil)
	if err := s.PutFleetBundle(context.Background(), 1, []byte("one")); err != nil {
		t.Fatal(err)
	}
}
