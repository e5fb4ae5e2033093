package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"showpos/sync/relay"
	"showpos/terminal/config"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
	"showpos/tools/devchain"
)

// The first error is kept whatever the types of those after it (an
// atomic.Value's CompareAndSwap panics on a second concrete type).
func TestFirstErrorKeepsTheFirstOfAnyType(t *testing.T) {
	var f firstError
	if f.get() != nil {
		t.Fatal("a new firstError has an error")
	}
	f.set(nil)
	first := errors.New("first") // *errors.errorString
	f.set(first)
	f.set(fmt.Errorf("second: %w", os.ErrNotExist)) // *fmt.wrapError
	f.set(&os.PathError{Op: "open", Path: "x", Err: os.ErrPermission})
	f.set(nil)
	if got := f.get(); got != first {
		t.Errorf("got %v, want the first error", got)
	}

	// From many goroutines at once, one of theirs is kept.
	var g firstError
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%2 == 0 {
				g.set(fmt.Errorf("goroutine %d", i))
			} else {
				g.set(&os.PathError{Op: "write", Path: fmt.Sprint(i), Err: os.ErrClosed})
			}
		})
	}
	wg.Wait()
	if g.get() == nil {
		t.Error("no error kept")
	}
}

func TestPercentilesAreNearestRank(t *testing.T) {
	var s samples
	for i := 100; i >= 1; i-- { // unsorted on purpose
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}} {
		if got := s.pct(c.p); got != c.want {
			t.Errorf("p%v = %s, want %s", c.p, got, c.want)
		}
	}
	if s[0] != 100*time.Millisecond {
		t.Error("pct sorted the samples in place")
	}
	if (samples{}).median() != 0 {
		t.Error("median of nothing is not zero")
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{ratio(3, 2), "1.50×"},
		{ratio(25, 2), "12.5×"},
		{ratio(1, 0), "—"},
		{ms(1500 * time.Microsecond), "1.50 ms"},
		{ms(250 * time.Microsecond), "250 µs"},
		{ms(1234 * time.Millisecond), "1234 ms"},
		{rate(12345.6, "tx"), "12,346 tx/s"},
		{rate(42.4, "payments"), "42 payments/s"},
		{thousands(100000), "100,000"},
		{thousands(-1234), "-1,234"},
		{mib(3 << 20), "3.0 MiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// The table is Markdown: one row per figure, pipes in cells escaped.
func TestTableIsMarkdown(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, machine{CPU: "Cortex-A72", Cores: 4, RAM: 4 << 30, Disk: "mmcblk0, SD card", FS: "ext4", Go: "go1.26"},
		[]row{{What: "a | b", Value: "1 ms", How: "x\ny"}, failed("c", os.ErrNotExist)}, 3*time.Minute, "-quick")
	lines := strings.Split(b.String(), "\n")
	var table []string
	for _, l := range lines {
		if strings.HasPrefix(l, "|") {
			table = append(table, l)
		}
	}
	if len(table) != 4 {
		t.Fatalf("table rows:\n%s", b.String())
	}
	if !strings.Contains(table[2], `a \| b`) || !strings.Contains(table[2], "x y") || !strings.Contains(table[3], "not measured") {
		t.Errorf("rows:\n%s", strings.Join(table, "\n"))
	}
	if !strings.HasPrefix(b.String(), "Machine: Cortex-A72, 4 cores, 4.0 GiB RAM, disk: mmcblk0, SD card, ext4") {
		t.Errorf("machine line: %s", lines[0])
	}
}

func TestCPUInfo(t *testing.T) {
	for _, c := range []struct {
		name, text, model string
		cores             int
	}{
		{"x86", "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13", 2},
		{"raspberry pi 4", "processor\t: 0\nBogoMIPS\t: 108.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\nprocessor\t: 1\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\n", "Cortex-A72 on BCM2835", 2},
		{"armv7 model name", "processor\t: 0\nmodel name\t: ARMv7 Processor rev 5 (v7l)\nCPU part\t: 0xc07\n", "Cortex-A7", 1},
		{"unknown part", "processor\t: 0\nCPU part\t: 0x123\n", "ARM core part 0x123", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cpuinfo")
			if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			model, cores := parseCPUInfo(f)
			if model != c.model || cores != c.cores {
				t.Errorf("got %q, %d cores; want %q, %d", model, cores, c.model, c.cores)
			}
		})
	}
}

// Every figure's payments pass the check: otherwise the rates would be
// those of refusals.
func TestSignedPaymentsPassTheCheck(t *testing.T) {
	for _, k := range []kind{native, erc20} {
		if _, err := signedTxs(k, 8, 3); err != nil {
			t.Errorf("%s: %v", k.Name, err)
		}
	}
}

