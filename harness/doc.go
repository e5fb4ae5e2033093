// Package harness is the "nothing lost" half of the proof harness (issue
// 7, issue 12's floods, issue 15's authorizations): ten harnesses that put the real posd binary (built once per run
// from ./cmd/posd) through what a terminal in a shop goes through, and
// print what happened as figures — counts, durations, p50/p99 — at the
// end of each. Real parts only: real bbolt files, HTTP on loopback, the
// operator unix socket, ptys for the scanner, the in-process dev chain
// (tools/devchain) behind an in-process toxiproxy.
//
// The harnesses skip unless SHOWPOS_HARNESS=1, so `go test ./...` stays
// fast. Run them with make (mk/harness.mk): `make kill9`, `make linkcut`,
// `make diskfull`, `make corrupt`, `make replug`, `make qrflood`, `make
// connflood`, `make bodyflood`, `make harness` (all,
// full size) or `make harness-ci` (all, CI-sized: SHOWPOS_HARNESS_SIZE=ci).
// Sizes can be set one by one with the SHOWPOS_* variables named below. A
// harness fails when a figure marked "must be 0" is not.
//
// # kill9 (TestKill9)
//
// 32 payers, each with its own key and nonces, pay without pause: a
// request created on the operator socket, the signed payment posted to
// POST /api/showpos/broadcastTx. Every eighth payment is followed by one
// the store must refuse (the same nonce as the last one acknowledged, for
// another request: 409 nonce_conflict) and, four later, by one the check
// must refuse (a wei short: 422 underpaid). posd is killed with SIGKILL
// 10–300 ms after the check that followed its last restart (so its uptime
// is its restart, that check and 10–300 ms), again and again
// (SHOWPOS_KILL9_KILLS, full 100, CI 50) and until enough payments were
// acknowledged (SHOWPOS_KILL9_PAYMENTS, full 4000, CI 2000; at this
// machine's pace the payers go past it). One kill in five is followed by
// a kill during boot: posd is started and killed again 0–50 ms after
// exec, while it opens and checks its store, before it is started
// normally. After each kill bbolt's own check (tx.Check on the file
// opened read-only) runs before the next start; after each restart every
// payment listed (GET /v1/payments) is compared with what the payers were
// told. A payer sends the same call again only when it got no answer
// (posd was down) or 503 unavailable, as the API asks. After a lost
// answer, 200 means the payment had committed before the kill, 202 that
// it had not; both are fine. After a 503 (no lost answer since), 200
// means the 503'd payment had been stored: wrong. Any other 5xx is an
// error the payer cannot fix: wrong, and not sent again.
//
// Figures: kills, and kills during boot; payments acknowledged (and how
// many after a lost answer); 503 unavailable answers sent again; 5xx
// other than 503 unavailable (must be 0); 503 then 200 (must be 0);
// other wrong answers (must be 0); present; lost (acknowledged, not
// listed, or listed with another request, sender or nonce: must be 0);
// duplicates (a tx hash, a request or a sender+nonce listed twice: must
// be 0); refused payments present (must be 0); bbolt check failures
// (must be 0); restart time from exec to the operator socket answering,
// which includes the store's integrity check at open and so grows with
// the file.
//
// # kill9 while authorizations are handed over (TestKill9Authorizations)
//
// posd, offline (no chain), is killed with SIGKILL at random moments while
// payers hand over EIP-3009 authorizations; after every restart every
// authorization a payer was told was accepted (202, or 200 for a repeat)
// is in the store as an authorization, queued, once, and the same payload
// sent again after a lost answer is answered as a repeat (make kill9auth).
//
// # kill9 while authorizations settle (TestKill9Settlements)
//
// Four dev-chain payers hand over EIP-3009 authorizations of TUSD
// (SHOWPOS_KILL9_SETTLE_EACH each, full 12, CI 5) while posd's relayer
// settles them on the dev chain (its account funded at genesis) and posd
// is killed with SIGKILL every 50–450 ms (SHOWPOS_KILL9_SETTLE_KILLS, full
// 20, CI 8), so kills fall between a settlement's submission and its
// receipt. At the end every stored authorization is confirmed or final
// (none failed, every acknowledged one there, once), each by a successful
// transaction; the merchant holds exactly their sum; the relayer's account
// sent one transaction per authorization (nothing sent twice); and once
// the watcher has read the last block, no transfer was counted as a
// payment of its own or an unmatched receipt. Run it with `go test -run
// TestKill9Settlements ./harness` and SHOWPOS_HARNESS=1 (make kill9settle).
//
// # linkcut (TestLinkCut)
//
// posd broadcasts to the dev chain through a toxiproxy that is cut for
// 0.1–2 s every 0.2–2 s during SHOWPOS_LINKCUT_FOR (full 3m, CI 30s),
// starting cut. Payers (up to 100 dev chain accounts, nonces in order)
// pay SHOWPOS_LINKCUT_PAYMENTS (full 3000, CI 1000) through the first
// four fifths of it. Then the link stays up until nothing is queued or
// broadcast.
//
// Figures: cuts (and how many hit while payments were queued or in
// flight: under 5 fails, the test did not test a flaky link); payments;
// mined, by tx hash (receipt with status 1); mined by sender nonce (each
// payer's on-chain nonce and its transactions found in a scan of every
// block both equal its payments); confirmed (the terminal's state);
// failed (must be 0); duplicates (must be 0); accepted → confirmed per
// payment as p50/p99; drain from the first acceptance to the last
// confirmation, and after the last restore.
//
// # diskfull (TestDiskFull)
//
// The data directory is a 16 MiB tmpfs mounted by the harness (root). 1500
// requests are created while there is room, then a ballast file fills the
// tmpfs to 256 KiB free and 8 payers pay until each is refused with 503
// unavailable; each sends that same call three times more. Then the
// ballast is deleted, the refused calls are sent again (they must get
// 202: they were not stored), and 5 fresh payments per payer follow. posd
// is stopped, the file checked, posd started again and everything listed.
// Where mounting is refused, posd runs under a file size limit instead
// (RLIMIT_FSIZE set on its pid, as `prlimit --fsize` does, just past the
// store's pages in use; lifted to return space) and the figures say so;
// SHOWPOS_DISKFULL_MODE=tmpfs|fsize picks one. Where neither works the
// harness skips, or fails with SHOWPOS_HARNESS_REQUIRE=1.
//
// Figures: acknowledged while filling; 503 answers; 2xx after a payer's
// first 503 (possible: a failed commit gives its pages back, and a smaller
// later batch fits; each such payment must be stored); other answers, a
// payer's retries of its 503'd call included (no answer, or anything but
// 503 unavailable or 202: must be 0); whether the same posd process stayed
// up; acknowledged payments readable while full (must be all); the
// refused calls' answers once space returned (202; a 200 would mean a 503
// was answered for a stored payment) and how long after; fresh payments
// accepted (must be all sent); after the restart, acknowledged present
// and duplicates; bbolt check.
//
// # corrupt (TestCorrupt)
//
// posd takes 200 payments and 20 more requests (10 cancelled) and stops;
// that file is the pristine store. Then SHOWPOS_CORRUPT_CASES cases (full
// 400, CI 60; seeded by SHOWPOS_CORRUPT_SEED): case 0 undamaged, case 1
// truncated to 0 bytes (the most common real truncation: it must be
// refused), other odd cases truncate the file (half of them at a page
// boundary), even cases flip 1–3 bytes (each in the two meta pages one
// time in four, else anywhere in the pages in use). The damage is
// reproducible for a seed; the pristine store is made afresh each run
// (its ids, keys and times differ). For each, posd is started on a copy
// with store.scrub_rate "0", and once its status answers the harness
// waits for the store's scrub to finish (status store.scrub.state done):
// posd reads at start only what does not grow with sales, the scrub the
// rest after READY.
//
// Figures: refused (posd exited non-zero, its last log line naming the
// file: unnamed refusals must be 0); refused but changed (the damaged
// file not byte-for-byte as it was after the refusal: must be 0);
// started-intact (posd started, the scrub found nothing, and
// every key and value of every bucket, read afterwards, and every payment
// it lists equals the pristine store's: damage in free pages, in bytes
// bbolt never reads, or a cut past the pages in use); started-reported
// (posd started and the finished scrub reported the damage: every stored
// payment, read one by one, is served as stored or refused 500
// store_damaged, and with damage in what matters to money a new request
// is refused store_damaged; with damage only in history sales go on);
// started-damaged (must be 0: a payment served changed or gone, a sale
// taken with money damage, or, the scrub having reported nothing, a
// store whose records differ from the pristine one, broken down into
// payment records changed or unreadable, only request records changed,
// and other records); hung or crashed (must be 0).
//
// # replug (TestReplug)
//
// posd runs a board with the virtual display and keypad and
// `[board.scanner] driver = "serial"` whose path is a symlink. Each of
// SHOWPOS_REPLUG_COUNT replugs (100) puts a request on screen (operator
// socket), hangs the pty up (the driver's read fails, as on a USB
// unplug), waits for GET /v1/status to show the scanner absent, opens a
// new pty pair and moves the symlink to it, waits for the scanner present
// again (the port reopened raw), writes the signed payment's hex as the
// scanner types it, and waits for the request to be paid.
//
// Figures: replugs; payments read after a replug (must be all); daemon
// restarts (must be 0: one pid, one start time); unplug seen, port
// reopened and time to read again (replug to payment stored), as
// p50/p99/max.
//
// # qrflood (TestQRFlood)
//
// Anyone on the shop's network may ask the payer API for a QR code. 64
// clients at once (SHOWPOS_QRFLOOD_CLIENTS) make SHOWPOS_QRFLOOD_CALLS
// calls each (full 32, CI 8) to GET /api/showpos/qr.png for six requests
// at the eight largest module sizes (request.MaxModuleSize and the seven
// below: 48 pictures, more than posd keeps, so it paints throughout), and
// one call in four at module=64, the old cap, which must be refused. posd's
// VmRSS and VmHWM (/proc/PID/status) are read after a warm-up and after
// the flood.
//
// Figures: served (PNG) with latency p50/p99/max; refused module=64 (must
// be every such call); 503 busy (a call that got no paint slot within 2
// s); other answers (must be 0); VmRSS and VmHWM before and after; peak
// growth, VmHWM after minus VmRSS before, which must stay under 48 MiB.
// Measured here: 8.7 MiB. The code before issue 12 grew 1340 MiB on the
// CI size (and kept 1.2 GiB resident), and 93.5 MiB with module=64 left
// out.
//
// # connflood (TestConnFlood)
//
// posd runs with api.max_conns = SHOWPOS_CONNFLOOD_CAP (16). A flood holds
// SHOWPOS_CONNFLOOD_CONNS connections (full 4×, CI 1.5× the cap) to the
// network API: half send nothing, half make one call and stay idle on the
// kept-alive connection; each is dialled again the moment posd drops it.
// Then SHOWPOS_CONNFLOOD_PAYERS payers (full 10, CI 3) read their request
// at once, each on a new connection. posd's open descriptors
// (/proc/PID/fd) are sampled every 20 ms throughout.
//
// Figures: payers answered (must be all) and how long each waited: about
// 5 s (the header and idle timeouts) for each cap's worth of connections
// queued ahead of it, so 5 s on the CI size and 20 s on the full one; other
// answers (must be 0); descriptors before, at their peak, flooded and
// after (the peak must stay within before + the cap + 4); VmRSS before
// and flooded (about 22 KiB a connection).
//
// # bodyflood (TestBodyFlood)
//
// posd runs with api.max_conns = 16. SHOWPOS_BODYFLOOD_CLIENTS clients
// (128) each send POST /api/showpos/broadcastTx with the largest body the
// payer API reads (260 KiB) but its last byte, and hold the connection.
// After 3 s posd's VmRSS and VmHWM are read; then the clients hang up and
// one whole body must be refused 400 invalid_tx.
//
// Figures: clients holding a body; posd's descriptors while held; VmRSS
// and VmHWM before and while held; peak growth, which must stay under 16
// MiB (measured: 5.2 MiB; the code before issue 12, uncapped, 47.2 MiB
// with 141 descriptors); the whole body's answer.
package harness
