package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"showpos/device/clock"
	"showpos/terminal/checkout"
	"showpos/terminal/store"
)

// Kinds of report.
const (
	KindX = "X"
	KindZ = "Z"
)

// Report is an X or a Z report. Totals (checkout's sums for the period,
// From to To) is embedded: its fields are the report's.
type Report struct {
	Kind     string    `json:"kind"`             // "X" or "Z"
	Number   uint64    `json:"number,omitempty"` // a Z's number; 0 for an X
	Terminal string    `json:"terminal"`
	TakenAt  time.Time `json:"takenAt"`
	checkout.Totals
	// Failures are the failures after acceptance dated in the period,
	// acknowledged or not.
	Failures []Failure `json:"failures"`
}

// Failure is a failure after acceptance as the cashier and the API show
// it: its number, the failed payment (amount, asset, request, reason), when
// it failed and, once acknowledged, when.
type Failure struct {
	ID uint64 `json:"id"`
	checkout.PaymentView
	FailedAt time.Time  `json:"failedAt"`
	AckedAt  *time.Time `json:"ackedAt,omitempty"`
}

// Till is what the books need from the till; *checkout.Service has it.
type Till interface {
	Totals(from, to time.Time) (checkout.Totals, error)
	PaymentView(p store.Payment) checkout.PaymentView
}

var _ Till = (*checkout.Service)(nil)

// Options wire Books. Store and Till are required.
type Options struct {
	Store    *store.Store
	Till     Till
	Terminal string      // the terminal's id, printed on reports
	Clock    clock.Clock // nil: clock.System
	Logger   *slog.Logger
	// OnZ, if set, is called with each Z report when it is taken (once:
	// not when a repeated key answers it again), whichever way it was
	// asked for, e.g. to print it. It must not block.
	OnZ func(Report)
}

// Books reads and closes the terminal's books. Safe for concurrent use.
type Books struct {
	o   Options
	log *slog.Logger
}

// New returns Books over o.
func New(o Options) *Books {
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Books{o: o, log: log}
}

// Errors; test with errors.Is.
var (
	// ErrClockBehind: the clock is at or before the last Z's end, so a Z
	// now would cover no time (or time already closed).
	ErrClockBehind = errors.New("the clock is not after the last Z report's end")
	// ErrBusy: records kept arriving in the period while the Z was read;
	// take it again.
	ErrBusy = errors.New("the books kept moving while the Z report was read")
)

// zTries is how often TakeZ reads the books again when a record arrived
// in its period meanwhile.
const zTries = 5

// Failures lists the failures f selects, in the order they failed.
func (b *Books) Failures(f store.FailureFilter) ([]Failure, error) {
	fs, err := b.o.Store.Failures(f)
	if err != nil {
		return nil, err
	}
	out := make([]Failure, len(fs))
	for i, fl := range fs {
		out[i] = b.view(fl)
	}
	return out, nil
}

// OpenFailures counts the unacknowledged failures.
func (b *Books) OpenFailures() (int, error) { return b.o.Store.OpenFailures() }

// Ack acknowledges failure id (again: no change) and returns it; an
// unknown id gives an error wrapping store.ErrUnknownFailure.
func (b *Books) Ack(ctx context.Context, id uint64) (Failure, error) {
	fl, err := b.o.Store.AckFailure(ctx, id, b.o.Clock.Now())
	if err != nil {
		return Failure{}, err
	}
	b.log.Info("failure acknowledged", "failure", id, "tx", fl.Payment.TxHash.Hex())
	return b.view(fl), nil
}

// AckAll acknowledges every open failure and returns how many.
func (b *Books) AckAll(ctx context.Context) (int, error) {
	n, err := b.o.Store.AckAllFailures(ctx, b.o.Clock.Now())
	if err == nil && n > 0 {
		b.log.Info("failures acknowledged", "count", n)
	}
	return n, err
}

func (b *Books) view(fl store.Failure) Failure {
	f := Failure{ID: fl.ID, PaymentView: b.o.Till.PaymentView(fl.Payment), FailedAt: fl.FailedAt}
	if fl.Acked() {
		t := fl.AckedAt
		f.AckedAt = &t
	}
	return f
}

// X reads the running totals since the last Z, up to now.
func (b *Books) X() (Report, error) {
	last, _, err := b.o.Store.LastZ()
	if err != nil {
		return Report{}, fmt.Errorf("X report: %w", err)
	}
	now := b.o.Clock.Now()
	if now.Before(last.To) {
		now = last.To // a clock behind the last Z: an empty period
	}
	r, err := b.read(KindX, last.To, now)
	if err != nil {
		return Report{}, fmt.Errorf("X report: %w", err)
	}
	return r, nil
}

