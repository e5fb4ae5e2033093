package chain

import "time"

// Status is the Client's view of connectivity.
type Status struct {
	// Online: an endpoint of the right chain answered the last probe or
	// call. It turns false when a probe or call fails on every endpoint.
	Online bool
	// Endpoint is the endpoint calls try first: the one that answered
	// last (the first configured before any answer), redacted by
	// RedactURL.
	Endpoint string
	// LastContact is when an endpoint of the right chain last answered
	// anything, a node error included; zero: never.
	LastContact time.Time
	// Err says briefly why the Client is offline ("connection refused",
	// "timeout", "wrong chain id 5 (want 1337)"; with several endpoints,
	// each named); "" while online.
	Err string
	// Since is when Online last changed (New's time before the first
	// change).
	Since time.Time
}

// Status returns the current Status. It takes a lock and copies; it never
// touches the network.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// Changes returns the channel on which the Client publishes the new Status
// each time Online flips. It is buffered (one) and latest-wins: when the
// reader is behind, an unread Status is replaced by the newer one, so the
// publisher never blocks and the reader always ends on the current state,
// but may miss intermediate flips (an offline→online→offline burst can
// arrive as one offline Status). The channel is shared, made once and
// never closed: have one reader. Changes during calls are published
// too, not only those found by Run.
func (c *Client) Changes() <-chan Status { return c.changes }

// contact records an answer from ep, which is on the right chain.
func (c *Client) contact(ep *endpoint) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ep.idx >= len(c.eps) || c.eps[ep.idx] != ep {
		return // ep was replaced by SetEndpoints meanwhile: not ours to report
	}
	c.st.LastContact = now
	c.st.Endpoint = ep.name
	c.lastGood = ep.idx
	if !c.st.Online {
		c.st.Online = true
		c.st.Err = ""
		c.st.Since = now
		c.offlineTold = false
		c.publish()
		c.log.Info("chain: online", "endpoint", ep.name)
	}
}

// offline records that no endpoint could be used, for the reason in te.
func (c *Client) offline(te *TransportError) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Err = te.Reason
	if c.st.Online {
		c.st.Online = false
		c.st.Since = now
		c.publish()
	}
	if !c.offlineTold {
		// Going offline, or finding it so from the start: logged once,
		// until the client is online again.
		c.offlineTold = true
		c.log.Warn("chain: offline", "reason", te.Reason)
	}
}

// publish puts c.st on the changes channel, replacing an unread value.
// c.mu is held, so no other publisher runs: after the drain there is room.
func (c *Client) publish() {
	select {
	case <-c.changes:
	default:
	}
	select {
	case c.changes <- c.st:
	default:
	}
}
