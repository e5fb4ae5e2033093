package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"showpos/device/clock"
	"showpos/sync/webhook"
	"showpos/terminal/auth"
	"showpos/terminal/store"
	"showpos/terminal/strictjson"
)

// Webhooks is what the webhook routes need: the store's webhooks, and the
// deliverer's status and log (sync/webhook). posd joins the two, and tells
// the deliverer after each change.
type Webhooks interface {
	SetWebhook(ctx context.Context, number, url string, newSecret []byte, rotate bool, now time.Time) (store.Webhook, bool, error)
	RemoveWebhook(ctx context.Context, number string) (bool, error)
	WebhookStatus() ([]webhook.Status, error)
	WebhookLog(number string) []webhook.Attempt
}

// maxWebhookBody caps the body of PUT …/webhook.
const maxWebhookBody = 4 << 10

// webhookSecretPrefix starts every webhook secret: "whsec_" and the
// base64url (no padding) of 32 random bytes. The HMAC key is the string's
// bytes exactly as shown, as with service keys.
const webhookSecretPrefix = "whsec_"

// WebhookBody is the body of PUT /v1/webhook (a register, for itself) and
// PUT /v1/clients/{number}/webhook (the operator).
type WebhookBody struct {
	URL string `json:"url"`
	// Rotate draws a new secret even though the client has one; without
	// it, setting the URL again keeps the secret.
	Rotate bool `json:"rotate,omitempty"`
}

// WebhookSet answers a PUT: Secret only when it is new (the first URL, or
// rotate), and only this once.
type WebhookSet struct {
	Client        string    `json:"client"`
	URL           string    `json:"url"`
	Secret        string    `json:"secret,omitempty"`
	SecretCreated time.Time `json:"secretCreated"`
}

// WebhookView answers GET of one webhook: its delivery status and the
// attempts kept (oldest first), never the secret.
type WebhookView struct {
	webhook.Status
	Log []webhook.Attempt `json:"log"`
}

// WebhookOptions is how URLs are checked.
type WebhookOptions struct {
	// AllowHTTP (webhooks.allow_http) takes plain http:// URLs to any
	// host; otherwise http:// only to a loopback address (a register on
	// the same box, tests) and https:// elsewhere.
	AllowHTTP bool
	// AllowLoopback (webhooks.allow_loopback) lets a client set, over the
	// network, a webhook to the terminal itself (webhook.SelfHost):
	// otherwise only the operator may, since the client reads each
	// attempt's status or error back, a scanner of the terminal's
	// loopback. LAN addresses are the client's to use either way.
	AllowLoopback bool
}

type webhookAPI struct {
	hooks Webhooks
	opts  WebhookOptions
	clock clock.Clock
	a     *api
	// network: the routes are a client's own, over the network (the
	// terminal itself is refused unless AllowLoopback).
	network bool
}

func newWebhookAPI(h Webhooks, o WebhookOptions, a *api) *webhookAPI {
	return &webhookAPI{hooks: h, opts: o, clock: a.clock, a: a}
}

// mountNetwork adds a register's own routes, behind its signature.
func (wa *webhookAPI) mountNetwork(mux *http.ServeMux, v *auth.Verifier) {
	wa.network = true
	self := func(h func(w http.ResponseWriter, r *http.Request, number string)) http.Handler {
		return v.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := auth.ClientFrom(r.Context())
			h(w, r, c.Number)
		}), store.RoleRegister)
	}
	mux.Handle("PUT /v1/webhook", self(wa.set))
	mux.Handle("DELETE /v1/webhook", self(wa.remove))
	mux.Handle("GET /v1/webhook", self(wa.show))
}

