package main

import (
	"strconv"
	"strings"
	"testing"
)

// The store journal's counts are on /metrics: a payment taken is one
// append, and the one commit that takes it is counted under its cause
// (the store idle a moment after it, the status read that follows, or the
// scrub's clean pass if it comes first).
func TestPosdJournalSeriesCountAPayment(t *testing.T) {
	tm := newTerminal(t, headless)
	series := func() string {
		m := tm.operator("GET", "/metrics", "")
		if m.status != 200 {
			t.Fatalf("/metrics: %d %s", m.status, m.raw)
		}
		return string(m.raw)
	}
	before := series()
	for _, want := range []string{"showpos_store_journal_appends_total 0", "showpos_store_journal_held 0", `showpos_store_journal_commits_total{cause="idle"} 0`} {
		if !strings.Contains(before, want+"\n") {
			t.Errorf("before a payment: no %q in\n%s", want, grepLines(before, "showpos_store_"))
		}
	}
	tm.pay("0.5")
	tm.operator("GET", "/v1/status", "") // reads the store: what the journal holds is committed by then
	after := series()
	if !strings.Contains(after, "showpos_store_journal_appends_total 1\n") || !strings.Contains(after, "showpos_store_journal_held 0\n") {
		t.Errorf("after a payment:\n%s", grepLines(after, "showpos_store_"))
	}
	committed := 0
	for _, cause := range []string{"idle", "bound", "read", "write", "close"} {
		series := `showpos_store_journal_commits_total{cause="` + cause + `"} `
		i := strings.Index(after, series)
		if i < 0 {
			t.Fatalf("no %s in\n%s", series, grepLines(after, "showpos_store_"))
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(after[i+len(series):], "\n", 2)[0]))
		if err != nil {
			t.Fatalf("%s: %v", series, err)
		}
		committed += n
	}
	if committed != 1 {
		t.Errorf("one payment held, committed %d times over the causes, want 1:\n%s", committed, grepLines(after, "showpos_store_journal_commits"))
	}
}
