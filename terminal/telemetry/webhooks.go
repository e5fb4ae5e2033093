package telemetry

import "fmt"

// Webhook counts one webhook delivery attempt by its result (sync/webhook:
// "delivered", "failed", "given_up"); any other result is counted as
// "other".
func (t *Telemetry) Webhook(result string) {
	switch result {
	case "delivered", "failed", "given_up":
	default:
		result = other
	}
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_webhook_deliveries_total{result="%s"}`, result)).Inc()
}

// WebhookBacklog sets showpos_webhook_backlog: the events not yet
// delivered, summed over every webhook.
func (t *Telemetry) WebhookBacklog(n uint64) {
	t.set.GetOrCreateGauge("showpos_webhook_backlog", nil).Set(float64(n))
}
