.PHONY: fuzz fuzz-ci fuzz-check

# Fuzzing (issue 7, "Bad input"): a target for every input the terminal
# takes from outside. Go fuzzes one target per package per run, so each is
# run on its own, for FUZZTIME. One line per target, package:Name; adding a
# target is adding a line (fuzz-check fails on a Fuzz function not listed).
FUZZ_TARGETS := \
	terminal/check:FuzzCheck \
	terminal/check:FuzzPaymentPayload \
	drivers/serialscanner:FuzzScannerPayloads \
	drivers/serialscanner:FuzzSplitter \
	drivers/virtual:FuzzSplitter \
	drivers/pn532:FuzzParseFrame \
	drivers/pn532:FuzzReadFrame \
	drivers/pn532:FuzzChipAnswers \
	drivers/pn532:FuzzTagAPDU \
	terminal/nfcpay:FuzzPay \
	terminal/nfcpay:FuzzPhoneRespond \
	terminal/fleet:FuzzOpen \
	terminal/fleet:FuzzPush \
	terminal/config:FuzzParse \
	terminal/config:FuzzOverlay \
	terminal/auth:FuzzVerifyHeaders \
	terminal/asset:FuzzParseAmount \
	terminal/asset:FuzzFormatAmount \
	terminal/httpapi:FuzzBroadcastTx \
	terminal/httpapi:FuzzGetPaymentRequest \
	terminal/httpapi:FuzzIntegratorBodies \
	terminal/strictjson:FuzzDecode \
	terminal/request:FuzzParseDocument \
	terminal/request:FuzzParseCompact \
	terminal/request:FuzzParseStoredParts \
	cmd/payer:FuzzParseURI \
	drivers/evdev:FuzzDecode \
	drivers/fbdev:FuzzParseFixScreenInfo \
	terminal/store:FuzzDecodeBinaryPayment \
	terminal/store:FuzzDecodeBinaryRequest

FUZZTIME ?= 30s
# How long a new interesting input may be minimized. Go's default, 60s,
# stalls a run on the first large input (TOML files, frame streams), so
# that a 30s run finds almost nothing; shrinking is not the point here.
FUZZMINIMIZETIME ?= 1s
FUZZ_CI_TIME ?= 4s

# Each target prints its last progress line (execs, new interesting). A
# failure prints the whole output and the crasher Go wrote under the
# package's testdata/fuzz/Name/, and fails the run after every target has
# had its turn. A bare "context deadline exceeded" at the end of a run with
# no failing input is Go's coordinator race (golang/go#75804, fixed in Go
# 1.27), not a finding: it is reported, and the target's corpus is replayed
# to be sure.
fuzz: fuzz-check
	@failed=""; log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=./$${t%%:*}; name=$${t##*:}; \
		printf '%-24s %-22s ' "$${t%%:*}" "$$name"; \
		if $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) \
			-fuzzminimizetime=$(FUZZMINIMIZETIME) $$pkg >$$log 2>&1; then \
			grep '^fuzz: elapsed' $$log | tail -n 1; \
		elif grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
			echo "$$(grep '^fuzz: elapsed' $$log | tail -n 1) [deadline race, golang/go#75804; corpus replayed]"; \
			$(GO) test -count=1 -run="^$$name\$$" $$pkg >$$log 2>&1 || { cat $$log; failed="$$failed $$t"; }; \
		else \
			echo FAILED; cat $$log; failed="$$failed $$t"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

# Every target, briefly: for CI.
fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZ_CI_TIME)

# Every Fuzz function in the tree is in FUZZ_TARGETS, and every listed one
# exists.
fuzz-check:
	@found=$$(mktemp); listed=$$(mktemp); trap 'rm -f $$found $$listed' EXIT; \
	grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | \
		sed -E 's|^\./(.*)/[^/]*_test\.go:func |\1:|' | sort -u >$$found; \
	printf '%s\n' $(FUZZ_TARGETS) | sort -u >$$listed; \
	missing=$$(comm -23 $$found $$listed); stale=$$(comm -13 $$found $$listed); \
	[ -z "$$missing" ] || { echo "fuzz-check: not in FUZZ_TARGETS (mk/fuzz.mk):"; echo "$$missing"; }; \
	[ -z "$$stale" ] || { echo "fuzz-check: in FUZZ_TARGETS but not found:"; echo "$$stale"; }; \
	[ -z "$$missing$$stale" ]
