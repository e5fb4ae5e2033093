package telemetry

import (
	"fmt"
	"net/http"
	"time"
)

// unmatched is the route of a request no ServeMux pattern matched.
const unmatched = "unmatched"

// Middleware observes how long each request to h takes in
// showpos_http_request_duration_seconds{api,route,code}: api as given,
// route the ServeMux pattern that matched ("POST /api/showpos/broadcastTx",
// "GET /v1/requests/{id}") or "unmatched", code the status class ("2xx").
//
// The route is read from r.Pattern after h returns: a ServeMux sets it on
// the *http.Request it is handed, so h must be a ServeMux or pass the same
// request down to one (as a CORS or logging wrapper does). A wrapper that
// hands on a copy (r.WithContext, http.StripPrefix) hides the pattern and
// its requests count as "unmatched"; put Middleware inside it instead.
// At most [MaxLabelValues] routes are kept per Middleware, the rest count
// as "other". A request whose handler panics counts as 5xx.
func (t *Telemetry) Middleware(api string, h http.Handler) http.Handler {
	api = escapeLabel(api)
	routes := newLabelCap(MaxLabelValues)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		panicked := true
		defer func() {
			code := sw.code()
			if panicked {
				code = http.StatusInternalServerError
			}
			route := r.Pattern
			if route == "" {
				route = unmatched
			}
			name := fmt.Sprintf(`showpos_http_request_duration_seconds{api="%s",route="%s",code="%dxx"}`,
				api, routes.admitEscaped(route), code/100)
			t.set.GetOrCreatePrometheusHistogram(name).UpdateDuration(start)
		}()
		h.ServeHTTP(sw, r)
		panicked = false
	})
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first final (non-1xx) status.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write answers 200 unless a status was written before, as net/http does.
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Flush passes a flush on, so streaming handlers keep working.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush() // no flusher: nothing to flush
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status the client got: 200 when the handler wrote nothing.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
