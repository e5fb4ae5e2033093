.PHONY: bench

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $$($(GO) list ./... | grep -v /sync/broadcast)
	$(GO) test -run='^$$' -bench=Drain -benchtime=1x -timeout=30m ./sync/broadcast
