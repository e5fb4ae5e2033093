package devchain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"
)

// Options configure Start. The zero value is a usable default.
type Options struct {
	// ChainID is the chain id (EIP-155) and network id; 0 means 1337.
	ChainID uint64
	// Payers is the number of funded payer accounts, PayerKey(0) …
	// PayerKey(Payers-1); 0 means 50.
	Payers int
	// Balance is each payer's native balance in wei; nil means 1000 ether.
	Balance *big.Int
	// TokenBalance is each payer's Test USD balance in base units (6
	// decimals); nil means 1,000,000 TUSD. Zero funds nobody.
	TokenBalance *big.Int
	// Fund are more accounts given Balance in the native coin (no token)
	// at genesis: e.g. a terminal's relayer account, which pays the gas
	// of its settlements.
	Fund []common.Address
	// HTTPAddr is the JSON-RPC listen address; "" means "127.0.0.1:0" (a
	// free port). The host must be a loopback address or "localhost": the
	// payers' keys are public.
	HTTPAddr string
	// Logger receives this package's and the node's log lines; nil
	// discards them. geth's global logger is not touched.
	Logger *slog.Logger
}

// Defaults filled in by Start for zero Options fields.
const (
	DefaultChainID  = 1337
	DefaultPayers   = 50
	DefaultHTTPAddr = "127.0.0.1:0"
)

// Errors returned by Start, wrapped with detail.
var (
	ErrBadOptions  = errors.New("devchain: bad options")
	ErrNotLoopback = errors.New("devchain: HTTP address is not loopback")
)

// Chain is a running dev chain. Its methods are safe for concurrent use.
type Chain struct {
	stack    *node.Node
	miner    *miner
	endpoint string
	chainID  *big.Int
	payers   []Account
	fund     []common.Address
	balance  *big.Int // each payer's genesis wei
	tokenBal *big.Int // each payer's genesis TUSD base units
	log      *slog.Logger
	// feedsAt is when the feeds' round 1 was answered (Start's time).
	feedsAt  time.Time
	keeperMu sync.Mutex // one feed keeper transaction at a time

	closeOnce sync.Once
	closeErr  error
}

var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// withDefaults fills in zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.ChainID == 0 {
		o.ChainID = DefaultChainID
	}
	switch {
	case o.Payers < 0:
		return o, fmt.Errorf("%w: Payers %d is negative", ErrBadOptions, o.Payers)
	case o.Payers == 0:
		o.Payers = DefaultPayers
	}
	if o.Balance == nil {
		o.Balance = ether(1000)
	}
	if o.TokenBalance == nil {
		o.TokenBalance = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1_000_000))
	}
	if o.Balance.Sign() < 0 || o.Balance.Cmp(maxUint256) > 0 {
		return o, fmt.Errorf("%w: Balance %v is not a uint256", ErrBadOptions, o.Balance)
	}
	supply := new(big.Int).Mul(o.TokenBalance, big.NewInt(int64(o.Payers)))
	if o.TokenBalance.Sign() < 0 || supply.Cmp(maxUint256) > 0 {
		return o, fmt.Errorf("%w: TokenBalance %v × %d payers is not a uint256", ErrBadOptions, o.TokenBalance, o.Payers)
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = DefaultHTTPAddr
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o, nil
}

// loopbackHostPort splits a loopback listen address.
func loopbackHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%w: HTTPAddr %q: %v", ErrBadOptions, addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("%w: HTTPAddr %q: bad port", ErrBadOptions, addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", 0, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	return host, int(port), nil
}

// Start builds the genesis block, starts the node and returns once its
// HTTP endpoint is serving. ctx bounds only the start: once Start returns,
// the chain runs until Close.
func Start(ctx context.Context, o Options) (*Chain, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	host, port, err := loopbackHostPort(o.HTTPAddr)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if port != 0 {
		// geth opens the HTTP listener only after eth.New has started the
		// pool's and chain's goroutines, and a failed stack.Start does not
		// stop them; so find a busy port here, while nothing runs yet.
		l, err := net.Listen("tcp", o.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("devchain: HTTP address: %w", err)
		}
		l.Close()
	}
	begin := time.Now()
	c := &Chain{
		chainID:  new(big.Int).SetUint64(o.ChainID),
		payers:   payers(o.Payers),
		fund:     o.Fund,
		balance:  new(big.Int).Set(o.Balance),
		tokenBal: new(big.Int).Set(o.TokenBalance),
		log:      o.Logger,
		feedsAt:  time.Now(),
	}

	stack, err := node.New(&node.Config{
		Name:             "showpos-devchain",
		DataDir:          "", // in memory
		IPCPath:          "", // no IPC socket
		HTTPHost:         host,
		HTTPPort:         port,
		HTTPModules:      []string{"eth", "net", "web3", "txpool"},
		HTTPVirtualHosts: []string{"localhost"}, // IP hosts always pass
		HTTPTimeouts:     rpc.DefaultHTTPTimeouts,
		// geth's defaults (a zero limit would mean none): 1000 requests
		// and 25 MB of response per batch.
		BatchRequestLimit:    node.DefaultConfig.BatchRequestLimit,
		BatchResponseMaxSize: node.DefaultConfig.BatchResponseMaxSize,
		P2P:                  p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""},
		Logger:               log.NewLogger(o.Logger.Handler()),
	})
	if err != nil {
		return nil, fmt.Errorf("devchain: node: %w", err)
	}

	cfg := ethconfig.Defaults
	cfg.NetworkId = o.ChainID
	cfg.Genesis = c.genesis(o)
	cfg.SyncMode = ethconfig.FullSync
	cfg.TxPool.NoLocals = true         // no journal file
	cfg.Miner.GasPrice = big.NewInt(1) // as geth --dev: mine every tx the pool takes (tip ≥ 1 wei)
	cfg.Miner.GasCeil = cfg.Genesis.GasLimit
	backend, err := eth.New(stack, &cfg)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devchain: eth: %w", err)
	}
	filterAPI := filters.NewFilterAPI(filters.NewFilterSystem(backend.APIBackend, filters.Config{}))
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filterAPI}})

	// Period 0: the beacon seals only when asked. Our miner asks whenever
	// transactions arrive; the beacon's own API and loop are not used.
	beacon, err := catalyst.NewSimulatedBeacon(0, cfg.Miner.PendingFeeRecipient, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devchain: simulated beacon: %w", err)
	}
	c.stack = stack

	// Until the chain has a block past genesis, geth's transaction indexer
	// has never run, and eth_getTransactionReceipt answers "transaction
	// indexing is in progress" (an error, not null) for the first block's
	// transactions. So seal an empty block 1 and wait for the indexer
	// before anyone can connect.
	if err := sealFirstBlock(ctx, backend, beacon); err != nil {
		stack.Close()
		return nil, err
	}
	if err := stack.Start(); err != nil {
		return nil, fmt.Errorf("devchain: start: %w", err)
	}
	c.miner = startMiner(backend, beacon)
	c.endpoint = stack.HTTPEndpoint()
	if err := ctx.Err(); err != nil {
		c.Close()
		return nil, err
	}
	c.log.Info("dev chain started", "endpoint", c.endpoint, "chain_id", o.ChainID,
		"payers", o.Payers, "token", TokenAddr, "took", time.Since(begin).Round(time.Millisecond))
	return c, nil
}

