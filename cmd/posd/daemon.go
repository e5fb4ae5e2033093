package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"image/color"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"showpos/cmd/posd/board"
	"showpos/device"
	"showpos/sync/broadcast"
	"showpos/sync/pricefeed"
	"showpos/sync/tokendomain"
	"showpos/sync/uplink"
	"showpos/terminal/asset"
	"showpos/terminal/auth"
	"showpos/terminal/cashier"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/fiat"
	"showpos/terminal/fleet"
	"showpos/terminal/httpapi"
	"showpos/terminal/nfcpay"
	"showpos/terminal/payerpage"
	"showpos/terminal/printq"
	"showpos/terminal/procio"
	"showpos/terminal/receipt"
	"showpos/terminal/relaykey"
	"showpos/terminal/report"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/sdnotify"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
	"showpos/terminal/termkey"
)

// drainFor is how long in-flight requests get to finish at shutdown.
const drainFor = 10 * time.Second

// daemon holds the running parts that a new config reaches.
type daemon struct {
	log      *slog.Logger
	started  time.Time
	store    *store.Store
	mgr      *fleet.Manager
	devs     *board.Devices
	nets     *networks     // one chain client, broadcaster, watcher and relayer per network (networks.go)
	relayKey *relaykey.Key // every network's relayer account; nil: relay.enabled = false
	tel      *telemetry.Telemetry
	till     *checkout.Service
	cash     *cashier.Cashier // nil on a headless terminal
	books    *report.Books    // failures kept until acknowledged, X and Z reports
	rates    *pricefeed.Rates // the assets' prices in terminal.currency
	printq   *printq.Queue    // nil when the board has no printer
	uplink   *uplink.Link     // nil: mqtt.enabled = false
	receipts *receipt.Issuer
	hooks    webhooks        // the clients' webhooks and their deliverer (webhooks.go)
	pruner   *pruner         // the bounded store (store.keep; prune.go)
	bgCtx    context.Context // the background parts' lifetime
	at       httpapi.Listen  // set before the servers serve
}

