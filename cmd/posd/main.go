// Command posd is the showpos terminal daemon: it keeps the durable store,
// signs payment requests, serves the payer API on the network and the
// operator API on a unix socket, and checks and stores every payment.
//
//	posd -config /etc/showpos/posd.toml [-data-dir DIR] [-listen ADDR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"showpos/device/board"
	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/sync/outbox"
	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/httpapi"
	"showpos/terminal/screen"
	"showpos/terminal/termkey"
)

func main() {
	configPath := flag.String("config", "/etc/showpos/posd.toml", "config file (TOML; keys documented in configs/posd.toml)")
	dataDir := flag.String("data-dir", "", "data directory (overrides terminal.data_dir)")
	listen := flag.String("listen", "", "payer API listen address (overrides api.listen)")
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

func run(ctx context.Context, log *slog.Logger, configPath, dataDir, listen string) error {
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	if dataDir != "" {
		cfg.Terminal.DataDir = dataDir
	}
	if listen != "" {
		cfg.API.Listen = listen
	}
	if err := os.MkdirAll(cfg.Terminal.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	store, err := outbox.Open(cfg.StorePath(), &outbox.Options{Logger: log.With("part", "store")})
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	devs, err := board.Open(cfg.Board, log.With("part", "board"))
	if err != nil {
		return err
	}
	defer func() {
		if err := devs.Close(); err != nil {
			log.Error("close devices", "err", err)
		}
	}()
	log.Info("devices open", "board", cfg.Board.String())
	if devs.Sim != nil {
		log.Info("simulated devices: open the page to see the screen and press keys; write scanner payloads to the pty",
			"page", devs.Sim.URL(), "scanner", devs.Sim.ScannerPath())
	}
	key, created, err := termkey.LoadOrCreate(cfg.KeyPath())
	if err != nil {
		return err
	}
	// Chain access and the broadcaster run only when endpoints are
	// configured; without them the terminal still takes payments.
	var (
		node    *chain.Client
		bc      *broadcast.Broadcaster
		queue   httpapi.Queue
		onPayed func(checkout.Receipt)
	)
	if len(cfg.Chain.RPC) > 0 {
		node, err = chain.New(chain.Options{
			Endpoints:   cfg.Chain.RPC,
			ChainID:     cfg.ChainID,
			CallTimeout: cfg.Chain.CallTimeout,
			ProbeEvery:  cfg.Chain.ProbeEvery,
			Logger:      log.With("part", "chain"),
		})
		if err != nil {
			return err
		}
		defer node.Close()
		bc = broadcast.New(broadcast.Options{
			Store:         store,
			Chain:         node,
			Logger:        log.With("part", "broadcast"),
			Confirmations: cfg.Chain.Confirmations,
			MaxAge:        cfg.Broadcast.MaxAge,
			FundsWindow:   cfg.Broadcast.FundsWindow,
			BatchSize:     cfg.Broadcast.BatchSize,
			Poll:          cfg.Broadcast.Poll,
		})
		queue = bc
		onPayed = func(checkout.Receipt) { bc.Kick() }
	} else {
		log.Warn("no chain.rpc endpoints: payments are taken and stored but not broadcast")
	}
	var cash *cashier.Cashier
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: store, Logger: log.With("part", "till"),
		OnAccept: func(r checkout.Receipt) {
			if onPayed != nil {
				onPayed(r)
			}
			if cash != nil {
				cash.Accepted(r)
			}
		}})
	cash, err = newCashier(cfg, devs, till, store, node, bc, log.With("part", "cashier"))
	if err != nil {
		return err
	}
	if created {
		log.Info("created terminal key", "path", cfg.KeyPath(), "signer", till.Signer().Hex())
	}

	payerLn, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("payer API: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.SocketPath()), 0o750); err != nil {
		payerLn.Close()
		return fmt.Errorf("operator socket dir: %w", err)
	}
	opLn, err := httpapi.ListenUnix(cfg.SocketPath())
	if err != nil {
		payerLn.Close()
		return err
	}
	payerSrv := httpapi.NewServer(httpapi.Payer(till, log.With("part", "payer-api")), log)
	opSrv := httpapi.NewServer(httpapi.Operator(till, queue, log.With("part", "operator-api")), log)

	// The chain prober and the broadcaster stop after the HTTP servers have
	// drained, and before the store closes.
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	if bc != nil {
		bg.Go(func() { node.Run(bgCtx) })
		bg.Go(func() { bc.Run(bgCtx) })
	}
	if cash != nil {
		bg.Go(func() { cash.Run(bgCtx) })
		if bc != nil {
			events, unsubscribe := bc.Subscribe()
			bg.Go(func() {
				defer unsubscribe()
				for {
					select {
					case <-bgCtx.Done():
						return
					case e := <-events:
						cash.Settled(e.Payment)
					}
				}
			})
		}
	}
	defer func() {
		stopBg()
		bg.Wait()
	}()

	errc := make(chan error, 2)
	go func() { errc <- serve(payerSrv, payerLn, "payer API") }()
	go func() { errc <- serve(opSrv, opLn, "operator API") }()
	log.Info("posd ready", "terminal", cfg.Terminal.ID, "chain", cfg.ChainID, "merchant", cfg.Merchant.Hex(),
		"signer", till.Signer().Hex(), "payer_api", payerLn.Addr().String(), "operator_socket", cfg.SocketPath(),
		"store", cfg.StorePath())

	var runErr error
	running := 2
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case runErr = <-errc:
		running--
	}
	// Let in-flight payments finish (and so commit or fail) before the
	// store closes under them.
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{payerSrv, opSrv} {
		if err := srv.Shutdown(shutCtx); err != nil {
			log.Error("shutdown", "err", err)
		}
	}
	for ; running > 0; running-- {
		if err := <-errc; err != nil && runErr == nil {
			runErr = err
		}
	}
	return runErr
}