// The bench terminals: one network as before, or two [[networks]] that
// both take ETH, the default first; nothing else.
func TestBenchConfigHasOneOrTwoNetworks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nets      int
		ethChains []uint64 // the chains a request for ETH is offered on
	}{
		{"one network", 1, []uint64{benchChainID}},
		{"two networks", 2, benchChains},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := benchConfig(t.TempDir(), tc.nets)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Networks) != tc.nets || cfg.ChainID != benchChainID || len(cfg.Assets) != 2 || cfg.Assets[1].Token != erc20.Asset.Token {
				t.Errorf("config %+v", cfg)
			}
			var got []uint64
			for _, na := range cfg.Offers("ETH") {
				got = append(got, na.Network.ChainID)
			}
			if !slices.Equal(got, tc.ethChains) {
				t.Errorf("ETH offered on %v, want %v", got, tc.ethChains)
			}
		})
	}
	for _, nets := range []int{0, 3} {
		if _, err := benchConfig(t.TempDir(), nets); err == nil {
			t.Errorf("%d networks: no error", nets)
		}
	}
}

// Payments split over chains take them in turn; none means the request's.
func TestChainOfTakesTheChainsInTurn(t *testing.T) {
	for _, tc := range []struct {
		chains []uint64
		want   []uint64 // payments 0..4
	}{
		{nil, []uint64{0, 0, 0, 0, 0}},
		{[]uint64{benchChainID2}, []uint64{1338, 1338, 1338, 1338, 1338}},
		{benchChains, []uint64{1337, 1338, 1337, 1338, 1337}},
	} {
		var got []uint64
		for i := range 5 {
			got = append(got, chainOf(tc.chains, i))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("chainOf(%v): %v, want %v", tc.chains, got, tc.want)
		}
	}
}

// The accept rows' parts add up to the whole, as even as can be.
func TestShareSplitsEvenly(t *testing.T) {
	for _, tc := range []struct {
		n, parts int
		want     []int
	}{
		{150, 3, []int{50, 50, 50}},
		{1024, 3, []int{342, 341, 341}},
		{2, 3, []int{1, 1, 0}},
	} {
		var got []int
		for i := range tc.parts {
			got = append(got, share(tc.n, tc.parts, i))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("share(%d, %d): %v, want %v", tc.n, tc.parts, got, tc.want)
		}
	}
}

// A payer's nonces count on each chain apart, as a wallet's do.
func TestPayerNoncesArePerChain(t *testing.T) {
	p := &payer{}
	var got []uint64
	for _, id := range []uint64{1337, 1338, 1337, 1337, 1338} {
		got = append(got, p.next(id))
	}
	if want := []uint64{0, 0, 1, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("nonces %v, want %v", got, want)
	}
}

