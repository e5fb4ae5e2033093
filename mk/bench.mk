.PHONY: bench

# Benchmarks; the drain benchmarks run one whole drain each (1,000 and
# 10,000 payments into the dev chain, batched and one call at a time).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $$($(GO) list ./... | grep -v /sync/broadcast)
	$(GO) test -run='^$$' -bench=Drain -benchtime=1x -timeout=30m ./sync/broadcast
