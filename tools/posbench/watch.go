package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/terminal/config"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// watchRows measures posd's chain watcher (sync/watch) on a dev chain in
// this process that makes a block every o.watchEvery: the JSON-RPC calls
// it asks per new block in steady state, against the documented bound of
// 2, and the delay from a wallet's payment being mined to posd listing
// it, against the watcher's poll.
func watchRows(ctx context.Context, o options, dir, posd string) []row {
	whatCalls := "Chain watcher, steady state: JSON-RPC calls per new block"
	whatSeen := "Chain watcher: a wallet's payment mined → listed by posd (SEEN): p50 / p99"
	fail := func(err error) []row { return []row{failed(whatCalls, err), failed(whatSeen, err)} }

	node, err := devchain.Start(ctx, devchain.Options{Payers: 3})
	if err != nil {
		return fail(err)
	}
	defer node.Close()
	ec, err := ethclient.DialContext(ctx, node.Endpoint())
	if err != nil {
		return fail(err)
	}
	defer ec.Close()
	t, err := newTerminalOn(filepath.Join(dir, "watch"), node.Endpoint())
	if err != nil {
		return fail(err)
	}
	cfg, err := config.Parse([]byte(configFor(t.data, node.Endpoint())))
	if err != nil {
		return fail(err)
	}
	poll := cfg.Watch.Poll // posd's, from the same config: the shipped default

	// Blocks at a steady pace that pay the merchant nothing: payer 0 sends
	// 1 wei to payer 1, each transfer mined in a block of its own.
	bgCtx, stopBlocks := context.WithCancel(ctx)
	var bg sync.WaitGroup
	var bgErr firstError
	defer func() { stopBlocks(); bg.Wait() }()
	bg.Go(func() {
		tick := time.NewTicker(o.watchEvery)
		defer tick.Stop()
		from, to := node.Payers()[0], node.Payers()[1]
		for nonce := uint64(0); ; nonce++ {
			if err := sendValue(bgCtx, ec, from.Key, nonce, to.Address, big.NewInt(1)); err != nil {
				if bgCtx.Err() == nil {
					bgErr.set(fmt.Errorf("block maker: %w", err))
				}
				return
			}
			select {
			case <-bgCtx.Done():
				return
			case <-tick.C:
			}
		}
	})

	d, err := startPosd(posd, t, o.bootWithin)
	if err != nil {
		return fail(err)
	}
	defer d.stop()

	progress("watch: RPC calls per block, %d blocks, one every %s", o.watchBlocks, o.watchEvery)
	var rows []row
	calls, blocks, err := callsPerBlock(ctx, d, o.watchBlocks, max(time.Minute, 10*o.watchEvery))
	if err == nil {
		err = bgErr.get()
	}
	if err != nil {
		rows = append(rows, failed(whatCalls, err))
	} else {
		perBlock := float64(calls) / float64(blocks)
		rows = append(rows, row{What: whatCalls,
			Value: fmt.Sprintf("%.2f calls/block (%d calls, %d blocks)", perBlock, calls, blocks),
			Peer:  "ceiling 2: sync/watch's bound, whatever the number of pending requests",
			Ratio: ratio(perBlock, 2),
			How: fmt.Sprintf("the posd binary with chain.rpc on a tools/devchain in this process and the watcher's shipped defaults (watch.poll %s); "+
				"the chain makes a block every %s from a payer-to-payer transfer (nothing reaches the merchant: no bloom match, its balance unmoved), "+
				"blocks as often as the poll, where the bound is tightest; after the watcher's first rounds, the growth of showpos_watch_rpc_calls_total "+
				"over that of showpos_watch_blocks_total between two of its rounds (posd's /metrics on the operator socket, read every 10 ms)",
				poll, o.watchEvery)})
	}

	progress("watch: detection delay, %d payments sent straight to the chain", o.watchPayments)
	lat, err := detectionDelays(ctx, d, ec, o.watchPayments, poll)
	if err == nil {
		err = bgErr.get()
	}
	if err != nil {
		return append(rows, failed(whatSeen, err))
	}
	return append(rows, row{What: whatSeen,
		Value: fmt.Sprintf("%s / %s", ms(lat.median()), ms(lat.pct(99))),
		Peer:  fmt.Sprintf("watch.poll %s (the shipped default): the longest a mined payment waits for the watcher's next round", poll),
		Ratio: "p99 " + ratio(float64(lat.pct(99)), float64(poll)),
		How: fmt.Sprintf("the same posd and chain (still a block every %s); %d requests of 0.001 ETH made on the operator socket, each paid after a random pause "+
			"of up to one poll (so payments land at every phase of the watcher's rounds) by a transfer of its exact amount built by tools/paytx and "+
			"sent to the node by eth_sendRawTransaction, as a wallet does; from its receipt seen (eth_getTransactionReceipt every 2 ms) to the payment "+
			"listed with source chain by GET /v1/payments on the operator socket (every 5 ms)", o.watchEvery, len(lat))})
}

