.PHONY: test-arm smoke-arm

# ARM under emulation (issue 7, "ARM"): the core packages' tests built for
# the boards (linux/arm64, and linux/arm GOARM=7) and run under qemu-user,
# and one payment taken by the ARMv7 daemon. Needs Debian's
# qemu-user-static; the emulator is named explicitly (go test -exec), so
# binfmt_misc need not be registered (it is not in CI's container).
QEMU_ARM     ?= qemu-arm-static
QEMU_AARCH64 ?= qemu-aarch64-static

# The core: everything that decides, stores or drives hardware, plus the
# simulated board smoke-arm runs on. sync/chain, sync/broadcast,
# terminal/httpapi, terminal/cashier and cmd/... are left to the native run:
# they add minutes of emulated go-ethereum and HTTP and nothing
# architecture-specific.
ARM_TEST_PKGS ?= \
	./terminal/asset ./terminal/check ./terminal/request ./terminal/checkout \
	./terminal/auth ./terminal/fleet ./terminal/config ./terminal/screen \
	./terminal/nfcpay ./terminal/termkey ./terminal/store ./device ./cmd/posd/board \
	./drivers/pn532 ./drivers/serialscanner ./drivers/fbdev ./drivers/ssd1306 \
	./drivers/st7789 ./drivers/matrixkeypad ./drivers/evdev ./drivers/gpioindicator \
	./drivers/virtual

# Tests not run under emulation, and why:
# - TestEthersVerifiesSignature, TestURIReadByEthURLParser (terminal/request)
#   run Node, TestPageInRealBrowser (drivers/virtual) Chromium: host
#   programs checking architecture-independent bytes, which the native run
#   checks and the golden tests pin for every GOARCH.
# - TestCrashedWriterDoesNotLockThePty (drivers/virtual) reads the pty's
#   exclusive flag with TIOCGEXCL, which qemu-user 7.2 does not emulate
#   ("Unsupported ioctl: cmd=0x80045440", ENOSYS). The driver itself only
#   sets TIOCNXCL, which qemu passes through.
# - TestRequestQRReadsOffEveryScreenAt20cm, TestOldRequestQRDoesNotReadAt20cm
#   (terminal/screen) photograph the screens through a camera model in
#   floating point and run zbarimg, a host program: the screens they read
#   are the goldens every GOARCH is held to, and emulated they take minutes.
# - TestOpenReadsABoundedPartOfABigStore (terminal/store) counts the pages
#   Open brings into the page cache; qemu-user does not pass bbolt's
#   madvise(MADV_RANDOM) on to the kernel, which then reads around every
#   fault of the mmap (27-44% of the file counted under qemu, under 1%
#   native). What Open reads is the code's, the same on every GOARCH.
# - TestEventsAndStateChangesSurviveKill9Together,
#   TestPruningKeepsEveryUnsettledPaymentThroughKill9 (terminal/store) kill
#   a copy of the test binary they start themselves; under qemu-user with
#   no binfmt the ARM binary cannot be started from the test ("exec format
#   error"). The store's writes they check are the same on every GOARCH.
ARM_TEST_SKIP := ^(TestOpenReadsABoundedPartOfABigStore|TestEthersVerifiesSignature|TestURIReadByEthURLParser|TestPageInRealBrowser|TestCrashedWriterDoesNotLockThePty|TestRequestQRReadsOffEveryScreenAt20cm|TestOldRequestQRDoesNotReadAt20cm|TestEventsAndStateChangesSurviveKill9Together|TestPruningKeepsEveryUnsettledPaymentThroughKill9)$$

# The REQUIRE switches CI exports would turn those skips into failures.
ARM_TEST_ENV := env -u SHOWPOS_REQUIRE_JS -u SHOWPOS_REQUIRE_BROWSER -u SHOWPOS_REQUIRE_SYSTEMD -u SHOWPOS_REQUIRE_ZBAR \
	-u SHOWPOS_CHROMIUM CGO_ENABLED=0 GOOS=linux

# -trimpath as build-arm builds: the packages posd shares with the tests
# (go-ethereum's above all) then come from build-arm's cache, not a second
# compile per architecture.
ARM_TEST_FLAGS ?= -count=1 -timeout=8m -trimpath

test-arm:
	@for q in $(QEMU_AARCH64) $(QEMU_ARM); do command -v $$q >/dev/null || \
		{ echo "test-arm: $$q not found (Debian: apt-get install qemu-user-static)"; exit 1; }; done
	$(ARM_TEST_ENV) GOARCH=arm64 $(GO) test -exec $(QEMU_AARCH64) $(ARM_TEST_FLAGS) -skip '$(ARM_TEST_SKIP)' $(ARM_TEST_PKGS)
	$(ARM_TEST_ENV) GOARCH=arm GOARM=7 $(GO) test -exec $(QEMU_ARM) $(ARM_TEST_FLAGS) -skip '$(ARM_TEST_SKIP)' $(ARM_TEST_PKGS)

# The ARMv7 posd as build-arm makes it, under qemu-arm, on the simulated
# board with no chain: a request from the native posctl, paid by the native
# payer over HTTP (202) and through the scanner pty, both stored and still
# there after a restart (tools/arm-smoke.sh).
ARM_SMOKE_BIN := $(BIN)/arm-smoke

smoke-arm:
	@mkdir -p $(ARM_SMOKE_BIN)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(ARM_SMOKE_BIN)/posd ./cmd/posd
	$(GO) build -o $(ARM_SMOKE_BIN)/ ./cmd/posctl ./cmd/payer
	QEMU_ARM=$(QEMU_ARM) bash tools/arm-smoke.sh $(ARM_SMOKE_BIN)/posd $(ARM_SMOKE_BIN)/posctl $(ARM_SMOKE_BIN)/payer
