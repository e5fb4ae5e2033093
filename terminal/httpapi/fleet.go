package httpapi

import (
	"context"
	"io"
	"net/http"
)

// Fleet takes signed configuration bundles. Push answers what it applied,
// as JSON; a refusal it wants the caller to see implements
//
//	interface{ error; ErrorCode() string; HTTPStatus() int }
//
// and reaches the caller with that status and code (see classify).
type Fleet interface {
	Push(ctx context.Context, raw []byte) (any, error)
}

// maxBundle is the largest fleet bundle the fleet manager takes
// (fleet.MaxBundle): configuration, not firmware. A push reads at most one
// byte more, so the manager itself refuses a bigger one (bad_bundle,
// recorded in status like every refusal) without the API reading it all.
const maxBundle = 256 << 10

func (a *api) statusNow(w http.ResponseWriter, r *http.Request) {
	if a.status == nil {
		writeCoded(w, http.StatusNotImplemented, codeNotConfigured, "this terminal does not report its status here")
		return
	}
	v, err := a.status(r.Context())
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) pushBundle(w http.ResponseWriter, r *http.Request) {
	if a.fleet == nil {
		writeCoded(w, http.StatusNotImplemented, codeNotConfigured, "this terminal takes no fleet configuration")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBundle+1))
	if err != nil {
		writeBodyError(w, err)
		return
	}
	v, err := a.fleet.Push(r.Context(), raw)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	a.log.Info("fleet bundle applied", "bytes", len(raw))
	writeJSON(w, http.StatusOK, v)
}
