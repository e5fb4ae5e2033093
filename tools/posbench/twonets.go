package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"showpos/terminal/procio"
)

// The two-network figures (issue 18): each beside its one-network peer,
// measured in the same run. The two-network terminal is configForNets's:
// [[networks]] dev-a (chain 1337, ETH and TUSD, the default) and dev-b
// (chain 1338, ETH).

// inTurn is how many parts the accept rows' payments are made in, one
// posd's part after the other's, so that the machine's drift (the disk's
// fsync time, other work) falls on one network and two alike.
const inTurn = 3

// queueTurns and queueSamples are the full-queue accept row's parts and
// its payments on each posd, in -latency-n: its bound, 1.2×, is about
// this machine's drift between parts, so that row takes turns more often
// and times four times the payments (its p99 is then the 20th slowest of
// 2,000, not the 5th of 500).
const queueTurns, queueSamples = 10, 4

// share is part i of n split in parts as even as can be.
func share(n, parts, i int) int {
	out := n / parts
	if i < n%parts {
		out++
	}
	return out
}

// startTwoNetworks starts posd on a two-network terminal: dev-a (chain
// 1337, ETH and TUSD, the default) and dev-b (chain 1338, ETH).
func startTwoNetworks(o options, dir, posd string) (*daemon, error) {
	t, err := newTerminalNets(filepath.Join(dir, "accept-2"), 2)
	if err != nil {
		return nil, err
	}
	return startPosd(posd, t, o.bootWithin)
}

// latencyInTurn is acceptLatency of n payments on d, paying each
// request's own (only) network, and of n on d2, paying on chainOf(chains2,
// i) (the second network for the two-network rows; nil: each request's
// own), in turn in parts. d2 is skipped when err2 is set (it could
// not start), or after its first error. The payer, this process, runs on
// one P meanwhile (see acceptAndCheck).
func latencyInTurn(d, d2 *daemon, n, parts int, err2 error, chains2 []uint64) (lat, lat2 samples, err1, errTwo error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	errTwo = err2
	for i := range parts {
		k := share(n, parts, i)
		if err1 == nil {
			var s samples
			s, err1 = acceptLatency(d, k, 20, nil)
			lat = append(lat, s...)
		}
		if errTwo == nil {
			var s samples
			s, errTwo = acceptLatency(d2, k, 20, chains2)
			lat2 = append(lat2, s...)
		}
	}
	return lat, lat2, err1, errTwo
}

// throughputInTurn is acceptThroughput of total payments on d and of
// total on d2, half on each network, in turn in inTurn parts; each rate
// is its parts' payments over their summed time.
func throughputInTurn(d, d2 *daemon, payers, total int, err2 error) (tput, tput2 float64, err1, errTwo error) {
	errTwo = err2
	var busy1, busy2 float64 // seconds
	for i := range inTurn {
		k := share(total, inTurn, i)
		if err1 == nil {
			var r float64
			if r, err1 = acceptThroughput(d, payers, k, nil); err1 == nil {
				busy1 += float64(k) / r
			}
		}
		if errTwo == nil {
			var r float64
			if r, errTwo = acceptThroughput(d2, payers, k, benchChains); errTwo == nil {
				busy2 += float64(k) / r
			}
		}
	}
	if err1 == nil {
		tput = float64(total) / busy1
	}
	if errTwo == nil {
		tput2 = float64(total) / busy2
	}
	return tput, tput2, err1, errTwo
}

// acceptTwoRows are the two-network accept rows: one payer's latency
// paying on the second network (lat), the concurrent payers' throughput
// with payments half on each (tput), each with its error; one and oneTput
// are the one-network figures measured in turn with them (empty, zero:
// not measured).
func acceptTwoRows(o options, lat samples, latErr error, tput float64, tputErr error, one samples, oneTput float64) []row {
	what1 := "Accept over HTTP, one payer, two networks, paying on the second: p50 / p99"
	what2 := fmt.Sprintf("Accept throughput, %d concurrent payers, two networks, half the payments on each", o.payers)
	var rows []row
	if latErr != nil {
		rows = append(rows, failed(what1, latErr))
	} else {
		r := row{What: what1, Value: fmt.Sprintf("%s / %s", ms(lat.median()), ms(lat.pct(99))),
			How: fmt.Sprintf("as the one-payer row, on a second posd, with two [[networks]] (dev-a: chain %d, ETH and TUSD, the default; dev-b: chain %d, ETH; no endpoints), "+
				"running beside the first; each request offers ETH on both, and each of the %d payments is signed for chain %d, the second option; "+
				"in %d parts, one posd's after the other's", benchChainID, benchChainID2, len(lat), benchChainID2, inTurn)}
		if len(one) > 0 {
			r.Peer = fmt.Sprintf("one network: %s / %s", ms(one.median()), ms(one.pct(99)))
			r.Ratio = "p50 " + ratio(float64(lat.median()), float64(one.median()))
		}
		rows = append(rows, r)
	}
	if tputErr != nil {
		return append(rows, failed(what2, tputErr))
	}
	r := row{What: what2, Value: rate(tput, "payments"),
		How: fmt.Sprintf("as the throughput row, on the two-network posd, in turn with it: payment i of a round on chain %d if i is even, %d if odd (so each payer pays on one of them)",
			benchChainID, benchChainID2)}
	if oneTput > 0 {
		r.Peer, r.Ratio = "one network: "+rate(oneTput, "payments"), ratio(tput, oneTput)
	}
	return append(rows, r)
}

