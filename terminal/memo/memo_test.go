package memo

import (
	"fmt"
	"sync"
	"testing"
)

// TestCacheKeepsTheMostRecentlyUsed: each step's lookups find exactly the
// values a least-recently-used cache of that size would still hold.
func TestCacheKeepsTheMostRecentlyUsed(t *testing.T) {
	type step struct {
		op   string // "put" or "get"
		key  string
		v    int
		want []string // keys held afterwards, most recent first
	}
	for _, tc := range []struct {
		name  string
		size  int
		steps []step
	}{
		{"size 0 holds nothing", 0, []step{{"put", "a", 1, nil}, {"get", "a", 0, nil}}},
		{"fills up in order", 3, []step{
			{"put", "a", 1, []string{"a"}}, {"put", "b", 2, []string{"b", "a"}}, {"put", "c", 3, []string{"c", "b", "a"}},
		}},
		{"a full cache drops the least recently used", 2, []step{
			{"put", "a", 1, []string{"a"}}, {"put", "b", 2, []string{"b", "a"}}, {"put", "c", 3, []string{"c", "b"}},
		}},
		{"a get saves a value from being dropped", 2, []step{
			{"put", "a", 1, []string{"a"}}, {"put", "b", 2, []string{"b", "a"}}, {"get", "a", 1, []string{"a", "b"}},
			{"put", "c", 3, []string{"c", "a"}},
		}},
		{"a put of a held key replaces its value in place", 3, []step{
			{"put", "a", 1, []string{"a"}}, {"put", "b", 2, []string{"b", "a"}}, {"put", "a", 9, []string{"a", "b"}},
			{"get", "a", 9, []string{"a", "b"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New[string, int](tc.size)
			for i, s := range tc.steps {
				switch s.op {
				case "put":
					c.Put(s.key, s.v)
				case "get":
					v, ok := c.Get(s.key)
					if ok != (s.want != nil) || v != s.v {
						t.Fatalf("step %d: Get(%q) = %d, %v; want %d, %v", i, s.key, v, ok, s.v, s.want != nil)
					}
				}
				if got := keys(c); fmt.Sprint(got) != fmt.Sprint(s.want) {
					t.Fatalf("step %d (%s %s): holds %v, want %v", i, s.op, s.key, got, s.want)
				}
			}
		})
	}
}

func keys(c *Cache[string, int]) []string {
	var ks []string
	for _, e := range c.entries {
		ks = append(ks, e.key)
	}
	return ks
}

// TestCacheUnderConcurrentUse: many goroutines putting and getting never
// see a value under another key nor grow the cache past its size (run
// with -race).
func TestCacheUnderConcurrentUse(t *testing.T) {
	c := New[int, int](8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (g*7 + i) % 20
				if v, ok := c.Get(k); ok && v != k*k {
					t.Errorf("Get(%d) = %d, want %d", k, v, k*k)
					return
				}
				c.Put(k, k*k)
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n != 8 {
		t.Errorf("Len = %d after many puts, want 8", n)
	}
}
