package config

import "time"

// Webhooks is the [webhooks] table: how the terminal delivers its event
// log to the register clients' webhooks (sync/webhook). A restart applies
// changes.
type Webhooks struct {
	// GiveUp (give_up) is how long a receiver may fail, with no 2xx,
	// before events are given up: the failing one is retried until then,
	// later ones tried once each until a 2xx; default 24h, 1m to 720h.
	GiveUp time.Duration
	// Timeout bounds one attempt, connection to the answer's headers;
	// default 10s, 1s to 60s.
	Timeout time.Duration
	// MaxBackoff (max_backoff) caps the pause between attempts of one
	// event (1s doubling, jittered); default 10m, 1s to 1h.
	MaxBackoff time.Duration
	// AllowHTTP (allow_http) takes plain http:// webhook URLs to any
	// host; default false: https://, or http:// to a loopback address.
	AllowHTTP bool
	// AllowLoopback (allow_loopback) lets a register client set, over
	// the network, a webhook to the terminal itself (a loopback address,
	// localhost, its own addresses); default false: only the operator
	// may, since each attempt's status or error is shown to the client.
	AllowLoopback bool
}

type fileWebhooks struct {
	GiveUp        time.Duration `toml:"give_up"`
	Timeout       time.Duration `toml:"timeout"`
	MaxBackoff    time.Duration `toml:"max_backoff"`
	AllowHTTP     bool          `toml:"allow_http"`
	AllowLoopback bool          `toml:"allow_loopback"`
}

// checkWebhooks reads [webhooks], with sync/webhook's defaults.
func (f *file) checkWebhooks(c *Config) error {
	fw := f.Webhooks
	c.Webhooks = Webhooks{GiveUp: fw.GiveUp, Timeout: fw.Timeout, MaxBackoff: fw.MaxBackoff, AllowHTTP: fw.AllowHTTP, AllowLoopback: fw.AllowLoopback}
	if c.Webhooks.GiveUp == 0 {
		c.Webhooks.GiveUp = 24 * time.Hour
	}
	if c.Webhooks.Timeout == 0 {
		c.Webhooks.Timeout = 10 * time.Second
	}
	if c.Webhooks.MaxBackoff == 0 {
		c.Webhooks.MaxBackoff = 10 * time.Minute
	}
	switch w := c.Webhooks; {
	case w.GiveUp < time.Minute || w.GiveUp > 720*time.Hour:
		return invalid("webhooks.give_up %s: want 1m to 720h", w.GiveUp)
	case w.Timeout < time.Second || w.Timeout > time.Minute:
		return invalid("webhooks.timeout %s: want 1s to 60s", w.Timeout)
	case w.MaxBackoff < time.Second || w.MaxBackoff > time.Hour:
		return invalid("webhooks.max_backoff %s: want 1s to 1h", w.MaxBackoff)
	}
	return nil
}
