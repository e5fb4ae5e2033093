package virtual

import "sync"

// hub tells watchers that the board's visible state (screen, signals)
// changed. A watcher takes the channel, reads the state, and waits for the
// channel to close; changes in between coalesce, so a slow page skips
// frames instead of queueing them.
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

func (h *hub) init() { h.ch = make(chan struct{}) }

// changed returns a channel closed at the next notify.
func (h *hub) changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

func (h *hub) notify() {
	h.mu.Lock()
	close(h.ch)
	h.ch = make(chan struct{})
	h.mu.Unlock()
}
