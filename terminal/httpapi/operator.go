package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"showpos/device/clock"
	"showpos/sync/broadcast"
	"showpos/terminal/checkout"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/terminal/strictjson"
)

// Register is what the register calls (on the socket and, for role
// register, on the network) need from the terminal; *checkout.Service has
// it.
type Register interface {
	Make(ctx context.Context, o checkout.Order) (*request.Document, error)
	Request(id string) (*request.Document, error)
	Cancel(ctx context.Context, id string) (*request.Document, error)
	// Watch wakes a waiting GET /v1/requests/{id}?wait= (wait.go).
	Watch(id string) (changed <-chan struct{}, stop func(), err error)
	Payments(f store.PaymentFilter) ([]checkout.PaymentView, error)
	Totals(from, to time.Time) (checkout.Totals, error)
}

var _ Register = (*checkout.Service)(nil)

// Queue is what the operator API needs from the broadcaster; nil when the
// terminal has no chain endpoints.
type Queue interface {
	Queue() (broadcast.Queue, error)
	Sync(ctx context.Context) (broadcast.Queue, error)
}

// maxOperatorBody caps operator request bodies: they are a few fields.
const maxOperatorBody = 16 << 10

// maxListLimit caps one page of a list (payments, failures).
const maxListLimit = 1000

// listLimit reads a list's page size from the query's "limit" (1 to
// maxListLimit; def when absent). A bad one is answered 400 bad_request
// here, and ok is false.
func listLimit(w http.ResponseWriter, q url.Values, def int) (n int, ok bool) {
	s := q.Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxListLimit {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("limit must be 1..%d", maxListLimit))
		return 0, false
	}
	return n, true
}

// OperatorOptions configure the operator API. Register is required; a nil
// Queue, Clients, Status or Fleet makes its calls answer 501
// not_configured, and a nil Metrics leaves GET /metrics unknown (404).
type OperatorOptions struct {
	Register Register
	Queue    Queue
	Clients  Clients
	Status   StatusFunc
	Fleet    Fleet
	Books    Books // failures and reports (books.go); nil: 501
	// Registrations, when set, lets the operator list, approve and reject
	// third parties' registrations (registrations.go); nil: 404.
	Registrations Registrations
	// Webhooks, when set, lets the operator set, read and remove any
	// client's webhook (webhooks.go); nil: 404.
	Webhooks       Webhooks
	WebhookOptions WebhookOptions
	Metrics        http.Handler
	Logger         *slog.Logger // nil: discard
	// Clock gives the time clients are created, rotated and revoked at,
	// and the day totals default to; nil means clock.System.
	Clock clock.Clock
	// Location is the terminal's time zone: a totals day runs from its
	// midnight to the next; nil means time.Local.
	Location *time.Location

	// Unmatched, when set, lets the operator acknowledge unmatched
	// receipts (unmatched.go); nil: 404.
	Unmatched Unmatched

	// ExportHold, when set, is held while an export streams, so the
	// pruner deletes none of its rows (export.go); nil: no pruner runs.
	ExportHold ExportHold
}