// drainTwoRow drains o.drainN queued payments, half on each of two chains,
// into two dev chains at once, each with its own chain client and
// broadcaster; one is the batched drain of as many on one chain.
func drainTwoRow(ctx context.Context, o options, dir string, one drainResult) row {
	what := fmt.Sprintf("Drain of %s queued payments into two dev chains, half on each, batched", thousands(int64(o.drainN)))
	progress("drain, two chains: queueing %d payments, half on each", o.drainN)
	queued, err := fillForDrain(ctx, dir, o.drainN, benchChains)
	if err != nil {
		return failed(what, err)
	}
	defer os.Remove(queued)
	progress("drain, two chains, batched: %d payments", o.drainN)
	r, err := measureDrain(ctx, dir, queued, o.drainN, false, benchChains)
	if err != nil {
		return failed(what, err)
	}
	rw := row{What: what, Value: fmt.Sprintf("%s (%.1f s; chain %d's half done at %.1f s, %d's at %.1f s)", rate(r.perSecond(), "payments"), r.took.Seconds(),
		benchChainID, r.done[benchChainID].Seconds(), benchChainID2, r.done[benchChainID2].Seconds()),
		How: fmt.Sprintf("as the batched drain, with the %d payments queued by a till with two networks, payment i on chain %d if i is even, %d if odd "+
			"(the same %d dev accounts, each in nonce order on each chain), in one store; two fresh tools/devchains in this process (chain ids %d and %d), "+
			"and for each a sync/chain client and a sync/broadcast broadcaster on the store's view of its chain (store.Store.Chain), as posd runs one per network; "+
			"timed until no payment is queued or broadcast on either, all %d confirmed (and each chain's half, polled the same way). "+
			"Each chain's drain takes its half of the queue, so its time grows with the payments on that chain, not with the total; the two run at once, "+
			"and the rate of both together grows with the number of chains only as far as the cores allow: here both dev chains' geth, both broadcasters "+
			"and the store's one writer share the machine's cores and one store file, which one chain's drain already keeps busy",
			o.drainN, benchChainID, benchChainID2, drainPayers, benchChainID, benchChainID2, o.drainN)}
	if one.n > 0 {
		rw.Peer = "one chain, batched: " + rate(one.perSecond(), "payments")
		rw.Ratio = ratio(r.perSecond(), one.perSecond())
	}
	return rw
}

// memFigures are the one-network memory and boot figures the two-network
// rows are set beside; zero where they were not measured.
type memFigures struct {
	quiet, busy idle    // idle on the empty store, on the full one
	bootEmpty   samples // boots on the empty store
	cold, warm  samples // boots on the full store
	storeSize   int64   // the full store's size
}

