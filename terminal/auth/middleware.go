package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"showpos/terminal/store"
)

type clientKey struct{}

// ClientFrom returns the client Require verified for this request.
func ClientFrom(ctx context.Context) (store.Client, bool) {
	c, ok := ctx.Value(clientKey{}).(store.Client)
	return c, ok
}

// Require wraps h: a request reaches h only if Verify accepts it and the
// client's role is one of roles; h finds the client with ClientFrom. A
// refusal is answered with its status and the JSON body
// {"error":{"code":…,"message":…}}; a role not in roles gets 403
// forbidden_role. Require panics if roles is empty: a handler no one may
// call is a wiring mistake.
func (v *Verifier) Require(h http.Handler, roles ...store.Role) http.Handler {
	if len(roles) == 0 {
		panic("auth: Require without roles")
	}
	roles = slices.Clone(roles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Verify(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = refuse(CodeInternal, "authentication failed", err)
			}
			WriteError(w, e)
			return
		}
		if !slices.Contains(roles, c.Role) {
			WriteError(w, refuse(CodeForbiddenRole, "a "+string(c.Role)+" client may not call this", nil))
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
	})
}

// WriteError answers with e's status and {"error":{"code","message"}}.
// The cause (e.Err) is never sent.
func WriteError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Showpos-HMAC-SHA256")
	}
	w.WriteHeader(e.Status)
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.NewEncoder(w).Encode(map[string]body{"error": {Code: e.Code, Message: e.Message}})
}
