package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"showpos/device/clock"
	"showpos/terminal/auth"
	"showpos/terminal/store"
	"showpos/terminal/strictjson"
)

// Third parties' registrations: a stranger asks for a service number
// (POST /v1/registrations, unauthenticated, rate-limited, at most
// MaxRegistrationBody), the operator approves or rejects it on the socket,
// and the stranger collects its service number and key once (POST
// /v1/registrations/{id}/pickup), signing the request with its pickup
// secret exactly as a client signs with its service key (terminal/auth),
// the registration ID standing where the service number stands.
//
// What a pickup answers, once its signature verifies: 200 with the
// service number and key (the one time), 409 already_collected after, 403
// registration_pending, registration_rejected or registration_expired. An
// unknown (or pruned) ID is checked against a random secret, so it fails
// as a wrong secret does: 401 bad_signature, the same body, and no other
// answer tells which IDs exist. A registration's secret authenticates its
// pickup and nothing else: no other route knows registration IDs.

// Registrations is what the registration routes need of the store;
// *store.Store has it.
type Registrations interface {
	PutRegistration(ctx context.Context, r store.Registration, now time.Time) error
	Registration(id string, now time.Time) (store.Registration, error)
	Registrations(all bool, now time.Time) ([]store.Registration, error)
	ApproveRegistration(ctx context.Context, id string, c store.Client, now time.Time) (store.Registration, error)
	RejectRegistration(ctx context.Context, id string, now time.Time) (store.Registration, error)
	CollectRegistration(ctx context.Context, id string, now time.Time) (store.Registration, error)
	UseNonce(ctx context.Context, number, nonce string, expires, now time.Time) error
}

var _ Registrations = (*store.Store)(nil)

// Codes of the registration routes, stable.
const (
	codeRateLimited          = "rate_limited"          // 429, with Retry-After
	codeRegistrationPending  = "registration_pending"  // 403: the operator has not decided yet
	codeRegistrationRejected = "registration_rejected" // 403
	codeRegistrationExpired  = "registration_expired"  // 403: not approved in time
	codeAlreadyCollected     = "already_collected"     // 409: the key was handed out once
	codeUnknownRegistration  = "unknown_registration"  // 404 (operator socket only)
	codeRegistrationDecided  = "registration_decided"  // 409 (operator socket): not pending any more
)

// Limits of a registration.
const (
	// MaxRegistrationBody caps POST /v1/registrations' body.
	MaxRegistrationBody = 4 << 10
	// maxPickupBody caps a pickup's body, which is empty.
	maxPickupBody = 1 << 10
	// DefaultRegistrationTTL: see config.DefaultRegistrationTTL.
	DefaultRegistrationTTL = 7 * 24 * time.Hour
	registrationPrefix     = "rg_"
	pickupPrefix           = "ps_"
	// pickupNoncePrefix keeps registrations' nonces apart from clients':
	// no service number holds a '/'.
	pickupNoncePrefix = "registration/"
)

// RegistrationLimits bound how fast registrations are taken: each is a
// token bucket holding Burst tokens, refilled one per Every. Zero fields
// take the defaults: 3 per address, then one per 10 minutes; 20 for
// everyone, then one per minute.
type RegistrationLimits struct {
	PerAddressBurst int
	PerAddressEvery time.Duration
	GlobalBurst     int
	GlobalEvery     time.Duration
}

// RegistrationBody is the body of POST /v1/registrations.
type RegistrationBody struct {
	Name    string     `json:"name"`    // who is asking, 1 to 200 bytes
	Contact string     `json:"contact"` // how the operator reaches them, 1 to 200 bytes
	Role    store.Role `json:"role"`    // "register" or "fleet": asked for, the operator decides
	Reason  string     `json:"reason"`  // 1 to 500 bytes
}