// run is the daemon. It returns when ctx ends, after draining, or when a
// server fails.
func run(ctx context.Context, log *slog.Logger, configPath, dataDir, listen string) error {
	// The flags override the file at every read, reloads included; both
	// name keys that change only at a restart. So does the port the
	// network API was given where api.listen asks for port 0.
	boundPort := 0
	override := func(c *config.Config) {
		if dataDir != "" {
			c.Terminal.DataDir = dataDir
		}
		if listen != "" {
			c.OverrideListen(listen)
		}
		if boundPort != 0 {
			c.ListenBound(boundPort)
		}
	}
	first, err := config.Load(configPath)
	if err != nil {
		return err
	}
	override(first)
	if err := os.MkdirAll(first.Terminal.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	warnLoosePermissions(log, first.StorePath(), first.KeyPath(), first.SealKeyPath())
	// Events name an amount in whole units by the asset's decimals in the
	// config in effect (the file's until the fleet manager starts).
	var mgr atomic.Pointer[fleet.Manager]
	decimals := func(sym string) (uint8, bool) {
		cfg := first
		if m := mgr.Load(); m != nil {
			cfg = m.Current()
		}
		// One symbol has one number of decimals on every network.
		for _, n := range cfg.Networks {
			for _, a := range n.Assets {
				if a.Symbol == sym {
					return a.Decimals, true
				}
			}
		}
		return 0, false
	}
	st, err := store.Open(first.StorePath(), &store.Options{Logger: log.With("part", "store"), SealKeyPath: first.SealKeyPath(),
		Decimals: decimals, HomeChainID: first.ChainID,
		// Open reads a bounded set; no sale until the scrub started after
		// READY has checked the open payments (503 unavailable until then).
		VerifyBeforeSales: true,
		// A store from before networks is upgraded only under the chain
		// its requests were signed for.
		RequestChain: func(doc []byte) (uint64, error) {
			d, err := request.ParseStored(doc)
			if err != nil {
				return 0, err
			}
			return d.ChainID, nil
		}})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()

	// The network API is bound before the config is read for good: with
	// port 0 the port the system picks is in api.listen, and in the
	// default public_url the signed requests carry, from the first read.
	// A fleet bundle cannot change [api], so this is the listener the
	// config will name.
	// It holds at most api.max_conns connections at once (restart-only).
	networkLn, err := httpapi.ListenTCP(first.API.Listen, first.API.MaxConns)
	if err != nil {
		return fmt.Errorf("network API: %w", err)
	}
	defer networkLn.Close() // if run fails before the server owns it
	boundPort = networkLn.Addr().(*net.TCPAddr).Port

	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	d := &daemon{log: log, started: time.Now(), store: st, bgCtx: bgCtx}
	// The effective config: the file with the last accepted fleet bundle
	// laid over it.
	d.mgr, err = fleet.New(fleet.Options{LocalPath: configPath, Store: st, Override: override,
		Apply: d.apply, Retire: d.retire, Logger: log.With("part", "config")})
	if err != nil {
		return err
	}
	mgr.Store(d.mgr)
	cfg := d.mgr.Current()
	if err := stranded(st, cfg); err != nil {
		return err
	}

	d.devs, err = board.Open(cfg.Board, log.With("part", "board"))
	if err != nil {
		return err
	}
	defer func() {
		if err := d.devs.Close(); err != nil {
			log.Error("close devices", "err", err)
		}
	}()
	log.Info("devices open", "board", cfg.Board.String())
	if d.devs.Sim != nil {
		log.Info("simulated devices: open the page to see the screen and press keys; write scanner payloads to the pty",
			"page", d.devs.Sim.URL(), "scanner", d.devs.Sim.ScannerPath())
	}
	key, created, err := termkey.LoadOrCreate(cfg.KeyPath())
	if err != nil {
		return err
	}

	tel := telemetry.New()
	d.tel = tel
	// Receipts wait for the printer in the print queue, never a sale.
	if d.devs.Printer != nil {
		if d.printq, err = printq.New(printq.Options{Printer: d.devs.Printer, OnOutcome: tel.Print,
			Logger: log.With("part", "printq")}); err != nil {
			return err
		}
	}
	// Each network's chain client and broadcaster always run: with no
	// endpoints the network is offline and its payments wait, until a
	// config names some. They start below, once the till and the cashier
	// they report to exist.
	d.nets = &networks{d: d}
	if cfg.Relay.Enabled {
		if d.relayKey, err = loadRelayerKey(cfg, log.With("part", "relay")); err != nil {
			return err
		}
	}
	// Prices in the shop's currency: each asset's feed read over the
	// chain client of the network it is configured on, or its peg.
	d.rates, err = pricefeed.New(pricefeed.Options{Caller: func(id uint64) pricefeed.Caller { return d.nets.caller(id) },
		Sources: pricefeed.SourcesOf(cfg), Logger: log.With("part", "rates")})
	if err != nil {
		return err
	}
	d.till = checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, Logger: log.With("part", "till"),
		Rates: tillRates{r: d.rates, now: time.Now},
		// The broadcaster and the relayer hear of a payment once the
		// commit that takes it from the journal is made (kickOnCommit).
		OnAccept: func(r checkout.Receipt) {
			tel.Accepted()
			if d.cash != nil {
				d.cash.Accepted(r)
			}
		},
		OnRefuse: func(c check.Code) { tel.Refused(string(c)) },
		// The online pre-flight asks the client of the payment's network.
		Preflights:  d.nets.preflight,
		OnPreflight: tel.Preflight,
		OnRequest: func(doc *request.Document) {
			if d.cash != nil {
				d.cash.Shown(doc)
			}
		},
	})
	d.books = report.New(report.Options{Store: st, Till: d.till, Terminal: cfg.Terminal.ID, Logger: log.With("part", "books"),
		OnZ: d.printReport})
	// Receipts, signed by the terminal key: served on the payer API, and
	// printed after each result when the board has a printer.
	d.receipts, err = receipt.NewIssuer(receipt.Options{Store: st, Key: key, Shop: func() receipt.Shop {
		t := d.till.Config().Terminal
		return receipt.Shop{MerchantName: t.MerchantName, PublicURL: t.PublicURL}
	}})
	if err != nil {
		return err
	}
	d.cash, err = newCashier(cfg, d.devs, d.till, st, d.nets, d.relayerLow, d.books, d.printing(log), log.With("part", "cashier"))
	if err != nil {
		return err
	}
	if d.hooks, err = newWebhooks(cfg, st, tel, log.With("part", "webhooks")); err != nil {
		return err
	}
	// The MQTT uplink publishes from the store's event log in its own
	// goroutine: nothing in a sale waits on the broker.
	if d.uplink, err = d.newUplink(ctx, cfg, st, tel, log.With("part", "mqtt")); err != nil {
		return err
	}
	if created {
		log.Info("created terminal key", "path", cfg.KeyPath(), "signer", d.till.Signer().Hex())
	}
	tel.Gauges(telemetry.Gauges{
		Networks:      d.networkHealth,
		ConfigVersion: func() uint64 { return d.mgr.Status().Version },
		MQTTConnected: d.mqttConnected(),
	})

	// The bounded store: settled records older than store.keep go, a
	// small write at a time.
	d.pruner = &pruner{st: st, keep: func() *time.Duration { return d.till.Config().Store.Keep },
		log: log.With("part", "prune"), onPrune: tel.Pruned, every: pruneEvery, pause: prunePause}
	tel.StoreGauges(func() (int64, int, time.Time) {
		s, err := st.Stats()
		if err != nil {
			return 0, 0, time.Time{}
		}
		n := 0
		for _, c := range s.Payments {
			n += c
		}
		return s.FileBytes, n, s.OldestAccepted
	})
	tel.StoreJournalGauges(func() telemetry.JournalCounts {
		j := st.Journal()
		return telemetry.JournalCounts{Appends: j.Appends, Commits: j.Commits, Held: j.Held,
			CommittedBy: [len(telemetry.JournalCauses)]uint64{j.OnIdle, j.OnBound, j.OnRead, j.OnWrite, j.OnClose}}
	})
	tel.StoreIntegrityGauges(func() (int64, int, bool) {
		in := st.Integrity()
		return in.CheckedBytes, in.Damaged, in.Verified
	})
	// The networks: each its chain client, broadcaster, watcher and
	// relayer, started now, changed and stopped by apply as configs come,
	// all stopped at the end (after the background parts, before the
	// store closes).
	err = d.nets.reconcile(bgCtx, d.mgr.Current(), tel)
	defer d.nets.closeAll()
	if err != nil {
		return err
	}
	servers, err := d.listen(cfg, tel, networkLn)
	if err != nil {
		return err
	}
	d.at = httpapi.Listen{API: servers[0].addr()}
	for _, s := range servers {
		if s.name == "metrics" {
			d.at.Metrics = s.addr()
		}
	}
	if d.devs.Sim != nil {
		d.at.Simulator = d.devs.Sim.URL()
		log.Info("listening", "api", "simulator", "addr", d.at.Simulator)
	}

	// The chain prober, the broadcaster, the cashier and the fleet puller
	// stop after the HTTP servers have drained, and before the store
	// closes.
	var bg sync.WaitGroup
	defer func() {
		stopBg()
		bg.Wait()
	}()

	bg.Go(func() { d.rates.Run(bgCtx) })
	bg.Go(func() { d.mgr.Run(bgCtx) })
	bg.Go(func() { sweepExpiries(bgCtx, st, log.With("part", "expiry")) })
	bg.Go(func() { d.hooks.d.Run(bgCtx) })
	if d.uplink != nil {
		bg.Go(func() {
			if err := d.uplink.Run(bgCtx); err != nil {
				log.Error("mqtt uplink stopped", "err", err)
			}
		})
	}
	bg.Go(func() { d.pruner.Run(bgCtx) })
	bg.Go(func() { kickOnCommit(bgCtx, st, d.nets) })
	if d.printq != nil {
		bg.Go(func() { d.printq.Run(bgCtx) })
	}
	// The configured EIP-712 domains of authorizing assets, against their
	// tokens' DOMAIN_SEPARATOR() when the chain answers.
	domains := tokendomain.New(tokendomain.Options{Caller: d.nets.caller, Config: d.till.Config, OnVerdict: d.till.SetDomainVerdict,
		Logger: log.With("part", "tokendomain")})
	bg.Go(func() { domains.Run(bgCtx) })
	if d.cash != nil {
		bg.Go(func() { d.cash.Run(bgCtx) })
	}

	// SIGHUP is caught before the first request can be answered: a reload
	// sent as soon as the daemon answers must not kill it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.serve() }()
	}
	notify := sdnotify.New(log.With("part", "systemd"))
	pings := make(chan chan error)
	bg.Go(func() {
		notify.Watchdog(bgCtx, func(ctx context.Context) error { return ping(ctx, pings) })
	})
	// What the boot read, read last before READY=1 (every part that
	// starts before READY has started): /proc/self/io, bbolt's mmap faults
	// included in read_bytes. It is the figure issue 19 bounds (5 MiB
	// before READY=1 whatever the queue), and tools/posbench's boot rows
	// take it from this line: read from outside, it would count the scrub's
	// first reads after READY too. It is the process's: when run is called
	// inside another program (a test), that program's reads are in it.
	read := []any{}
	if io, err := procio.Self(); err != nil {
		read = append(read, "read_io_error", err) // no /proc/self/io here: said, never a reason to fail the boot
	} else {
		read = append(read, "read_bytes", io.ReadBytes, "rchar", io.RChar)
	}
	log.Info("posd ready", append([]any{"terminal", cfg.Terminal.ID, "networks", networkNames(d.mgr.Current()), "merchant", cfg.Merchant.Hex(),
		"signer", d.till.Signer().Hex(), "network_api", servers[0].addr(), "tls", cfg.API.TLS(),
		"operator_socket", cfg.SocketPath(), "store", cfg.StorePath(), "config_version", d.mgr.Status().Version}, read...)...)
	notify.Ready()
	// The scrub verifies, after READY, what Open did not read (Open reads
	// only what does not grow with sales: the boot stays fast with a long
	// queue). It stops with the background parts, before the store closes.
	bg.Go(func() { scrubStore(bgCtx, st, cfg.Store.ScrubRate, log.With("part", "scrub")) })

	// The main loop: signals, server failures, and the watchdog's pings,
	// answered only while the store answers.
	var runErr error
	running := len(servers)
