.PHONY: harness harness-ci kill9 kill9auth kill9settle linkcut diskfull corrupt replug qrflood connflood bodyflood

# The proof harness, "nothing lost" half (issue 7): each target runs the
# real posd binary through one ordeal and prints figures at the end;
# harness/doc.go says how to read them. Full size by default; harness-ci
# runs all ten CI-sized (SHOWPOS_HARNESS_SIZE=ci, about 2 minutes on 2
# cores). Sizes one by one, e.g. `SHOWPOS_LINKCUT_FOR=30s make linkcut`:
#   SHOWPOS_KILL9_KILLS, SHOWPOS_KILL9_PAYMENTS, SHOWPOS_KILL9_PAYERS,
#   SHOWPOS_LINKCUT_FOR, SHOWPOS_LINKCUT_PAYMENTS,
#   SHOWPOS_CORRUPT_CASES, SHOWPOS_CORRUPT_SEED, SHOWPOS_REPLUG_COUNT,
#   SHOWPOS_QRFLOOD_CLIENTS, SHOWPOS_QRFLOOD_CALLS, SHOWPOS_CONNFLOOD_CAP,
#   SHOWPOS_CONNFLOOD_CONNS, SHOWPOS_CONNFLOOD_PAYERS, SHOWPOS_BODYFLOOD_CLIENTS,
#   SHOWPOS_DISKFULL_MODE=tmpfs|fsize (default: tmpfs if it can mount),
#   SHOWPOS_HARNESS_REQUIRE=1 (diskfull fails instead of skipping where
#   it can neither mount a tmpfs nor limit the file size).
HARNESS_RUN = SHOWPOS_HARNESS=1 $(GO) test -v -count=1 -timeout=60m ./harness -run

kill9:
	$(HARNESS_RUN) '^TestKill9$$'

# kill -9 while payers hand over EIP-3009 authorizations, and while the
# relayer settles them on the dev chain.
kill9auth:
	$(HARNESS_RUN) '^TestKill9Authorizations$$'

kill9settle:
	$(HARNESS_RUN) '^TestKill9Settlements$$'

linkcut:
	$(HARNESS_RUN) '^TestLinkCut$$'

diskfull:
	$(HARNESS_RUN) '^TestDiskFull$$'

corrupt:
	$(HARNESS_RUN) '^TestCorrupt$$'

replug:
	$(HARNESS_RUN) '^TestReplug$$'

qrflood:
	$(HARNESS_RUN) '^TestQRFlood$$'

connflood:
	$(HARNESS_RUN) '^TestConnFlood$$'

bodyflood:
	$(HARNESS_RUN) '^TestBodyFlood$$'

harness:
	$(HARNESS_RUN) '^Test(Kill9|Kill9Authorizations|Kill9Settlements|LinkCut|DiskFull|Corrupt|Replug|QRFlood|ConnFlood|BodyFlood)$$'

harness-ci:
	SHOWPOS_HARNESS_SIZE=ci $(HARNESS_RUN) '^Test(Kill9|Kill9Authorizations|Kill9Settlements|LinkCut|DiskFull|Corrupt|Replug|QRFlood|ConnFlood|BodyFlood)$$'
