package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/sync/preflight"
	"showpos/sync/relay"
	"showpos/sync/tokendomain"
	"showpos/sync/watch"
	"showpos/terminal/cashier"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/fleet"
	"showpos/terminal/store"
	"showpos/terminal/telemetry"
)

// chainNetwork is one [[networks]] entry running: its chain client (with its
// endpoints' failover), broadcaster, watcher and relayer, under their own
// context, so a network fails, starts and stops on its own: one network
// offline leaves the others settling, and a fleet bundle can add or
// remove one while the terminal takes payments on the rest.
type chainNetwork struct {
	// cfg is the network as started, never written after: a change of
	// anything but its endpoints and assets restarts the network
	// (restartNeeded), and those two live in the chain client and in
	// assets.
	cfg     config.Network
	assets  atomic.Pointer[[]config.Asset] // the network's assets as last applied
	node    *chain.Client
	bc      *broadcast.Broadcaster
	watch   *watch.Watcher // nil: watch.enabled = false
	relay   *relay.Relayer // nil: relay.enabled = false
	relayOn *relayGate     // runs relay's loop while the network names endpoints; nil when relay is
	pre     *preflight.Preflight
	log     *slog.Logger

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// networks are the running networks, in the config's order (the default
// first). Each apply reconciles them with the config.
type networks struct {
	d *daemon

	mu      sync.Mutex
	list    []*chainNetwork
	started bool // the first reconcile has run
}

// all returns the running networks, default first.
func (ns *networks) all() []*chainNetwork {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return slices.Clone(ns.list)
}

// byChain returns the running network of the chain id.
func (ns *networks) byChain(id uint64) (*chainNetwork, bool) {
	for _, n := range ns.all() {
		if n.cfg.ChainID == id {
			return n, true
		}
	}
	return nil, false
}

// isStarted reports whether the first reconcile has run.
func (ns *networks) isStarted() bool {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.started
}

// start builds the network's parts and runs them under ctx (the daemon's
// background context); stop ends them.
func (d *daemon) startNetwork(ctx context.Context, cfg *config.Config, nc config.Network, tel *telemetry.Telemetry) (*chainNetwork, error) {
	n := &chainNetwork{cfg: nc, log: d.log.With("network", nc.Name)}
	n.assets.Store(&nc.Assets)
	var err error
	n.node, err = chain.New(chain.Options{
		Endpoints:   nc.Chain.RPC,
		ChainID:     nc.ChainID,
		CallTimeout: nc.Chain.CallTimeout,
		ProbeEvery:  nc.Chain.ProbeEvery,
		Logger:      n.log.With("part", "chain"),
	})
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", nc.Name, err)
	}
	if len(nc.Chain.RPC) == 0 {
		n.log.Warn("no rpc endpoints: payments on this network are taken and stored, and broadcast once a config names endpoints")
	}
	n.pre = preflight.New(n.node)
	// Its reads see what is committed: kickOnCommit wakes it for the
	// payments the journal held.
	cs := d.store.Chain(nc.ChainID).Committed()
	n.bc = broadcast.New(broadcast.Options{
		Store:         cs,
		Chain:         n.node,
		ChainID:       nc.ChainID,
		Logger:        n.log.With("part", "broadcast"),
		Confirmations: nc.Chain.Confirmations,
		FinalDepth:    nc.Chain.FinalDepth,
		MaxAge:        cfg.Broadcast.MaxAge,
		FundsWindow:   cfg.Broadcast.FundsWindow,
		BatchSize:     cfg.Broadcast.BatchSize,
		Poll:          cfg.Broadcast.Poll,
		OnRound:       func(r broadcast.Report) { countRound(tel, nc.Name, r) },
	})
	if nc.Relay.Enabled && d.relayKey != nil {
		if n.relay, err = d.newRelayer(nc, n.node, tel); err != nil {
			n.node.Close()
			return nil, err
		}
		n.relayOn = newRelayGate(n.relay, nc.Chain.RPC, n.log.With("part", "relay"))
	}
	if cfg.Watch.Enabled {
		if n.watch, err = d.newWatcher(cfg, nc, n.node, tel); err != nil {
			n.node.Close()
			return nil, err
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	n.stop = stop
	n.wg.Go(func() { n.node.Run(runCtx) })
	n.wg.Go(func() { n.bc.Run(runCtx) })
	if n.watch != nil {
		n.wg.Go(func() { n.watch.Run(runCtx) })
	}
	if n.relayOn != nil {
		n.wg.Go(func() { n.relayOn.run(runCtx) })
	}
	// The cashier hears of each payment this network's broadcaster
	// settles (final, failed).
	events, unsubscribe := n.bc.Subscribe()
	n.wg.Go(func() {
		defer unsubscribe()
		for {
			select {
			case <-runCtx.Done():
				return
			case e := <-events:
				if d.cash != nil {
					d.cash.Settled(e.Payment)
				}
			}
		}
	})
	n.log.Info("network started", "chain", nc.ChainID, "rpc_endpoints", len(nc.Chain.RPC),
		"confirmations", nc.Chain.Confirmations, "final_depth", nc.Chain.FinalDepth, "relay", n.relay != nil, "watch", n.watch != nil)
	return n, nil
}

// close stops the network's parts and waits for them.
func (n *chainNetwork) close() {
	n.stop()
	n.wg.Wait()
	n.node.Close()
	n.log.Info("network stopped")
}

// restartNeeded reports whether a network's new config differs from the
// one it runs in a way only new parts take: anything but its endpoints
// and its assets (the chain client takes new endpoints, the watcher new
// assets, the till new limits).
func restartNeeded(old, nw config.Network) bool {
	a, b := old, nw
	a.Chain.RPC, b.Chain.RPC = nil, nil
	a.Assets, b.Assets = nil, nil
	return !reflect.DeepEqual(a, b)
}

// reconcile makes the running networks those of cfg: new ones start,
// removed ones stop (the fleet manager has asked retire first), changed
// ones take new endpoints and assets, or restart when more changed. It
// runs under the fleet manager's lock, from apply. A network that does
// not start (only an invalid option could do it: the config's check
// refuses those) is left out, logged, and returned in the error: run
// does not start without it.
func (ns *networks) reconcile(ctx context.Context, cfg *config.Config, tel *telemetry.Telemetry) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var failed []error
	var next []*chainNetwork
	closed := map[*chainNetwork]bool{}
	for _, nc := range cfg.Networks {
		i := slices.IndexFunc(ns.list, func(n *chainNetwork) bool { return n.cfg.ChainID == nc.ChainID })
		if i >= 0 && !restartNeeded(ns.list[i].cfg, nc) {
			n := ns.list[i]
			if err := n.node.SetEndpoints(nc.Chain.RPC); err != nil {
				// The config's check accepts only http(s) URLs, which always dial.
				n.log.Error("endpoints not changed", "err", err)
			}
			if n.watch != nil {
				if err := n.watch.Reconfigure(cfg.Merchant, networkAssets(nc)); err != nil {
					// The config's check refuses a zero merchant and duplicate assets.
					n.log.Error("chain watcher not reconfigured", "err", err)
				}
			}
			if n.relayOn != nil {
				n.relayOn.configured(nc.Chain.RPC)
			}
			n.assets.Store(&nc.Assets)
			n.bc.Kick()
			next = append(next, n)
			continue
		}
		if i >= 0 {
			ns.list[i].log.Info("network changed: restarting its parts")
			ns.list[i].close()
			closed[ns.list[i]] = true
		}
		n, err := ns.d.startNetwork(ctx, cfg, nc, tel)
		if err != nil {
			// What the config's check lets through always starts; a relayer
			// key that cannot be read is the one way this fails.
			ns.d.log.Error("network not started", "network", nc.Name, "err", err)
			failed = append(failed, err)
			continue
		}
		next = append(next, n)
	}
	for _, n := range ns.list {
		if !closed[n] && !slices.Contains(next, n) {
			n.close()
		}
	}
	ns.list = next
	ns.started = true
	// The running networks' chains take payments (again: a removal
	// refused after RetireChains, or a network added back); one that did
	// not start takes none.
	ids := make([]uint64, len(next))
	for i, n := range next {
		ids[i] = n.cfg.ChainID
	}
	ns.d.store.ActivateChains(ids)
	return errors.Join(failed...)
}

// retire says whether the networks may be removed from the config: not
// while one has payments to settle (queued, broadcast, seen or confirmed
// and not yet final: its broadcaster, watcher or relayer must follow them
// to the end), nor while a request offered on it may still be paid there. The store decides in one write (RetireChains), so a
// payment the till judged under the old config either committed before
// (and the removal is refused) or is refused after (wrong_chain): none is
// left on a chain no network runs. reconcile activates the config's
// chains again, a refused or failed change included.
func (d *daemon) retire(gone []config.Network) error {
	ids := make([]uint64, len(gone))
	for i, n := range gone {
		ids[i] = n.ChainID
	}
	err := d.store.RetireChains(context.Background(), ids)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, store.ErrChainOpen):
		return fmt.Errorf("networks: %w", err) // the store failed: no refusal
	}
	for _, n := range gone {
		if strings.Contains(err.Error(), fmt.Sprintf("chain %d:", n.ChainID)) {
			return fmt.Errorf("%w: network %s: %v; remove it once its payments are final or failed and the requests offered on it paid, cancelled or expired", fleet.ErrNetworkOpen, n.Name, err)
		}
	}
	return fmt.Errorf("%w: %v", fleet.ErrNetworkOpen, err)
}

