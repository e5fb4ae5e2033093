package main

import (
	"context"
	"errors"
	"log/slog"

	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

// scrubStore runs the store's scrub once, at rate bytes a second (0:
// unbounded), until it ends or ctx does. Damage it finds is the store's to
// report (logged there, in status and the metrics); its error here is only
// a scrub that could not run.
func scrubStore(ctx context.Context, st *store.Store, rate int64, log *slog.Logger) {
	log.Info("store scrub started", "rate_bytes_per_second", rate)
	err := st.Scrub(ctx, store.ScrubOptions{BytesPerSecond: rate})
	switch {
	case err == nil:
		in := st.Integrity()
		if in.Damaged > 0 {
			log.Error("store scrub finished: damage found", "damaged", in.Damaged, "money", in.MoneyDamaged, "checked_bytes", in.CheckedBytes)
			return
		}
		log.Info("store scrub finished: no damage", "checked_bytes", in.CheckedBytes)
	case errors.Is(err, context.Canceled), errors.Is(err, store.ErrClosed):
		log.Info("store scrub stopped before its end", "checked_bytes", st.Integrity().CheckedBytes)
	default:
		log.Error("store scrub failed", "err", err)
	}
}

// scrubStatus is the scrub's part of the status.
func scrubStatus(in store.Integrity) *httpapi.ScrubStatus {
	s := &httpapi.ScrubStatus{State: "waiting", CheckedBytes: in.CheckedBytes, InUseBytes: in.InUseBytes,
		Damaged: in.Damaged, MoneyDamaged: in.MoneyDamaged, SalesTaken: in.SalesTaken}
	switch {
	case in.Running:
		s.State = "running"
	case in.Verified:
		s.State, s.FinishedAt = "done", in.FinishedAt
	}
	for _, d := range in.Damage {
		s.Damage = append(s.Damage, httpapi.StoreDamage{Bucket: d.Bucket, Key: d.Key, Error: d.Err, Money: d.Money})
	}
	return s
}
