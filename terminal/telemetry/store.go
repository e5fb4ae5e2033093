package telemetry

import (
	"fmt"
	"time"
)

// StoreSize is what the store gauges read at scrape time: the file's size
// in bytes, the payments it keeps (every state, unmatched receipts
// included) and when the oldest of them was accepted (zero: none).
type StoreSize func() (fileBytes int64, payments int, oldest time.Time)

// StoreGauges registers showpos_store_bytes, showpos_store_payments and
// showpos_store_oldest_payment_timestamp_seconds (Unix seconds; 0 with no
// payment kept), read from size at scrape time (it should be cheap: a
// stat and a few keys). Only the first call has an effect.
func (t *Telemetry) StoreGauges(size StoreSize) {
	t.set.GetOrCreateGauge("showpos_store_bytes", func() float64 {
		b, _, _ := size()
		return float64(b)
	})
	t.set.GetOrCreateGauge("showpos_store_payments", func() float64 {
		_, n, _ := size()
		return float64(n)
	})
	t.set.GetOrCreateGauge("showpos_store_oldest_payment_timestamp_seconds", func() float64 {
		_, _, oldest := size()
		if oldest.IsZero() {
			return 0
		}
		return float64(oldest.Unix())
	})
}

// StoreIntegrity is what the store integrity gauges read at scrape time:
// the bytes the scrub has read, the records found damaged, and whether a
// scrub has verified the store since start.
type StoreIntegrity func() (checkedBytes int64, damaged int, verified bool)

// StoreIntegrityGauges registers showpos_store_scrub_checked_bytes,
// showpos_store_damaged_records and showpos_store_verified (1 once a
// scrub ran to its end since start, damage found or not), read from in at
// scrape time. Only the first call has an effect.
func (t *Telemetry) StoreIntegrityGauges(in StoreIntegrity) {
	t.set.GetOrCreateGauge("showpos_store_scrub_checked_bytes", func() float64 {
		b, _, _ := in()
		return float64(b)
	})
	t.set.GetOrCreateGauge("showpos_store_damaged_records", func() float64 {
		_, n, _ := in()
		return float64(n)
	})
	t.set.GetOrCreateGauge("showpos_store_verified", func() float64 {
		if _, _, v := in(); v {
			return 1
		}
		return 0
	})
}

// JournalCounts is the store journal's counts since start: the appends
// that answered accepts, the store's bbolt commits in all, the accepts
// waiting in the journal now, and what committed the accepts the journal
// held, by cause (JournalCauses).
type JournalCounts struct {
	Appends, Commits uint64
	Held             int64
	CommittedBy      [len(JournalCauses)]uint64
}

// JournalCauses are what commits the accepts the journal holds, in
// JournalCounts.CommittedBy's order: the store idle a moment, its bounds
// (accepts held, time held, the journal full), a reader, a write that is
// not an accept, shutdown.
var JournalCauses = [...]string{"idle", "bound", "read", "write", "close"}

// StoreJournalGauges registers showpos_store_journal_appends_total,
// showpos_store_commits_total, showpos_store_journal_held and
// showpos_store_journal_commits_total{cause}, read from counts at scrape
// time (it should be cheap: a few atomic loads). Only the first call has
// an effect.
func (t *Telemetry) StoreJournalGauges(counts func() JournalCounts) {
	t.set.GetOrCreateGauge("showpos_store_journal_appends_total", func() float64 { return float64(counts().Appends) })
	t.set.GetOrCreateGauge("showpos_store_commits_total", func() float64 { return float64(counts().Commits) })
	t.set.GetOrCreateGauge("showpos_store_journal_held", func() float64 { return float64(counts().Held) })
	for i, cause := range JournalCauses {
		t.set.GetOrCreateGauge(fmt.Sprintf(`showpos_store_journal_commits_total{cause="%s"}`, cause), func() float64 {
			return float64(counts().CommittedBy[i])
		})
	}
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
