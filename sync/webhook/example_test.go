package webhook_test

import (
	"fmt"
	"time"

	"showpos/sync/webhook"
)

// The README's worked example ("Webhooks"): the header a delivery of this
// body at 2026-12-07T08:00:00Z carries, and a receiver's check of it.
func ExampleSignature() {
	secret := []byte("whsec_example-webhook-secret-0123456789abcdef")
	body := []byte(`{"v":1,"seq":42,"kind":"request.cancelled","at":"2026-12-07T08:00:00Z","request":{"id":"r-7","asset":"ETH","amount":"20000000000000000","amount_display":"0.02","status":"cancelled","created_at":"2026-12-07T07:55:00Z","expires_at":"2026-12-07T08:00:00Z"}}`)
	at := time.Unix(1796630400, 0)
	sig := webhook.Signature(secret, at, body)
	fmt.Println(sig)
	fmt.Println(webhook.Verify(secret, sig, body, at.Add(time.Minute), 5*time.Minute))
	// Output:
	// t=1796630400,v1=9fe74f67c2b10e04b3cdf251101fc2ab8abff165fa62f85320f590bf6660a3f4
	// <nil>
}
