// Command devnet runs a local Ethereum dev chain for trying showpos: a real
// go-ethereum node in memory that mines each transaction as it arrives,
// with funded payer accounts, the Test USD token and Chainlink-style price
// feeds (see tools/devchain).
//
//	devnet [-addr 127.0.0.1:8545] [-chain-id 1337] [-chains 1] [-chain-ids 1337,1338] [-payers 50] [-relayer-key path] [-feed-every 10m]
//
// It prints the endpoint, chain id, token, price feeds and every payer's
// address and private key, then runs until SIGINT or SIGTERM, posting each
// feed's answer again every -feed-every as a live feed's heartbeat does. The keys are public
// fixtures: the chain is for this machine only, and its HTTP address must
// be a loopback one. SIGUSR1 cuts the chain's link, and restores it.
//
// -chains 2 runs two chains in the one process (a terminal on two
// networks, issue 18): chain ids -chain-id and the next (or -chain-ids),
// the second on -addr's next port, each with the same payers, token,
// feeds and funded relayer, each printed with its id and endpoint. SIGUSR1
// cuts the first's link and SIGUSR2 the second's, so one network can be
// offline while the other stays up.
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
	"slices"
	"strconv"
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
	addr := flag.String("addr", "127.0.0.1:8545", "JSON-RPC HTTP listen address of the first chain (loopback only); a second chain listens on the next port")
	chainID := flag.Uint64("chain-id", devchain.DefaultChainID, "chain id of the first chain; a second chain takes the next id")
	chains := flag.Int("chains", 1, "number of chains to run, 1 or 2 (issue 18: a terminal on two networks); SIGUSR1 cuts the first's link, SIGUSR2 the second's")
	chainIDs := flag.String("chain-ids", "", "comma-separated chain ids, one per chain (e.g. 1337,1338), instead of -chain-id and the ids after it; sets -chains when that is not given")
	payers := flag.Int("payers", devchain.DefaultPayers, "number of funded payer accounts (the same on every chain)")
	verbose := flag.Bool("v", false, "log the node's own lines to stderr")
	feedEvery := flag.Duration("feed-every", 10*time.Minute, "post each price feed's latest answer again this often, as a live feed's heartbeat (keep it under the terminal's price_heartbeat); 0: never")
	relayerKey := flag.String("relayer-key", "", "a terminal's relayer key file (posd's data_dir/relayer.key): made if absent, as posd makes it, and its account funded like a payer's in ETH on every chain, so the terminal can settle authorizations")
	flag.Parse()

	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["chain-id"] && set["chain-ids"] {
		fmt.Fprintln(os.Stderr, "devnet: -chain-id and -chain-ids: give one")
		os.Exit(2)
	}
	n := *chains
	if *chainIDs != "" && !set["chains"] {
		n = len(strings.Split(*chainIDs, ","))
	}
	nets, err := networks(n, *chainID, *chainIDs, *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devnet:", err)
		os.Exit(2)
	}

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	toggle := make(chan os.Signal, 1)
	// Only the signals of chains that run: with one chain SIGUSR2 keeps its
	// default action, as before.
	signal.Notify(toggle, cutSignals[:len(nets)]...)
	o := devchain.Options{Payers: *payers, Logger: log}
	if *relayerKey != "" {
		k, _, err := relaykey.LoadOrCreate(*relayerKey)
		if err != nil {
			fmt.Fprintln(os.Stderr, "devnet: -relayer-key:", err)
			os.Exit(1)
		}
		o.Fund = append(o.Fund, k.Address)
	}
	if err := run(ctx, os.Stdout, o, nets, toggle, *feedEvery); err != nil {
		fmt.Fprintln(os.Stderr, "devnet:", err)
		os.Exit(1)
	}
}

// network is one chain devnet runs: its chain id and the address its link
// listens on.
type network struct {
	chainID uint64
	addr    string
}

// cutSignals cuts or restores network i's link on cutSignals[i]: there are
// two user signals, so devnet runs at most two chains.
var cutSignals = []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2}

var cutSignalNames = []string{"USR1", "USR2"}

