# showpos — make targets. `make run` starts a terminal; `make test` tests it.

GO        ?= go
BIN       := bin
CMDS      := posd posctl
LDFLAGS   := -s -w
ARM_CMDS  := posd posctl

.PHONY: build test run bench lint build-arm fuzz js clean

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

# The whole suite: formatting and vet, then every package's tests, including
# the ones that hold our EIP-681 URIs and EIP-712 signatures against
# third-party JavaScript (eth-url-parser, ethers v6) from tools/js.
test: lint js
	SHOWPOS_REQUIRE_JS=1 $(GO) test -count=1 ./...

# A development terminal on 127.0.0.1:8080 with its data under .run/.
run: build
	@mkdir -p .run/data
	@echo "posd: payer API http://127.0.0.1:8080/api/showpos/getPaymentRequest"
	@echo "      operator: $(BIN)/posctl -socket .run/data/posd.sock request new -amount 0.01"
	$(BIN)/posd -config configs/dev.toml

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

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

# Each fuzz target for FUZZTIME (default 30s); crashers land in testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzCheck$$' -fuzztime=$(FUZZTIME) ./terminal/check
	$(GO) test -run='^$$' -fuzz='^FuzzParseAmount$$' -fuzztime=$(FUZZTIME) ./terminal/asset

js: tools/js/node_modules/.package-lock.json

tools/js/node_modules/.package-lock.json: tools/js/package.json tools/js/package-lock.json
	npm ci --prefix tools/js --no-audit --no-fund

clean:
	rm -rf $(BIN) .run
