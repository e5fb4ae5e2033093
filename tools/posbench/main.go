package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"showpos/sync/relay"
	"showpos/terminal/screen"
)

// options are the run's sizes; -quick shrinks them all.
type options struct {
	out, dir    string
	keep, quick bool
	only        []string // sections to run; none: all

	latencyN    int           // payments timed one after another
	throughputN int           // payments by the concurrent payers
	payers      int           // concurrent payers
	checkFor    time.Duration // each check-rate measurement
	checkTxs    int           // distinct transactions per asset for the check rates
	drainN      int           // payments drained into the dev chain, each way
	settleN     int           // authorizations settled by the relayer
	scanN       int           // sales paid through the scanner
	fillN       int           // payments queued in the store for the memory and boot figures
	settle      time.Duration // idle time before RSS is read
	bootWithin  time.Duration // how long a boot may take
	idleWarm    time.Duration // how long posd idles before its idle CPU is measured
	idleFor     time.Duration // over how long its idle CPU is measured

	watchBlocks   int           // blocks over which the watcher's calls are counted
	watchEvery    time.Duration // the dev chain's pace for the watch rows
	watchPayments int           // payments timed from mined to listed

	fleetN      int // terminals whose MQTT side runs against one broker
	fleetEvents int // events each of them publishes
}

// sections of the table, in order; -only names some of them.
var sections = []string{"accept", "check", "drain", "screens", "memory", "watch", "fleet"}

