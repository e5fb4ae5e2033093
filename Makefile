# showpos — make targets. `make run` starts a terminal; `make test` tests it.

GO        ?= go
BIN       := bin
CMDS      := posd posctl devnet payer
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION)
ARM_CMDS  := posd posctl

.PHONY: build test run lint build-arm js clean

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags='-X main.version=$(VERSION)' -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

# The whole suite: formatting and vet, then every package's tests, including
# the ones that hold our EIP-681 URIs and EIP-712 signatures against
# third-party JavaScript (eth-url-parser, ethers v6) from tools/js, and the
# simulator page in headless Chromium (skipped where chromium is missing;
# SHOWPOS_REQUIRE_BROWSER=1 makes that a failure, as CI does).
test: lint js
	SHOWPOS_REQUIRE_JS=1 SHOWPOS_REQUIRE_BROWSER=$${SHOWPOS_REQUIRE_BROWSER:-0} $(GO) test -count=1 ./...

# A development terminal on 127.0.0.1:8080 with its data under .run/, and
# the two embedded dev chains on 127.0.0.1:8545 and :8546 (its networks dev
# and dev2) it broadcasts to. Ctrl-C stops both.
run: build
	@mkdir -p .run/data
	@set -e; \
	$(BIN)/devnet -addr 127.0.0.1:8545 -chains 2 -payers 5 -relayer-key .run/data/relayer.key > .run/devnet.txt 2>&1 & devnet=$$!; \
	trap 'kill $$devnet 2>/dev/null; wait $$devnet 2>/dev/null' EXIT INT TERM; \
	sleep 1; cat .run/devnet.txt; \
	echo; \
	echo "terminal   open http://127.0.0.1:8081/ : key an amount, press Enter"; \
	echo "payer      $(BIN)/payer            (pays the request on screen; -via scanner|nfc|chain, -wrong underpaid …)"; \
	echo "operator   $(BIN)/posctl -socket .run/data/posd.sock queue"; \
	echo "offline    kill -USR1 $$devnet     (cuts network dev's link; again restores it; -USR2: dev2's)"; \
	echo; \
	$(BIN)/posd -config configs/sim.toml

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Stripped, static daemon and CLI for ARMv7 and arm64 boards.
build-arm:
	@mkdir -p $(BIN)/linux-arm $(BIN)/linux-arm64
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(BIN)/linux-arm/ $(addprefix ./cmd/,$(ARM_CMDS))
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(BIN)/linux-arm64/ $(addprefix ./cmd/,$(ARM_CMDS))
	@ls -l $(BIN)/linux-arm $(BIN)/linux-arm64

js: tools/js/node_modules/.package-lock.json tools/token/node_modules/.package-lock.json

tools/js/node_modules/.package-lock.json: tools/js/package.json tools/js/package-lock.json
	npm ci --prefix tools/js --no-audit --no-fund

# solc-js, to check the dev chain's test token bytecode is reproducible.
tools/token/node_modules/.package-lock.json: tools/token/package.json tools/token/package-lock.json
	npm ci --prefix tools/token --no-audit --no-fund

clean:
	rm -rf $(BIN) .run

# The proof harness (issue 7): one file of targets per part, in mk/.
-include mk/*.mk
