package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"showpos/terminal/store"
	"showpos/terminal/strictjson"
)

// Clients is what the operator API needs to manage integrator clients;
// *store.Store has it.
type Clients interface {
	PutClient(ctx context.Context, c store.Client) error
	Clients() ([]store.Client, error)
	RotateClientKey(ctx context.Context, number string, newSecret []byte, grace time.Duration, now time.Time) (store.Client, error)
	RevokeClient(ctx context.Context, number string, now time.Time) (store.Client, error)
}

var _ Clients = (*store.Store)(nil)

// Grace periods of a key rotation: the old key stays honoured this long.
const (
	DefaultGrace = 24 * time.Hour
	MaxGrace     = 30 * 24 * time.Hour
)

// Service numbers and keys: "sn_" and 16 lowercase hex digits (64 random
// bits: a public name, unique on this terminal); "sk_" and the base64url
// (no padding) of 32 random bytes. The HMAC secret is the key string's
// bytes exactly as shown, so an integrator signs with what it was given.
const (
	numberPrefix = "sn_"
	keyPrefix    = "sk_"
)

// NewClientBody is the body of POST /v1/clients.
type NewClientBody struct {
	Name string     `json:"name"`
	Role store.Role `json:"role"`
	// Number and Key, both or neither, register a client whose service
	// number and key were made elsewhere: a fleet manager's one credential,
	// registered on every terminal it manages. Without them the terminal
	// draws both.
	Number string `json:"number,omitempty"`
	Key    string `json:"key,omitempty"`
}

// MinImportedKey is the shortest service key taken from outside: 32
// characters, as long as the HMAC-SHA256 key it becomes should be.
const MinImportedKey = 32

// NewClient answers POST /v1/clients. Key is the service key: this is the
// only time the terminal shows it.
type NewClient struct {
	Number  string     `json:"number"`
	Name    string     `json:"name"`
	Role    store.Role `json:"role"`
	Created time.Time  `json:"created"`
	Key     string     `json:"key"`
}

// RotateBody is the body of POST /v1/clients/{number}/rotate; an empty
// body means the default grace (24h).
type RotateBody struct {
	Grace string `json:"grace,omitempty"` // a Go duration, "0s" to "720h"
}

// RotatedKey answers POST /v1/clients/{number}/rotate: the new key, shown
// only here, and until when the previous key is still honoured.
type RotatedKey struct {
	Number           string    `json:"number"`
	Key              string    `json:"key"`
	PreviousKeyUntil time.Time `json:"previousKeyUntil"`
}

// ClientView is a client as the operator sees it: never a secret. Keys
// are those honoured now: the current one, then old ones in their grace
// period; a revoked client has none.
type ClientView struct {
	Number  string     `json:"number"`
	Name    string     `json:"name"`
	Role    store.Role `json:"role"`
	Created time.Time  `json:"created"`
	Revoked time.Time  `json:"revoked,omitzero"`
	Keys    []KeyView  `json:"keys"`
}

// KeyView is one honoured key: the current one, or an old one with the end
// of its grace period.
type KeyView struct {
	Current  bool      `json:"current,omitempty"`
	NotAfter time.Time `json:"notAfter,omitzero"`
}

// ClientList is the body of GET /v1/clients.
type ClientList struct {
	Clients []ClientView `json:"clients"`
}

func viewClient(c store.Client, now time.Time) ClientView {
	v := ClientView{Number: c.Number, Name: c.Name, Role: c.Role, Created: c.Created, Revoked: c.Revoked, Keys: []KeyView{}}
	if !c.Revoked.IsZero() {
		return v
	}
	for _, k := range c.Keys {
		switch {
		case k.NotAfter.IsZero():
			v.Keys = append(v.Keys, KeyView{Current: true})
		case k.NotAfter.After(now):
			v.Keys = append(v.Keys, KeyView{NotAfter: k.NotAfter})
		}
	}
	return v
}

func (a *api) clientsConfigured(w http.ResponseWriter) bool {
	if a.clients == nil {
		writeCoded(w, http.StatusNotImplemented, codeNotConfigured, "this terminal does not manage integrator clients")
		return false
	}
	return true
}