loop:
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping")
			break loop
		case runErr = <-errc:
			running--
			break loop
		case <-hup:
			notify.Reloading()
			if err := d.mgr.Reload(ctx); err != nil {
				log.Error("reload failed; running config kept", "err", err)
			}
			notify.Ready()
		case reply := <-pings:
			_, err := st.Counts()
			reply <- err
		}
	}
	notify.Stopping()
	// Let in-flight payments finish (and so commit or fail) before the
	// store closes under them.
	shutCtx, cancel := context.WithTimeout(context.Background(), drainFor)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(shutCtx); err != nil {
			log.Error("shutdown", "server", s.name, "err", err)
		}
	}
	for ; running > 0; running-- {
		if err := <-errc; err != nil && runErr == nil {
			runErr = err
		}
	}
	return runErr
}

// ping asks the main loop to check the store, for the watchdog.
func ping(ctx context.Context, pings chan<- chan error) error {
	reply := make(chan error, 1)
	select {
	case pings <- reply:
	case <-ctx.Done():
		return fmt.Errorf("main loop did not answer: %w", ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("store did not answer: %w", ctx.Err())
	}
}

// apply makes cfg the running config (the fleet manager calls it after a
// bundle is stored, or after a reload): the till's rules, the chain's
// endpoints and the cashier's screens change at once.
func (d *daemon) apply(cfg *config.Config) {
	d.till.Reconfigure(cfg)
	// Before run starts the networks, there are none to reconcile.
	if d.nets != nil && d.nets.isStarted() {
		// A network that does not start is logged; the others run.
		_ = d.nets.reconcile(d.bgCtx, cfg, d.tel)
	}
	if d.cash != nil {
		d.cash.Reconfigure(d.bgCtx, cashier.Setup{Merchant: cfg.Terminal.MerchantName, Welcome: cfg.Texts.Welcome, Assets: assets(cfg),
			Locale: cfg.Terminal.Locale, Currency: shopCurrency(cfg)})
	}
	if err := d.rates.Reconfigure(pricefeed.SourcesOf(cfg)); err != nil {
		// The config's check refuses what Reconfigure would.
		d.log.Error("price sources not changed", "err", err)
	}
	symbols := make([]string, len(cfg.Assets))
	for i, a := range cfg.Assets {
		symbols[i] = a.Symbol
	}
	d.log.Info("config applied", "version", d.mgr.Status().Version, "merchant", cfg.Merchant.Hex(),
		"merchant_name", cfg.Terminal.MerchantName, "assets", symbols, "networks", networkNames(cfg))
}

// relayerLow reports, for the idle screen, that the relayer's balance, as
// the chain last told it, is low while an asset takes authorizations (no
// warning on a terminal that takes none).
func (d *daemon) relayerLow() bool {
	for _, n := range d.nets.all() {
		if n.relay == nil {
			continue
		}
		if s := n.relay.Status(); s.Balance == nil || !s.Low {
			continue // not known yet (offline): nothing to fund yet
		}
		for _, a := range *n.assets.Load() {
			if a.Authorizes() {
				return true
			}
		}
	}
	return false
}

// countRound adds a network's broadcast round's outcomes to the metrics.
func countRound(tel *telemetry.Telemetry, network string, r broadcast.Report) {
	for outcome, n := range map[string]int{"sent": r.Sent, "confirmed": r.Confirmed, "final": r.Final,
		"reorged": r.Reorged, "failed": r.Failed, "retrying": r.Retrying} {
		for range n {
			tel.Broadcast(network, outcome)
		}
	}
}

// server is one listener and what serves it.
type server struct {
	name string
	srv  *http.Server
	ln   net.Listener
	tls  bool
}

func (s server) addr() string { return s.ln.Addr().String() }

func (s server) serve() error {
	var err error
	if s.tls {
		err = s.srv.ServeTLS(s.ln, "", "") // certificates are in srv.TLSConfig
	} else {
		err = s.srv.Serve(s.ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// fleetPush is the fleet manager as the HTTP API's Fleet.
type fleetPush struct{ m *fleet.Manager }

func (f fleetPush) Push(ctx context.Context, raw []byte) (any, error) { return f.m.Push(ctx, raw) }

// listen serves the network API on networkLn (first), and opens the
// operator socket and, if configured, the metrics listener.
func (d *daemon) listen(cfg *config.Config, tel *telemetry.Telemetry, networkLn net.Listener) (servers []server, err error) {
	defer func() {
		if err != nil {
			for _, s := range servers {
				s.ln.Close()
			}
		}
	}()
	network := server{name: "network API", tls: cfg.API.TLS()}
	network.srv = httpapi.NewServer(tel.Middleware("network", httpapi.Network(httpapi.NetworkOptions{
		Till: d.till, Register: d.till, Status: d.status, Fleet: fleetPush{d.mgr}, Books: d.books, Receipts: d.receipts, Locale: d.locale,
		Verifier: &auth.Verifier{Store: d.store}, Logger: d.log.With("part", "network-api"),
		// Waiting registers hold at most a quarter of the connection slots
		// (api.max_conns): the rest stay the payers'.
		MaxWaits:      max(cfg.API.MaxConns/4, 1),
		Registrations: d.store, RegistrationTTL: cfg.API.RegistrationTTL,
		Webhooks: d.hooks, WebhookOptions: httpapi.WebhookOptions{AllowHTTP: cfg.Webhooks.AllowHTTP, AllowLoopback: cfg.Webhooks.AllowLoopback},
		PayerPage: payerpage.Handler(payerpage.Options{
			MerchantName: func() string { return d.till.Config().Terminal.MerchantName },
			Logger:       d.log.With("part", "payer-page"),
		}),
	})), d.log)
	if network.tls {
		cert, err := tls.LoadX509KeyPair(cfg.API.TLSCert, cfg.API.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("network API TLS (api.tls_cert %s, api.tls_key %s): %w", cfg.API.TLSCert, cfg.API.TLSKey, err)
		}
		network.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	network.ln = networkLn
	servers = append(servers, network)
	d.log.Info("listening", "api", "network", "addr", network.addr(), "tls", network.tls)

	if err := os.MkdirAll(filepath.Dir(cfg.SocketPath()), 0o750); err != nil {
		return servers, fmt.Errorf("operator socket dir: %w", err)
	}
	op := server{name: "operator API"}
	if op.ln, err = httpapi.ListenUnix(cfg.SocketPath()); err != nil {
		return servers, err
	}
	op.srv = httpapi.NewServer(tel.Middleware("operator", httpapi.Operator(httpapi.OperatorOptions{
		Register: d.till, Queue: d.nets, Clients: revokingClients{d.store, d.hooks}, Status: d.status, Fleet: fleetPush{d.mgr},
		Books: d.books, Metrics: tel.Handler(), Logger: d.log.With("part", "operator-api"),
		Registrations: d.store,
		Webhooks:      d.hooks, WebhookOptions: httpapi.WebhookOptions{AllowHTTP: cfg.Webhooks.AllowHTTP, AllowLoopback: cfg.Webhooks.AllowLoopback},
		Unmatched:  d.till,   // acknowledging unmatched receipts (the bounded store prunes them then)
		ExportHold: d.pruner, // the pruner deletes nothing of an export under way
	})), d.log)
	servers = append(servers, op)

	if cfg.API.MetricsListen != "" {
		m := server{name: "metrics"}
		if m.ln, err = httpapi.ListenTCP(cfg.API.MetricsListen, httpapi.MetricsMaxConns); err != nil {
			return servers, fmt.Errorf("metrics (api.metrics_listen): %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", tel.Handler())
		m.srv = httpapi.NewServer(mux, d.log)
		servers = append(servers, m)
		d.log.Info("listening", "api", "metrics", "addr", m.addr())
	}
	return servers, nil
}

// newCashier wires the cashier's screen and keys to the board's devices;
// nil when the board has neither a display nor a keypad (a headless
// terminal driven only over its APIs).
// nfcTag is the NFC reader as a tag (board.nfc.tag), when it can be one.
func nfcTag(c config.NFC, r device.NFCReader) device.NFCTag {
	if t, ok := r.(device.NFCTag); ok && c.TagOn() {
		return t
	}
	return nil
}

func newCashier(cfg *config.Config, devs *board.Devices, till *checkout.Service, st *store.Store,
	nets *networks, relayerLow func() bool, books cashier.Books, paper paper, log *slog.Logger) (*cashier.Cashier, error) {
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
		warnShortLinkQR(log, r, cfg.Terminal.PublicURL)
		screens = r
	}
	return cashier.New(cashier.Options{
		Till: till, Screens: screens,
		Display: devs.Display, Keypad: devs.Keypad, Scanner: devs.Scanner, NFC: devs.NFC, Indicator: devs.Indicator,
		NFCTag: nfcTag(cfg.Board.NFC, devs.NFC), NFCTiming: nfcpay.Timing{
			Reader: cfg.Board.NFC.ReaderWindow, Tag: cfg.Board.NFC.TagWindow, Rest: cfg.Board.NFC.TagRest},
		Merchant: cfg.Terminal.MerchantName, Welcome: cfg.Texts.Welcome, Assets: assets(cfg),
		Currency: shopCurrency(cfg), Tips: tipPercentages(cfg), Locale: cfg.Terminal.Locale,
		Queued: func() int {
			c, err := st.Counts()
			if err != nil {
				return 0
			}
			return c[store.PaymentQueued] + c[store.PaymentBroadcast]
		},
		Online:       nets.allOnline,
		Networks:     nets.states,
		SyncNow:      func(ctx context.Context) error { _, err := nets.Sync(ctx); return err },
		RelayerLow:   relayerLow,
		StoreDamaged: func() bool { return st.Integrity().MoneyDamaged },
		Books:        books,
		Receipts:     paper.receipts, PrintReport: paper.report,
		Logger: log,
	}), nil
}

// shopCurrency is terminal.currency (checked by config), or none.
func shopCurrency(cfg *config.Config) fiat.Currency {
	c, _ := fiat.Lookup(cfg.Terminal.Currency)
	return c
}

// tipPercentages are the tips the payer is offered, none when [tips] is off.
func tipPercentages(cfg *config.Config) []uint {
	if !cfg.Tips.Enabled {
		return nil
	}
	return cfg.Tips.Percentages
}

// assets are every asset a request may be made in, in config order:
// each symbol once, as the first network taking it has it (the keypad's
// asset switch; a request is then offered on every network taking it).
func assets(cfg *config.Config) []asset.Asset {
	var out []asset.Asset
	for _, n := range cfg.Networks {
		for _, a := range n.Assets {
			if !slices.ContainsFunc(out, func(o asset.Asset) bool { return strings.EqualFold(o.Symbol, a.Symbol) }) {
				out = append(out, a.Asset)
			}
		}
	}
	return out
}

// networkAssets are a network's assets as the watcher and the cashier
// take them.
func networkAssets(n config.Network) []asset.Asset {
	out := make([]asset.Asset, len(n.Assets))
	for i, a := range n.Assets {
		out[i] = a.Asset
	}
	return out
}

// networkNames are the config's network names, default first.
func networkNames(cfg *config.Config) []string {
	out := make([]string, len(cfg.Networks))
	for i, n := range cfg.Networks {
		out[i] = n.Name
	}
	return out
}

// isMono reports whether a display shows only black and white: mid-grey
// comes back as one or the other.
func isMono(m color.Model) bool {
	g := color.GrayModel.Convert(m.Convert(color.RGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xff})).(color.Gray)
	return g.Y == 0 || g.Y == 0xff
}
