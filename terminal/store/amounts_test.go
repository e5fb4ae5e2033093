package store

import (
	"context"
	"math/big"
	"testing"
	"time"
)

// FreeAmount walks the index once from the keyed amount: an amount is
// held by a pending request in its grace whatever entries of it are stale
// (before or after the holder in ID order), free when its only entries
// are stale or it has none; another asset's entries, even one whose
// symbol extends this one's, hold nothing of it.
func TestFreeAmountSkipsStaleEntriesAndOtherAssets(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	put := func(id, asset string, amount int64, created time.Time, expires time.Duration) {
		t.Helper()
		r := newRequest(id)
		r.Asset, r.Amount, r.CreatedAt, r.ExpiresAt = asset, big.NewInt(amount), created, created.Add(expires)
		if err := s.PutRequest(ctx, r); err != nil {
			t.Fatalf("PutRequest(%s): %v", id, err)
		}
	}
	later := t0.Add(10 * time.Minute) // the stale ones are past expiry and grace by then
	put("a-stale-100", "ETH", 100, t0, time.Minute)
	put("b-holds-100", "ETH", 100, later, time.Hour) // stale entry first
	put("b-stale-101", "ETH", 101, t0, time.Minute)
	put("a-holds-101", "ETH", 101, later, time.Hour) // holder first in key order
	put("a-stale-102", "ETH", 102, t0, time.Minute)  // 102: stale alone
	put("x-holds-103", "ETH", 103, t0, time.Hour)
	put("t-holds-102", "ETHX", 102, t0, time.Hour) // another asset
	put("u-holds-102", "TUSD", 102, t0, time.Hour)

	for _, tc := range []struct {
		from, room int64
		want       int64 // -1: none
	}{
		{100, 10, 102},
		{100, 2, -1},
		{100, 3, 102},
		{103, 1, -1},
		{103, 2, 104},
		{99, 1, 99},
		{104, 5, 104},
	} {
		free, ok, err := s.FreeAmount("ETH", big.NewInt(tc.from), big.NewInt(tc.room), later)
		switch {
		case err != nil:
			t.Errorf("FreeAmount(%d, room %d): %v", tc.from, tc.room, err)
		case tc.want < 0 && ok:
			t.Errorf("FreeAmount(%d, room %d) = %v, want none free", tc.from, tc.room, free)
		case tc.want >= 0 && (!ok || free.Int64() != tc.want):
			t.Errorf("FreeAmount(%d, room %d) = %v %v, want %d", tc.from, tc.room, free, ok, tc.want)
		}
	}
}

// An index entry that cannot be read fails the search wherever it lies
// among its amount's entries, after the holder too: the store never reads
// past damage in what decides a request's amount. A key too short to name
// an amount names none and is passed over. (Open refuses both; this is
// damage after it.)
func TestFreeAmountFailsOnADamagedEntryAfterTheHolder(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	r := newRequest("a-holds-100")
	r.Amount = big.NewInt(100)
	if err := s.PutRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	short := append([]byte{3}, "ETH\xff"...)
	if err := s.write(ctx, func(w *wtx) error { return w.putChecked(bucketAmounts, short, []byte("nothing")) }); err != nil {
		t.Fatal(err)
	}
	if free, ok, err := s.FreeAmount("ETH", big.NewInt(100), big.NewInt(10), t0); err != nil || !ok || free.Int64() != 101 {
		t.Fatalf("with a short key in the index: %v %v %v, want 101", free, ok, err)
	}
	k, err := amountKey("ETH", big.NewInt(100), "z-missing")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, func(w *wtx) error { return w.putChecked(bucketAmounts, k, []byte("z-missing")) }); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.FreeAmount("ETH", big.NewInt(100), big.NewInt(10), t0)
	wantErr(t, "FreeAmount past an entry naming no request", err, ErrCorrupt)
}
