package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"showpos/device/clock"
	"showpos/terminal/auth"
	"showpos/terminal/checkout"
	"showpos/terminal/locale"
	"showpos/terminal/receipt"
	"showpos/terminal/store"
)

// MaxNetworkBody is the largest body a network API call takes: a fleet
// bundle's.
const MaxNetworkBody = maxBundle

// NetworkOptions configure the network API. Till, Register and Verifier
// are required; a nil Status or Fleet makes its call answer 501
// not_configured (after authentication).
type NetworkOptions struct {
	Till     Till // the payer API
	Register Register
	Status   StatusFunc
	Fleet    Fleet
	Books    Books // failures and reports, role register (books.go); nil: 501
	Verifier *auth.Verifier
	Logger   *slog.Logger // nil: discard
	// Clock gives the day totals default to; nil means clock.System. The
	// Verifier has its own.
	Clock clock.Clock
	// Location is the terminal's time zone for totals days; nil means
	// time.Local.
	Location *time.Location
	// PayerPage, when set, serves the payer page under /pay/
	// (terminal/payerpage), and a browser opening a request's URL (the
	// getPaymentRequest link in its QR, Accept: text/html) is sent there
	// (303). Nil: no page, and the request URL answers JSON to everyone.
	PayerPage http.Handler
	// Receipts, when set, serves GET /receipt/{id}: a request's signed
	// receipt, HTML or JSON (see receiptPage). Nil: no receipts.
	Receipts Receipts
	// Locale gives the language the receipt page speaks, asked at each
	// request (terminal.locale, which a fleet bundle may change). Nil:
	// English.
	Locale func() locale.Locale
	// MaxWaits caps the GET /v1/requests/{id}?wait= open at once on this
	// listener (each holds one of its api.max_conns connections); more are
	// answered 503 too_many_waits. 0: DefaultMaxWaits.
	MaxWaits int
	// Registrations, when set, takes third parties' registrations and
	// their pickups (registrations.go), unauthenticated but for the
	// pickup's signature; they wait RegistrationTTL (0: 7 days) for the
	// operator, and come no faster than RegistrationLimits allow. Nil: no
	// such routes (404).
	Registrations      Registrations
	RegistrationTTL    time.Duration
	RegistrationLimits RegistrationLimits
	// Webhooks, when set, lets a register set, read and remove its own
	// webhook (webhooks.go), URLs checked as WebhookOptions say. Nil: no
	// such routes (404).
	Webhooks       Webhooks
	WebhookOptions WebhookOptions
}

// Network returns the handler of the network listener (api.listen): the
// payer API, open as ever, and the integrator API, every call signed (see
// terminal/auth) by a client whose role may make it:
//
//	GET  /api/showpos/…             the payer API (Payer), unauthenticated
//	GET  /pay/…                     the payer page (PayerPage), unauthenticated
//	GET  /receipt/{id}              a request's signed receipt (Receipts), unauthenticated
//	GET  /R/{code}                  a request's short link (mountShortLinks), unauthenticated
//	POST /v1/requests               register   (the same handlers as the operator socket's)
//	GET  /v1/requests/current       register
//	GET  /v1/requests/{id}          register (?wait=30s: answered once not pending, wait.go)
//	GET  /v1/requests/{id}/qr.png   register
//	POST /v1/requests/{id}/cancel   register
//	GET  /v1/payments               register
//	GET  /v1/totals                 register
//	GET  /v1/failures, POST /v1/failures/{id}/ack   register
//	GET  /v1/reports/x, POST /v1/reports/z, GET /v1/reports/z/{number}   register
//	GET  /v1/status                 register, fleet
//	POST /v1/fleet/bundle           fleet
//	POST /v1/registrations          unauthenticated, rate-limited (Registrations)
//	POST /v1/registrations/{id}/pickup   signed with the registration's pickup secret
//	PUT, GET, DELETE /v1/webhook    register: its own webhook (Webhooks)
//
// Clients, the queue, sync and metrics stay on the socket. Any other
// method and path is 404 not_found before authentication: the paths above
// are documented, so answering 401 only on them tells a stranger nothing
// new, while checking the signature first would spend a store read and a
// nonce on a call that cannot succeed. A known path answers 401 until the
// request is signed, and 403 forbidden_role when the client's role may not
// make it.
//
// Network reads at most MaxNetworkBody of a signed call's body (less if
// the Verifier's MaxBody says so) before its signature is checked.
//
// Network panics if Till, Register or Verifier is nil: an integrator API
// without authentication must not be served by mistake.
func Network(o NetworkOptions) http.Handler {
	if o.Till == nil || o.Register == nil || o.Verifier == nil {
		panic("httpapi: Network needs Till, Register and Verifier")
	}
	a := newAPI(o.Register, o.Logger, o.Clock, o.Location)
	a.status, a.fleet, a.books = o.Status, o.Fleet, o.Books
	if o.MaxWaits <= 0 {
		o.MaxWaits = DefaultMaxWaits
	}
	a.waitSlots = make(chan struct{}, o.MaxWaits)
	// The body is read (for its hash) before the signature is checked,
	// for anyone naming a service number, and service numbers are public:
	// so no more of it is read than the largest body a route here takes.
	v := *o.Verifier
	if v.MaxBody <= 0 || v.MaxBody > MaxNetworkBody {
		v.MaxBody = MaxNetworkBody
	}
	mux := http.NewServeMux()
	payer := payerAPI(o.Till, a.log, a.qrs)
	mux.Handle("/api/showpos/", payer)
	if o.PayerPage != nil {
		mux.Handle("/pay/", o.PayerPage)
		mux.Handle("GET "+checkout.RequestPath, toPage(payer))
	}
	if o.Receipts != nil {
		mux.Handle(receipt.Path, receiptPage(o.Receipts, o.Locale, a.log))
	}
	mountShortLinks(mux, o.Till, o.PayerPage != nil, a.log)
	for _, rt := range a.registerRoutes() {
		mux.Handle(rt.pattern, v.Require(rt.h, store.RoleRegister))
	}
	mux.Handle("GET /v1/status", v.Require(http.HandlerFunc(a.statusNow), store.RoleRegister, store.RoleFleet))
	mux.Handle("POST /v1/fleet/bundle", v.Require(http.HandlerFunc(a.pushBundle), store.RoleFleet))
	if o.Registrations != nil {
		newRegistrationAPI(o.Registrations, o.RegistrationTTL, o.RegistrationLimits, &v, o.Clock, a.log).mountPublic(mux)
	}
	if o.Webhooks != nil {
		newWebhookAPI(o.Webhooks, o.WebhookOptions, a).mountNetwork(mux, &v)
	}
	mux.HandleFunc("/", notFound)
	return mux
}

// toPage sends a browser that opens a request's URL (it asks for HTML
// first, as a navigation does) to the payer page of that request; every
// other client (a wallet, an app, curl) gets the JSON from api as before.
func toPage(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept")
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			api.ServeHTTP(w, r)
			return
		}
		id := r.URL.Query().Get("id")
		if len(id) > maxIDLen {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, "id is too long")
			return
		}
		http.Redirect(w, r, "/pay/"+url.PathEscape(id), http.StatusSeeOther)
	})
}
