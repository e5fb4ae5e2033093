package store

import (
	"context"
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
