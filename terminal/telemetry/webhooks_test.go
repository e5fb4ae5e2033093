package telemetry

import "testing"

func TestWebhookDeliveriesAndBacklog(t *testing.T) {
	tel := New()
	for _, r := range []string{"delivered", "delivered", "failed", "given_up", "exploded"} {
		tel.Webhook(r)
	}
	tel.WebhookBacklog(7)
	got := scrape(t, tel)
	for series, want := range map[string]float64{
		`showpos_webhook_deliveries_total{result="delivered"}`: 2,
		`showpos_webhook_deliveries_total{result="failed"}`:    1,
		`showpos_webhook_deliveries_total{result="given_up"}`:  1,
		`showpos_webhook_deliveries_total{result="other"}`:     1,
		`showpos_webhook_backlog`:                              7,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
}
