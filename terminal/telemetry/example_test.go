package telemetry_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"showpos/terminal/telemetry"
)

func Example() {
	tel := telemetry.New()
	tel.Gauges(telemetry.Gauges{
		// Each network's queue (its store.Counts, in posd) and health.
		Networks: func() []telemetry.Network {
			return []telemetry.Network{{Name: "base", Queue: map[string]int{"queued": 3}, Online: true}}
		},
	})

	api := http.NewServeMux()
	api.HandleFunc("POST /api/showpos/broadcastTx", func(w http.ResponseWriter, r *http.Request) {
		tel.Refused("underpaid") // the till's answer, in posd
		w.WriteHeader(http.StatusUnprocessableEntity)
	})
	payer := tel.Middleware("payer", api)
	payer.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/showpos/broadcastTx", nil))

	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "showpos_http_request_duration_seconds_count") || strings.HasPrefix(line, "showpos_payments_refused") ||
			strings.HasPrefix(line, `showpos_queue_depth{network="base",state="queued"}`) || strings.HasPrefix(line, "showpos_online") {
			fmt.Println(line)
		}
	}
	// Output:
	// showpos_http_request_duration_seconds_count{api="payer",route="POST /api/showpos/broadcastTx",code="4xx"} 1
	// showpos_online{network="base"} 1
	// showpos_payments_refused_total{code="underpaid"} 1
	// showpos_queue_depth{network="base",state="queued"} 3
}
