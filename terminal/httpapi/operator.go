package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"showpos/sync/broadcast"
	"showpos/sync/outbox"
	"showpos/terminal/checkout"
	"showpos/terminal/request"
)

// Register is what the operator API needs from the terminal.
type Register interface {
	NewRequest(ctx context.Context, amount, symbol, memo string) (*request.Document, error)
	Request(id string) (*request.Document, error)
	Cancel(ctx context.Context, id string) (*request.Document, error)
	Payments(f outbox.PaymentFilter) ([]checkout.PaymentView, error)
}

// Queue is what the operator API needs from the broadcaster; nil when the
// terminal has no chain endpoints.
type Queue interface {
	Queue() (broadcast.Queue, error)
	Sync(ctx context.Context) (broadcast.Queue, error)
}

// maxOperatorBody caps operator request bodies: they are a few fields.
const maxOperatorBody = 16 << 10

// maxListLimit caps one page of the payment list.
const maxListLimit = 1000

// Operator returns the operator API handler, served on the unix socket:
//
//	POST /v1/requests               {"amount":"0.01","asset":"ETH","memo":"…"} → 201 request
//	GET  /v1/requests/current       the request on screen
//	GET  /v1/requests/{id}          a request with its status ("current": the one on screen)
//	GET  /v1/requests/{id}/qr.png?module=N   its EIP-681 URI as a PNG QR code, N pixels a module
//	POST /v1/requests/{id}/cancel   cancel a pending request
//	GET  /v1/payments?state=&since=&until=&after=&limit=   payments in acceptance order
//	GET  /v1/queue                  the outbox: payments per state, oldest queued, connectivity, last round
//	POST /v1/sync                   probe the chain and run a broadcast round now; answers the queue after it
func Operator(reg Register, q Queue, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &operator{reg: reg, queue: q, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/requests", o.newRequest)
	mux.HandleFunc("GET /v1/requests/current", o.current)
	mux.HandleFunc("GET /v1/requests/{id}", o.request)
	mux.HandleFunc("POST /v1/requests/{id}/cancel", o.cancel)
	mux.HandleFunc("GET /v1/requests/{id}/qr.png", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if id == "current" {
			id = ""
		}
		if len(id) > maxIDLen {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
			return
		}
		writeQR(w, r, o.log, o.reg.Request, id)
	})
	mux.HandleFunc("GET /v1/payments", o.payments)
	mux.HandleFunc("GET /v1/queue", o.queueStatus)
	mux.HandleFunc("POST /v1/sync", o.syncNow)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeCoded(w, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

type operator struct {
	reg   Register
	queue Queue
	log   *slog.Logger
}

func (o *operator) queueStatus(w http.ResponseWriter, r *http.Request) {
	o.answerQueue(w, func() (broadcast.Queue, error) { return o.queue.Queue() })
}

func (o *operator) syncNow(w http.ResponseWriter, r *http.Request) {
	o.answerQueue(w, func() (broadcast.Queue, error) { return o.queue.Sync(r.Context()) })
}

func (o *operator) answerQueue(w http.ResponseWriter, get func() (broadcast.Queue, error)) {
	if o.queue == nil {
		writeCoded(w, http.StatusNotImplemented, codeNotConfigured, "this terminal has no chain.rpc endpoints: it takes payments but does not broadcast them")
		return
	}
	q, err := get()
	if err != nil {
		writeError(w, o.log, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// NewRequestBody is the body of POST /v1/requests.
type NewRequestBody struct {
	Amount string `json:"amount"`
	Asset  string `json:"asset,omitempty"`
	Memo   string `json:"memo,omitempty"`
}

func (o *operator) newRequest(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, maxOperatorBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var in NewRequestBody
	if err := decodeStrictJSON(body, &in); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "body must be JSON {\"amount\",\"asset\",\"memo\"}: "+err.Error())
		return
	}
	doc, err := o.reg.NewRequest(r.Context(), in.Amount, in.Asset, in.Memo)
	if err != nil {
		writeError(w, o.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, doc)
}

func (o *operator) current(w http.ResponseWriter, r *http.Request) {
	doc, err := o.reg.Request("")
	if err != nil {
		writeError(w, o.log, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (o *operator) request(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) > maxIDLen {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
		return
	}
	doc, err := o.reg.Request(id)
	if err != nil {
		writeError(w, o.log, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (o *operator) cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) > maxIDLen {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
		return
	}
	doc, err := o.reg.Cancel(r.Context(), id)
	if err != nil {
		writeError(w, o.log, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// PaymentList is the body of GET /v1/payments. Next is the seq to pass as
// "after" for the following page (0 when this page is the last).
type PaymentList struct {
	Payments []checkout.PaymentView `json:"payments"`
	Next     uint64                 `json:"next,omitempty"`
}

func (o *operator) payments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f outbox.PaymentFilter
	switch st := outbox.PaymentState(q.Get("state")); st {
	case "", outbox.PaymentQueued, outbox.PaymentBroadcast, outbox.PaymentConfirmed, outbox.PaymentFailed:
		f.State = st
	default:
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "state must be queued, broadcast, confirmed or failed")
		return
	}
	var err error
	if f.Since, err = timeParam(q.Get("since")); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "since: "+err.Error())
		return
	}
	if f.Until, err = timeParam(q.Get("until")); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "until: "+err.Error())
		return
	}
	if s := q.Get("after"); s != "" {
		if f.AfterSeq, err = strconv.ParseUint(s, 10, 64); err != nil {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "after must be a payment seq")
			return
		}
	}
	f.Limit = 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "limit must be 1..1000")
			return
		}
		f.Limit = n
	}
	ps, err := o.reg.Payments(f)
	if err != nil {
		writeError(w, o.log, err)
		return
	}
	out := PaymentList{Payments: ps}
	if len(ps) == f.Limit {
		out.Next = ps[len(ps)-1].Seq
	}
	if out.Payments == nil {
		out.Payments = []checkout.PaymentView{}
	}
	writeJSON(w, http.StatusOK, out)
}

// timeParam reads an RFC 3339 time; "" is the zero time (no bound).
func timeParam(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}
