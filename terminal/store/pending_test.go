package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// PendingRequests reads the requests still pending and not expired at
// from, those whose id match accepts, in expiry order, up to the limit:
// what the short link's lookup (checkout.RequestByCode) relies on. Paid,
// cancelled and expired ones are not read.
func TestPendingRequests(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	put := func(id string, expires time.Duration) {
		r := newRequest(id)
		r.ExpiresAt = t0.Add(expires)
		if err := s.PutRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	put("a-soon", time.Minute)
	put("a-late", time.Hour)
	put("a-gone", -time.Minute) // expired before from
	put("b-one", 30*time.Minute)
	put("a-paid", time.Hour)
	mustAccept(t, s, newPayment("a-paid"))
	put("a-cancelled", time.Hour)
	if _, err := s.CancelRequest(ctx, "a-cancelled", t0); err != nil {
		t.Fatal(err)
	}
	startsA := func(id string) bool { return strings.HasPrefix(id, "a-") }
	for _, c := range []struct {
		name  string
		match func(string) bool
		limit int
		want  []string
	}{
		{"every match, soonest first", startsA, 8, []string{"a-soon", "a-late"}},
		{"up to the limit", startsA, 1, []string{"a-soon"}},
		{"one id", func(id string) bool { return id == "b-one" }, 8, []string{"b-one"}},
		{"none", func(string) bool { return false }, 8, nil},
		{"no match func", nil, 8, nil},
		{"a limit of 0", startsA, 0, nil},
	} {
		got, err := s.PendingRequests(t0, c.match, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
			if r.Status != RequestPending || r.Doc == nil {
				t.Errorf("%s: request %s read as %+v, want it whole and pending", c.name, r.ID, r)
			}
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("%s: PendingRequests = %q, want %q", c.name, ids, c.want)
		}
	}
}

// BenchmarkPendingRequests is the short link's lookup (checkout.
// RequestByCode) with P requests payable: it reads the expiry index's keys
// from now on, so it grows with P, not with the store. Beside it, the
// floor: one request read by its full id (a seek), in the same store.
func BenchmarkPendingRequests(b *testing.B) {
	for _, p := range []int{10, 1_000, 10_000} {
		s, err := Open(filepath.Join(b.TempDir(), "pos.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range p {
			r := newRequest(fmt.Sprintf("%012x7%019x", i, i))
			r.ExpiresAt = t0.Add(time.Hour)
			if err := s.PutRequest(context.Background(), r); err != nil {
				b.Fatal(err)
			}
		}
		last := fmt.Sprintf("%012x7%019x", p-1, p-1) // read after every other key
		match := func(id string) bool { return id[len(id)-10:] == last[len(last)-10:] }
		b.Run(fmt.Sprintf("pending=%d/by-code", p), func(b *testing.B) {
			for b.Loop() {
				if rs, err := s.PendingRequests(t0, match, 2); err != nil || len(rs) != 1 {
					b.Fatalf("%d found, %v", len(rs), err)
				}
			}
		})
		b.Run(fmt.Sprintf("pending=%d/by-id-floor", p), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Request(last); err != nil {
					b.Fatal(err)
				}
			}
		})
		s.Close()
	}
}
