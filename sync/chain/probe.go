package chain

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Probe asks the endpoints for eth_chainId now, from the one that answered
// last, until one of the right chain answers; it updates and returns the
// Status. It is what "sync now" calls. If ctx ends first, Status is left
// as it was.
func (c *Client) Probe(ctx context.Context) Status {
	return c.probe(ctx, c.order())
}

// Run probes on a schedule until ctx ends, then returns. While online it
// probes every Options.ProbeEvery, trying the endpoints in configured
// order, so that a preferred endpoint that comes back is used again (a
// dead one costs the prober, not the callers, a timeout). After a failed
// probe it retries after 1 s, then 2 s, 4 s …, jittered, at most
// ProbeEvery. The first probe is immediate. Run starts no goroutines;
// a second Run while one is running returns at once.
func (c *Client) Run(ctx context.Context) {
	if !c.running.CompareAndSwap(false, true) {
		c.log.Error("chain: Run called while running")
		return
	}
	defer c.running.Store(false)
	failed := 0
	for {
		st := c.probe(ctx, c.endpoints())
		if ctx.Err() != nil {
			return
		}
		wait := c.opts.ProbeEvery
		if !st.Online {
			failed++
			wait = backoff(failed, c.opts.ProbeEvery)
		} else {
			failed = 0
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

// backoff is the wait after the n-th failure in a row (n ≥ 1): 1 s doubling,
// capped at limit, then reduced by up to a quarter at random so that many
// terminals coming back from one outage do not probe in step.
func backoff(n int, limit time.Duration) time.Duration {
	d := limit
	if n < 30 {
		d = min(time.Second<<(n-1), limit)
	}
	return d - rand.N(d/4+1)
}

// probe checks the endpoints in the given order until one is on the right
// chain and answers.
func (c *Client) probe(ctx context.Context, order []*endpoint) Status {
	var fails []*TransportError
	for _, ep := range order {
		err := c.verify(ctx, ep, true)
		if err == nil {
			return c.Status()
		}
		var te *TransportError
		if !errors.As(err, &te) {
			return c.Status() // ctx ended
		}
		fails = append(fails, te)
	}
	c.offline(summarize(fails))
	return c.Status()
}