// Operator returns the operator API handler, served on the unix socket.
// The socket is trusted by its file mode (0660): nothing here is signed.
//
//	POST /v1/requests               {"amount":"0.01","asset":"ETH","memo":"…"} → 201 request
//	GET  /v1/requests/current       the request on screen
//	GET  /v1/requests/{id}          a request with its status ("current": the one on screen)
//	GET  /v1/requests/{id}?wait=30s answered once it is not pending, or after the wait (wait.go)
//	GET  /v1/requests/{id}/qr.png?module=N   its EIP-681 URI as a PNG QR code, N pixels a module
//	POST /v1/requests/{id}/cancel   cancel a pending request
//	GET  /v1/payments?state=&since=&until=&after=&limit=   payments in acceptance order
//	GET  /v1/totals?day=YYYY-MM-DD | ?from=&to=  [&format=csv]   sums per asset and state
//	GET  /v1/failures, POST /v1/failures/{id}/ack, GET /v1/reports/x,
//	POST /v1/reports/z, GET /v1/reports/z/{number}   failures and reports (books.go)
//	GET  /v1/queue                  the outbox: payments per state, oldest queued, connectivity, last round
//	POST /v1/sync                   probe the chain and run a broadcast round now; answers the queue after it
//	POST /v1/clients                {"name","role"} → 201 a new integrator client with its key (shown only here)
//	GET  /v1/clients                every client, never a secret
//	POST /v1/clients/{number}/rotate  {"grace":"24h"} → a new key; the old one is honoured for grace
//	POST /v1/clients/{number}/revoke  revoke the client: none of its keys is honoured from now
//	GET  /v1/status                 the terminal's status, as Status assembles it
//	GET  /v1/payments/export?from=&to=&format=csv|jsonl   every payment of a period, streamed (export.go)
//	POST /v1/payments/unmatched/{seq}/ack   acknowledge an unmatched receipt (unmatched.go)
//	POST /v1/fleet/bundle           a signed fleet configuration bundle (body, at most 256 KiB)
//	GET  /v1/registrations?all=1    third parties' registrations (waiting ones only without all)
//	POST /v1/registrations/{id}/approve  {"role":"register"} → the registration with its new service number
//	POST /v1/registrations/{id}/reject   reject a pending registration
//	PUT  /v1/clients/{number}/webhook  {"url","rotate"} → the webhook, with its secret when new (shown only here)
//	GET  /v1/clients/{number}/webhook  its delivery status and the attempts kept; DELETE removes it
//	GET  /v1/webhooks               every webhook's delivery status
//	GET  /metrics                   the Metrics handler
//
// Operator panics if Register is nil: a wiring mistake.
func Operator(o OperatorOptions) http.Handler {
	if o.Register == nil {
		panic("httpapi: Operator needs a Register")
	}
	a := newAPI(o.Register, o.Logger, o.Clock, o.Location)
	a.queue, a.clients, a.status, a.fleet = o.Queue, o.Clients, o.Status, o.Fleet
	a.books, a.exportHold = o.Books, o.ExportHold
	mux := http.NewServeMux()
	for _, rt := range a.registerRoutes() {
		mux.HandleFunc(rt.pattern, rt.h)
	}
	mux.HandleFunc("GET /v1/queue", a.queueStatus)
	mux.HandleFunc("POST /v1/sync", a.syncNow)
	mux.HandleFunc("POST /v1/clients", a.addClient)
	mux.HandleFunc("GET /v1/clients", a.listClients)
	mux.HandleFunc("POST /v1/clients/{number}/rotate", a.rotateClient)
	mux.HandleFunc("POST /v1/clients/{number}/revoke", a.revokeClient)
	mux.HandleFunc("GET /v1/status", a.statusNow)
	mux.HandleFunc("GET /v1/payments/export", a.exportPayments) // export.go
	if o.Unmatched != nil {
		mux.HandleFunc("POST /v1/payments/unmatched/{seq}/ack", a.ackUnmatched(o.Unmatched)) // unmatched.go
	}
	mux.HandleFunc("POST /v1/fleet/bundle", a.pushBundle)
	if o.Registrations != nil {
		newRegistrationAPI(o.Registrations, 0, RegistrationLimits{}, nil, o.Clock, a.log).mountOperator(mux)
	}
	if o.Webhooks != nil {
		newWebhookAPI(o.Webhooks, o.WebhookOptions, a).mountOperator(mux)
	}
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics)
	}
	mux.HandleFunc("/", notFound)
	return mux
}

// api holds the handlers of the operator and network APIs. Both serve the
// register calls with the same methods; only what guards them differs.
type api struct {
	reg     Register
	queue   Queue
	clients Clients
	status  StatusFunc
	fleet   Fleet
	books   Books
	log     *slog.Logger
	clock   clock.Clock
	loc     *time.Location
	qrs     *qrPainter
	// waitSlots caps the waits open on this API (wait.go); nil: only the
	// till's cap.
	waitSlots chan struct{}
	// exportHold keeps the pruner off an export's period (export.go);
	// nil: none.
	exportHold ExportHold
}

