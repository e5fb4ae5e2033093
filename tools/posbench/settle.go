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

// settleRounds is how many of the relayer's rounds the settlement row
// takes by default (-settle-n is that many MaxInFlight): each round takes
// at most MaxInFlight authorizations and the next comes a follow-up pause
// later, so the rate is the rounds' pace whatever the backlog, and 40
// rounds measure it steadily in under a minute. 10,000 authorizations
// took 625 rounds, most of a quarter of an hour.
const settleRounds = 40

// settleResult is one settlement run: the whole of it as a drainResult,
// the relayer's rounds until every authorization was confirmed, and when
// the first ones were (first, firstN), from which the steady rate is
// taken.
type settleResult struct {
	drainResult
	rounds int
	first  time.Duration
	firstN int
}

// steadyPerSecond is the rate from the first confirmations to the last:
// the rounds' pace without the first round, which only sends.
func (r settleResult) steadyPerSecond() float64 {
	if r.took <= r.first || r.n <= r.firstN {
		return r.perSecond()
	}
	return float64(r.n-r.firstN) / (r.took - r.first).Seconds()
}

// roundCounter is the relayer's queue and journal, counting its rounds:
// a round reads the live transactions (Txs) once, first thing.
type roundCounter struct {
	*relaystore.Journal
	rounds atomic.Int64
}

func (c *roundCounter) Txs() ([]relay.Tx, error) {
	c.rounds.Add(1)
	return c.Journal.Txs()
}

