package telemetry

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// passThrough is a wrapper like the payer API's CORS handler: it sets a
// header and hands the same request on.
func passThrough(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.ServeHTTP(w, r)
	})
}

func do(t *testing.T, client *http.Client, method, url string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func TestMiddlewareObservesEachRequestUnderItsPattern(t *testing.T) {
	tel := New()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/showpos/broadcastTx", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.PathValue("id")) // no WriteHeader: 200
	})
	mux.HandleFunc("GET /refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnprocessableEntity)
	})
	srv := httptest.NewServer(tel.Middleware("payer", passThrough(mux)))
	defer srv.Close()
	c := srv.Client()

	do(t, c, "POST", srv.URL+"/api/showpos/broadcastTx")
	do(t, c, "POST", srv.URL+"/api/showpos/broadcastTx")
	do(t, c, "GET", srv.URL+"/v1/requests/abc")
	do(t, c, "GET", srv.URL+"/v1/requests/def")
	do(t, c, "GET", srv.URL+"/refuse")
	do(t, c, "GET", srv.URL+"/no/such/path")
	do(t, c, "DELETE", srv.URL+"/api/showpos/broadcastTx") // 405 from the mux: no pattern

	s := scrape(t, tel)
	const h = "showpos_http_request_duration_seconds"
	want(t, s, h+`_count{api="payer",route="POST /api/showpos/broadcastTx",code="2xx"}`, 2)
	want(t, s, h+`_count{api="payer",route="GET /v1/requests/{id}",code="2xx"}`, 2)
	want(t, s, h+`_count{api="payer",route="GET /refuse",code="4xx"}`, 1)
	want(t, s, h+`_count{api="payer",route="unmatched",code="4xx"}`, 2)
	want(t, s, h+`_bucket{api="payer",route="POST /api/showpos/broadcastTx",code="2xx",le="+Inf"}`, 2)
	if _, ok := s[h+`_bucket{api="payer",route="POST /api/showpos/broadcastTx",code="2xx",le="0.005"}`]; !ok {
		t.Errorf("no le buckets: not a Prometheus histogram")
	}
	if _, ok := s[h+`_sum{api="payer",route="POST /api/showpos/broadcastTx",code="2xx"}`]; !ok {
		t.Errorf("no _sum")
	}
	counts := family(s, h+"_count")
	if len(counts) != 4 {
		t.Errorf("%d series, want 4: %v", len(counts), counts)
	}
	for series := range counts {
		if strings.Contains(series, "abc") || strings.Contains(series, "/no/such") {
			t.Errorf("a raw path leaked into a label: %s", series)
		}
	}
}

func TestMiddlewareHidesPatternBehindACopiedRequest(t *testing.T) {
	// Documents the limit: a wrapper that hands on a copy of the request
	// keeps the mux's pattern from the middleware.
	tel := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(http.ResponseWriter, *http.Request) {})
	copying := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(r.Context()))
	})
	srv := httptest.NewServer(tel.Middleware("op", copying))
	defer srv.Close()
	do(t, srv.Client(), "GET", srv.URL+"/x")
	want(t, scrape(t, tel), `showpos_http_request_duration_seconds_count{api="op",route="unmatched",code="2xx"}`, 1)
}

func TestMiddlewareCountsAPanicAs5xx(t *testing.T) {
	tel := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	srv := httptest.NewServer(tel.Middleware("payer", mux))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/boom", nil)
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
	}
	want(t, scrape(t, tel), `showpos_http_request_duration_seconds_count{api="payer",route="GET /boom",code="5xx"}`, 1)
}

func TestMiddlewareCapsRoutes(t *testing.T) {
	tel := New()
	mux := http.NewServeMux()
	const routes = MaxLabelValues + 10
	for i := range routes {
		mux.HandleFunc(fmt.Sprintf("GET /r%d", i), func(http.ResponseWriter, *http.Request) {})
	}
	srv := httptest.NewServer(tel.Middleware("op", mux))
	defer srv.Close()
	for i := range routes {
		do(t, srv.Client(), "GET", fmt.Sprintf("%s/r%d", srv.URL, i))
	}
	counts := family(scrape(t, tel), "showpos_http_request_duration_seconds_count")
	if len(counts) != MaxLabelValues {
		t.Errorf("%d route series, want the cap %d", len(counts), MaxLabelValues)
	}
	if got, want := counts[`{api="op",route="other",code="2xx"}`], float64(routes-(MaxLabelValues-1)); got != want {
		t.Errorf("route other = %v, want %v", got, want)
	}
}

func TestStatusWriterKeepsFlushing(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := &statusWriter{ResponseWriter: rec}
	if err := http.NewResponseController(sw).Flush(); err != nil {
		t.Fatalf("flush through the wrapper: %v", err)
	}
	if !rec.Flushed {
		t.Error("the flush did not reach the underlying writer")
	}
	if sw.code() != http.StatusOK {
		t.Errorf("code %d after a flush, want 200", sw.code())
	}
}