// stranded refuses a start whose config names no network for a chain the
// store still has payments to settle on (a network removed from the file
// with payments open: a reload or a bundle would have been refused
// network_open): nothing would ever broadcast or follow them.
func stranded(st *store.Store, cfg *config.Config) error {
	byChain, err := st.CountsByChain()
	if err != nil {
		return fmt.Errorf("networks: %w", err)
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(byChain)) {
		c := byChain[id]
		if slices.ContainsFunc(cfg.Networks, func(n config.Network) bool { return n.ChainID == id }) {
			continue
		}
		if open := c[store.PaymentQueued] + c[store.PaymentBroadcast] + c[store.PaymentSeen] + c[store.PaymentConfirmed]; open > 0 {
			errs = append(errs, fmt.Errorf("the store has %d %s to settle on chain %d, which no network of the config names: "+
				"add that network back (with its rpc) until they are final or failed", open, plural(open, "payment", "payments"), id))
		}
	}
	return errors.Join(errs...)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// preflight is the online pre-flight of the network on chain id, nil for
// a chain no network runs (checkout.Options.Preflights).
func (ns *networks) preflight(id uint64) checkout.Preflight {
	if n, ok := ns.byChain(id); ok {
		return n.pre
	}
	return nil
}

// caller is the chain client of the network on chain id, nil for a chain
// no network runs (tokendomain.Options.Caller).
func (ns *networks) caller(id uint64) tokendomain.Caller {
	if n, ok := ns.byChain(id); ok {
		return n.node
	}
	return nil
}

// closeAll stops every network (at shutdown, after the daemon's
// background context has ended).
func (ns *networks) closeAll() {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, n := range ns.list {
		n.close()
	}
	ns.list = nil
}

// kick asks every network's broadcaster and relayer for a round now: a
// payment is on one network, and a round with nothing to do reads one
// index.
func (ns *networks) kick() {
	for _, n := range ns.all() {
		n.bc.Kick()
		if n.relay != nil {
			n.relay.Kick()
		}
	}
}

// kickOnCommit kicks the networks after each commit that takes accepted
// payments from the store's journal, until ctx ends. The broadcaster and
// the relayer read the committed store (ChainStore.Committed): kicked at
// the answer, they would not see the payment yet, and a read that asked
// for the commit would make one commit for each payment.
func kickOnCommit(ctx context.Context, st *store.Store, ns *networks) {
	next := st.JournalCommitted()
	for {
		select {
		case <-ctx.Done():
			return
		case <-next:
			next = st.JournalCommitted() // before the kick: a commit meanwhile is seen
			ns.kick()
		}
	}
}

// allOnline reports whether every network's chain client is online: the
// cashier's single "online" (its Networks say which one is not). With no
// network running it is offline.
func (ns *networks) allOnline() bool {
	all := ns.all()
	if len(all) == 0 {
		return false
	}
	for _, n := range all {
		if !n.node.Status().Online {
			return false
		}
	}
	return true
}

// states are the networks' health as the cashier shows it: the idle
// screen names the offline ones.
func (ns *networks) states() []cashier.NetworkState {
	var out []cashier.NetworkState
	for _, n := range ns.all() {
		out = append(out, cashier.NetworkState{Name: n.cfg.Name, Online: n.node.Status().Online})
	}
	return out
}

// Queue is the outbox as an operator sees it: every network's queue,
// summed, with each network's own in Networks (httpapi.Queue).
func (ns *networks) Queue() (broadcast.Queue, error) {
	var qs []broadcast.Queue
	for _, n := range ns.all() {
		q, err := n.bc.Queue()
		if err != nil {
			return broadcast.Queue{}, fmt.Errorf("network %s: %w", n.cfg.Name, err)
		}
		q.Network, q.ChainID = n.cfg.Name, n.cfg.ChainID
		qs = append(qs, q)
	}
	return broadcast.Merge(qs), nil
}

// Sync asks every network for a round now, at once, and returns the queue
// when all are done (httpapi.Queue; the cashier's sync key).
func (ns *networks) Sync(ctx context.Context) (broadcast.Queue, error) {
	all := ns.all()
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, n := range all {
		wg.Go(func() {
			if _, err := n.bc.Sync(ctx); err != nil {
				errs[i] = fmt.Errorf("network %s: %w", n.cfg.Name, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return broadcast.Queue{}, err
	}
	return ns.Queue()
}

// networkHealth is every network's gauges.
func (d *daemon) networkHealth() []telemetry.Network {
	var out []telemetry.Network
	for _, n := range d.nets.all() {
		h := telemetry.Network{Name: n.cfg.Name, Online: n.node.Status().Online}
		if c, err := d.store.Chain(n.cfg.ChainID).Counts(); err == nil {
			h.Queue = make(map[string]int, len(c))
			for s, k := range c {
				h.Queue[string(s)] = k
			}
		}
		if r := n.bc.Last(); !r.OldestQueued.IsZero() {
			h.OldestQueuedAge = time.Since(r.OldestQueued)
		}
		if n.relay != nil {
			r := relayerHealth(n.relay)
			h.Relayer = &r
		}
		out = append(out, h)
	}
	return out
}