// networks returns the n chains the flags ask for: ids from ids (comma
// separated, n of them, distinct) or else first, first+1, …; chain i
// listens on addr's port + i (each on a free port when it is 0).
func networks(n int, first uint64, ids, addr string) ([]network, error) {
	if n < 1 || n > len(cutSignals) {
		return nil, fmt.Errorf("-chains %d: 1 or %d (one cut signal each: SIGUSR1, SIGUSR2)", n, len(cutSignals))
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-addr %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("-addr %q: bad port", addr)
	}
	chainIDs := make([]uint64, n)
	for i := range chainIDs {
		chainIDs[i] = first + uint64(i)
	}
	if ids != "" {
		parts := strings.Split(ids, ",")
		if len(parts) != n {
			return nil, fmt.Errorf("-chain-ids %q: %d ids for %d chains", ids, len(parts), n)
		}
		for i, p := range parts {
			id, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
			if err != nil || id == 0 {
				return nil, fmt.Errorf("-chain-ids %q: %q is not a chain id", ids, p)
			}
			chainIDs[i] = id
		}
	}
	nets := make([]network, n)
	for i, id := range chainIDs {
		if slices.Contains(chainIDs[:i], id) {
			return nil, fmt.Errorf("chain id %d twice: each chain needs its own", id)
		}
		p := port
		if p != 0 {
			p += uint64(i)
		}
		if p > 65535 {
			return nil, fmt.Errorf("-addr %q: chain %d would listen on port %d", addr, i+1, p)
		}
		nets[i] = network{chainID: id, addr: net.JoinHostPort(host, strconv.FormatUint(p, 10))}
	}
	return nets, nil
}

// node is a running chain with its link.
type node struct {
	net   network
	chain *devchain.Chain
	link  *link
	// signal names the signal that cuts and restores the link: USR1, USR2.
	signal string
}

// run starts each network's chain behind a link on its address, prints
// what a user needs to point a wallet or posd at them, cuts or restores
// network i's link on each cutSignals[i] from toggle, posts a heartbeat
// round to every price feed of every chain each feedEvery (0: never), and
// stops when ctx ends. o is every chain's options but the chain id.
func run(ctx context.Context, out io.Writer, o devchain.Options, nets []network, toggle <-chan os.Signal, feedEvery time.Duration) error {
	if o.Payers < 1 {
		return fmt.Errorf("-payers must be at least 1, got %d", o.Payers)
	}
	if len(nets) < 1 || len(nets) > len(cutSignals) {
		return fmt.Errorf("%d chains: 1 or %d", len(nets), len(cutSignals))
	}
	for _, n := range nets {
		host, _, err := net.SplitHostPort(n.addr)
		if err != nil {
			return fmt.Errorf("-addr %q: %w", n.addr, err)
		}
		if host != "127.0.0.1" && host != "localhost" && host != "::1" {
			return fmt.Errorf("-addr %q: %w", n.addr, devchain.ErrNotLoopback)
		}
	}
	var nodes []*node
	for i, n := range nets {
		co := o
		co.ChainID = n.chainID
		if len(nets) > 1 && o.Logger != nil {
			co.Logger = o.Logger.With("chain_id", n.chainID) // two nodes' lines told apart
		}
		c, err := devchain.Start(ctx, co)
		if err != nil {
			return fmt.Errorf("chain %d: %w", n.chainID, err)
		}
		defer c.Close()
		l, err := newLink(n.addr, strings.TrimPrefix(c.Endpoint(), "http://"))
		if err != nil {
			return fmt.Errorf("chain %d: %w", n.chainID, err)
		}
		defer l.close()
		nodes = append(nodes, &node{net: n, chain: c, link: l, signal: cutSignalNames[i]})
	}
	if err := printChains(out, nodes); err != nil {
		return err
	}
	if feedEvery > 0 {
		// The feeds' keeper talks to the node itself, not through the link:
		// while a demo's link is cut, the world's prices still move on.
		var wg sync.WaitGroup
		feedCtx, stopFeeds := context.WithCancel(ctx)
		defer func() { stopFeeds(); wg.Wait() }()
		for _, n := range nodes {
			prefix := ""
			if len(nodes) > 1 {
				prefix = fmt.Sprintf("chain %d: ", n.net.chainID)
			}
			wg.Go(func() { heartbeatFeeds(feedCtx, out, prefix, n.chain, feedEvery) })
		}
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "stopping")
			var first error
			for _, n := range nodes {
				n.link.close()
				if err := n.chain.Close(); err != nil && first == nil {
					first = err
				}
			}
			return first
		case sig := <-toggle:
			i := slices.Index(cutSignals, sig)
			if i < 0 || i >= len(nodes) {
				continue
			}
			toggleLink(out, nodes[i], len(nodes) > 1)
		}
	}
}