// The fill queues what the figures say: with two chains, half on each
// (one in 1,000 through the check for its chain); with none, all on the
// one network's chain.
func TestFillQueuesPaymentsOnEachChainInTurn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chains []uint64
		n      int
		want   map[uint64]int // queued per chain
	}{
		{"one network", nil, 6, map[uint64]int{benchChainID: 6}},
		{"two networks", benchChains, 7, map[uint64]int{benchChainID: 4, benchChainID2: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			cfg, err := benchConfig(data, max(1, len(tc.chains)))
			if err != nil {
				t.Fatal(err)
			}
			tl, err := openTill(data, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tl.store.Close()
			payers := []*payer{{key: devchain.PayerKey(0)}, {key: devchain.PayerKey(1)}}
			if err := tl.fill(context.Background(), tc.n, 2, payers, nil, tc.chains); err != nil {
				t.Fatal(err)
			}
			byChain, err := tl.store.CountsByChain()
			if err != nil {
				t.Fatal(err)
			}
			got := map[uint64]int{}
			for id, c := range byChain {
				if c[store.PaymentQueued] > 0 {
					got[id] = c[store.PaymentQueued]
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("queued per chain %v, want %v", got, tc.want)
			}
		})
	}
}

// A payment signed for a request's second option is one the till takes
// on that chain (what the two-network accept rows post to posd), and one
// for a chain the request does not offer is not signed at all.
func TestSignForPaysTheSecondNetwork(t *testing.T) {
	data := t.TempDir()
	cfg, err := benchConfig(data, 2)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := openTill(data, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tl.store.Close()
	ctx := context.Background()
	doc, err := tl.till.NewRequest(ctx, "0.001", "ETH", "")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signFor(doc.Request(), devchain.PayerKey(0), 0, benchChainID2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.till.Pay(ctx, doc.ID, raw); err != nil {
		t.Fatalf("Pay on the second network: %v", err)
	}
	byChain, err := tl.store.CountsByChain()
	if err != nil {
		t.Fatal(err)
	}
	if byChain[benchChainID2][store.PaymentQueued] != 1 {
		t.Errorf("counts by chain %v, want one queued on %d", byChain, benchChainID2)
	}
	if _, err := signFor(doc.Request(), devchain.PayerKey(0), 1, 5); err == nil {
		t.Error("signed for chain 5, which the request does not offer")
	}
}

// The watch rows read posd's counters from the metrics text posd serves:
// the watchers', every network's added up, not another metric whose name
// they begin.
func TestCountersReadTheWatchersFromPosdsMetrics(t *testing.T) {
	tel := telemetry.New()
	tel.WatchRound("base", 3, 2, 1, 0)
	tel.WatchRound("arbitrum", 2, 1, 0, 0)
	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	got, err := counters(rec.Body, "showpos_watch_rpc_calls_total", "showpos_watch_blocks_total", "showpos_absent_total")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"showpos_watch_rpc_calls_total": 5, "showpos_watch_blocks_total": 3}
	if !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// The authorization check rate's payloads pass the check: otherwise the
// rate would be that of refusals.
func TestSignedAuthorizationsPassTheCheck(t *testing.T) {
	if _, err := signedAuthorizations(8, 3, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// The settlement row's fill: the authorizing terminal's till advertises
// the dev chain token's domain, takes an authorization signed for it and
// queues it for the relayer.
func TestAuthorizingTillQueuesADevChainAuthorization(t *testing.T) {
	data := t.TempDir()
	cfg, err := config.Parse([]byte(authConfigFor(data)))
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Assets[1]; !a.Authorizes() || a.DomainName != devchain.TokenName || a.DomainVersion != devchain.TokenVersion {
		t.Fatalf("TUSD in the authorizing config: %+v", a)
	}
	tl, err := openTill(data, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tl.store.Close()
	ctx := context.Background()
	doc, err := tl.till.NewRequest(ctx, "0.01", "TUSD", "")
	if err != nil {
		t.Fatal(err)
	}
	if doc.X402 == nil {
		t.Fatal("the TUSD request advertises no authorization")
	}
	payload, err := newAuthorization(devchain.PayerKey(0), doc.X402, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.till.PayAuthorization(ctx, doc.ID, payload); err != nil {
		t.Fatalf("PayAuthorization: %v", err)
	}
	if open, err := tl.store.Chain(benchChainID).OpenAuthorizations(0, 0); err != nil || len(open) != 1 {
		t.Fatalf("open authorizations %d, %v; want 1", len(open), err)
	}
}

// The settlement row's steady rate leaves out the time before the first
// confirmations (the first round only sends), and falls back to the whole
// run's rate when there is nothing to leave out.
func TestSteadySettleRateLeavesOutTheFirstRound(t *testing.T) {
	for _, c := range []struct {
		name string
		r    settleResult
		want float64
	}{
		{"from the first confirmations", settleResult{drainResult: drainResult{n: 640, took: 50 * time.Second}, first: 2 * time.Second, firstN: 16}, 624.0 / 48},
		{"none confirmed before the end", settleResult{drainResult: drainResult{n: 640, took: 50 * time.Second}}, 640.0 / 50},
		{"all confirmed at once", settleResult{drainResult: drainResult{n: 16, took: 2 * time.Second}, first: 2 * time.Second, firstN: 16}, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.r.steadyPerSecond(); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// The settlement row on the real dev chain at a small size: every
// authorization confirmed, the relayer's rounds counted (MaxInFlight a
// round, and one more that only reads the last receipts), the first
// confirmations seen before the end.
func TestSettleConfirmsEveryAuthorizationAndCountsTheRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the dev chain and the relayer's rounds, a second apart")
	}
	const rounds = 3
	n := rounds * relay.DefaultMaxInFlight
	ctx := context.Background()
	dir := t.TempDir()
	queued, err := fillForSettle(ctx, dir, n)
	if err != nil {
		t.Fatal(err)
	}
	r, err := measureSettle(ctx, dir, queued, n)
	if err != nil {
		t.Fatal(err)
	}
	if r.n != n {
		t.Errorf("settled %d, want %d", r.n, n)
	}
	if r.rounds < rounds+1 {
		t.Errorf("%d rounds counted, want at least %d (%d sending, one confirming the last)", r.rounds, rounds+1, rounds)
	}
	if r.firstN == 0 || r.firstN >= n || r.first <= 0 || r.first >= r.took {
		t.Errorf("first confirmations: %d at %s of %s, want some of %d before the end", r.firstN, r.first, r.took, n)
	}
}
