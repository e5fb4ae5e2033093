package main

import (
	"context"
	"log/slog"
	"time"

	"showpos/terminal/store"
)

// expirySweepMax is the longest the sweep sleeps: a request made while it
// sleeps may expire sooner than the one it waited for, and is reported at
// most this late.
const expirySweepMax = 10 * time.Second

// sweepExpiries writes request.expired for each pending request once no
// transfer can pay it any more (store.ExpireRequests), until ctx ends. It
// reads one key a round (store.NextExpiry) and writes only when a request
// is due, so an idle terminal writes nothing.
func sweepExpiries(ctx context.Context, st *store.Store, log *slog.Logger) {
	const limit = 100
	for {
		wait := expirySweepMax
		at, ok, err := st.NextExpiry()
		switch {
		case err != nil:
			log.Error("expiry sweep", "err", err)
		case ok && !at.After(time.Now()):
			n, err := st.ExpireRequests(ctx, time.Now(), limit)
			if err != nil {
				log.Error("expiry sweep", "err", err)
				break
			}
			if n == limit {
				wait = 0 // more are due
			}
		case ok:
			wait = min(wait, at.Sub(time.Now()))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
