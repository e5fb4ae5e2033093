// Package telemetry counts what the terminal does and serves it as
// Prometheus text (exposition format 0.0.4) for a scraper on the management
// network or on the operator socket.
//
// A [Telemetry] owns its own registry (a VictoriaMetrics [metrics.Set]);
// nothing is registered in a package-global default, so two terminals in one
// test process never share a counter. It exports:
//
//	showpos_payments_accepted_total                      payments stored (fsynced) and answered "accepted"
//	showpos_payments_refused_total{code}                 refusals by their stable code (check.Code, store codes)
//	showpos_broadcast_outcomes_total{outcome}            broadcaster outcomes: sent, confirmed, final, reorged, failed, retrying
//	showpos_queue_depth{state}                           payments per state: queued, broadcast, confirmed, final, failed
//	showpos_queue_oldest_age_seconds                     age of the oldest queued payment
//	showpos_online                                       1 while a chain endpoint on the right chain answers
//	showpos_config_version                               the running config's version
//	showpos_http_request_duration_seconds{api,route,code} a histogram with le buckets, one observation per request
//	showpos_printer_jobs_total{outcome}                  print queue outcomes: printed, paper_out, cover_open, gone, failed, dropped
//	showpos_telemetry_slow_collections_total             scrapes that served the previous gauge values
//	showpos_mqtt_connected                               1 while the MQTT uplink is connected (mqtt.enabled only)
//	showpos_mqtt_events_published_total                  events the MQTT broker acknowledged (a redelivery counts again)
//
// and the Go runtime's and the process's own metrics (go_*, process_*).
//
// # Bounded cardinality
//
// Every label value comes from a small, known vocabulary: refusal codes,
// outcomes, ServeMux patterns, status classes. A bug that passes something
// else (a raw path, an error message) must not grow memory without bound, so
// each labelled family admits at most [MaxLabelValues] distinct values and
// folds the rest into "other"; a value that is not a plain identifier is
// folded at once. The request histogram's route is the ServeMux pattern that
// matched (Request.Pattern), "unmatched" when none did, never the path.
//
// # Gauges that read the store
//
// The queue gauges call back into the store at scrape time. One scrape runs
// the callbacks once (not once per gauge), at most one collection runs at a
// time, and a scrape waits for it only a short while: past that it serves the
// previous values and counts showpos_telemetry_slow_collections_total, so a
// busy store slows neither the scraper nor the terminal.
//
// # Type metadata
//
// The text carries no "# TYPE" lines: VictoriaMetrics writes them only when a
// process-wide switch (metrics.ExposeMetadata) is on, and this package sets
// no globals. Prometheus ingests the series untyped; histogram_quantile works
// on the _bucket series as usual. main may turn the switch on.
package telemetry