// mountOperator adds the operator's routes on the socket.
func (wa *webhookAPI) mountOperator(mux *http.ServeMux) {
	byPath := func(h func(w http.ResponseWriter, r *http.Request, number string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { h(w, r, r.PathValue("number")) }
	}
	mux.HandleFunc("PUT /v1/clients/{number}/webhook", byPath(wa.set))
	mux.HandleFunc("DELETE /v1/clients/{number}/webhook", byPath(wa.remove))
	mux.HandleFunc("GET /v1/clients/{number}/webhook", byPath(wa.show))
	mux.HandleFunc("GET /v1/webhooks", wa.list)
}

func (wa *webhookAPI) set(w http.ResponseWriter, r *http.Request, number string) {
	body, err := readBody(w, r, maxWebhookBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var in WebhookBody
	if err := strictjson.Decode(body, &in); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, `body must be JSON {"url":"https://…","rotate":false}: `+err.Error())
		return
	}
	if msg := checkWebhookURL(in.URL, wa.opts.AllowHTTP, !wa.network || wa.opts.AllowLoopback); msg != "" {
		writeCoded(w, http.StatusBadRequest, codeBadWebhookURL, msg)
		return
	}
	secret := newWebhookSecret()
	h, fresh, err := wa.hooks.SetWebhook(r.Context(), number, in.URL, []byte(secret), in.Rotate, wa.clock.Now().UTC())
	if err != nil {
		writeError(w, wa.a.log, fmt.Errorf("set webhook: %w", err))
		return
	}
	out := WebhookSet{Client: h.Client, URL: h.URL, SecretCreated: h.Created}
	if fresh {
		out.Secret = string(h.Secret)
	}
	writeJSON(w, http.StatusOK, out)
}

func (wa *webhookAPI) remove(w http.ResponseWriter, r *http.Request, number string) {
	removed, err := wa.hooks.RemoveWebhook(r.Context(), number)
	if err != nil {
		writeError(w, wa.a.log, fmt.Errorf("remove webhook: %w", err))
		return
	}
	if !removed {
		writeCoded(w, http.StatusNotFound, codeNoWebhook, "client "+number+" has no webhook")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"client": number, "removed": true})
}

func (wa *webhookAPI) show(w http.ResponseWriter, r *http.Request, number string) {
	all, err := wa.hooks.WebhookStatus()
	if err != nil && len(all) == 0 {
		writeError(w, wa.a.log, fmt.Errorf("webhook status: %w", err))
		return
	}
	for _, s := range all {
		if s.Client == number {
			writeJSON(w, http.StatusOK, WebhookView{Status: s, Log: wa.hooks.WebhookLog(number)})
			return
		}
	}
	writeCoded(w, http.StatusNotFound, codeNoWebhook, "client "+number+" has no webhook")
}

func (wa *webhookAPI) list(w http.ResponseWriter, r *http.Request) {
	all, err := wa.hooks.WebhookStatus()
	if err != nil && len(all) == 0 {
		writeError(w, wa.a.log, fmt.Errorf("webhook status: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": all})
}

func newWebhookSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return webhookSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// checkWebhookURL says what is wrong with u as a webhook URL, or "".
// allowSelf: it may name the terminal itself (the operator, or
// webhooks.allow_loopback).
func checkWebhookURL(u string, allowHTTP, allowSelf bool) string {
	if u == "" {
		return "url is required"
	}
	if len(u) > store.MaxWebhookURL {
		return fmt.Sprintf("url of %d bytes: at most %d", len(u), store.MaxWebhookURL)
	}
	p, err := url.Parse(u)
	if err != nil {
		return "url does not parse: " + err.Error()
	}
	switch {
	case p.Scheme != "https" && p.Scheme != "http":
		return fmt.Sprintf("url scheme %q: want https (or http to a loopback address)", p.Scheme)
	case p.Opaque != "" || p.Host == "":
		return "url must be absolute, https://host/path"
	case p.User != nil:
		return "url must not carry a user or password: put a token in the path if the receiver needs one"
	case p.Fragment != "" || strings.Contains(u, "#"):
		return "url must not carry a #fragment"
	case !allowSelf && webhook.SelfHost(p.Hostname()):
		return "url must not point at the terminal itself (localhost, a loopback address or one of its own): only the operator may set that, unless webhooks.allow_loopback is set"
	case p.Scheme == "http" && !allowHTTP && !loopbackHost(p.Hostname()):
		return "url must be https:// (http:// only to a loopback address, unless webhooks.allow_http is set)"
	}
	return ""
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
