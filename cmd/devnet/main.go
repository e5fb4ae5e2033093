// Command devnet runs a local Ethereum dev chain for trying showpos: a real
// go-ethereum node in memory that mines each transaction as it arrives,
// with funded payer accounts, the Test USD token and Chainlink-style price
// feeds (see tools/devchain).
//
//	devnet [-addr 127.0.0.1:8545] [-chain-id 1337] [-payers 50] [-relayer-key path] [-feed-every 10m]
//
// It prints the endpoint, chain id, token, price feeds and every payer's
// address and private key, then runs until SIGINT or SIGTERM, posting each
// feed's answer again every -feed-every as a live feed's heartbeat does. The keys are public
// fixtures: the chain is for this machine only, and its HTTP address must
// be a loopback one.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/relaykey"
	"showpos/tools/devchain"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8545", "JSON-RPC HTTP listen address (loopback only)")
	chainID := flag.Uint64("chain-id", devchain.DefaultChainID, "chain id")
	payers := flag.Int("payers", devchain.DefaultPayers, "number of funded payer accounts")
	verbose := flag.Bool("v", false, "log the node's own lines to stderr")
	feedEvery := flag.Duration("feed-every", 10*time.Minute, "post each price feed's latest answer again this often, as a live feed's heartbeat (keep it under the terminal's price_heartbeat); 0: never")
	relayerKey := flag.String("relayer-key", "", "a terminal's relayer key file (posd's data_dir/relayer.key): made if absent, as posd makes it, and its account funded like a payer's in ETH, so the terminal can settle authorizations")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	toggle := make(chan os.Signal, 1)
	signal.Notify(toggle, syscall.SIGUSR1)
	o := devchain.Options{ChainID: *chainID, Payers: *payers, Logger: log}
	if *relayerKey != "" {
		k, _, err := relaykey.LoadOrCreate(*relayerKey)
		if err != nil {
			fmt.Fprintln(os.Stderr, "devnet: -relayer-key:", err)
			os.Exit(1)
		}
		o.Fund = append(o.Fund, k.Address)
	}
	if err := run(ctx, os.Stdout, o, *addr, toggle, *feedEvery); err != nil {
		fmt.Fprintln(os.Stderr, "devnet:", err)
		os.Exit(1)
	}
}

// run starts the chain behind a link on addr, prints what a user needs to
// point a wallet or posd at it, cuts or restores the link on each value
// from toggle (SIGUSR1), posts a heartbeat round to every price feed each
// feedEvery (0: never), and stops when ctx ends.
func run(ctx context.Context, out io.Writer, o devchain.Options, addr string, toggle <-chan os.Signal, feedEvery time.Duration) error {
	if o.Payers < 1 {
		return fmt.Errorf("-payers must be at least 1, got %d", o.Payers)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return fmt.Errorf("-addr %q: %w", addr, devchain.ErrNotLoopback)
	}
	c, err := devchain.Start(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	l, err := newLink(addr, strings.TrimPrefix(c.Endpoint(), "http://"))
	if err != nil {
		return err
	}
	defer l.close()
	if err := printChain(out, c, "http://"+l.addr); err != nil {
		return err
	}
	if feedEvery > 0 {
		// The feeds' keeper talks to the node itself, not through the link:
		// while a demo's link is cut, the world's prices still move on.
		var wg sync.WaitGroup
		feedCtx, stopFeeds := context.WithCancel(ctx)
		defer func() { stopFeeds(); wg.Wait() }()
		wg.Go(func() { heartbeatFeeds(feedCtx, out, c, feedEvery) })
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "stopping")
			l.close()
			return c.Close()
		case <-toggle:
			if l.up() {
				l.cut()
				fmt.Fprintln(out, "link cut: the chain is unreachable (it keeps its state); SIGUSR1 again restores it")
				continue
			}
			if err := l.restore(); err != nil {
				fmt.Fprintln(out, "restore:", err)
				continue
			}
			fmt.Fprintln(out, "link restored")
		}
	}
}

// heartbeatFeeds posts every feed's latest answer again each every, until
// ctx ends.
func heartbeatFeeds(ctx context.Context, out io.Writer, c *devchain.Chain, every time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		for _, f := range devchain.Feeds() {
			if err := c.HeartbeatFeed(ctx, f.Address); err != nil && ctx.Err() == nil {
				fmt.Fprintf(out, "price feed %s: %v\n", f.Description, err)
			}
		}
	}
}

func printChain(out io.Writer, c *devchain.Chain, endpoint string) error {
	wei, units := c.PayerBalances()
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "showpos dev chain (every key below is public: loopback use only)\n\n")
	fmt.Fprintf(w, "endpoint\t%s\n", endpoint)
	fmt.Fprintf(w, "chain id\t%s\n", c.ChainID())
	fmt.Fprintf(w, "token\t%s  (%s, %s, %d decimals)\n", devchain.TokenAddr.Hex(), devchain.TokenName, devchain.TokenSymbol, devchain.TokenDecimals)
	for _, f := range devchain.Feeds() {
		fmt.Fprintf(w, "feed\t%s  (%s price feed, Chainlink AggregatorV3, %d decimals, %s)\n", f.Address.Hex(), f.Description, f.Decimals, decimal(big.NewInt(f.Answer), int(f.Decimals)))
	}
	fmt.Fprintf(w, "payers\t%d, each with %s ETH and %s %s\n\n", len(c.Payers()), decimal(wei, 18), decimal(units, devchain.TokenDecimals), devchain.TokenSymbol)
	for _, a := range c.Funded() {
		fmt.Fprintf(w, "funded\t%s  (%s ETH: a terminal's relayer)\n", a.Hex(), decimal(wei, 18))
	}
	fmt.Fprintf(w, "#\taddress\tprivate key\n")
	for i, p := range c.Payers() {
		fmt.Fprintf(w, "%d\t%s\t%s\n", i, p.Address.Hex(), hexutil.Encode(crypto.FromECDSA(p.Key)))
	}
	fmt.Fprintf(w, "\nrunning; Ctrl-C stops; kill -USR1 %d cuts or restores the link (the chain keeps its state)\n", os.Getpid())
	return w.Flush()
}

// decimal formats v·10^-places without trailing zeros.
func decimal(v *big.Int, places int) string {
	s := new(big.Rat).SetFrac(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)).FloatString(places)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
