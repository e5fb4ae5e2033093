// Command posd is the showpos terminal daemon: it keeps the durable store,
// signs payment requests, serves the payer and integrator API on the network
// and the operator API on a unix socket, checks and stores every payment,
// broadcasts them, and takes signed config from its fleet.
//
//	posd -config /etc/showpos/posd.toml [-data-dir DIR] [-listen ADDR] [-log-json]
//
// Signals: SIGTERM or SIGINT drain in-flight requests, stop the broadcaster
// and close the store; SIGHUP reloads the config file (the keys a fleet
// bundle may change apply at once, the others at the next start). Under
// systemd (configs/posd.service) it notifies ready, reloading and stopping,
// and feeds the watchdog while its store answers.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is posd's GOGC. Its live heap is 2 MB or so, under the
// runtime's least heap goal, 4 MB: at GOGC 100 it collected every 2 MB
// allocated, every 20 to 40 payments (an accept allocates about 70 KB,
// most of it bbolt's nodes for the pages it touches), and a collection
// takes 2 to 3 ms of the two cores, the one-payer p99's main part
// (make bench, GODEBUG=gctrace=1). At 400 the heap may grow to five times
// the live one, a few tens of MB at most.
const gcPercent = 400

// gcPace sets the collector's pace, unless GOGC is set in the environment.
func gcPace(log *slog.Logger) {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
	log.Debug("gc percent", "GOGC", gcPercent)
}

func main() {
	configPath := flag.String("config", "/etc/showpos/posd.toml", "config file (TOML; keys documented in configs/posd.toml)")
	dataDir := flag.String("data-dir", "", "data directory (overrides terminal.data_dir)")
	listen := flag.String("listen", "", "network API listen address (overrides api.listen)")
	logJSON := flag.Bool("log-json", false, "log as JSON lines instead of text")
	flag.Parse()

	var h slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *logJSON {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	log := slog.New(h)
	gcPace(log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *configPath, *dataDir, *listen); err != nil {
		log.Error("posd stopped", "err", err)
		os.Exit(1)
	}
}
