package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// posd's store scrub runs after READY=1 (cmd/posd, store.scrub_rate): it
// reads the whole file and ends with its page accounting in the
// store's committer, which holds writes for its duration. A row measuring
// accept latency on a posd whose scrub still runs measures the scrub too,
// so such a row waits for it first (waitScrub), and the scrub's own
// length on the full store is the one-time cost a terminal pays after
// boot.

// scrubReport is store.scrub of posd's status (terminal/httpapi's
// ScrubStatus).
type scrubReport struct {
	State        string    `json:"state"` // waiting, running, done
	CheckedBytes int64     `json:"checkedBytes"`
	InUseBytes   int64     `json:"inUseBytes"`
	FinishedAt   time.Time `json:"finishedAt"`
	Damaged      int       `json:"damaged"`
	MoneyDamaged bool      `json:"moneyDamaged"`
}

// scrubOf decodes store.scrub from a status body; an error if the status
// has none (a posd that runs no scrub is not the one these rows measure).
func scrubOf(body io.Reader) (scrubReport, error) {
	var st struct {
		Store *struct {
			Scrub *scrubReport `json:"scrub"`
		} `json:"store"`
	}
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return scrubReport{}, fmt.Errorf("status: %w", err)
	}
	if st.Store == nil || st.Store.Scrub == nil {
		return scrubReport{}, fmt.Errorf("status has no store.scrub")
	}
	return *st.Store.Scrub, nil
}

// scrub reads store.scrub from posd's status on the operator socket.
func (d *daemon) scrub() (scrubReport, error) {
	resp, err := d.op.Get("http://posd/v1/status")
	if err != nil {
		return scrubReport{}, fmt.Errorf("status: %w", err)
	}
	defer resp.Body.Close()
	return scrubOf(resp.Body)
}

// scrubDone is a scrub posd ran to its end.
type scrubDone struct {
	scrubReport
	// took is READY=1 (as we read it from the notify socket) to the
	// status's finishedAt: posd starts the scrub at READY.
	took time.Duration
	// logged is the store's own "scrub finished" log line's figures
	// (took, bbolt_check: how long its page accounting held writes), or why
	// they could not be read.
	logged string
}

// waitScrub polls posd's status every 100 ms until store.scrub.state is
// "done", or fails after within. A scrub that found damage is an error:
// the bench's stores are undamaged, so damage is the bench's fault.
func (d *daemon) waitScrub(ctx context.Context, within time.Duration) (scrubDone, error) {
	until := time.Now().Add(within)
	for {
		r, err := d.scrub()
		if err != nil {
			return scrubDone{}, err
		}
		if r.Damaged > 0 || r.MoneyDamaged {
			return scrubDone{}, fmt.Errorf("posd's scrub found damage in the bench's store: %d records (money %v); see %s", r.Damaged, r.MoneyDamaged, d.log.Name())
		}
		if r.State == "done" {
			return scrubDone{scrubReport: r, took: r.FinishedAt.Sub(d.started.Add(d.ready)), logged: d.scrubLogged()}, nil
		}
		if time.Now().After(until) {
			return scrubDone{}, fmt.Errorf("posd's store scrub not done within %s: %s, %s of %s read", within, r.State, size(r.CheckedBytes), size(r.InUseBytes))
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return scrubDone{}, err
		}
	}
}

// scrubLogged reads, from this posd's part of its log, the store's
// "scrub finished" line and returns its took and bbolt_check.
func (d *daemon) scrubLogged() string {
	f, err := d.ownLog()
	if err != nil {
		return "log unreadable: " + err.Error()
	}
	defer f.Close()
	return scrubFinishedIn(f)
}

// scrubFinishedIn finds the last "store: scrub finished" line of a posd
// text log and says its took and bbolt_check.
func scrubFinishedIn(r io.Reader) string {
	l, err := lastLogged(r, "store: scrub finished")
	if err != nil {
		return err.Error()
	}
	took, err := l.field("took")
	if err != nil {
		return err.Error()
	}
	check, err := l.field("bbolt_check")
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("its log: took %s, page accounting %s", took, check)
}
