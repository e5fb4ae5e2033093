package main

import (
	"strings"
	"testing"
)

// The store journal's counts are on /metrics: a payment taken is one
// append, and what commits it is counted by cause (here the store idle a
// moment after it, or the read of the status that follows).
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
	for _, cause := range []string{"idle", "read"} {
		if strings.Contains(after, `showpos_store_journal_commits_total{cause="`+cause+`"} 1`+"\n") {
			committed++
		}
	}
	if committed != 1 {
		t.Errorf("the payment committed by %d causes of idle and read, want 1:\n%s", committed, grepLines(after, "showpos_store_journal_commits"))
	}
}
