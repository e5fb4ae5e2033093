package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/terminal/store"
	"showpos/tools/devchain"
)

// drainResult is one drain: how many, how long, and when each chain's
// share was done (no payment of it queued or broadcast), from the start.
type drainResult struct {
	n    int
	took time.Duration
	done map[uint64]time.Duration
}

func (r drainResult) perSecond() float64 { return float64(r.n) / r.took.Seconds() }

// drainPayers is how many dev chain accounts pay, each its payments in
// nonce order; fill's writers share the payments out as they take them,
// so the accounts' shares are about, not exactly, n/drainPayers.
const drainPayers = 100

// fillForDrain queues n payments from the dev chain's first drainPayers
// accounts in a store under dir, with the till's fill (requests made by
// the till, payments stored by the store's Accept, no chain) and returns
// the store's path. Every fresh dev chain has the same accounts and balances,
// so copies of this store drain into any number of them. With chains, the
// terminal has that many networks and payment i is on chainOf(chains, i):
// half on each of two (none: one network, the dev chain's 1337).
func fillForDrain(ctx context.Context, dir string, n int, chains []uint64) (string, error) {
	data := filepath.Join(dir, fmt.Sprintf("drain-queued-%d", max(1, len(chains))))
	cfg, err := benchConfig(data, max(1, len(chains)))
	if err != nil {
		return "", err
	}
	t, err := openTill(data, cfg, nil)
	if err != nil {
		return "", err
	}
	payers := make([]*payer, drainPayers)
	for i := range payers {
		payers[i] = &payer{key: devchain.PayerKey(i)}
	}
	// Fees well above the dev chain's base fee, which n transactions push up.
	err = t.fill(ctx, n, drainPayers, payers, big.NewInt(50e9), chains)
	if cerr := t.store.Close(); err == nil {
		err = cerr
	}
	return t.store.Path(), err
}

// measureDrain drains a copy of the store at queued into a fresh dev chain
// and times it until every payment is confirmed: the chain client and the
// broadcaster (batches of 100, a pass at most every 20 ms, retry backoff
// 50–400 ms), started on the full store. It is posbench's own rig, set up
// like sync/broadcast's BenchmarkDrain but not that code. With chains, a
// fresh dev chain runs for each chain id, and a chain client and a
// broadcaster on the store's view of that chain (store.Store.Chain), as
// posd runs one per network; none: one dev chain, 1337.
func measureDrain(ctx context.Context, dir, queued string, n int, oneAtATime bool, chains []uint64) (drainResult, error) {
	data := filepath.Join(dir, fmt.Sprintf("drain-%t-%d", oneAtATime, len(chains)))
	defer os.RemoveAll(data)
	st, err := openCopy(queued, data)
	if err != nil {
		return drainResult{}, err
	}
	defer st.Close()
	if len(chains) == 0 {
		chains = []uint64{benchChainID}
	}
	var runners []func(context.Context)
	for _, id := range chains {
		node, err := devchain.Start(ctx, devchain.Options{ChainID: id, Payers: drainPayers})
		if err != nil {
			return drainResult{}, err
		}
		defer node.Close()
		client, err := chain.New(chain.Options{Endpoints: []string{node.Endpoint()}, ChainID: node.ChainID().Uint64(),
			CallTimeout: 2 * time.Second, ProbeEvery: 200 * time.Millisecond})
		if err != nil {
			return drainResult{}, err
		}
		defer client.Close()
		bc := broadcast.New(broadcast.Options{Store: st.Chain(client.ChainID()), Chain: client, OneAtATime: oneAtATime, BatchSize: 100,
			Poll: 20 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond})
		runners = append(runners, client.Run, func(ctx context.Context) { _ = bc.Run(ctx) })
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	start := time.Now()
	for _, run := range runners {
		wg.Go(func() { run(runCtx) })
	}
	deadline := start.Add(15 * time.Minute)
	done := map[uint64]time.Duration{}
	for {
		byChain, err := st.CountsByChain()
		if err != nil {
			return drainResult{}, err
		}
		now := time.Since(start)
		counts := map[store.PaymentState]int{}
		for id, c := range byChain {
			if _, ok := done[id]; !ok && c[store.PaymentQueued]+c[store.PaymentBroadcast] == 0 {
				done[id] = now
			}
			for state, k := range c {
				counts[state] += k
			}
		}
		if counts[store.PaymentQueued]+counts[store.PaymentBroadcast] == 0 {
			if counts[store.PaymentConfirmed]+counts[store.PaymentFinal] != n {
				return drainResult{}, fmt.Errorf("drain: %v, want %d confirmed", counts, n)
			}
			return drainResult{n: n, took: now, done: done}, nil
		}
		if err := ctx.Err(); err != nil {
			return drainResult{}, err
		}
		if time.Now().After(deadline) {
			return drainResult{}, fmt.Errorf("drain not done after %s: %v", time.Since(start).Round(time.Second), counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openCopy opens a copy of the store file at queued, made under data, so
// every drain starts from the same queue.
func openCopy(queued, data string) (*store.Store, error) {
	path := filepath.Join(data, "showpos.db")
	if err := copyFile(queued, path); err != nil {
		return nil, err
	}
	return store.Open(path, nil)
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
