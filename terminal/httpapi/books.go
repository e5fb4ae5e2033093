package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"showpos/terminal/report"
	"showpos/terminal/store"
	"showpos/terminal/strictjson"
)

// Books is what the failure and report calls need: *report.Books has it.
// A nil Books makes them answer 501 not_configured.
type Books interface {
	Failures(f store.FailureFilter) ([]report.Failure, error)
	OpenFailures() (int, error)
	Ack(ctx context.Context, id uint64) (report.Failure, error)
	AckAll(ctx context.Context) (int, error)
	X() (report.Report, error)
	TakeZ(ctx context.Context, key string) (report.Report, bool, error)
	Z(n uint64) (report.Report, error)
	LastZ() (report.Report, bool, error)
}

var _ Books = (*report.Books)(nil)

// Codes of the failure and report calls.
const (
	codeUnknownFailure = "unknown_failure"
	codeUnknownReport  = "unknown_report"
	codeClockBehind    = "clock_behind"
	codeBooksBusy      = "books_busy"
)

// booksRoutes are the failure and report calls, among the register's.
//
//	GET  /v1/failures?all=1&after=&limit=   open failures (all=1: acknowledged too)
//	POST /v1/failures/{id}/ack              acknowledge one ({id} = all: every open one)
//	GET  /v1/reports/x                      the X report: totals since the last Z
//	POST /v1/reports/z  {"key":"…"}         take the Z report (close); the same key again answers the same Z
//	GET  /v1/reports/z/{number}             a stored Z report ({number} = last: the latest)
func (a *api) booksRoutes() []route {
	return []route{
		{"GET /v1/failures", a.needBooks(a.failures)},
		{"POST /v1/failures/{id}/ack", a.needBooks(a.ackFailure)},
		{"GET /v1/reports/x", a.needBooks(a.xReport)},
		{"POST /v1/reports/z", a.needBooks(a.takeZ)},
		{"GET /v1/reports/z/{number}", a.needBooks(a.zReport)},
	}
}

func (a *api) needBooks(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.books == nil {
			writeCoded(w, http.StatusNotImplemented, codeNotConfigured, "this terminal keeps no books here")
			return
		}
		h(w, r)
	}
}

// FailureList is the body of GET /v1/failures: the failures in the order
// they failed, how many are open, and, when the page is full, the id to
// pass as after= for the next.
type FailureList struct {
	Failures []report.Failure `json:"failures"`
	Open     int              `json:"open"`
	Next     uint64           `json:"next,omitempty"`
}

func (a *api) failures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.FailureFilter{Open: true, Limit: 100}
	switch q.Get("all") {
	case "", "0", "false":
	case "1", "true":
		f.Open = false
	default:
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "all must be 1 or 0")
		return
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "after must be a failure id")
			return
		}
		f.AfterID = n
	}
	var ok bool
	if f.Limit, ok = listLimit(w, q, f.Limit); !ok {
		return
	}
	fs, err := a.books.Failures(f)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	open, err := a.books.OpenFailures()
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	out := FailureList{Failures: fs, Open: open}
	if len(fs) == f.Limit {
		out.Next = fs[len(fs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// AckAllAnswer is the body of POST /v1/failures/all/ack.
type AckAllAnswer struct {
	Acknowledged int `json:"acknowledged"`
}

func (a *api) ackFailure(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "all" {
		n, err := a.books.AckAll(r.Context())
		if err != nil {
			writeError(w, a.log, err)
			return
		}
		writeJSON(w, http.StatusOK, AckAllAnswer{Acknowledged: n})
		return
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "a failure id is a number from 1, or all")
		return
	}
	f, err := a.books.Ack(r.Context(), n)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (a *api) xReport(w http.ResponseWriter, r *http.Request) {
	x, err := a.books.X()
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// TakeZBody is the body of POST /v1/reports/z; it may be empty. Key makes
// the call idempotent: a Z taken with the same key is answered again (200)
// instead of a new one taken (201). Up to 128 bytes.
type TakeZBody struct {
	Key string `json:"key,omitempty"`
}

func (a *api) takeZ(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, maxOperatorBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var in TakeZBody
	if len(body) > 0 {
		if err := strictjson.Decode(body, &in); err != nil {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "body must be empty or JSON {\"key\"}: "+err.Error())
			return
		}
	}
	if len(in.Key) > 128 {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "key: at most 128 bytes")
		return
	}
	z, created, err := a.books.TakeZ(r.Context(), in.Key)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, z)
}

func (a *api) zReport(w http.ResponseWriter, r *http.Request) {
	s := r.PathValue("number")
	var z report.Report
	var err error
	if s == "last" {
		var ok bool
		if z, ok, err = a.books.LastZ(); err == nil && !ok {
			writeCoded(w, http.StatusNotFound, codeUnknownReport, "no Z report was taken yet")
			return
		}
	} else {
		n, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil || n == 0 {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "a Z report number is a number from 1, or last")
			return
		}
		z, err = a.books.Z(n)
	}
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, z)
}