func newAPI(reg Register, log *slog.Logger, clk clock.Clock, loc *time.Location) *api {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clk == nil {
		clk = clock.System{}
	}
	if loc == nil {
		loc = time.Local
	}
	return &api{reg: reg, log: log, clock: clk, loc: loc, qrs: newQRPainter()}
}

type route struct {
	pattern string
	h       http.HandlerFunc
}

// registerRoutes are the calls of a cash register or back office: served
// as they are on the socket, and behind role register on the network.
func (a *api) registerRoutes() []route {
	return append([]route{
		{"POST /v1/requests", a.newRequest},
		{"GET /v1/requests/current", a.current},
		{"GET /v1/requests/{id}", a.request},
		{"GET /v1/requests/{id}/qr.png", a.qr},
		{"POST /v1/requests/{id}/cancel", a.cancel},
		{"GET /v1/payments", a.payments},
		{"GET /v1/totals", a.totals},
	}, a.booksRoutes()...) // books.go
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeCoded(w, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
}

func (a *api) queueStatus(w http.ResponseWriter, r *http.Request) {
	a.answerQueue(w, func() (broadcast.Queue, error) { return a.queue.Queue() })
}

func (a *api) syncNow(w http.ResponseWriter, r *http.Request) {
	a.answerQueue(w, func() (broadcast.Queue, error) { return a.queue.Sync(r.Context()) })
}

func (a *api) answerQueue(w http.ResponseWriter, get func() (broadcast.Queue, error)) {
	if a.queue == nil {
		writeCoded(w, http.StatusNotImplemented, codeNotConfigured, "this terminal has no chain.rpc endpoints: it takes payments but does not broadcast them")
		return
	}
	q, err := get()
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// NewRequestBody is the body of POST /v1/requests: an amount in the asset
// ("amount") or in the shop's currency ("fiat"), and optionally a tip in
// the same unit ("tip") or as a percentage of the amount ("tipPercent").
type NewRequestBody struct {
	Amount     string `json:"amount,omitempty"`
	Fiat       string `json:"fiat,omitempty"`
	Asset      string `json:"asset,omitempty"`
	Memo       string `json:"memo,omitempty"`
	Tip        string `json:"tip,omitempty"`
	TipPercent uint   `json:"tipPercent,omitempty"`
}

func (a *api) newRequest(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, maxOperatorBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var in NewRequestBody
	if err := strictjson.Decode(body, &in); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "body must be JSON {\"amount\" or \"fiat\",\"asset\",\"memo\",\"tip\" or \"tipPercent\"}: "+err.Error())
		return
	}
	doc, err := a.reg.Make(r.Context(), checkout.Order{Amount: in.Amount, Fiat: in.Fiat, Symbol: in.Asset, Memo: in.Memo, Tip: in.Tip, TipPercent: in.TipPercent})
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, doc)
}

func (a *api) current(w http.ResponseWriter, r *http.Request) {
	doc, err := a.reg.Request("")
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (a *api) request(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) > maxIDLen {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
		return
	}
	wait, ok := waitParam(w, r)
	switch {
	case !ok:
	case wait > 0:
		a.waitRequest(w, r, id, wait)
	default:
		a.answerRequest(w, id)
	}
}

func (a *api) qr(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "current" {
		id = ""
	}
	if len(id) > maxIDLen {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
		return
	}
	a.qrs.write(w, r, a.log, a.reg.Request, id)
}

func (a *api) cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) > maxIDLen {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
		return
	}
	doc, err := a.reg.Cancel(r.Context(), id)
	if err != nil {
		writeError(w, a.log, err)
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

func (a *api) payments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.PaymentFilter
	switch st := store.PaymentState(q.Get("state")); {
	case st == "", st.Known():
		f.State = st
	default:
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "state must be queued, broadcast, seen, confirmed, final, failed or unmatched")
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
	var ok bool
	if f.Limit, ok = listLimit(w, q, 100); !ok {
		return
	}
	ps, err := a.reg.Payments(f)
	if err != nil {
		writeError(w, a.log, err)
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
