// Package memo keeps the last few values an expensive function made, by
// key: a fixed number of entries, the least recently used dropped first.
//
// It is for small caches (tens of entries) whose values are costly to make
// and cheap to keep: the screen's QR modules and result screens, the API's
// QR PNGs. Lookups scan the entries in order of use, which for so few
// entries costs less than hashing. What a cache may hold in bytes is its
// size times its largest value: callers that store values of any size
// bound them before they Put.
package memo

import "sync"

// Cache holds at most Size values by key. The zero Cache holds nothing;
// make one with New. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	size    int
	entries []entry[K, V] // most recently used first
}

type entry[K comparable, V any] struct {
	key K
	v   V
}

// New returns a Cache holding at most size values (none if size < 1).
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{size: max(size, 0)}
}

// Get returns the value kept for k, and whether there was one; a value
// found becomes the most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == k {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// Put keeps v for k as the most recently used value, replacing what k had
// and dropping the least recently used value when the cache is full.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size == 0 {
		return
	}
	i := 0
	for ; i < len(c.entries); i++ {
		if c.entries[i].key == k {
			break
		}
	}
	if i == len(c.entries) {
		if len(c.entries) < c.size {
			c.entries = append(c.entries, entry[K, V]{})
		} else {
			i = len(c.entries) - 1 // the least recently used gives way
		}
	}
	copy(c.entries[1:i+1], c.entries[:i])
	c.entries[0] = entry[K, V]{k, v}
}

// Len is how many values the cache holds.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
