package main

import (
	"context"
	"log/slog"
	"time"

	"showpos/sync/webhook"
	"showpos/terminal/config"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
)

// webhooks joins the store's webhooks and the deliverer for the APIs
// (httpapi.Webhooks): each change is written to the store first, then the
// deliverer is told, so it starts, stops or retries at once.
type webhooks struct {
	st *store.Store
	d  *webhook.Deliverer
}

var _ httpapi.Webhooks = webhooks{}

func newWebhooks(cfg *config.Config, st *store.Store, tel *telemetry.Telemetry, log *slog.Logger) (webhooks, error) {
	d, err := webhook.New(webhook.Options{
		Store: st, Terminal: cfg.Terminal.ID,
		Timeout: cfg.Webhooks.Timeout, GiveUp: cfg.Webhooks.GiveUp, MaxBackoff: cfg.Webhooks.MaxBackoff,
		AllowLoopback: cfg.Webhooks.AllowLoopback,
		OnAttempt:     tel.Webhook, OnBacklog: tel.WebhookBacklog, Logger: log,
	})
	return webhooks{st: st, d: d}, err
}

func (w webhooks) SetWebhook(ctx context.Context, number, url string, secret []byte, rotate bool, now time.Time) (store.Webhook, bool, error) {
	h, fresh, err := w.st.SetWebhook(ctx, number, url, secret, rotate, now)
	if err == nil {
		w.d.Changed()
	}
	return h, fresh, err
}

func (w webhooks) RemoveWebhook(ctx context.Context, number string) (bool, error) {
	ok, err := w.st.RemoveWebhook(ctx, number)
	if err == nil {
		w.d.Changed()
	}
	return ok, err
}

func (w webhooks) WebhookStatus() ([]webhook.Status, error) { return w.d.Status() }

func (w webhooks) WebhookLog(number string) []webhook.Attempt { return w.d.Log(number) }

// status is the webhooks for /v1/status, every register and fleet client
// reading it: URLs as webhook.RedactURL shows them, scheme and host only
// (errors are recorded redacted already). The full URL is only for the
// client itself (GET /v1/webhook) and the operator (GET /v1/webhooks).
func (w webhooks) status(log *slog.Logger) []webhook.Status {
	all, err := w.d.Status()
	if err != nil {
		log.Error("webhook status", "err", err)
	}
	for i := range all {
		all[i].URL = webhook.RedactURL(all[i].URL)
	}
	return all
}

// revokingClients is the store as the operator's client registry, telling
// the deliverer when a revocation removed a webhook.
type revokingClients struct {
	*store.Store
	hooks webhooks
}

func (c revokingClients) RevokeClient(ctx context.Context, number string, now time.Time) (store.Client, error) {
	out, err := c.Store.RevokeClient(ctx, number, now)
	if err == nil {
		c.hooks.d.Changed()
	}
	return out, err
}
