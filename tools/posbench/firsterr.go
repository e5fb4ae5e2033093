package main

import "sync"

// firstError keeps the first non-nil error set on it, from any number of
// goroutines; the later ones are dropped. (An atomic.Value would panic on
// a second error of another concrete type.) The zero value is ready.
type firstError struct {
	mu  sync.Mutex
	err error
}

// set keeps err if it is the first non-nil error.
func (f *firstError) set(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// get is the first error set, nil if none.
func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