// TakeZ closes the books: a Z report for the period from the last Z's end
// to now, stored, numbered, returned with true. A key already used by a Z
// returns that Z with false (a repeated call), and so does a Z another
// caller took while this one was read (the books were closed just now, as
// asked). The period is checked and
// the Z numbered in one store write; a record arriving in the period while
// it is read makes it read again (ErrBusy after a few tries). A clock at or
// before the last Z's end gives ErrClockBehind.
func (b *Books) TakeZ(ctx context.Context, key string) (Report, bool, error) {
	for range zTries {
		last, _, err := b.o.Store.LastZ()
		if err != nil {
			return Report{}, false, fmt.Errorf("Z report: %w", err)
		}
		if key != "" && last.Key == key {
			r, err := decode(last)
			return r, false, err
		}
		marks, err := b.o.Store.Marks()
		if err != nil {
			return Report{}, false, fmt.Errorf("Z report: %w", err)
		}
		now := b.o.Clock.Now()
		if last.Number > 0 && !now.After(last.To) {
			return Report{}, false, fmt.Errorf("Z report: now %s, Z %d ended %s: %w", now.Format(time.RFC3339), last.Number, last.To.Format(time.RFC3339), ErrClockBehind)
		}
		r, err := b.read(KindZ, last.To, now)
		if err != nil {
			return Report{}, false, fmt.Errorf("Z report: %w", err)
		}
		r.Number = last.Number + 1
		doc, err := json.Marshal(r)
		if err != nil {
			return Report{}, false, err
		}
		z, created, err := b.o.Store.TakeZ(ctx, store.Z{From: last.To, To: now, Key: key, Marks: marks, Doc: doc})
		if errors.Is(err, store.ErrZPeriod) {
			// Another Z was taken while this one was read: it closed
			// the books just now, as asked; answer it rather than a
			// second, all but empty one.
			if other, ok, lerr := b.o.Store.LastZ(); lerr == nil && ok && other.Number != last.Number {
				r, err := decode(other)
				return r, false, err
			}
		}
		switch {
		case errors.Is(err, store.ErrZMoved):
			b.log.Info("Z report: the books moved while read; reading again", "err", err)
			continue
		case err != nil:
			return Report{}, false, fmt.Errorf("Z report: %w", err)
		}
		out, err := decode(z)
		if err != nil {
			return Report{}, false, err
		}
		if created {
			b.log.Info("Z report taken", "number", z.Number, "from", z.From, "to", z.To)
			if b.o.OnZ != nil {
				b.o.OnZ(out)
			}
		}
		return out, created, nil
	}
	return Report{}, false, fmt.Errorf("Z report: %d tries: %w", zTries, ErrBusy)
}

// Z returns stored Z report n; an unknown n gives an error wrapping
// store.ErrUnknownZ.
func (b *Books) Z(n uint64) (Report, error) {
	z, err := b.o.Store.Z(n)
	if err != nil {
		return Report{}, err
	}
	return decode(z)
}

// LastZ returns the latest Z report, and false when none was taken yet.
func (b *Books) LastZ() (Report, bool, error) {
	z, ok, err := b.o.Store.LastZ()
	if err != nil || !ok {
		return Report{}, false, err
	}
	r, err := decode(z)
	return r, err == nil, err
}

func decode(z store.Z) (Report, error) {
	var r Report
	if err := json.Unmarshal(z.Doc, &r); err != nil {
		return Report{}, fmt.Errorf("Z %d: %v: %w", z.Number, err, store.ErrCorrupt)
	}
	return r, nil
}

// read builds a report of kind for [from, to).
func (b *Books) read(kind string, from, to time.Time) (Report, error) {
	t, err := b.o.Till.Totals(from, to)
	if err != nil {
		return Report{}, err
	}
	r := Report{Kind: kind, Terminal: b.o.Terminal, TakenAt: to, Totals: t, Failures: []Failure{}}
	var after uint64
	for {
		fs, err := b.Failures(store.FailureFilter{Since: from, Until: to, AfterID: after, Limit: 500})
		if err != nil {
			return Report{}, err
		}
		r.Failures = append(r.Failures, fs...)
		if len(fs) < 500 {
			break
		}
		after = fs[len(fs)-1].ID
	}
	return r, nil
}
