package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// The pruner's pace: a round every pruneEvery; within a round, calls of
// pruneLimit records with prunePause between them, so the store's one
// writer (the group committer) takes a sale's write between any two, and
// each write is short (a few ms on an SD card).
const (
	pruneLimit = 150
	prunePause = 200 * time.Millisecond
)

// pruneEvery is the time between rounds; a variable so that the daemon's
// tests need not wait five minutes.
var pruneEvery = 5 * time.Minute

// pruner runs the bounded store (store.keep): every pruneEvery, it
// deletes settled records older than keep (store.Prune) and then the
// delivered events beyond the log's retention (store.PruneEvents), each a
// small write at a time until nothing is left. With keep unset it does
// nothing.
type pruner struct {
	st      *store.Store
	keep    func() *time.Duration // read each round: the config in effect
	log     *slog.Logger
	onPrune func(kind string, n int) // telemetry
	every   time.Duration
	pause   time.Duration

	mu   sync.Mutex
	last *httpapi.PruneRound

	// holdMu is held across each store.Prune call and guards holds: the
	// exports under way, each by the start of its period (Hold).
	holdMu sync.Mutex
	holds  map[*time.Time]struct{}
}

var _ httpapi.ExportHold = (*pruner)(nil)

// Hold keeps the pruner off records accepted at or after from until
// release (zero from: off every record) while an export reads them: the
// prune calls from then on use from as their bar if it is earlier than
// keep's. It waits for a prune write under way, so none lands after Hold
// returns.
func (p *pruner) Hold(from time.Time) (release func()) {
	p.holdMu.Lock()
	defer p.holdMu.Unlock()
	if p.holds == nil {
		p.holds = map[*time.Time]struct{}{}
	}
	h := &from
	p.holds[h] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			p.holdMu.Lock()
			delete(p.holds, h)
			p.holdMu.Unlock()
		})
	}
}

// prune is one store.Prune call with the bar lowered to the earliest
// export hold.
func (p *pruner) prune(ctx context.Context, before time.Time) (store.PruneResult, error) {
	p.holdMu.Lock()
	defer p.holdMu.Unlock()
	for h := range p.holds {
		if h.IsZero() {
			return store.PruneResult{}, nil // an export of everything: nothing goes
		}
		if h.Before(before) {
			before = *h
		}
	}
	return p.st.Prune(ctx, before, pruneLimit)
}

// Run prunes a round at once, then every p.every, until ctx ends.
func (p *pruner) Run(ctx context.Context) {
	for {
		p.round(ctx)
		t := time.NewTimer(p.every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (p *pruner) round(ctx context.Context) {
	keep := p.keep()
	if keep == nil {
		return
	}
	r := httpapi.PruneRound{}
	before := time.Now().Add(-*keep)
	err := p.calls(ctx, func() (bool, error) {
		res, err := p.prune(ctx, before)
		r.Payments += res.Payments
		r.Requests += res.Requests
		p.onPrune("payments", res.Payments)
		p.onPrune("requests", res.Requests)
		return res.More, err
	})
	if err == nil {
		err = p.calls(ctx, func() (bool, error) {
			n, err := p.st.PruneEvents(ctx, store.DefaultEventRetention, pruneLimit*4)
			r.Events += n
			p.onPrune("events", n)
			return n > 0, err
		})
	}
	if ctx.Err() != nil {
		return // stopping: not a round
	}
	r.At = time.Now().UTC()
	if err != nil {
		r.Err = err.Error()
		p.log.Error("prune", "err", err)
	} else if r.Payments+r.Requests+r.Events > 0 {
		p.log.Info("pruned", "payments", r.Payments, "requests", r.Requests, "events", r.Events, "keep", keep.String())
	}
	p.mu.Lock()
	p.last = &r
	p.mu.Unlock()
}

// calls runs call, pausing between calls, while it reports more.
func (p *pruner) calls(ctx context.Context, call func() (bool, error)) error {
	for {
		more, err := call()
		if err != nil || !more {
			return err
		}
		t := time.NewTimer(p.pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Last is the last finished round; nil before one.
func (p *pruner) Last() *httpapi.PruneRound {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		return nil
	}
	r := *p.last
	return &r
}

// storeStatus is /v1/status's store part.
func storeStatus(st *store.Store, keep *time.Duration, p *pruner) (*httpapi.StoreStatus, error) {
	stats, err := st.Stats()
	if errors.Is(err, store.ErrCorrupt) {
		// The oldest payment's record is damaged: the status still says
		// what the scrub found, which is what the operator needs now.
		return &httpapi.StoreStatus{Scrub: scrubStatus(st.Integrity())}, nil
	}
	if err != nil {
		return nil, err
	}
	s := &httpapi.StoreStatus{FileBytes: stats.FileBytes, Payments: map[string]int{}, OldestAccepted: stats.OldestAccepted}
	for state, n := range stats.Payments {
		s.Payments[string(state)] = n
		s.Total += n
	}
	if keep != nil {
		s.Keep = keep.String()
	}
	if p != nil {
		s.LastPrune = p.Last()
	}
	s.Scrub = scrubStatus(st.Integrity())
	return s, nil
}