// measureSettle settles a copy of the store at queued into a fresh dev
// chain and times it until every authorization is confirmed: the chain
// client and a relayer (sync/relay over sync/relay/relaystore, as posd
// runs it) of a new account the dev chain funds at genesis, started on the
// full store. Its rounds are counted as they start (roundCounter).
func measureSettle(ctx context.Context, dir, queued string, n int) (settleResult, error) {
	data := filepath.Join(dir, "settle")
	defer os.RemoveAll(data)
	st, err := openCopy(queued, data)
	if err != nil {
		return settleResult{}, err
	}
	defer st.Close()
	key, err := crypto.GenerateKey()
	if err != nil {
		return settleResult{}, err
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	node, err := devchain.Start(ctx, devchain.Options{Payers: drainPayers, Fund: []common.Address{addr}})
	if err != nil {
		return settleResult{}, err
	}
	defer node.Close()
	client, err := chain.New(chain.Options{Endpoints: []string{node.Endpoint()}, ChainID: node.ChainID().Uint64(),
		CallTimeout: 2 * time.Second, ProbeEvery: 200 * time.Millisecond})
	if err != nil {
		return settleResult{}, err
	}
	defer client.Close()
	j := &roundCounter{Journal: relaystore.New(st.Chain(client.ChainID()), addr, nil)}
	r, err := relay.New(relay.Options{Key: key, Chain: client, Queue: j, Journal: j, MaxFeePerGas: big.NewInt(config.DefaultRelayMaxFeeGwei * 1e9)})
	if err != nil {
		return settleResult{}, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	start := time.Now()
	wg.Go(func() { client.Run(runCtx) })
	wg.Go(func() { _ = r.Run(runCtx) })
	deadline := start.Add(15 * time.Minute)
	var res settleResult
	said := start
	for {
		res.rounds = int(j.rounds.Load())
		counts, err := st.Counts()
		if err != nil {
			return settleResult{}, err
		}
		now := time.Since(start)
		settled := counts[store.PaymentConfirmed] + counts[store.PaymentFinal]
		if res.firstN == 0 && settled > 0 {
			res.first, res.firstN = now, settled
		}
		if counts[store.PaymentQueued]+counts[store.PaymentBroadcast] == 0 {
			if settled != n {
				return settleResult{}, fmt.Errorf("settle: %v, want %d confirmed (relayer: %s)", counts, n, r.Status().LastError)
			}
			res.drainResult = drainResult{n: n, took: now}
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return settleResult{}, err
		}
		if time.Now().After(deadline) {
			return settleResult{}, fmt.Errorf("settle not done after %s: %v (relayer: %s)", time.Since(start).Round(time.Second), counts, r.Status().LastError)
		}
		if time.Since(said) >= 15*time.Second {
			said = time.Now()
			progress("settle: %d of %d confirmed after %s, %d rounds", settled, n, now.Round(time.Second), res.rounds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settleRow measures settling o.settleN authorizations into the dev
// chain, beside batched, the batched handover drain of the same run (n 0:
// not measured).
func settleRow(ctx context.Context, o options, dir string, batched drainResult) row {
	n := o.settleN
	what := fmt.Sprintf("Settlement of %s authorizations into the dev chain (relayer)", thousands(int64(n)))
	progress("settle: storing %d authorizations", n)
	queued, err := fillForSettle(ctx, dir, n)
	if err != nil {
		return failed(what, err)
	}
	defer os.Remove(queued)
	progress("settle: %d authorizations", n)
	r, err := measureSettle(ctx, dir, queued, n)
	if err != nil {
		return failed(what, err)
	}
	perRound := r.took / time.Duration(max(1, r.rounds))
	rw := row{What: what,
		Value: fmt.Sprintf("%s (%.1f s, %d rounds, %s a round; steady %s)", rate(r.perSecond(), "settlements"), r.took.Seconds(), r.rounds,
			ms(perRound), rate(r.steadyPerSecond(), "settlements")),
		How: fmt.Sprintf("posbench's own rig, in this process: %d authorizations (-settle-n; %d of the relayer's rounds of %d: a round takes at most that many, so the rate is the rounds' pace "+
			"whatever the backlog, and a bigger one only takes longer) stored beforehand in one store, untimed: for each, the till (terminal/checkout) makes a 0.01 TUSD request "+
			"on a terminal whose TUSD takes EIP-3009 authorizations, and takes an x402 v2 payload signed with tools/devchain.SignAuthorization by one of %d tools/devchain accounts "+
			"(random nonces) through PayAuthorization (the offline check, then store.AcceptAuthorization); %d writers at once. Then: a copy of that store file, a fresh tools/devchain "+
			"that funds a new relayer account at genesis, sync/chain's client (2 s call timeout) and sync/relay's relayer over sync/relay/relaystore (as posd runs it; "+
			"shipped defaults, posd's own: at most %d transactions sent and not mined (MaxInFlight: each round signs at most that many, sent in one JSON-RPC batch), "+
			"fee cap %d gwei; its loop (Run) as posd runs it, with no new authorization to kick a round: relay.poll %s between rounds while nothing waits to be mined, "+
			"relay.follow_up %s while something does (doubling after a round that finds nothing newly mined, halving after one that does; the dev chain mines within milliseconds, "+
			"so here a round every %s plus the round's own time, each taking the last one's receipts and sending the next %d)), timed from starting the client and relayer until no authorization is queued or broadcast (store polled every 20 ms), "+
			"all %d confirmed (each transferWithAuthorization mined with its AuthorizationUsed event); rounds: those started by then (each reads the journal's live transactions once, first), a round's time the whole over them; "+
			"steady: from the first confirmations (the second round's) to the last, without the first round, which only sends; peer: the batched handover drain above, same run",
			n, (n+relay.DefaultMaxInFlight-1)/relay.DefaultMaxInFlight, relay.DefaultMaxInFlight, drainPayers, settleWriters, relay.DefaultMaxInFlight, config.DefaultRelayMaxFeeGwei, relay.DefaultEvery, relay.DefaultFollowUp,
			relay.DefaultFollowUp, relay.DefaultMaxInFlight, n)}
	if batched.n > 0 {
		rw.Peer, rw.Ratio = "batched handover drain: "+rate(batched.perSecond(), "payments"), ratio(r.perSecond(), batched.perSecond())
	} else {
		rw.Peer = "batched handover drain: not measured"
	}
	return rw
}