// memoryTwoRows measures posd's idle memory and boot with two networks
// configured, on an empty store and on one filled with o.fillN payments
// half on each network, beside one's figures.
func memoryTwoRows(ctx context.Context, o options, dir, posd string, one memFigures) []row {
	whatIdle, whatBoot := "posd memory, idle, empty store, two networks: VmRSS (VmHWM)", "posd boot to READY=1, empty store, two networks"
	fillN := thousands(int64(o.fillN))
	whatFull := fmt.Sprintf("posd memory, %s payments queued over two networks: VmRSS (VmHWM)", fillN)
	whatBootFull := fmt.Sprintf("posd boot to READY=1, %s payments queued over two networks", fillN)
	var rows []row

	progress("boot to READY=1 and memory, empty store, two networks")
	var boot samples
	var quiet idle
	err := func() error {
		empty, err := newTerminalNets(filepath.Join(dir, "empty-2"), 2)
		if err != nil {
			return err
		}
		var d *daemon
		if boot, d, err = boots(posd, empty, 5, true, o.bootWithin); err != nil {
			return err
		}
		defer d.stop()
		quiet, err = idleFor(d, o.settle)
		return err
	}()
	if err != nil {
		rows = append(rows, failed(whatIdle, err), failed(whatBoot, err))
	} else {
		ri := row{What: whatIdle, Value: fmt.Sprintf("%s (%s)", mib(quiet.mem["VmRSS"]), mib(quiet.mem["VmHWM"])),
			How: fmt.Sprintf("as the one-network idle row, on a posd with two [[networks]] (no endpoints, so no chain client dials): anon %s, file %s; CPU used meanwhile %s",
				mib(quiet.mem["RssAnon"]), mib(quiet.mem["RssFile"]), ms(quiet.cpu))}
		rb := row{What: whatBoot, Value: ms(boot.median()),
			How: fmt.Sprintf("as the one-network boot row, median of %d boots (the first, %s, creates the store and key)", len(boot), ms(boot[0]))}
		if one.quiet.mem != nil {
			ri.Peer = "one network: " + mib(one.quiet.mem["VmRSS"])
			ri.Ratio = ratio(float64(quiet.mem["VmRSS"]), float64(one.quiet.mem["VmRSS"]))
		}
		if len(one.bootEmpty) > 0 {
			rb.Peer = "one network: " + ms(one.bootEmpty.median())
			rb.Ratio = ratio(float64(boot.median()), float64(one.bootEmpty.median()))
		}
		rows = append(rows, ri, rb)
	}

	progress("filling a two-network store with %d accepted payments, half on each", o.fillN)
	full, err := newTerminalNets(filepath.Join(dir, "full-2"), 2)
	var fillTook time.Duration
	var storeSize int64
	if err == nil {
		fillTook, storeSize, err = fillStore(ctx, full, o.fillN, benchChains)
	}
	if err != nil {
		return append(rows, failed(whatBootFull, err), failed(whatFull, err))
	}
	progress("boot to READY=1, %d payments queued over two networks, cold then warm", o.fillN)
	var cold, warm samples
	var coldIO, coldOutside procio.IO
	dc, _, err := coldBoot(posd, full, o.bootWithin)
	if err == nil {
		cold, coldIO, coldOutside = samples{dc.ready}, dc.bootIO, dc.readyIO
		err = dc.stop()
	}
	var d *daemon
	if err == nil {
		warm, d, err = boots(posd, full, 3, true, o.bootWithin)
	}
	if err != nil {
		return append(rows, failed(whatBootFull, err), failed(whatFull, err))
	}
	defer d.stop()
	rb := row{What: whatBootFull, Value: fmt.Sprintf("%s cold / %s warm", ms(cold.median()), ms(warm.median())),
		How: fmt.Sprintf("as the one-network full-store boot row, on a %s store filled beforehand (%.0f s) by a till with both networks, payment i on chain %d if i is even, %d if odd; cold: one boot (its data directory dropped from the page cache; it read %s before READY=1, by its own /proc/self/io read just before it sent READY=1; "+
			"read from outside as READY=1 arrived: %s), warm: median of %d",
			mib(storeSize), fillTook.Seconds(), benchChainID, benchChainID2, reads(coldIO), reads(coldOutside), len(warm))}
	if len(one.cold) > 0 {
		rb.Peer = fmt.Sprintf("one network (%s store): %s cold / %s warm", mib(one.storeSize), ms(one.cold.median()), ms(one.warm.median()))
		rb.Ratio = "cold " + ratio(float64(cold.median()), float64(one.cold.median())) + ", warm " + ratio(float64(warm.median()), float64(one.warm.median()))
	}
	rows = append(rows, rb)
	busy, err := idleFor(d, o.settle)
	if err != nil {
		return append(rows, failed(whatFull, err))
	}
	rm := row{What: whatFull, Value: fmt.Sprintf("%s (%s)", mib(busy.mem["VmRSS"]), mib(busy.mem["VmHWM"])),
		How: fmt.Sprintf("as the one-network full-store memory row, %s after READY=1 on that store: anon %s, file %s; CPU used while idle %s",
			o.settle, mib(busy.mem["RssAnon"]), mib(busy.mem["RssFile"]), ms(busy.cpu))}
	if one.busy.mem != nil {
		rm.Peer = "one network: " + mib(one.busy.mem["VmRSS"])
		rm.Ratio = ratio(float64(busy.mem["VmRSS"]), float64(one.busy.mem["VmRSS"]))
	}
	return append(rows, rm)
}
