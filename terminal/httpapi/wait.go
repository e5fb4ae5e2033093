package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"showpos/terminal/checkout"
	"showpos/terminal/store"
)

// A register asks GET /v1/requests/{id}?wait=30s instead of polling: the
// answer comes as soon as the request leaves pending (paid, cancelled,
// expired), or at the end of the wait with the request as it is then. The
// body is the same as without wait; only when it is sent differs.
const (
	minWait = time.Second
	maxWait = 60 * time.Second
	// codeTooManyWaits answers a wait when too many are open (the till's
	// checkout.MaxWatchers, or the network API's MaxWaits).
	codeTooManyWaits = "too_many_waits"
	// DefaultMaxWaits is the network API's cap on waits open at once when
	// NetworkOptions.MaxWaits is 0: a quarter of the default api.max_conns,
	// so waiting registers leave the payers most of the connection slots.
	DefaultMaxWaits = 16
	// waitWrite is how long past the wait the answer may take to write:
	// the server's WriteTimeout (15 s) would cut a longer wait off.
	waitWrite = 15 * time.Second
	// recheckFloor is the least pause before the status is read again at
	// the request's expiry: a clock set back a little makes no busy loop.
	recheckFloor = 10 * time.Millisecond
)

// waitParam reads the query's "wait" (a Go duration, 1s to 60s; 0 when
// absent). A bad one is answered 400 bad_request here, and ok is false.
func waitParam(w http.ResponseWriter, r *http.Request) (d time.Duration, ok bool) {
	s := r.URL.Query().Get("wait")
	if s == "" {
		return 0, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < minWait || d > maxWait {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("wait must be a duration from %s to %s, e.g. 30s", minWait, maxWait))
		return 0, false
	}
	return d, true
}

// tooManyWaits answers a wait refused for want of room.
func tooManyWaits(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	writeCoded(w, http.StatusServiceUnavailable, codeTooManyWaits, "too many registers are waiting on requests; ask again without wait, or wait again in a second")
}

// waitRequest answers request id once it is no longer pending, or after
// wait with it as it is then; nothing when the client goes away first.
// It holds no goroutine but its own and stops every timer it starts: the
// till wakes it (checkout.Service.Watch) when it writes a payment or a
// cancel of the request, and the request's expiry is a timer. Whatever
// woke it, the answer is read from the store, as without wait.
func (a *api) waitRequest(w http.ResponseWriter, r *http.Request, id string, wait time.Duration) {
	if a.waitSlots != nil {
		select {
		case a.waitSlots <- struct{}{}:
			defer func() { <-a.waitSlots }()
		default:
			tooManyWaits(w)
			return
		}
	}
	changed, stop, err := a.reg.Watch(id)
	if errors.Is(err, checkout.ErrTooManyWatchers) {
		tooManyWaits(w)
		return
	}
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	defer func() { stop() }() // stop is replaced when a wake-up left the request pending
	// The server's write timeout counts from the request's headers; a wait
	// moves it past the wait. Servers without one (tests, the socket's)
	// take the new deadline as well.
	if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + waitWrite)); err != nil {
		a.log.Warn("wait: cannot move the write deadline; a long wait may be cut off", "err", err)
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		doc, err := a.reg.Request(id)
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		if doc.Status != string(store.RequestPending) {
			writeJSON(w, http.StatusOK, doc)
			return
		}
		expiry := time.NewTimer(max(doc.ExpiresAt.Sub(a.clock.Now()), recheckFloor))
		select {
		case <-changed:
			// Its channel is spent: watch again before reading, so a
			// change written in between is not missed.
			stop()
			if changed, stop, err = a.reg.Watch(id); err != nil {
				stop = func() {}
				changed = nil // no room to watch again: the expiry and the deadline still come
			}
		case <-expiry.C:
		case <-deadline.C:
			expiry.Stop()
			a.answerRequest(w, id)
			return
		case <-r.Context().Done():
			expiry.Stop()
			return
		}
		expiry.Stop()
	}
}

// answerRequest answers request id as it is now.
func (a *api) answerRequest(w http.ResponseWriter, id string) {
	doc, err := a.reg.Request(id)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}
