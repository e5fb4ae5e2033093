.PHONY: bench bench-quick bench-go

# Performance (issue 7): `make bench` measures the terminal on this machine
# and prints one Markdown table, each figure next to the floor, ceiling or
# peer measured in the same run, with the machine described
# (tools/posbench; README, "Performance", explains the rows). It builds
# posd and starts it on loopback, runs the dev chain in process, and runs
# ethers v6 in Node from tools/js as the check's peer (hence js). About
# 20 minutes on 2 cores (19 min 40 s on 2026-12-07 at load average 2.5 to
# 10.8): memory 11 (two fills of 100,000 payments, about 4 each, and issue
# 19's idle CPU row, 2: posd left alone a minute, then measured over a
# minute), drain 4.5 (three drains of 10,000 payments, and the settlement
# of 640 authorizations, 40 of the relayer's rounds of 16 a second or so
# apart: under a minute), accept and check 2, watch under 2 (real
# 2-second blocks). The table's footnote says how long each part took.
#
# CGO_ENABLED=0 for posbench and the posd it builds: the sender recovery
# is then the pure-Go one the ARM builds ship (decred secp256k1), not
# libsecp256k1 through cgo.
#
# BENCH_OUT is where the table is also written. BENCH_FLAGS passes flags to
# posbench (go run ./tools/posbench -h): -only accept,check,drain,screens,memory,watch
# runs some sections, -dir DIR measures another disk, -fill-n, -drain-n, -settle-n …
# change the sizes.
BENCH_OUT   ?= $(BIN)/bench.md
BENCH_FLAGS ?=

bench: js
	@mkdir -p $(dir $(BENCH_OUT))
	CGO_ENABLED=0 $(GO) run ./tools/posbench -out $(BENCH_OUT) $(BENCH_FLAGS)

# The same table in about 4 minutes (3 min 35 s on 2026-12-07, load
# average 3.5 to 5.5): fewer samples, 10,000 payments in the
# store, 1,000 drained, 160 authorizations settled (10 rounds), the
# watcher over 10 blocks and 8 payments, idle CPU over 10 s after 10 s.
bench-quick:
	@$(MAKE) --no-print-directory bench BENCH_FLAGS="-quick $(BENCH_FLAGS)"

# The packages' own Go benchmarks, raw (go test -bench; with cgo when the
# toolchain has it). The drain benchmarks run one whole drain each (1,000
# and 10,000 payments into the dev chain, batched and one call at a time).
bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem $$($(GO) list ./... | grep -v /sync/broadcast)
	$(GO) test -run='^$$' -bench=Drain -benchtime=1x -timeout=30m ./sync/broadcast