func (a *api) addClient(w http.ResponseWriter, r *http.Request) {
	if !a.clientsConfigured(w) {
		return
	}
	body, err := readBody(w, r, maxOperatorBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	var in NewClientBody
	if err := strictjson.Decode(body, &in); err != nil {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, `body must be JSON {"name":"…","role":"register"|"fleet"}: `+err.Error())
		return
	}
	if msg := checkClientName(in.Name); msg != "" {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, msg)
		return
	}
	if !in.Role.Valid() {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("role %q: want %q (cash registers, back offices) or %q (fleet managers)", in.Role, store.RoleRegister, store.RoleFleet))
		return
	}
	if (in.Number == "") != (in.Key == "") {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "number and key go together: give both (a client registered elsewhere) or neither")
		return
	}
	// A request signed for one terminal verifies on every terminal that
	// holds the same credential (nonces are per terminal). Only a fleet
	// client, whose calls carry their own signed, targeted bundles, may
	// share one; a register gets a credential of this terminal alone.
	if in.Number != "" && in.Role != store.RoleFleet {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "only a fleet client may be registered with a number and key made elsewhere; a register gets its own")
		return
	}
	if in.Number != "" && !validNumber(in.Number) {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, "number must be 3 to 64 characters of [A-Za-z0-9_-]")
		return
	}
	if in.Key != "" && (len(in.Key) < MinImportedKey || len(in.Key) > store.MaxSecret) {
		writeCoded(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("key of %d bytes: want %d to %d", len(in.Key), MinImportedKey, store.MaxSecret))
		return
	}
	now := a.clock.Now().UTC()
	key := in.Key
	if key == "" {
		key = newServiceKey()
	}
	c := store.Client{Name: in.Name, Role: in.Role, Created: now, Keys: []store.ClientKey{{Secret: []byte(key)}}}
	if in.Number != "" {
		c.Number = in.Number
		err = a.clients.PutClient(r.Context(), c)
		if errors.Is(err, store.ErrClientExists) {
			writeCoded(w, http.StatusConflict, codeClientExists, "a client with service number "+in.Number+" is already registered")
			return
		}
	} else {
		// 64 random bits collide about never; a collision is refused by
		// the store and simply drawn again.
		for range 3 {
			c.Number = newServiceNumber()
			if err = a.clients.PutClient(r.Context(), c); !errors.Is(err, store.ErrClientExists) {
				break
			}
		}
	}
	if err != nil {
		writeError(w, a.log, fmt.Errorf("add client: %w", err))
		return
	}
	a.log.Info("client added", "number", c.Number, "role", c.Role, "name", c.Name)
	writeJSON(w, http.StatusCreated, NewClient{Number: c.Number, Name: c.Name, Role: c.Role, Created: now, Key: key})
}

// checkClientName returns what is wrong with a client's name, or "".
func checkClientName(name string) string {
	switch {
	case name == "":
		return "name is required: say which register or office this is, e.g. \"Till 4 register\""
	case len(name) > store.MaxClientName:
		return fmt.Sprintf("name of %d bytes: at most %d", len(name), store.MaxClientName)
	case !utf8.ValidString(name):
		return "name must be UTF-8 text"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "name must not contain control characters"
		}
	}
	return ""
}

func (a *api) listClients(w http.ResponseWriter, r *http.Request) {
	if !a.clientsConfigured(w) {
		return
	}
	cs, err := a.clients.Clients()
	if err != nil {
		writeError(w, a.log, fmt.Errorf("list clients: %w", err))
		return
	}
	now := a.clock.Now()
	out := ClientList{Clients: make([]ClientView, len(cs))}
	for i, c := range cs {
		out.Clients[i] = viewClient(c, now)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) rotateClient(w http.ResponseWriter, r *http.Request) {
	if !a.clientsConfigured(w) {
		return
	}
	number, ok := clientNumber(w, r)
	if !ok {
		return
	}
	body, err := readBody(w, r, maxOperatorBody)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	in := RotateBody{}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := strictjson.Decode(body, &in); err != nil {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, `body must be empty or JSON {"grace":"24h"}: `+err.Error())
			return
		}
	}
	grace := DefaultGrace
	if in.Grace != "" {
		grace, err = time.ParseDuration(in.Grace)
		if err != nil || grace < 0 || grace > MaxGrace {
			writeCoded(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("grace %q: want a duration from 0s to %s, e.g. \"24h\"", in.Grace, MaxGrace))
			return
		}
	}
	now := a.clock.Now().UTC()
	key := newServiceKey()
	if _, err := a.clients.RotateClientKey(r.Context(), number, []byte(key), grace, now); err != nil {
		writeError(w, a.log, err)
		return
	}
	a.log.Info("client key rotated", "number", number, "grace", grace)
	writeJSON(w, http.StatusOK, RotatedKey{Number: number, Key: key, PreviousKeyUntil: now.Add(grace)})
}

func (a *api) revokeClient(w http.ResponseWriter, r *http.Request) {
	if !a.clientsConfigured(w) {
		return
	}
	number, ok := clientNumber(w, r)
	if !ok {
		return
	}
	now := a.clock.Now().UTC()
	c, err := a.clients.RevokeClient(r.Context(), number, now)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	a.log.Info("client revoked", "number", number)
	writeJSON(w, http.StatusOK, viewClient(c, now))
}

// clientNumber reads {number} from the path; one longer than any service
// number is answered as unknown.
func clientNumber(w http.ResponseWriter, r *http.Request) (string, bool) {
	n := r.PathValue("number")
	if len(n) > store.MaxClientNumber {
		writeCoded(w, http.StatusNotFound, codeUnknownClient, "no such client")
		return "", false
	}
	return n, true
}

func newServiceNumber() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead)
	return numberPrefix + hex.EncodeToString(b[:])
}

func newServiceKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return keyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// validNumber reports whether n is fit to be a service number given from
// outside: 3 to 64 characters of [A-Za-z0-9_-], like the ones drawn here.
func validNumber(n string) bool {
	if len(n) < 3 || len(n) > store.MaxClientNumber {
		return false
	}
	for _, c := range n {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