func serve(srv *http.Server, ln net.Listener, name string) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// newCashier wires the cashier's screen and keys to the board's devices;
// nil when the board has neither a display nor a keypad (a headless
// terminal driven only over its APIs).
func newCashier(cfg *config.Config, devs *board.Devices, till *checkout.Service, store *outbox.Store,
	node *chain.Client, bc *broadcast.Broadcaster, log *slog.Logger) (*cashier.Cashier, error) {
	if devs.Display == nil && devs.Keypad == nil {
		return nil, nil
	}
	var screens cashier.Renderer
	if devs.Display != nil {
		b := devs.Display.Bounds()
		r, err := screen.New(screen.Size{W: b.Dx(), H: b.Dy(), Mono: isMono(devs.Display.ColorModel())})
		if err != nil {
			return nil, fmt.Errorf("screens for %s: %w", devs.Display, err)
		}
		screens = r
	}
	assets := make([]asset.Asset, len(cfg.Assets))
	for i, a := range cfg.Assets {
		assets[i] = a.Asset
	}
	o := cashier.Options{
		Till: till, Screens: screens,
		Display: devs.Display, Keypad: devs.Keypad, Scanner: devs.Scanner, NFC: devs.NFC, Indicator: devs.Indicator,
		Merchant: cfg.Terminal.MerchantName, Assets: assets,
		Queued: func() int {
			c, err := store.Counts()
			if err != nil {
				return 0
			}
			return c[outbox.PaymentQueued] + c[outbox.PaymentBroadcast]
		},
		Logger: log,
	}
	if node != nil {
		o.Online = func() bool { return node.Status().Online }
	}
	if bc != nil {
		o.SyncNow = func(ctx context.Context) error { _, err := bc.Sync(ctx); return err }
	}
	return cashier.New(o), nil
}

// isMono reports whether a display shows only black and white: mid-grey
// comes back as one or the other.
func isMono(m color.Model) bool {
	g := color.GrayModel.Convert(m.Convert(color.RGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xff})).(color.Gray)
	return g.Y == 0 || g.Y == 0xff
}
