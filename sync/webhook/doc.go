// Package webhook delivers the store's event log to the register clients'
// webhooks: each event of the log (terminal/store, events.go) is POSTed to
// each client's URL, one event a request, in seq order per client, its
// body the event's JSON byte for byte, signed in Stripe's style:
//
//	Showpos-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//	Showpos-Event-Seq: <seq>
//	Showpos-Event-Kind: <kind>
//	Showpos-Terminal:  <terminal id>
//
// The secret is the client's webhook secret exactly as it was shown, its
// bytes as they are. A receiver recomputes the HMAC over the t it was
// given, a full stop and the raw body, compares it in constant time, and
// refuses a t far from its clock (Sign and Verify here do both).
//
// Delivery is from the store, at least once: each webhook is the sink
// "webhook:<client>", whose cursor moves past an event only after the
// receiver answered it 2xx, in the same write that ends the event's
// failing period; a kill -9 at any moment loses none (the event in flight
// is sent again, with the same seq and body). A failing event is retried
// with capped exponential backoff and jitter while the events after it
// wait (order per client is never broken). The failing period is the
// receiver's, from its first failure after its last 2xx (kept in the
// store, so a restart does not reset it, and not ended by giving an event
// up): once it is longer than Options.GiveUp, the event is given up, and
// so is each later one whose single attempt fails, until one gets a 2xx
// (then failures are retried again). So a receiver gone for good does not
// hold the log, and through it the bounded store's pruning, one event a
// give-up period at a time: its backlog drains. One goroutine per
// webhook, each with its own timeouts: a slow or dead receiver holds up
// neither a sale nor another client's deliveries, and every goroutine ends
// with Run's context. New events wake the goroutines through the store's
// EventsAppended: nothing polls.
//
// Each attempt (seq, kind, time, HTTP status or error, duration) is kept
// in memory, the last Options.LogSize per client, for posctl and status:
// an attempt every second to a dead receiver would otherwise be an fsync
// a second on an SD card. What a restart must not forget (the cursor, the
// failing period's start, the given-up count) is in the store.
package webhook