// genesis returns the dev genesis: geth's dev-mode block (precompiles and
// system contracts pre-funded/deployed, all forks at 0) with our chain id,
// payers and token.
func (c *Chain) genesis(o Options) *core.Genesis {
	g := core.DeveloperGenesisBlock(ethconfig.Defaults.Miner.GasCeil, nil) // copies the config
	g.Config.ChainID = new(big.Int).Set(c.chainID)
	for _, p := range c.payers {
		g.Alloc[p.Address] = typesAccount(o.Balance)
	}
	for _, a := range o.Fund {
		g.Alloc[a] = typesAccount(o.Balance)
	}
	g.Alloc[TokenAddr] = tokenAccount(c.payers, o.TokenBalance)
	for _, f := range Feeds() {
		g.Alloc[f.Address] = feedAccount(f, c.feedsAt)
	}
	g.Alloc[crypto.PubkeyToAddress(FeedKeeperKey().PublicKey)] = typesAccount(o.Balance)
	return g
}

// FeedsStarted returns when the feeds' genesis round (round 1) was
// answered: its startedAt and updatedAt, in whole seconds.
func (c *Chain) FeedsStarted() time.Time { return time.Unix(c.feedsAt.Unix(), 0) }

// Funded returns Options.Fund: the accounts funded beside the payers.
func (c *Chain) Funded() []common.Address { return append([]common.Address(nil), c.fund...) }

// Endpoint returns the HTTP JSON-RPC URL, http://127.0.0.1:PORT.
func (c *Chain) Endpoint() string { return c.endpoint }

// ChainID returns the chain id (a copy).
func (c *Chain) ChainID() *big.Int { return new(big.Int).Set(c.chainID) }

// Payers returns the funded accounts, payer i at index i (a copy of the
// slice; the keys are shared).
func (c *Chain) Payers() []Account { return append([]Account(nil), c.payers...) }

// PayerBalances returns what each payer was given in genesis: wei and
// Test USD base units (copies).
func (c *Chain) PayerBalances() (wei, tokenUnits *big.Int) {
	return new(big.Int).Set(c.balance), new(big.Int).Set(c.tokenBal)
}

// Close stops the miner, the node and its HTTP server, and removes the
// node's ephemeral keystore directory. It is idempotent and returns the
// first call's result.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() {
		c.miner.stop() // before the chain it seals on
		c.closeErr = c.stack.Close()
		if c.closeErr != nil {
			c.closeErr = fmt.Errorf("devchain: close: %w", c.closeErr)
		}
		c.log.Info("dev chain stopped", "endpoint", c.endpoint)
	})
	return c.closeErr
}

// sealFirstBlock seals block 1 and waits until the transaction indexer
// reports done. geth's indexer learns of a new head from a chain head
// event it subscribes to in a goroutine of its own; a block sealed before
// that subscription is missed, and the indexer then waits for the next
// head (seen under CI load: a second chain in the process never became
// ready). So while it is not done, another empty block is sealed every
// second: the head moves past 1 only in that case.
func sealFirstBlock(ctx context.Context, backend *eth.Ethereum, beacon *catalyst.SimulatedBeacon) error {
	beacon.Commit()
	chain := backend.BlockChain()
	if n := chain.CurrentBlock().Number.Uint64(); n != 1 {
		return fmt.Errorf("devchain: sealing block 1 left the head at %d", n)
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	again := time.Now().Add(time.Second)
	for !chain.TxIndexDone() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-tick.C:
			if now.After(again) {
				beacon.Commit()
				again = now.Add(time.Second)
			}
		}
	}
	return nil
}