// RegistrationTicket answers POST /v1/registrations: the pickup secret is
// shown only here.
type RegistrationTicket struct {
	ID           string    `json:"id"`
	PickupSecret string    `json:"pickupSecret"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// Pickup answers a pickup: the service number and key, shown only here.
type Pickup struct {
	Number string     `json:"number"`
	Key    string     `json:"key"`
	Role   store.Role `json:"role"`
	Name   string     `json:"name"`
}

// RegistrationView is a registration as the operator sees it: never a
// secret.
type RegistrationView struct {
	ID        string                  `json:"id"`
	Name      string                  `json:"name"`
	Contact   string                  `json:"contact"`
	Role      store.Role              `json:"role"`
	Reason    string                  `json:"reason"`
	State     store.RegistrationState `json:"state"`
	Created   time.Time               `json:"created"`
	Expires   time.Time               `json:"expires"`
	Decided   time.Time               `json:"decided,omitzero"`
	Collected time.Time               `json:"collected,omitzero"`
	Number    string                  `json:"number,omitempty"`
	Granted   store.Role              `json:"granted,omitempty"`
}

// RegistrationList is the body of GET /v1/registrations.
type RegistrationList struct {
	Registrations []RegistrationView `json:"registrations"`
}

// ApproveBody is the body of POST /v1/registrations/{id}/approve.
type ApproveBody struct {
	Role store.Role `json:"role"`
}

func viewRegistration(r store.Registration) RegistrationView {
	return RegistrationView{ID: r.ID, Name: r.Name, Contact: r.Contact, Role: r.Role, Reason: r.Reason,
		State: r.State, Created: r.Created, Expires: r.Expires, Decided: r.Decided, Collected: r.Collected,
		Number: r.Number, Granted: r.Granted}
}

type registrationAPI struct {
	regs    Registrations
	ttl     time.Duration
	clock   clock.Clock
	log     *slog.Logger
	limits  *limiter
	pickupV auth.Verifier
}

func newRegistrationAPI(regs Registrations, ttl time.Duration, lim RegistrationLimits, v *auth.Verifier, clk clock.Clock, log *slog.Logger) *registrationAPI {
	if ttl <= 0 {
		ttl = DefaultRegistrationTTL
	}
	if clk == nil {
		clk = clock.System{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &registrationAPI{regs: regs, ttl: ttl, clock: clk, log: log, limits: newLimiter(lim, clk)}
	if v != nil {
		// The client scheme's verifier, with registrations in place of
		// clients: the same headers, string to sign, window and nonces.
		a.pickupV = *v
	}
	a.pickupV.Store = pickupStore{a}
	a.pickupV.MaxBody = maxPickupBody
	return a
}

// mountPublic adds the third party's routes to the network mux.
func (a *registrationAPI) mountPublic(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/registrations", a.submit)
	mux.HandleFunc("POST /v1/registrations/{id}/pickup", a.pickup)
}

// mountOperator adds the operator's routes to the socket's mux.
func (a *registrationAPI) mountOperator(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/registrations", a.list)
	mux.HandleFunc("POST /v1/registrations/{id}/approve", a.approve)
	mux.HandleFunc("POST /v1/registrations/{id}/reject", a.reject)
}

func (a *registrationAPI) submit(w http.ResponseWriter, r *http.Request) {
	if ok, retry := a.limits.allow(sourceAddr(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		writeCoded(w, http.StatusTooManyRequests, codeRateLimited, "too many registrations; try again after Retry-After seconds")
		return
	}
	body, err := readBody(w, r, MaxRegistrationBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var in RegistrationBody
	if err := strictjson.Decode(body, &in); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, `body must be JSON {"name","contact","role":"register"|"fleet","reason"}: `+err.Error())
		return
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"name", in.Name, store.MaxRegistrationName}, {"contact", in.Contact, store.MaxRegistrationContact}, {"reason", in.Reason, store.MaxRegistrationReason}} {
		if msg := checkLine(f.v, f.max); msg != "" {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, f.name+": "+msg)
			return
		}
	}
	if !in.Role.Valid() {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("role %q: want %q (cash registers, back offices) or %q (fleet managers)", in.Role, store.RoleRegister, store.RoleFleet))
		return
	}
	now := a.clock.Now().UTC()
	secret := pickupPrefix + randomText(32)
	reg := store.Registration{Name: in.Name, Contact: in.Contact, Role: in.Role, Reason: in.Reason,
		Created: now, Expires: now.Add(a.ttl), PickupSecret: []byte(secret)}
	for range 3 { // 64 random bits: a collision is drawn again
		reg.ID = registrationPrefix + randomHex(8)
		if err = a.regs.PutRegistration(r.Context(), reg, now); !errors.Is(err, store.ErrRegistrationExists) {
			break
		}
	}
	if err != nil {
		writeError(w, a.log, fmt.Errorf("registration: %w", err))
		return
	}
	a.log.Info("registration received", "id", reg.ID, "name", reg.Name, "role", reg.Role)
	writeJSON(w, http.StatusCreated, RegistrationTicket{ID: reg.ID, PickupSecret: secret, ExpiresAt: reg.Expires})
}

func (a *registrationAPI) pickup(w http.ResponseWriter, r *http.Request) {
	// The path's ID must be the one signed for: the header names whose
	// secret signs, the path what is collected.
	id := r.PathValue("id")
	if h := r.Header.Get(auth.HeaderClient); h != "" && h != id {
		auth.WriteError(w, &auth.Error{Code: auth.CodeBadSignature, Status: http.StatusUnauthorized,
			Message: auth.HeaderClient + " must be the registration ID of the path"})
		return
	}
	if _, err := a.pickupV.Verify(r); err != nil {
		var e *auth.Error
		if !errors.As(err, &e) {
			e = &auth.Error{Code: auth.CodeInternal, Status: http.StatusInternalServerError, Message: "authentication failed", Err: err}
		}
		if e.Status >= 500 {
			a.log.Error("registration pickup", "err", err)
		}
		auth.WriteError(w, e)
		return
	}
	now := a.clock.Now().UTC()
	got, err := a.regs.CollectRegistration(r.Context(), id, now)
	switch {
	case err == nil:
		a.log.Info("registration collected", "id", id, "number", got.Number)
		writeJSON(w, http.StatusOK, Pickup{Number: got.Number, Key: string(got.Key), Role: got.Granted, Name: got.Name})
	case errors.Is(err, store.ErrRegistrationState):
		switch got.State {
		case store.RegistrationCollected:
			writeCoded(w, http.StatusConflict, codeAlreadyCollected, "the service number and key were collected already; they are never shown again: ask the operator for a new client")
		case store.RegistrationRejected:
			writeCoded(w, http.StatusForbidden, codeRegistrationRejected, "the operator rejected this registration")
		case store.RegistrationExpired:
			writeCoded(w, http.StatusForbidden, codeRegistrationExpired, "the registration expired before the operator approved it; register again")
		default:
			writeCoded(w, http.StatusForbidden, codeRegistrationPending, "the operator has not approved this registration yet; try again later")
		}
	case errors.Is(err, store.ErrUnknownRegistration):
		// Pruned since the signature verified: as unknown.
		auth.WriteError(w, &auth.Error{Code: auth.CodeBadSignature, Status: http.StatusUnauthorized, Message: "the signature does not match the request"})
	default:
		writeError(w, a.log, fmt.Errorf("registration pickup: %w", err))
	}
}

// pickupStore serves the pickup's Verifier: a registration ID is looked up
// as a client whose one key is the pickup secret.
type pickupStore struct{ a *registrationAPI }

func (p pickupStore) Client(id string) (store.Client, error) {
	r, err := p.a.regs.Registration(id, p.a.clock.Now())
	if errors.Is(err, store.ErrUnknownRegistration) || (err == nil && len(r.PickupSecret) == 0) || len(id) > store.MaxRegistrationID {
		// Checked against a secret no one holds, so an unknown ID
		// fails as a wrong secret does.
		return store.Client{Number: id, Keys: []store.ClientKey{{Secret: []byte(pickupPrefix + randomText(32))}}}, nil
	}
	if err != nil {
		return store.Client{}, err
	}
	return store.Client{Number: id, Keys: []store.ClientKey{{Secret: r.PickupSecret}}}, nil
}

func (p pickupStore) UseNonce(ctx context.Context, id, nonce string, expires, now time.Time) error {
	return p.a.regs.UseNonce(ctx, pickupNoncePrefix+id, nonce, expires, now)
}

func (a *registrationAPI) list(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("all")
	if all != "" && all != "1" && all != "true" {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "all must be 1 or true")
		return
	}
	rs, err := a.regs.Registrations(all != "", a.clock.Now())
	if err != nil {
		writeError(w, a.log, fmt.Errorf("list registrations: %w", err))
		return
	}
	out := RegistrationList{Registrations: make([]RegistrationView, len(rs))}
	for i, reg := range rs {
		out.Registrations[i] = viewRegistration(reg)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *registrationAPI) approve(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, maxOperatorBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var in ApproveBody
	if err := strictjson.Decode(body, &in); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, `body must be JSON {"role":"register"|"fleet"}: `+err.Error())
		return
	}
	if !in.Role.Valid() {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("role %q: want %q or %q (the role asked for is advisory: say which one you grant)", in.Role, store.RoleRegister, store.RoleFleet))
		return
	}
	now := a.clock.Now().UTC()
	id := r.PathValue("id")
	c := store.Client{Role: in.Role, Created: now, Keys: []store.ClientKey{{Secret: []byte(newServiceKey())}}}
	var got store.Registration
	for range 3 {
		c.Number = newServiceNumber()
		if got, err = a.regs.ApproveRegistration(r.Context(), id, c, now); !errors.Is(err, store.ErrClientExists) {
			break
		}
	}
	if a.decisionFailed(w, id, err) {
		return
	}
	a.log.Info("registration approved", "id", id, "number", got.Number, "role", got.Granted)
	writeJSON(w, http.StatusOK, viewRegistration(got))
}

func (a *registrationAPI) reject(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	got, err := a.regs.RejectRegistration(r.Context(), id, a.clock.Now().UTC())
	if a.decisionFailed(w, id, err) {
		return
	}
	a.log.Info("registration rejected", "id", id)
	writeJSON(w, http.StatusOK, viewRegistration(got))
}

func (a *registrationAPI) decisionFailed(w http.ResponseWriter, id string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrUnknownRegistration):
		writeCoded(w, http.StatusNotFound, codeUnknownRegistration, "no registration "+strconv.Quote(id)+" (expired ones are deleted)")
	case errors.Is(err, store.ErrRegistrationState):
		writeCoded(w, http.StatusConflict, codeRegistrationDecided, "registration "+strconv.Quote(id)+" is not pending: "+err.Error())
	default:
		writeError(w, a.log, fmt.Errorf("registration %q: %w", id, err))
	}
	return true
}

// checkLine returns what is wrong with a line of text a stranger sends
// for the operator to read, or "": 1 to max bytes of UTF-8, no control or
// bidirectional formatting characters (the memo's rule: what the operator
// reads is what was sent).
func checkLine(s string, max int) string {
	switch {
	case s == "":
		return "required"
	case len(s) > max:
		return fmt.Sprintf("%d bytes: at most %d", len(s), max)
	case !utf8.ValidString(s):
		return "must be UTF-8 text"
	}
	for i, r := range s {
		if unicode.IsControl(r) || r == 0x061C || r == 0x200E || r == 0x200F || 0x202A <= r && r <= 0x202E || 0x2066 <= r && r <= 0x2069 {
			return fmt.Sprintf("control character %U at byte %d: plain text on one line", r, i)
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b)
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sourceAddr is the address a request came from, without its port.
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter is two token buckets: one per source address, one for all. It
// keeps at most maxLimited addresses; when full it forgets those whose
// bucket has refilled, and while it is still full, refuses newcomers (a
// flood from many addresses is the global bucket's to stop anyway).
type limiter struct {
	mu         sync.Mutex
	clock      clock.Clock
	perBurst   float64
	perEvery   time.Duration
	global     bucket
	globalCap  float64
	globalEach time.Duration
	addrs      map[string]*bucket
}

const maxLimited = 4096

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(l RegistrationLimits, clk clock.Clock) *limiter {
	if l.PerAddressBurst <= 0 {
		l.PerAddressBurst = 3
	}
	if l.PerAddressEvery <= 0 {
		l.PerAddressEvery = 10 * time.Minute
	}
	if l.GlobalBurst <= 0 {
		l.GlobalBurst = 20
	}
	if l.GlobalEvery <= 0 {
		l.GlobalEvery = time.Minute
	}
	return &limiter{clock: clk, perBurst: float64(l.PerAddressBurst), perEvery: l.PerAddressEvery,
		global: bucket{tokens: float64(l.GlobalBurst), last: clk.Now()}, globalCap: float64(l.GlobalBurst),
		globalEach: l.GlobalEvery, addrs: map[string]*bucket{}}
}

// refill adds the tokens earned since b.last, up to burst.
func (b *bucket) refill(now time.Time, burst float64, every time.Duration) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(burst, b.tokens+float64(d)/float64(every))
	}
	b.last = now
}

// wait is how long until b holds a whole token.
func (b *bucket) wait(every time.Duration) time.Duration {
	return time.Duration((1 - b.tokens) * float64(every))
}

// allow takes a token from addr's bucket and the global one, or neither,
// and says how long to wait when it cannot.
func (l *limiter) allow(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	b := l.addrs[addr]
	if b == nil {
		if len(l.addrs) >= maxLimited {
			for k, o := range l.addrs {
				if o.refill(now, l.perBurst, l.perEvery); o.tokens >= l.perBurst {
					delete(l.addrs, k)
				}
			}
			if len(l.addrs) >= maxLimited {
				return false, l.perEvery
			}
		}
		b = &bucket{tokens: l.perBurst, last: now}
		l.addrs[addr] = b
	}
	b.refill(now, l.perBurst, l.perEvery)
	l.global.refill(now, l.globalCap, l.globalEach)
	switch {
	case b.tokens < 1:
		return false, b.wait(l.perEvery)
	case l.global.tokens < 1:
		return false, l.global.wait(l.globalEach)
	}
	b.tokens--
	l.global.tokens--
	return true, 0
}
