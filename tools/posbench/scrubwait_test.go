package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// The rows that wait for posd's scrub read store.scrub of the status as
// posd's operator API writes it (httpapi's types, not a copy of their
// names); a status without one is an error, not a scrub taken as done.
func TestScrubOfReadsTheStatusAsPosdWritesIt(t *testing.T) {
	at := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		status httpapi.Status
		want   scrubReport // State "": an error
	}{
		{"done", httpapi.Status{Store: &httpapi.StoreStatus{Scrub: &httpapi.ScrubStatus{State: "done", CheckedBytes: 150 << 20, InUseBytes: 144 << 20, FinishedAt: at}}},
			scrubReport{State: "done", CheckedBytes: 150 << 20, InUseBytes: 144 << 20, FinishedAt: at}},
		{"running", httpapi.Status{Store: &httpapi.StoreStatus{Scrub: &httpapi.ScrubStatus{State: "running", CheckedBytes: 1 << 20, InUseBytes: 144 << 20}}},
			scrubReport{State: "running", CheckedBytes: 1 << 20, InUseBytes: 144 << 20}},
		{"damage", httpapi.Status{Store: &httpapi.StoreStatus{Scrub: &httpapi.ScrubStatus{State: "done", Damaged: 2, MoneyDamaged: true, FinishedAt: at}}},
			scrubReport{State: "done", Damaged: 2, MoneyDamaged: true, FinishedAt: at}},
		{"no scrub", httpapi.Status{Store: &httpapi.StoreStatus{FileBytes: 1}}, scrubReport{}},
		{"no store", httpapi.Status{}, scrubReport{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.status)
			if err != nil {
				t.Fatal(err)
			}
			got, err := scrubOf(bytes.NewReader(b))
			if tc.want.State == "" {
				if err == nil {
					t.Errorf("no error; read %+v", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// The scrub row quotes the store's own "scrub finished" log line, as the
// store writes it through posd's text log: took and bbolt_check.
func TestScrubFinishedInReadsTheStoresLogLine(t *testing.T) {
	var logs bytes.Buffer
	logs.WriteString("time=x level=INFO msg=\"store scrub started\" part=scrub\n")
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), &store.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)).With("part", "store")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Scrub(context.Background(), store.ScrubOptions{}); err != nil {
		t.Fatal(err)
	}
	got := scrubFinishedIn(&logs)
	if !strings.HasPrefix(got, "its log: took ") || strings.Contains(got, "?") || !strings.Contains(got, ", page accounting ") {
		t.Fatalf("scrubFinishedIn: %q; log:\n%s", got, logs.String())
	}
	if got := scrubFinishedIn(strings.NewReader("time=x level=INFO msg=\"store scrub started\"\n")); !strings.Contains(got, "no \"store: scrub finished\" line") {
		t.Errorf("a log without the line: %q", got)
	}
}

// waitScrub, on the real posd, returns once its status says the scrub is
// done, with the time from READY=1 and the store's log line's figures.
func TestWaitScrubOnPosd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs posd")
	}
	dir := t.TempDir()
	t.Chdir("../..") // buildPosd builds ./cmd/posd
	bin, err := buildPosd(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	term, err := newTerminal(filepath.Join(dir, "t"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := startPosd(bin, term, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	// The same posd's "posd ready" line says what its boot read, as the
	// boot-read rows take it.
	if io, err := d.bootRead(); err != nil || io.RChar <= 0 {
		t.Errorf("what the boot read, by posd's ready line: %+v, %v", io, err)
	}
	done, err := d.waitScrub(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != "done" || done.Damaged != 0 || done.CheckedBytes <= 0 || done.InUseBytes <= 0 || done.took > time.Minute {
		t.Errorf("waitScrub: %+v", done)
	}
	if !strings.HasPrefix(done.logged, "its log: took ") || strings.Contains(done.logged, "?") {
		t.Errorf("the log's figures: %q", done.logged)
	}
	t.Logf("READY=1 to done: %s; %s", done.took, done.logged)
}
