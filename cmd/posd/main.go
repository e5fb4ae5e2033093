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
	"syscall"
)

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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *configPath, *dataDir, *listen); err != nil {
		log.Error("posd stopped", "err", err)
		os.Exit(1)
	}
}
