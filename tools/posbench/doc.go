// Command posbench measures showpos on the machine it runs on and prints
// one Markdown table of figures (issue 7, "Performance"): every figure next
// to a floor, a ceiling or a peer measured in the same run on the same
// machine, and the machine described (CPU, cores, RAM, the disk under the
// work directory, Go version, cgo or not).
//
//	go run ./tools/posbench [-quick] [-out FILE] [-dir DIR] [-only LIST]
//
// Run it from the module root (make bench does). It builds posd, starts it
// as a real process on loopback and drives it as payers and an operator
// would; the rest runs in this process through the same packages posd is
// made of:
//
//   - accept over HTTP, one payer (p50, p99), against one fsync'd bbolt
//     commit plus one sender recovery measured alongside (p99 against
//     issue 19's bound of twice that floor);
//   - accept with 64 concurrent payers (payments/s), against the check
//     alone on every core;
//   - the check on one core (tx/s), against ethers v6 in Node parsing and
//     recovering the same raw transactions (tools/js/checkrate.mjs);
//   - a drain of queued payments into the dev chain, batched and one
//     call at a time, and the settlement of stored EIP-3009
//     authorizations by the relayer (sync/relay, posd's settings) over 40
//     of its rounds (-settle-n), against the batched drain: its rate is
//     its rounds' pace, MaxInFlight a round a follow-up pause apart, so a
//     bigger backlog only takes longer;
//   - a scanner payload to the result screen, and the request screen with
//     its QR code drawn;
//   - posd's memory idle and with 100,000 payments queued, its stripped
//     ARM binaries, and its boot to READY=1 on a NOTIFY_SOCKET;
//   - issue 19's figures, each beside its bound and its empty-store peer:
//     the cold boot's time and the bytes posd read from the disk before
//     READY=1 (/proc/PID/io the moment READY=1 arrives), the store file's
//     bytes per payment after the fill and where they go (bbolt's bucket
//     stats, read-only), the store scrub posd runs after READY=1 on the
//     full store, READY=1 to done (status store.scrub), accept p50 and
//     p99 with the queue full against an empty queue's in turn, measured
//     once both posds' scrub is done (before, the full store's reads the
//     file and, last, holds writes while it accounts for every page), and posd's CPU left
//     alone with the queue full and no chain, over a minute after the
//     first;
//   - posd's chain watcher on a dev chain making a block every 2 s: its
//     JSON-RPC calls per new block (its metrics), against the bound of 2,
//     and a wallet's payment mined to listed by posd, against watch.poll;
//   - with two networks configured (issue 18) beside one, in the same
//     run: accept latency paying on the second network and throughput
//     with payments half on each, a drain half into each of two dev
//     chains (a chain client and a broadcaster per chain), posd's idle
//     memory and boot on an empty store and on one filled half on each;
//   - a fleet of 1,000 terminals' MQTT side (sync/uplink's Links) against
//     one Mosquitto (tools/mosquitto): their retained statuses and their
//     events fanned in to one subscriber, and a retained bundle fanned out
//     to all, each against as many bare paho clients doing the same.
//
// The sender recovery is go-ethereum's: libsecp256k1 through cgo when
// posbench is built with cgo, the pure-Go decred code otherwise (as in the
// CGO_ENABLED=0 ARM builds); make bench runs with CGO_ENABLED=0 so the
// figures are those of the code that ships, and posd is built the same way.
package main
