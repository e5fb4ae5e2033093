package telemetry

import (
	"testing"
	"time"
)

func TestStoreIntegrityGaugesReadAtScrapeTime(t *testing.T) {
	tel := New()
	checked, damaged, verified := int64(0), 0, false
	tel.StoreIntegrityGauges(func() (int64, int, bool) { return checked, damaged, verified })
	got := scrape(t, tel)
	if got["showpos_store_scrub_checked_bytes"] != 0 || got["showpos_store_damaged_records"] != 0 || got["showpos_store_verified"] != 0 {
		t.Errorf("before the scrub: %v", got)
	}
	checked, damaged, verified = 5<<20, 2, true
	got = scrape(t, tel)
	if got["showpos_store_scrub_checked_bytes"] != 5<<20 || got["showpos_store_damaged_records"] != 2 || got["showpos_store_verified"] != 1 {
		t.Errorf("after the scrub: %v", got)
	}
}

func TestStoreGaugesAndPrunedCounts(t *testing.T) {
	tel := New()
	bytes, payments := int64(1<<20), 42
	oldest := time.Unix(1_796_000_000, 0)
	tel.StoreGauges(func() (int64, int, time.Time) { return bytes, payments, oldest })
	tel.Pruned("payments", 150)
	tel.Pruned("payments", 50)
	tel.Pruned("events", 7)
	tel.Pruned("requests", 0)
	tel.Pruned("bogus\"label", 1)
	got := scrape(t, tel)
	for series, want := range map[string]float64{
		"showpos_store_bytes":                            1 << 20,
		"showpos_store_payments":                         42,
		"showpos_store_oldest_payment_timestamp_seconds": 1_796_000_000,
		`showpos_store_pruned_total{kind="payments"}`:    200,
		`showpos_store_pruned_total{kind="events"}`:      7,
		`showpos_store_pruned_total{kind="other"}`:       1,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
	if _, ok := got[`showpos_store_pruned_total{kind="requests"}`]; ok {
		t.Error("a prune of nothing made a series")
	}
	bytes, payments, oldest = 2<<20, 40, time.Time{} // read at scrape time
	if got := scrape(t, tel); got["showpos_store_bytes"] != 2<<20 || got["showpos_store_payments"] != 40 ||
		got["showpos_store_oldest_payment_timestamp_seconds"] != 0 {
		t.Errorf("second scrape: %v bytes, %v payments, oldest %v", got["showpos_store_bytes"], got["showpos_store_payments"],
			got["showpos_store_oldest_payment_timestamp_seconds"])
	}
}

func TestStoreJournalSeriesReadAtScrapeTime(t *testing.T) {
	tel := New()
	c := JournalCounts{Appends: 9, Commits: 4, Held: 3, CommittedBy: [len(JournalCauses)]uint64{2, 1, 0, 1, 0}}
	tel.StoreJournalGauges(func() JournalCounts { return c })
	want := func(appends, commits, held float64, by [len(JournalCauses)]float64) {
		t.Helper()
		got := scrape(t, tel)
		if got["showpos_store_journal_appends_total"] != appends || got["showpos_store_commits_total"] != commits || got["showpos_store_journal_held"] != held {
			t.Errorf("appends %v commits %v held %v, want %v %v %v", got["showpos_store_journal_appends_total"], got["showpos_store_commits_total"],
				got["showpos_store_journal_held"], appends, commits, held)
		}
		for i, cause := range JournalCauses {
			series := `showpos_store_journal_commits_total{cause="` + cause + `"}`
			if v, ok := got[series]; !ok || v != by[i] {
				t.Errorf("%s = %v (present %v), want %v", series, v, ok, by[i])
			}
		}
	}
	want(9, 4, 3, [len(JournalCauses)]float64{2, 1, 0, 1, 0})
	c.Appends, c.Commits, c.Held, c.CommittedBy[0], c.CommittedBy[4] = 10, 6, 0, 3, 1
	want(10, 6, 0, [len(JournalCauses)]float64{3, 1, 0, 1, 1})
}