// callsPerBlock waits for the watcher's rounds to process blocks, lets
// one more round pass, and then counts the calls and blocks of its rounds
// until at least n blocks are processed. Both ends are read just after a
// round, so the count holds whole rounds, empty ones included.
func callsPerBlock(ctx context.Context, d *daemon, n int, within time.Duration) (calls, blocks uint64, err error) {
	_, b, err := nextRound(ctx, d, 0, within)
	if err != nil {
		return 0, 0, fmt.Errorf("the watcher processed no block: %w", err)
	}
	c0, b0, err := nextRound(ctx, d, b, within)
	if err != nil {
		return 0, 0, err
	}
	c, b := c0, b0
	for b-b0 < uint64(n) {
		if c, b, err = nextRound(ctx, d, b, within); err != nil {
			return 0, 0, err
		}
	}
	return c - c0, b - b0, nil
}

// nextRound reads posd's watcher counters every 10 ms until a round has
// processed blocks beyond after. A round adds its calls before its
// blocks, so the calls read then include it.
func nextRound(ctx context.Context, d *daemon, after uint64, within time.Duration) (calls, blocks uint64, err error) {
	deadline := time.Now().Add(within)
	for {
		m, err := d.metrics("showpos_watch_rpc_calls_total", "showpos_watch_blocks_total")
		if err != nil {
			return 0, 0, err
		}
		if b := m["showpos_watch_blocks_total"]; b > after {
			return m["showpos_watch_rpc_calls_total"], b, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("no watcher round processed a block within %s (log %s: %s)", within, d.log.Name(), tail(d.log.Name()))
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// metrics reads the named counters from posd's /metrics on the operator
// socket (Prometheus text; a counter never seen is absent, read as 0).
func (d *daemon) metrics(names ...string) (map[string]uint64, error) {
	resp, err := d.op.Get("http://posd/metrics")
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	return counters(resp.Body, names...)
}

// counters reads the named metrics, each without labels, from Prometheus
// text; one that is absent is left out.
func counters(r io.Reader, names ...string) (map[string]uint64, error) {
	out := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		series, value, ok := strings.Cut(sc.Text(), " ")
		name, _, _ := strings.Cut(series, "{") // every network's series adds up
		if !ok || !slices.Contains(names, name) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: %s: %w", sc.Text(), err)
		}
		out[name] += uint64(v)
	}
	return out, sc.Err()
}

// detectionDelays pays n requests made on posd's operator socket as a
// wallet does, sending each transfer to the node itself, one after
// another, each after a random pause of up to one poll; each delay runs
// from the payment's receipt seen on the node to posd listing it.
func detectionDelays(ctx context.Context, d *daemon, ec *ethclient.Client, n int, poll time.Duration) (samples, error) {
	key := devchain.PayerKey(2)
	var lat samples
	for i := range n {
		r, err := d.newRequest("0.001", "ETH")
		if err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(rand.N(poll)):
		}
		tx, err := paytx.Build(r, key, paytx.Options{Type: types.DynamicFeeTxType, Nonce: uint64(i)})
		if err != nil {
			return nil, err
		}
		if err := ec.SendTransaction(ctx, tx); err != nil {
			return nil, fmt.Errorf("send payment %d: %w", i, err)
		}
		mined, err := waitFor(ctx, 2*time.Millisecond, 30*time.Second, func() (bool, error) {
			_, err := ec.TransactionReceipt(ctx, tx.Hash())
			if errors.Is(err, ethereum.NotFound) {
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			return nil, fmt.Errorf("payment %d's receipt: %w", i, err)
		}
		listed, err := waitFor(ctx, 5*time.Millisecond, 30*time.Second, func() (bool, error) {
			return d.listedFromChain(tx.Hash())
		})
		if err != nil {
			return nil, fmt.Errorf("payment %d listed by posd: %w", i, err)
		}
		lat = append(lat, listed.Sub(mined))
	}
	return lat, nil
}

// waitFor calls done every step until it says yes (and returns when) or
// fails, for at most within.
func waitFor(ctx context.Context, step, within time.Duration, done func() (bool, error)) (time.Time, error) {
	deadline := time.Now().Add(within)
	for {
		ok, err := done()
		now := time.Now()
		if err != nil {
			return now, err
		}
		if ok {
			return now, nil
		}
		if now.After(deadline) {
			return now, fmt.Errorf("not within %s", within)
		}
		select {
		case <-ctx.Done():
			return now, ctx.Err()
		case <-time.After(step):
		}
	}
}

// listedFromChain says whether posd lists the payment of tx seen on chain
// (GET /v1/payments, in any state but unmatched).
func (d *daemon) listedFromChain(tx common.Hash) (bool, error) {
	resp, err := d.op.Get("http://posd/v1/payments?limit=1000")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var list struct {
		Payments []struct {
			TxHash string `json:"txHash"`
			Source string `json:"source"`
		} `json:"payments"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return false, fmt.Errorf("payments: %d: %w", resp.StatusCode, err)
	}
	for _, p := range list.Payments {
		if strings.EqualFold(p.TxHash, tx.Hex()) && p.Source == "chain" {
			return true, nil
		}
	}
	return false, nil
}

// sendValue sends value wei from key to to at nonce, mined in a block of
// its own by the dev chain.
func sendValue(ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, nonce uint64, to common.Address, value *big.Int) error {
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(benchChainID), Nonce: nonce, To: &to, Value: value,
		Gas: paytx.DefaultNativeGas, GasFeeCap: paytx.DefaultFeeCap, GasTipCap: paytx.DefaultTipCap})
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(big.NewInt(benchChainID)), key)
	if err != nil {
		return err
	}
	return ec.SendTransaction(ctx, signed)
}