func main() {
	if os.Getenv(httpPeerEnv) != "" {
		if err := serveHTTPPeer(); err != nil {
			fmt.Fprintln(os.Stderr, "posbench HTTP peer:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var only string
	flag.StringVar(&o.out, "out", "", "also write the table to this file")
	flag.StringVar(&o.dir, "dir", "", "work directory, on the disk to measure (default: a new directory under $TMPDIR)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.BoolVar(&o.quick, "quick", false, "a quick run: fewer samples, 10,000 payments queued, 1,000 drained, 160 authorizations settled")
	flag.StringVar(&only, "only", "", "comma-separated sections to run: "+strings.Join(sections, ","))
	flag.IntVar(&o.latencyN, "latency-n", 500, "payments timed one after another over HTTP")
	flag.IntVar(&o.throughputN, "throughput-n", 4096, "payments made by the concurrent payers")
	flag.IntVar(&o.payers, "payers", 64, "concurrent payers")
	flag.DurationVar(&o.checkFor, "check-for", 3*time.Second, "duration of each check-rate measurement")
	flag.IntVar(&o.checkTxs, "check-txs", 256, "distinct signed transactions per asset for the check rates")
	flag.IntVar(&o.drainN, "drain-n", 10_000, "queued payments drained into the dev chain, batched and one at a time")
	flag.IntVar(&o.settleN, "settle-n", settleRounds*relay.DefaultMaxInFlight,
		fmt.Sprintf("authorizations settled into the dev chain by the relayer (default: %d of its rounds of %d, MaxInFlight)", settleRounds, relay.DefaultMaxInFlight))
	flag.IntVar(&o.scanN, "scan-n", 200, "sales paid through the scanner")
	flag.IntVar(&o.fillN, "fill-n", 100_000, "payments queued in the store for the memory and boot figures")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "how long posd idles before its memory is read")
	flag.DurationVar(&o.idleWarm, "idle-warm", time.Minute, "how long posd is left alone after READY=1 before its idle CPU is measured")
	flag.DurationVar(&o.idleFor, "idle-for", time.Minute, "over how long posd's idle CPU is measured")
	flag.DurationVar(&o.bootWithin, "boot-within", 10*time.Minute, "how long posd may take to send READY=1")
	flag.IntVar(&o.watchBlocks, "watch-blocks", 30, "new blocks over which the chain watcher's RPC calls are counted")
	flag.DurationVar(&o.watchEvery, "watch-every", 2*time.Second, "the dev chain's block pace for the watch rows")
	flag.IntVar(&o.watchPayments, "watch-payments", 20, "payments sent straight to the chain, timed from mined to listed by posd")
	flag.IntVar(&o.fleetN, "fleet-n", 1000, "terminals whose MQTT side runs in this process against one Mosquitto")
	flag.IntVar(&o.fleetEvents, "fleet-events", 20, "events each fleet terminal publishes")
	flag.Parse()
	if only != "" {
		for _, s := range strings.Split(only, ",") {
			if !slices.Contains(sections, s) {
				fmt.Fprintf(os.Stderr, "posbench: unknown section %q (have %s)\n", s, strings.Join(sections, ","))
				os.Exit(2)
			}
			o.only = append(o.only, s)
		}
	}
	if o.quick {
		o.latencyN, o.throughputN, o.checkFor, o.drainN, o.scanN, o.fillN, o.settle =
			min(o.latencyN, 150), min(o.throughputN, 1024), min(o.checkFor, time.Second), min(o.drainN, 1000),
			min(o.scanN, 50), min(o.fillN, 10_000), min(o.settle, time.Second)
		o.settleN = min(o.settleN, 10*relay.DefaultMaxInFlight)
		o.watchBlocks, o.watchPayments = min(o.watchBlocks, 10), min(o.watchPayments, 8)
		o.fleetN = min(o.fleetN, 200)
		o.idleWarm, o.idleFor = min(o.idleWarm, 10*time.Second), min(o.idleFor, 10*time.Second)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "posbench:", err)
		os.Exit(1)
	}
}

// started is when posbench started, for progress.
var started = time.Now()

// progress says what is being measured, on stderr, after the time since
// posbench started: the lines time the run's parts.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "posbench: [%s] "+format+"\n", append([]any{time.Since(started).Round(time.Second)}, args...)...)
}

func run(ctx context.Context, o options) error {
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run from the module root (where go.mod is): %w", err)
	}
	began := time.Now()
	dir := o.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "posbench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	} else {
		defer progress("work directory kept: %s", dir)
	}
	m := describeMachine(dir)
	progress("machine: %s", m)
	loadBefore := firstLine("/proc/loadavg")

	want := func(s string) bool { return len(o.only) == 0 || slices.Contains(o.only, s) }
	// Each part's time goes in the footnote, so a run says where its
	// time went (README: how long make bench takes).
	var parts []string
	timed := func(name string, since time.Time) {
		d := time.Since(since).Round(time.Second)
		progress("%s took %s", name, d)
		parts = append(parts, name+" "+d.String())
	}
	var posd string
	if want("accept") || want("memory") || want("watch") {
		progress("building posd")
		t := time.Now()
		var err error
		if posd, err = buildPosd(ctx, dir); err != nil {
			return err
		}
		timed("building posd", t)
	}

	var rows []row
	if want("accept") || want("check") {
		t := time.Now()
		r, err := acceptAndCheck(ctx, o, dir, posd, want("accept"), want("check"))
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		timed(strings.Join(slices.DeleteFunc([]string{"accept", "check"}, func(s string) bool { return !want(s) }), ","), t)
	}
	if want("drain") {
		t := time.Now()
		rows = append(rows, drainRows(ctx, o, dir)...)
		timed("drain", t)
	}
	if want("screens") {
		t := time.Now()
		rows = append(rows, screenRows(ctx, o, dir)...)
		timed("screens", t)
	}
	if want("memory") {
		t := time.Now()
		var one memFigures
		rows = append(rows, memoryRows(ctx, o, dir, posd, &one)...)
		rows = append(rows, memoryTwoRows(ctx, o, dir, posd, one)...)
		timed("memory", t)
	}
	if want("watch") {
		t := time.Now()
		rows = append(rows, watchRows(ctx, o, dir, posd)...)
		timed("watch", t)
	}
	if want("fleet") {
		t := time.Now()
		rows = append(rows, fleetRows(ctx, o, dir)...)
		timed("fleet", t)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	settings := fmt.Sprintf("-latency-n %d -throughput-n %d -payers %d -check-for %s -check-txs %d -drain-n %d -settle-n %d -scan-n %d -fill-n %d "+
		"-idle-warm %s -idle-for %s -watch-blocks %d -watch-every %s -watch-payments %d -fleet-n %d -fleet-events %d",
		o.latencyN, o.throughputN, o.payers, o.checkFor, o.checkTxs, o.drainN, o.settleN, o.scanN, o.fillN, o.idleWarm, o.idleFor,
		o.watchBlocks, o.watchEvery, o.watchPayments, o.fleetN, o.fleetEvents)
	if len(o.only) > 0 {
		settings += " -only " + strings.Join(o.only, ",")
	}
	// Other work on the machine moves every figure: say how busy it was.
	settings += fmt.Sprintf("; load average (1, 5, 15 min) at the start %s, at the end %s",
		loadTriple(loadBefore), loadTriple(firstLine("/proc/loadavg")))
	settings += "; the parts took: " + strings.Join(parts, ", ")
	var buf bytes.Buffer
	writeTable(&buf, m, rows, time.Since(began), settings)
	os.Stdout.Write(buf.Bytes())
	if o.out != "" {
		if err := os.WriteFile(o.out, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if r.Value == "not measured" {
			return fmt.Errorf("some figures could not be measured")
		}
	}
	return nil
}

// loadTriple keeps the three load averages of a /proc/loadavg line.
func loadTriple(line string) string {
	f := strings.Fields(line)
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// acceptAndCheck measures the check's rates (one core, all cores, and
// ethers' in Node), the floor, and posd's accept latency and throughput.
func acceptAndCheck(ctx context.Context, o options, dir, posd string, accept, checks bool) ([]row, error) {
	progress("signing %d payments of each asset", o.checkTxs)
	txs := map[string][][]byte{}
	for _, k := range []kind{native, erc20} {
		raws, err := signedTxs(k, o.checkTxs, 16)
		if err != nil {
			return nil, err
		}
		txs[k.Name] = raws
	}
	var rows []row
	var checkRows []row
	if checks {
		txRates := map[string]float64{} // measured in this run: the authorization row's peer
		for _, k := range []kind{native, erc20} {
			what := "Check rate, " + k.Name + ", one core (decode, sender recovery, terms)"
			progress("check rate, %s, one core", k.Name)
			goRate, err := checkRate(txs[k.Name], k, 1, o.checkFor)
			if err != nil {
				checkRows = append(checkRows, failed(what, err))
				continue
			}
			txRates[k.Name] = goRate
			progress("ethers v6 in Node, %s", k.Name)
			how := fmt.Sprintf("terminal/check's Check over %d distinct signed EIP-1559 payments (%s), one goroutine, GOMAXPROCS=1, for %s; "+
				"peer: tools/js/checkrate.mjs, ethers v6 Transaction.from(raw).from over the same raw txs (same senders recovered), after one warm-up pass",
				len(txs[k.Name]), k.Name, o.checkFor)
			peer, err := ethersRate(ctx, dir, k, txs[k.Name], o.checkFor)
			if err != nil {
				checkRows = append(checkRows, row{What: what, Value: rate(goRate, "tx"), Peer: "ethers: not measured (" + err.Error() + ")", How: how})
				continue
			}
			checkRows = append(checkRows, row{What: what, Value: rate(goRate, "tx"),
				Peer:  fmt.Sprintf("ethers %s, Node %s: %s", peer.Ethers, peer.Node, rate(peer.PerSecond, "tx")),
				Ratio: ratio(goRate, peer.PerSecond), How: how})
		}
		checkRows = append(checkRows, authCheckRow(ctx, o, dir, txRates[erc20.Name]))
	}
	if !accept {
		return checkRows, nil
	}

	progress("check on all %d cores (the CPU ceiling)", runtime.NumCPU())
	ceiling, err := checkRate(txs[native.Name], native, runtime.NumCPU(), o.checkFor)
	if err != nil {
		return nil, err
	}
	progress("floor: fsync'd bbolt commits and sender recoveries")
	fl, err := measureFloor(dir, txs[native.Name], floorN)
	if err != nil {
		return nil, err
	}

	t, err := newTerminal(filepath.Join(dir, "accept"))
	if err != nil {
		return nil, err
	}
	d, err := startPosd(posd, t, o.bootWithin)
	if err != nil {
		return nil, err
	}
	defer d.stop()
	// The two-network posd's rows are measured in turn with these.
	d2, err2 := startTwoNetworks(o, dir, posd)
	if d2 != nil {
		defer d2.stop()
	}
	// The payer is this process. It runs on one P in the one-payer rows,
	// so that its own goroutines (net/http's transport loops, woken at
	// each request) do not take posd's second core: a payer's phone does
	// not share the terminal's CPU. The bare round trip is timed so too.
	procs := runtime.GOMAXPROCS(1)
	progress("bare HTTP round trips: the same payer, a server that answers 202 at once")
	rt, rtErr := httpRoundTrips(ctx, txs[native.Name][0], floorN, 20)
	progress("accept latency: one payer, %d payments over HTTP, on one network and on two in turn", o.latencyN)
	what1 := "Accept over HTTP, one payer: p50 / p99"
	lat, lat2, err, latErr2 := latencyInTurn(d, d2, o.latencyN, inTurn, err2, []uint64{benchChainID2})
	runtime.GOMAXPROCS(procs)
	roundTrip := "a bare HTTP round trip: not measured (" + fmt.Sprint(rtErr) + ")"
	plusTrip := ""
	if rtErr == nil {
		roundTrip = fmt.Sprintf("a bare HTTP round trip, the same payer to a server in another process that answers 202 at once: p50 %s, p99 %s", ms(rt.median()), ms(rt.pct(99)))
		plusTrip = fmt.Sprintf("; p99 %s the floor plus the bare round trip's median", ratio(float64(lat.pct(99)), float64(fl.total()+rt.median())))
	}
	if err != nil {
		rows = append(rows, failed(what1, err))
	} else {
		rows = append(rows, row{What: what1,
			Value: fmt.Sprintf("%s / %s", ms(lat.median()), ms(lat.pct(99))),
			// The bound is the issue's: the p99 against the floor (its
			// median). The floor is a distribution too, its own p99 several
			// times its median on a disk with a tail: that p99, and the
			// accept's against it, are printed beside.
			Peer: fmt.Sprintf("floor %s (fsync'd bbolt commit %s + sender recovery %s; its own p99 %s, %s its median: the disk's tail); bound: p99 within %s× the floor (issue 19); "+
				"the journal append posd's accept waits for, alone: p50 %s, p99 %s; %s",
				ms(fl.total()), ms(fl.commit), ms(fl.recover), ms(fl.total99()), ratio(float64(fl.total99()), float64(fl.total())), trimFloat(p99FloorBound),
				ms(fl.appended), ms(fl.appended99), roundTrip),
			Ratio: fmt.Sprintf("p99 %s, p50 %s (p99 %s the floor's own p99%s)", ratio(float64(lat.pct(99)), float64(fl.total())),
				ratio(float64(lat.median()), float64(fl.total())), ratio(float64(lat.pct(99)), float64(fl.total99())), plusTrip),
			How: fmt.Sprintf("posd binary on loopback (no chain endpoints: payments stay queued); requests made on the operator socket beforehand; "+
				"one payer POSTs %d signed EIP-1559 payments to /api/showpos/broadcastTx one after another (keep-alive), 202 each (in %d parts, each after 20 unmeasured ones, "+
				"taking turns with the two-network posd's); the payer, posbench, runs on one P (GOMAXPROCS 1) in these rows, its net/http client's loops then not waking the core posd has beside it; "+
				"the bare round trip: %s POSTs of the same body from the same payer, after 20 unmeasured; "+
				"floor: medians (and 99th percentiles) of %s bare bbolt Updates (one 512-byte Put, fsynced) in the same directory and of crypto.Ecrecover; "+
				"the journal append: %s 600-byte records written and fdatasynced into a 256 KiB file made whole first, in the same directory", len(lat), inTurn, thousands(floorN), thousands(floorN), thousands(floorN))})
	}
	progress("accept throughput: %d payers, %d payments, on one network and on two in turn", o.payers, o.throughputN)
	what2 := fmt.Sprintf("Accept throughput, %d concurrent payers", o.payers)
	tput, tput2, err, tputErr2 := throughputInTurn(d, d2, o.payers, o.throughputN, err2)
	if err != nil {
		rows = append(rows, failed(what2, err))
	} else {
		rows = append(rows, row{What: what2, Value: rate(tput, "payments"),
			Peer:  fmt.Sprintf("ceiling %s: the check alone on all %d cores, no store, no HTTP", rate(ceiling, "checks"), runtime.NumCPU()),
			Ratio: ratio(tput, ceiling),
			How: fmt.Sprintf("the same posd, whose api.max_conns is 256 for these payers (at the default 64, Go's client dialled a connection past the cap that waited up to posd's 5 s idle timeout); %d payments in rounds of %d requests made beforehand on the operator socket (the till caches %d), "+
				"each round paid by %d payers at once, one payment after another each (up to %d each per round); rounds timed, request making not; "+
				"a round ends with its slowest payer, so every round's time includes the payers starting and finishing: below the steady rate, more so for few payments per payer; "+
				"payers run on the same machine; in %d parts taking turns with the two-network posd's",
				o.throughputN, roundSize, roundSize, o.payers, (roundSize+o.payers-1)/o.payers, inTurn)})
	}
	rows = append(rows, acceptTwoRows(o, lat2, latErr2, tput2, tputErr2, lat, tput)...)
	return append(rows, checkRows...), nil
}

func drainRows(ctx context.Context, o options, dir string) []row {
	what := func(name string) string {
		return fmt.Sprintf("Drain of %s queued payments into the dev chain, %s", thousands(int64(o.drainN)), name)
	}
	progress("drain: queueing %d payments", o.drainN)
	queued, err := fillForDrain(ctx, dir, o.drainN, nil)
	if err != nil {
		return []row{failed(what("batched"), err)}
	}
	defer os.Remove(queued)
	var rows []row
	var batched drainResult
	for _, one := range []bool{false, true} {
		name, sends := "batched", "transactions sent in JSON-RPC batches of up to 100"
		if one {
			name, sends = "one call per transaction", "each transaction sent in its own call"
		}
		progress("drain, %s: %d payments", name, o.drainN)
		r, err := measureDrain(ctx, dir, queued, o.drainN, one, nil)
		if err != nil {
			rows = append(rows, failed(what(name), err))
			continue
		}
		rw := row{What: what(name), Value: fmt.Sprintf("%s (%.1f s)", rate(r.perSecond(), "payments"), r.took.Seconds()),
			How: fmt.Sprintf("posbench's own drain, in this process: %d payments queued beforehand in one store, untimed: for each, the till (terminal/checkout NewRequest) makes and signs a request, "+
				"a signed EIP-1559 payment to it from one of %d tools/devchain accounts (nonce order each; 1 in 1,000 also through terminal/check) is built, "+
				"and store.Store.Accept stores it queued (no HTTP, no check otherwise); %d writers at once. Each drain: a copy of that store file, a fresh tools/devchain, "+
				"sync/chain's client (2 s call timeout) and sync/broadcast's broadcaster (%s, lookups in batches of up to 100; a pass at most every 20 ms; retry backoff 50–400 ms), "+
				"timed from starting the client and broadcaster until no payment is queued or broadcast (store polled every 20 ms), all %d confirmed",
				o.drainN, drainPayers, drainPayers, sends, o.drainN)}
		if !one {
			batched = r
		} else if batched.n > 0 {
			rw.Peer = fmt.Sprintf("batched: %s", rate(batched.perSecond(), "payments"))
			rw.Ratio = ratio(r.perSecond(), batched.perSecond())
		}
		rows = append(rows, rw)
	}
	return append(rows, drainTwoRow(ctx, o, dir, batched), settleRow(ctx, o, dir, batched))
}

func screenRows(ctx context.Context, o options, dir string) []row {
	var rows []row
	var fl floor
	progress("scanner payload to result screen: %d sales", o.scanN)
	what := "Scanner payload → result screen: p50 / p99"
	lat, err := scanToResult(ctx, dir, o.scanN)
	if err == nil {
		fl, err = measureFloor(filepath.Join(dir, "cashier"), mustSigned(native, 64), 100)
	}
	if err != nil {
		rows = append(rows, failed(what, err))
	} else {
		rows = append(rows, row{What: what, Value: fmt.Sprintf("%s / %s", ms(lat.median()), ms(lat.pct(99))),
			Peer:  fmt.Sprintf("floor %s (fsync'd commit + sender recovery)", ms(fl.total())),
			Ratio: "p50 " + ratio(float64(lat.median()), float64(fl.total())),
			How: fmt.Sprintf("terminal/cashier's BenchmarkScanToResult: store, till, screens, the simulator's 320×240 display and pty scanner, the cashier, in this process; "+
				"%d sales keyed, each paid by writing the tx hex to the pty; from the write to the result screen drawn", len(lat))})
	}
	for _, s := range []screen.Size{{W: 320, H: 240}, {W: 240, H: 240}, {W: 128, H: 64, Mono: true}} {
		what := fmt.Sprintf("Request screen with a new QR code, %s", s)
		fresh, tick, err := renderTimes(s, 200)
		if err != nil {
			rows = append(rows, failed(what, err))
			continue
		}
		rows = append(rows, row{What: what, Value: ms(fresh), Peer: "redraw, QR cached (the countdown): " + ms(tick), Ratio: ratio(float64(fresh), float64(tick)),
			How: "terminal/screen Renderer.Request for an ERC-20 request's EIP-681 URI, a new one each time (QR encoded, laid out, drawn); median of 200"})
	}
	return rows
}

func mustSigned(k kind, n int) [][]byte {
	raws, err := signedTxs(k, n, 4)
	if err != nil {
		panic(err)
	}
	return raws
}

// fillStore queues n accepted payments in t's store, in this process,
// before posd is started on it: on chainOf(chains, i) each, on a till
// with that many networks (none: one network).
// fillPayers is how many wallets pay in fillStore's fill.
const fillPayers = 20_000

func fillStore(ctx context.Context, t *terminal, n int, chains []uint64) (time.Duration, int64, error) {
	cfg, err := benchConfig(t.data, max(1, len(chains)))
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	tl, err := openTill(t.data, cfg, nil)
	if err != nil {
		return 0, 0, err
	}
	// A shop's payers are mostly different wallets: 20,000 of them here,
	// each paying a few times in nonce order (the store's sender-keyed
	// indexes see keys in about random order, as on a terminal).
	const writers = 64
	payers := make([]*payer, fillPayers)
	for i := range payers {
		k, err := newKey()
		if err != nil {
			tl.store.Close()
			return 0, 0, err
		}
		payers[i] = &payer{key: k}
	}
	err = tl.fill(ctx, n, writers, payers, nil, chains)
	if cerr := tl.store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, err
	}
	fi, err := os.Stat(filepath.Join(t.data, "showpos.db"))
	if err != nil {
		return 0, 0, err
	}
	return time.Since(start), fi.Size(), nil
}