// toggleLink cuts n's link when up, restores it when cut, and says so;
// named says which chain (when devnet runs more than one).
func toggleLink(out io.Writer, n *node, named bool) {
	prefix := ""
	if named {
		prefix = fmt.Sprintf("chain %d: ", n.net.chainID)
	}
	if n.link.up() {
		n.link.cut()
		fmt.Fprintf(out, "%slink cut: the chain is unreachable (it keeps its state); SIG%s again restores it\n", prefix, n.signal)
		return
	}
	if err := n.link.restore(); err != nil {
		fmt.Fprintf(out, "%srestore: %v\n", prefix, err)
		return
	}
	fmt.Fprintf(out, "%slink restored\n", prefix)
}

// heartbeatFeeds posts every feed's latest answer again each every, until
// ctx ends; its error lines start with prefix.
func heartbeatFeeds(ctx context.Context, out io.Writer, prefix string, c *devchain.Chain, every time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		for _, f := range devchain.Feeds() {
			if err := c.HeartbeatFeed(ctx, f.Address); err != nil && ctx.Err() == nil {
				fmt.Fprintf(out, "%sprice feed %s: %v\n", prefix, f.Description, err)
			}
		}
	}
}

// printChains prints every chain: endpoint, id, token, feeds and funded
// accounts each, then the payers (the same keys on every chain) and how to
// stop and cut. One chain prints as devnet always has.
func printChains(out io.Writer, nodes []*node) error {
	wei, units := nodes[0].chain.PayerBalances()
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "showpos dev chain (every key below is public: loopback use only)\n\n")
	for i, n := range nodes {
		c := n.chain
		if len(nodes) > 1 {
			// No tab: the line ends the table above, each chain's is its own.
			fmt.Fprintf(w, "network %d: chain %s (kill -%s %d cuts or restores its link)\n", i+1, c.ChainID(), n.signal, os.Getpid())
		}
		fmt.Fprintf(w, "endpoint\thttp://%s\n", n.link.addr)
		fmt.Fprintf(w, "chain id\t%s\n", c.ChainID())
		fmt.Fprintf(w, "token\t%s  (%s, %s, %d decimals)\n", devchain.TokenAddr.Hex(), devchain.TokenName, devchain.TokenSymbol, devchain.TokenDecimals)
		for _, f := range devchain.Feeds() {
			fmt.Fprintf(w, "feed\t%s  (%s price feed, Chainlink AggregatorV3, %d decimals, %s)\n", f.Address.Hex(), f.Description, f.Decimals, decimal(big.NewInt(f.Answer), int(f.Decimals)))
		}
		if len(nodes) > 1 {
			printFunded(w, c, wei)
			fmt.Fprintln(w)
		}
	}
	every := ""
	if len(nodes) > 1 {
		every = " on every chain"
	}
	fmt.Fprintf(w, "payers\t%d, each with %s ETH and %s %s%s\n\n", len(nodes[0].chain.Payers()), decimal(wei, 18), decimal(units, devchain.TokenDecimals), devchain.TokenSymbol, every)
	if len(nodes) == 1 {
		printFunded(w, nodes[0].chain, wei)
	}
	fmt.Fprintf(w, "#\taddress\tprivate key\n")
	for i, p := range nodes[0].chain.Payers() {
		fmt.Fprintf(w, "%d\t%s\t%s\n", i, p.Address.Hex(), hexutil.Encode(crypto.FromECDSA(p.Key)))
	}
	if len(nodes) == 1 {
		fmt.Fprintf(w, "\nrunning; Ctrl-C stops; kill -USR1 %d cuts or restores the link (the chain keeps its state)\n", os.Getpid())
	} else {
		fmt.Fprintf(w, "\nrunning; Ctrl-C stops; kill -USR1 %d cuts or restores chain %s's link, kill -USR2 %d chain %s's (each chain keeps its state; the other stays up)\n",
			os.Getpid(), nodes[0].chain.ChainID(), os.Getpid(), nodes[1].chain.ChainID())
	}
	return w.Flush()
}

// printFunded prints the accounts c funded beside the payers.
func printFunded(w io.Writer, c *devchain.Chain, wei *big.Int) {
	for _, a := range c.Funded() {
		fmt.Fprintf(w, "funded\t%s  (%s ETH: a terminal's relayer)\n", a.Hex(), decimal(wei, 18))
	}
}

// decimal formats v·10^-places without trailing zeros.
func decimal(v *big.Int, places int) string {
	s := new(big.Rat).SetFrac(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)).FloatString(places)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
