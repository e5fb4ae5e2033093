package store

import (
	"testing"
)

// RequestsWithPrefix finds by id prefix exactly the requests whose id
// starts with it, in id order, up to the limit, and nothing for an empty
// prefix: what the short link's lookup (checkout.RequestByCode) relies on.
func TestRequestsWithPrefix(t *testing.T) {
	s := openTemp(t)
	for _, id := range []string{"00aa11", "00aa12", "00aa2", "00ab", "00a", "ff"} {
		putRequest(t, s, id)
	}
	for _, c := range []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"00aa1", 8, []string{"00aa11", "00aa12"}},
		{"00aa", 8, []string{"00aa11", "00aa12", "00aa2"}},
		{"00a", 8, []string{"00a", "00aa11", "00aa12", "00aa2", "00ab"}},
		{"00a", 2, []string{"00a", "00aa11"}},
		{"00ac", 8, nil},
		{"ff", 8, []string{"ff"}},
		{"fff", 8, nil},
		{"", 8, nil},
		{"00", 0, nil},
	} {
		got, err := s.RequestsWithPrefix(c.prefix, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if len(ids) != len(c.want) {
			t.Errorf("RequestsWithPrefix(%q, %d) = %q, want %q", c.prefix, c.limit, ids, c.want)
			continue
		}
		for i := range ids {
			if ids[i] != c.want[i] {
				t.Errorf("RequestsWithPrefix(%q, %d) = %q, want %q", c.prefix, c.limit, ids, c.want)
				break
			}
		}
	}
}
