package checkout

import (
	"errors"
	"sync"
)

// MaxWatchers caps the watches open at once (an integrator's
// GET /v1/requests/{id}?wait=…): each holds a connection and a handler's
// goroutine, so a flood of waits is refused rather than let grow.
const MaxWatchers = 256

// ErrTooManyWatchers is Watch's answer when MaxWatchers watches are open.
var ErrTooManyWatchers = errors.New("too many watches of requests open")

// watchers wakes whoever watches a request when the till has written
// something that may have changed its status: a payment accepted (handed
// over, authorized or seen on chain), a cancel. It only wakes: a watcher
// reads the status from the store afterwards, so a lost wake-up can make
// it wait longer, never answer wrong. Expiry needs no wake-up: it comes at
// a time the watcher knows.
type watchers struct {
	mu   sync.Mutex
	n    int               // watches open, at most max
	max  int               // MaxWatchers; tests of the package may lower it
	byID map[string]*watch // one per request watched; removed when it changes or its last watcher stops
}

// watch is the watchers of one request: ch is closed when it changes.
type watch struct {
	ch chan struct{}
	n  int
}

// Watch returns a channel closed after the next change the till writes to
// request id, and stop, which the caller must call when it stops
// watching. Watch before reading the request: a change written between
// the two then still closes the channel. At MaxWatchers open it returns
// ErrTooManyWatchers. The channel is shared by every watcher of id; no
// goroutine or timer is started.
func (s *Service) Watch(id string) (changed <-chan struct{}, stop func(), err error) {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n >= w.max {
		return nil, nil, ErrTooManyWatchers
	}
	e, ok := w.byID[id]
	if !ok {
		if w.byID == nil {
			w.byID = make(map[string]*watch)
		}
		e = &watch{ch: make(chan struct{})}
		w.byID[id] = e
	}
	w.n++
	e.n++
	var once sync.Once
	return e.ch, func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.n--
			// A request no one watches any more leaves the map (unless a
			// change already took it out, or replaced it with a new
			// watch): the map never outgrows the watches open.
			if e.n--; e.n == 0 && w.byID[id] == e {
				delete(w.byID, id)
			}
		})
	}, nil
}

// Watching is the number of watches open (status, tests).
func (s *Service) Watching() int {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	return s.watch.n
}

// changed wakes the watchers of request id; called after the write is
// durable.
func (s *Service) changed(id string) {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.byID[id]; ok {
		close(e.ch)
		delete(w.byID, id)
	}
}
