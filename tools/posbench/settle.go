package main

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
	"showpos/sync/relay"
	"showpos/sync/relay/relaystore"
	"showpos/terminal/config"
	"showpos/terminal/store"
	"showpos/tools/devchain"
)

// settleWriters is how many authorizations the fill stores at once: the
// store's group commit shares their fsyncs.
const settleWriters = 32

// fillForSettle stores n authorizations paying TUSD requests in a store
// under dir, through the till (terminal/checkout NewRequest, then
// PayAuthorization: the offline check and store.AcceptAuthorization, as
// posd takes a handed-over payload), and returns the store's path. The
// payers are the dev chain's first drainPayers accounts, which every fresh
// dev chain funds with TUSD; the nonces are random, so copies of this store
// settle into any number of fresh dev chains.
func fillForSettle(ctx context.Context, dir string, n int) (string, error) {
	data := filepath.Join(dir, "settle-queued")
	cfg, err := config.Parse([]byte(authConfigFor(data)))
	if err != nil {
		return "", err
	}
	t, err := openTill(data, cfg, nil)
	if err != nil {
		return "", err
	}
	var (
		next   atomic.Int64
		failed firstError
		wg     sync.WaitGroup
	)
	for range settleWriters {
		wg.Go(func() {
			for failed.get() == nil {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				doc, err := t.till.NewRequest(ctx, "0.01", "TUSD", "")
				if err != nil {
					failed.set(err)
					return
				}
				if doc.X402 == nil {
					failed.set(fmt.Errorf("fill: request %s advertises no authorization", doc.ID))
					return
				}
				payload, err := newAuthorization(devchain.PayerKey(int(i)%drainPayers), doc.X402, time.Now())
				if err != nil {
					failed.set(err)
					return
				}
				if _, err := t.till.PayAuthorization(ctx, doc.ID, payload); err != nil {
					failed.set(fmt.Errorf("fill: authorization for request %s: %w", doc.ID, err))
					return
				}
			}
		})
	}
	wg.Wait()
	err = failed.get()
	if err == nil {
		var open []store.Payment
		if open, err = t.store.Chain(benchChainID).OpenAuthorizations(0, n+1); err == nil && len(open) != n {
			err = fmt.Errorf("fill: %d authorizations open, want %d", len(open), n)
		}
	}
	if cerr := t.store.Close(); err == nil {
		err = cerr
	}
	return t.store.Path(), err
}

// measureSettle settles a copy of the store at queued into a fresh dev
// chain and times it until every authorization is confirmed: the chain
// client and a relayer (sync/relay over sync/relay/relaystore, as posd
// runs it) of a new account the dev chain funds at genesis, started on the
// full store.
func measureSettle(ctx context.Context, dir, queued string, n int) (drainResult, error) {
	data := filepath.Join(dir, "settle")
	defer os.RemoveAll(data)
	st, err := openCopy(queued, data)
	if err != nil {
		return drainResult{}, err
	}
	defer st.Close()
	key, err := crypto.GenerateKey()
	if err != nil {
		return drainResult{}, err
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	node, err := devchain.Start(ctx, devchain.Options{Payers: drainPayers, Fund: []common.Address{addr}})
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
	j := relaystore.New(st.Chain(client.ChainID()), addr, nil)
	r, err := relay.New(relay.Options{Key: key, Chain: client, Queue: j, Journal: j, MaxFeePerGas: big.NewInt(config.DefaultRelayMaxFeeGwei * 1e9)})
	if err != nil {
		return drainResult{}, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	start := time.Now()
	wg.Go(func() { client.Run(runCtx) })
	wg.Go(func() { _ = r.Run(runCtx) })
	deadline := start.Add(15 * time.Minute)
	for {
		counts, err := st.Counts()
		if err != nil {
			return drainResult{}, err
		}
		if counts[store.PaymentQueued]+counts[store.PaymentBroadcast] == 0 {
			took := time.Since(start)
			if counts[store.PaymentConfirmed]+counts[store.PaymentFinal] != n {
				return drainResult{}, fmt.Errorf("settle: %v, want %d confirmed (relayer: %s)", counts, n, r.Status().LastError)
			}
			return drainResult{n: n, took: took}, nil
		}
		if err := ctx.Err(); err != nil {
			return drainResult{}, err
		}
		if time.Now().After(deadline) {
			return drainResult{}, fmt.Errorf("settle not done after %s: %v (relayer: %s)", time.Since(start).Round(time.Second), counts, r.Status().LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settleRow measures settling o.drainN authorizations into the dev chain,
// beside batched, the batched handover drain of the same run (n 0: not
// measured).
func settleRow(ctx context.Context, o options, dir string, batched drainResult) row {
	what := fmt.Sprintf("Settlement of %s authorizations into the dev chain (relayer)", thousands(int64(o.drainN)))
	progress("settle: storing %d authorizations", o.drainN)
	queued, err := fillForSettle(ctx, dir, o.drainN)
	if err != nil {
		return failed(what, err)
	}
	defer os.Remove(queued)
	progress("settle: %d authorizations", o.drainN)
	r, err := measureSettle(ctx, dir, queued, o.drainN)
	if err != nil {
		return failed(what, err)
	}
	rw := row{What: what, Value: fmt.Sprintf("%s (%.1f s)", rate(r.perSecond(), "settlements"), r.took.Seconds()),
		How: fmt.Sprintf("posbench's own rig, in this process: %d authorizations stored beforehand in one store, untimed: for each, the till (terminal/checkout) makes a 0.01 TUSD request "+
			"on a terminal whose TUSD takes EIP-3009 authorizations, and takes an x402 v2 payload signed with tools/devchain.SignAuthorization by one of %d tools/devchain accounts "+
			"(random nonces) through PayAuthorization (the offline check, then store.AcceptAuthorization); %d writers at once. Then: a copy of that store file, a fresh tools/devchain "+
			"that funds a new relayer account at genesis, sync/chain's client (2 s call timeout) and sync/relay's relayer over sync/relay/relaystore (as posd runs it; "+
			"shipped defaults, posd's own: at most %d transactions sent and not mined (MaxInFlight: each round signs at most that many, sent in one JSON-RPC batch), "+
			"fee cap %d gwei; its loop (Run) as posd runs it, with no new authorization to kick a round: relay.poll %s between rounds while nothing waits to be mined, "+
			"relay.follow_up %s while something does (doubling after a round that finds nothing newly mined, halving after one that does; the dev chain mines within milliseconds, "+
			"so here a round every %s, each taking the last one's receipts and sending the next %d)), timed from starting the client and relayer until no authorization is queued or broadcast (store polled every 20 ms), "+
			"all %d confirmed (each transferWithAuthorization mined with its AuthorizationUsed event); peer: the batched handover drain above, same run",
			o.drainN, drainPayers, settleWriters, relay.DefaultMaxInFlight, config.DefaultRelayMaxFeeGwei, relay.DefaultEvery, relay.DefaultFollowUp,
			relay.DefaultFollowUp, relay.DefaultMaxInFlight, o.drainN)}
	if batched.n > 0 {
		rw.Peer, rw.Ratio = "batched handover drain: "+rate(batched.perSecond(), "payments"), ratio(r.perSecond(), batched.perSecond())
	} else {
		rw.Peer = "batched handover drain: not measured"
	}
	return rw
}
