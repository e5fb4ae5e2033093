package telemetry

import "fmt"

// StoreSize is what the store gauges read at scrape time: the file's size
// in bytes and the payments it keeps (every state, unmatched receipts
// included).
type StoreSize func() (fileBytes int64, payments int)

// StoreGauges registers showpos_store_bytes and showpos_store_payments,
// read from size at scrape time (it should be cheap: a stat and a few
// keys). Only the first call has an effect.
func (t *Telemetry) StoreGauges(size StoreSize) {
	t.set.GetOrCreateGauge("showpos_store_bytes", func() float64 {
		b, _ := size()
		return float64(b)
	})
	t.set.GetOrCreateGauge("showpos_store_payments", func() float64 {
		_, n := size()
		return float64(n)
	})
}

// Pruned counts records the bounded store deleted, by kind ("payments",
// "requests", "events"): showpos_store_pruned_total.
func (t *Telemetry) Pruned(kind string, n int) {
	if n <= 0 {
		return
	}
	switch kind {
	case "payments", "requests", "events":
	default:
		kind = "other"
	}
	t.set.GetOrCreateCounter(fmt.Sprintf(`showpos_store_pruned_total{kind="%s"}`, kind)).Add(n)
}
