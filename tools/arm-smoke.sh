#!/usr/bin/env bash
# arm-smoke: the ARMv7 posd under qemu-user takes a payment.
#
#   tools/arm-smoke.sh POSD_ARM POSCTL PAYER      (make smoke-arm builds them)
#
# POSD_ARM is posd built for linux/arm (GOARM=7) and runs under $QEMU_ARM
# (default qemu-arm-static, named explicitly: no binfmt_misc needed);
# POSCTL and PAYER are native. The terminal runs on the simulated board with
# no chain endpoints, in its own temp dir, on ports the kernel picks. Steps:
#   1. a request from posctl on the operator socket, paid by payer over
#      HTTP: the answer must be 202 and the payment listed as queued;
#   2. a second request paid through the simulated scanner's pty;
#   3. SIGTERM: posd must stop cleanly (exit 0); started again on the same
#      data dir, it must still list both payments.
# Exits non-zero on the first failure, printing posd's log; kills whatever
# it started.
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: $0 POSD_ARM POSCTL PAYER" >&2
	exit 2
fi
posd=$1 posctl=$2 payer=$3
qemu=${QEMU_ARM:-qemu-arm-static}
command -v "$qemu" >/dev/null || { echo "arm-smoke: $qemu not found (Debian: apt-get install qemu-user-static)" >&2; exit 1; }

work=$(mktemp -d /tmp/arm-smoke.XXXXXX)
pid=""
log="$work/posd.log"

# stop_posd sends SIGTERM (qemu-user passes it to the guest) and waits up to
# 20 s, then SIGKILL. It returns posd's exit status.
stop_posd() {
	local rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "arm-smoke: posd ignored SIGTERM for 20 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	pid=""
	return "$rc"
}

cleanup() {
	local rc=$?
	trap - EXIT
	stop_posd >/dev/null 2>&1 || true
	if [ "$rc" -ne 0 ] && [ -f "$log" ]; then
		echo "--- posd log ($log) ---" >&2
		cat "$log" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "arm-smoke: FAIL: $*" >&2
	exit 1
}

# configs/sim.toml without the chain, metrics and fixed ports.
cat >"$work/posd.toml" <<EOF
[terminal]
id = "arm-smoke"
merchant_name = "showpos arm smoke"
data_dir = "$work/data"
request_ttl = "5m"

[api]
listen = "127.0.0.1:0"

[chain]
id = 1337

[merchant]
address = "0x000000000000000000000000000000000000dEaD"

[payments]
allow_overpay = false
min_fee_cap_wei = "1"

[[assets]]
symbol = "ETH"
max_payment = "1"
max_unsettled = "5"

[board.display]
driver = "virtual"
width = 320
height = 240

[board.keypad]
driver = "virtual"

[board.scanner]
driver = "virtual"

[board.nfc]
driver = "virtual"

[board.indicator]
driver = "virtual"

[board.virtual]
listen = "127.0.0.1:0"
EOF
sock="$work/data/posd.sock"

# start_posd starts posd under qemu and waits (60 s at most) for its
# "posd ready" line; it sets api, signer and pty from the log.
start_posd() {
	: >"$log"
	"$qemu" "$posd" -config "$work/posd.toml" >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q 'msg="posd ready"' "$log" && break
		kill -0 "$pid" 2>/dev/null || fail "posd exited before it was ready"
		sleep 0.1
	done
	grep -q 'msg="posd ready"' "$log" || fail "posd not ready after 60 s"
	api=$(sed -n 's/.*msg="posd ready".* network_api=\([^ ]*\).*/\1/p' "$log")
	signer=$(sed -n 's/.*msg="posd ready".* signer=\(0x[0-9a-fA-F]*\).*/\1/p' "$log")
	pty=$(sed -n 's/.*msg="virtual board".* scanner=\([^ ]*\).*/\1/p' "$log" | head -1)
	if [ -z "$api" ] || [ -z "$signer" ] || [ -z "$pty" ]; then
		fail "cannot read the API address, signer or scanner pty from the log"
	fi
}

ctl() { timeout 30 "$posctl" -socket "$sock" "$@"; }

# new_request AMOUNT prints the new request's id.
new_request() {
	local out id
	out=$(ctl request new -amount "$1" -memo "arm smoke") || fail "posctl request new -amount $1"
	# The document's own id is the only "id" at the top level (two spaces).
	id=$(printf '%s\n' "$out" | sed -n 's/^  "id": "\([0-9a-f]*\)",$/\1/p')
	[ -n "$id" ] || fail "no id in posctl's answer: $out"
	echo "$id"
}

# wait_stored TXHASH polls posctl payments (10 s at most) for the payment.
wait_stored() {
	local list
	for _ in $(seq 100); do
		list=$(ctl payments) || fail "posctl payments"
		grep -q "\"txHash\": \"$1\"" <<<"$list" && return 0
		sleep 0.1
	done
	fail "payment $1 not listed by posctl payments"
}

start=$SECONDS
start_posd
echo "arm-smoke: $("$qemu" --version | head -1); posd ready at $api, signer $signer, scanner $pty"

# 1. Over HTTP.
id=$(new_request 0.01)
out=$(timeout 60 "$payer" -terminal "http://$api" -id "$id" -signer "$signer" -payer 0 -nonce 0 \
	-state "$work/payer" -json -timeout 50s) || fail "payer over HTTP: $out"
case $out in *'"httpStatus":202'*) ;; *) fail "payer over HTTP: want 202: $out" ;; esac
tx1=$(printf '%s' "$out" | sed -n 's/.*"txHash":"\(0x[0-9a-f]*\)".*/\1/p')
[ -n "$tx1" ] || fail "no txHash in the payer's answer: $out"
wait_stored "$tx1"
list=$(ctl payments -state queued) || fail "posctl payments -state queued"
grep -q "\"txHash\": \"$tx1\"" <<<"$list" || fail "payment $tx1 not queued"
echo "arm-smoke: request $id paid over HTTP: 202, $tx1 queued"

# 2. Through the scanner's pty.
id2=$(new_request 0.02)
out=$(timeout 60 "$payer" -terminal "http://$api" -id "$id2" -signer "$signer" -payer 1 -nonce 0 \
	-via scanner -scanner "$pty" -state "$work/payer" -json -timeout 50s) || fail "payer through the scanner: $out"
tx2=$(printf '%s' "$out" | sed -n 's/.*"txHash":"\(0x[0-9a-f]*\)".*/\1/p')
[ -n "$tx2" ] || fail "no txHash in the payer's answer: $out"
wait_stored "$tx2"
echo "arm-smoke: request $id2 paid through $pty: $tx2 stored"

# 3. A clean stop, and the payments are still there after a restart.
stop_posd || fail "posd exited with status $? on SIGTERM"
grep -q 'msg="store: closed"' "$log" || fail "posd stopped without closing its store"
start_posd
list=$(ctl payments) || fail "posctl payments after the restart"
n=$(grep -c -e "\"txHash\": \"$tx1\"" -e "\"txHash\": \"$tx2\"" <<<"$list") || true
[ "$n" = 2 ] || fail "after a restart posctl payments lists $n of the 2 payments"
stop_posd || fail "posd exited with status $? on SIGTERM after the restart"
echo "arm-smoke: ok: both payments stored and kept across a restart ($((SECONDS - start)) s)"
