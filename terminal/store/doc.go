// Package store is the terminal's one durable store: payment requests, the
// outbox of accepted payments, and their indexes, in a single bbolt file.
//
// # What it holds
//
// A Request is what a payer is asked to pay. A Payment is a signed
// transaction accepted for one request, waiting in the outbox to be
// broadcast (queued), broadcast, confirmed (on the canonical chain at the
// configured depth), then final (its block final) or failed. A confirmed
// payment whose block is lost goes back to broadcast. Payments are
// indexed by tx hash, by sender+nonce (the latest payment: a failed one's
// nonce may be paid again by a new transaction), by acceptance order (Seq),
// while queued or broadcast in the open index by sender+nonce, and while
// confirmed in the unfinal index by sender+nonce (the broadcaster follows
// them from it, a window at a time, until final). The store also keeps,
// per asset, the unsettled amount (payments queued or broadcast: a
// confirmed payment's money is on the chain; one whose block is lost
// counts again) and a count of payments per state.
//
// # Several chains (schema 13)
//
// Every payment is on one chain (Payment.ChainID; Accept refuses none with
// a plain error), and everything that is one chain's is kept per chain:
// the sender+nonce, open and unfinal indexes, the authorizations' reuse
// key (chain, token, from, nonce) and queues, spent_nonces, the
// unsettled sums and the per-payer sums (Limits apply per chain and
// asset), the counts, the watcher's cursor and its recorded transfers.
// Their keys begin with the chain id (8 bytes, big-endian), so one chain's
// queue is a range of its own. Store.Chain(id) is one chain's view (a
// ChainStore): the broadcaster, the watcher and the relayer of a network
// each work through theirs (OpenPaymentsAfter, UnfinalAfter, OpenBefore,
// OldestQueued, RecentFailures, Unsettled, Counts, WatchCursor, RecordRange, Rewind, Settle,
// OpenAuthorizations, UnfinalAuthorizations, RelayTxs,
// PaymentBySenderNonce). What names a record by hash stays the store's
// (Payment, Apply): an EIP-155 transaction names its chain. Payments
// filters by PaymentFilter.ChainID; Counts sums every chain,
// CountsByChain splits them. A request lists the chains it is offered on
// (Request.Chains, at most 8); a transfer the watcher sees on a chain pays
// only a request offered there (one stored before schema 13 is the home
// chain's: Options.HomeChainID, the default network's). Open migrates a
// schema 12 file in one transaction, putting every record, index, sum,
// count and the cursor under the home chain; a file holding payments,
// authorizations, a cursor or a relay journal is refused with
// ErrNoHomeChain when no home chain is given, and one whose handed-over
// payments are signed for another chain than the home chain with
// ErrHomeChain (nothing written). RetireChains takes a removed network's
// chain out of service in one write, refused while it has payments to
// settle; Accept then refuses a payment on it (ErrChainRetired).
//
// It also keeps the integrator clients (service numbers, their keys and
// roles, see clients.go) and the request nonces seen inside the
// authentication window, so a replayed request is refused after a
// restart too. Service keys are stored sealed (AES-256-GCM) with a key
// kept in its own file outside the store (Options.SealKeyPath, made at
// first Open): a copy of the store file alone yields no service key. A
// store holding sealed keys is refused, with ErrSealKey, when that key
// file is missing or holds another key (clients_seal.go).
//
// The fleet bucket holds the last fleet config bundle the terminal accepted,
// as received, and the highest bundle version ever accepted (see fleet.go).
// PutFleetBundle writes both in one transaction and refuses a version that
// is not above the highest, so no bundle is rolled back, across restarts
// and clock changes too.
//
// # Guarantees
//
//   - Durable on return. PutRequest, CancelRequest, SetPaymentState and
//     every other write return success only after their transaction is
//     committed and fsynced (bbolt with NoSync, NoGrowSync and
//     NoFreelistSync all false: data pages are fdatasynced, then the meta
//     page is written and fdatasynced). Accept and AcceptAuthorization
//     return success once their record is in the journal, fdatasynced;
//     their transaction is committed behind them, and Open runs again any
//     record the file does not hold (journal.go). When Open creates the
//     file or the journal it also fsyncs the parent directory, so the file
//     itself survives power loss.
//   - Nothing acknowledged is lost, and nothing refused is stored. A call
//     that returns an error wrote nothing; a call that returns success is
//     on disk. One exception, when the disk fails three times running (a
//     journal append, the commit tried in its place, and zeroing the
//     append): the accepts of that batch get the commit's error, and their
//     records, which may have reached the disk, may be run again at the
//     next Open. The till answers such an error "send again", and an
//     accept sent again is answered as a repeat. A context that ends before the write is taken into a commit
//     cancels it; once taken, the call waits for the commit's outcome.
//   - One payment per request. Every rule of Accept is checked inside the
//     single write transaction that also writes, so two payers racing for
//     one request cannot both succeed: the second sees the first's write.
//
// # Group commit and its cost
//
// One goroutine (the committer) performs every write. A write arriving
// while no commit is in flight is committed at once: a lone payer pays one
// fsync (about 0.6 ms on an SSD, 10–100 ms on an SD card) and no added
// delay. Writes arriving while a commit is in flight queue and all go into
// the next transaction, up to 256, sharing one fsync; so under load the
// cost per write falls toward the cost of encoding it. Within a batch each
// write does all its reads and checks before its first write, so one
// payer's refusal does not disturb the others; a storage failure (a failed
// put or commit) fails every write in the batch, none acknowledged. A batch
// in which no write changed anything (idempotent repeats, refusals) is
// rolled back instead of committed: it costs no fsync.
//
// An accept does not commit at all: the batch's accepts are appended to
// the journal in one write and fdatasync, and wait in the committer's open
// transaction for a later commit that takes up to 256 of them (journal.go).
//
// Reads run in their own read transactions, concurrently with each other
// and with the committer, each seeing one committed state. A read first
// has the committer commit the accepts the journal holds, so it sees every
// answered write (Payment only when the journal holds that payment); a
// ChainStore's Committed view does not. A read can see a commit a moment
// before its final fsync completes (bbolt publishes the meta page, then
// syncs it); the writer has not been answered yet then.
//
// # Integrity at Open, and the scrub after it
//
// A damaged store never starts damaged in what matters to money: Open
// refuses damage there loudly, with an error wrapping ErrCorrupt that
// names the file, and never crashes on it. What Open reads does not grow
// with sales or history, so a terminal with 100,000 payments queued boots
// as fast as an empty one; the rest is verified after it is serving, by
// the scrub (scrub.go).
//
//   - Before bbolt maps the file it checks, from the raw bytes, both meta
//     pages (magic, version, checksum), that the size is a multiple of the
//     page size and covers every page the newest meta claims, and the
//     freelist page's header, count and ids. A truncated file would
//     otherwise fault on first read; a damaged freelist count would make
//     bbolt allocate without bound, a fatal out-of-memory no recover
//     catches. The file is not read ahead: reading all of it cost the boot
//     its size (over 10 s for 250 MB on an SD card), and on ext4 made every
//     later page write cost whole-folio work.
//   - A damaged meta page is refused even though bbolt would silently open
//     the other one: that loses the newest commit, which may have been
//     acknowledged to a payer; restoring the file is a person's decision.
//     (A meta write torn by power loss mid-commit is reported the same way.)
//   - bbolt keeps no checksums on data pages, so the store keeps its own:
//     every value ends with a CRC-32C (Castagnoli, 4 bytes big-endian) over
//     uvarint(len(bucket)) || bucket || uvarint(len(key)) || key || value
//     (checksum.go).
//   - Open then reads, with faults turned into panics
//     (debug.SetPanicOnFault) and panics recovered into ErrCorrupt, what
//     is bounded by configuration and time windows (verifyBounded): every
//     root entry is a layout bucket; every value's CRC in the buckets that
//     do not grow with sales (meta, clients and their nonces, fleet, with
//     the highest bundle version, counts, unsettled, the watch cursors,
//     event_sinks, webhooks, registrations, failures_open, request_expiry,
//     pending_amounts); every pending request those indexes name, read by
//     key, CRC checked, at its index keys; the sequences that issue Seq,
//     failure numbers and event seqs at or above their last keys; the
//     sinks within the log. Measured: 128 KiB of a 32 MiB store with 8,000
//     payments queued, from a cold page cache.
//   - A file of an older schema is read whole (verify: every bucket, every
//     CRC, every cross-index check, bbolt's tx.Check) before and after it
//     is migrated: an upgrade reads the whole file once.
//   - The scrub (Store.Scrub; posd runs it right after READY, config
//     store.scrub_rate) verifies the rest, in chunks of at most 1,000 keys
//     or 256 KiB, each its own short read transaction (a long one would
//     pin the pages writes free, and the file would grow). First, at full
//     speed (its cost grows with the queue, not the history), what
//     matters to money: every entry of open, unfinal, queued, auth_open,
//     auth_unfinal, chain_unfinal, relay_live and failures_open, the
//     record it names read and CRC checked, in a state of that index and
//     at its own key; then the counts against those indexes. With
//     Options.VerifyBeforeSales (posd) Accept and RetireChains answer
//     ErrVerifying until then: no sale is decided against an index the
//     scrub has yet to check. Then, at most ScrubOptions.BytesPerSecond,
//     every value's CRC in every other bucket and the cross-index checks
//     of verify (one read transaction), and last an account of every
//     page of the file (each in a bucket's tree, the freelist or free,
//     once), in the committer: it reads the live freelist, which a commit
//     changes, so writes wait for it (once per start; the scrub logs how
//     long). Not bbolt's tx.Check: it faults on a damaged page in a
//     goroutine of its own, where no recover reaches.
//   - Damage the scrub finds is reported by Store.Integrity (bucket, key,
//     error, whether it is in what matters to money) and logged once.
//     Damage in what matters to money (and a tree the walk could not
//     read, or found out of order) takes the store out of service, as
//     Open refuses a damaged store: every write but the operator's
//     (acknowledging failures and receipts, revoking or rotating a
//     client's key, an integrator's request nonce) and every read but the
//     counts (status and the watchdog read them) is refused with an error
//     wrapping ErrCorrupt, which the till and the API answer
//     store_damaged. Reads too: a damaged B+tree can leave records out of
//     a range with no error at all. Damage in settled history only is
//     reported, that record is refused when read, and sales go on.
//   - Between READY and the end of the scrub's first part, a read (the
//     status's, the broadcaster's) may meet damage Open did not look for:
//     a record's CRC still refuses it; a damaged tree may go unnoticed by
//     that read until the scrub reports it. No sale is taken then (above).
//   - Damage done after Open is found when the record is read: every read
//     checks the CRC and fails with an error wrapping ErrCorrupt naming the
//     bucket and key; nothing damaged is returned.
//
// Where no file is, Open makes a new store: whole, under a temporary name,
// then linked into place. So an empty file at the path is never one of
// Open's own making; it is refused as damage (a store truncated to nothing
// would otherwise restart empty, dropping its queue). Another process holding
// the file lock gives ErrLocked after Options.LockTimeout. A file of an
// unknown schema version is refused.
//
// # Payments seen on chain (schema 5)
//
// A payer's wallet may send the transfer itself. The chain watcher
// (sync/watch) records what reached the merchant, a range of blocks at a
// time, through RecordRange, Rewind and Settle (chain.go): each is one
// durable write, with the watcher's cursor in the same write, so kill -9 at
// any moment leaves a range recorded whole or not at all, never a transfer
// twice. A transfer of exactly a pending request's amount, in its asset,
// in a block timed from its creation to its expiry plus MatchGrace, pays
// it: a Payment with Source chain and State seen (then confirmed, final).
// Anything else is an unmatched receipt, kept in its own bucket and listed
// with State unmatched. To tell requests apart by amount alone, no two
// pending requests of one asset share an amount (PutRequest, FreeAmount,
// amounts.go). Chain payments have no raw transaction and are in neither
// the open nor the unfinal index, nor in Unsettled: their money is on
// chain. Open checks the chain buckets against each other and the counts.
//
// # EIP-3009 authorizations (schema 6)
//
// A payer may sign an EIP-3009 transferWithAuthorization instead of a
// transaction (terminal/checkout.PayAuthorization). AcceptAuthorization
// stores it by Accept's rules, keyed by the authorization's ID (the
// EIP-712 digest signed) with Source authorization and its fields and
// signature (Payment.Authorization), and refuses a second authorization
// with the same (token, from, nonce) (ErrAuthorizationReused). It counts
// toward Unsettled and the per-payer cap like a queued handover, but it is
// in neither the open nor the sender+nonce index (the broadcaster sends raw
// transactions; an authorization has none): its own indexes are the
// relayer's queue, OpenAuthorizations in acceptance order, and
// UnfinalAuthorizations for confirmed ones. SetPaymentState and Apply move
// it as a handover (leaving queued/broadcast frees its exposure). Open
// checks those indexes against the records (authorization.go).
//
// # The relayer's journal (schema 7)
//
// The relayer (sync/relay) settles authorizations from its own account.
// RecordRelayTx stores each of its transactions, keyed by chain, relayer
// and nonce, before it is sent, with every hash it was signed under; each
// hash names its authorization (RelayAuthorization), so RecordRange takes
// the settlement's transfer to the merchant for that authorization, never
// for a chain payment or an unmatched receipt. RelayTxs returns the live
// ones. ReportRelayOutcome moves the authorization's payment (confirmed,
// back to broadcast when its block is lost, final, failed with a reason)
// in the same durable write, and records the settling transaction
// (Authorization.Settlement). Open checks the journal against itself and
// the authorizations (relay.go).
//
// # Failures and the day's close (schema 8)
//
// Every payment that enters failed after acceptance (SetPaymentState, Apply,
// ReportRelayOutcome) gets a failure number in the same write, and stays
// open until acknowledged (AckFailure, AckAllFailures); Failures lists
// them, OpenFailures counts the open ones (failures.go). TakeZ stores a Z
// report, numbered 1, 2, … with each period starting at the last one's end,
// never rewritten; a repeated call with the same idempotency key answers
// the first Z (zreport.go). Open checks both against the payments.
//
// # Third parties' registrations (schema 9)
//
// PutRegistration stores a third party's request for a service number
// with its pickup secret sealed; ApproveRegistration creates its client in
// the same write and keeps a sealed copy of the key until
// CollectRegistration hands it out once and erases it; RejectRegistration
// and expiry end the others, which PruneRegistrations (and every
// PutRegistration, a few at a time) deletes (registrations.go).
//
// # The event log (schema 10)
//
// Every change of a payment's or a request's state appends an event to a
// log in the store, in the same bbolt transaction as the change: a crash at
// any moment keeps both or neither (events.go). This is what the MQTT
// events topic, webhooks and the bounded store are built on: each publishes
// or waits on the log, never on the live records.
//
// Each event has a seq, the terminal's own: issued by the events bucket's
// sequence in the writing transaction, so monotonic, never reused (not
// after pruning, not after a restart), with no gaps (a seq is taken only
// with its event, or the batch aborts). It is stored as the JSON that is
// delivered (Event.Body), so a redelivered event is the same bytes; a
// consumer drops duplicates by seq. The payload is versioned ("v": 1):
//
//	{"v":1,"seq":42,"kind":"payment.confirmed","at":"2026-12-07T06:10:24Z",
//	 "payment":{"id":"0x…","source":"handover","request_id":"r-7","from":"0x…",
//	   "asset":"TUSD","amount":"12500000","amount_display":"12.5",
//	   "state":"confirmed","previous":"broadcast","accepted_at":"…",
//	   "block":1234,"block_hash":"0x…","chain_id":8453}}
//
// "at" is when the store recorded the change. A payment event carries
// "payment" (id: the tx hash, or an authorization's ID; source; request_id;
// from; asset; amount in base units as a decimal string; amount_display in
// whole units when Options.Decimals knows the asset; state; previous, the
// state it left; reason, for failed and unmatched; accepted_at; block and
// block_hash once mined; settlement, an authorization's settling
// transaction; receipt, an unmatched receipt's number; chain_id, the chain
// it is on, a number, in every event written from schema 13 on). A request event
// carries "request" (id, asset, amount, amount_display, status, paid_by,
// created_at, expires_at). Hashes and addresses are lowercase 0x hex; times
// RFC 3339 in UTC. The kinds, whose names are stable:
//
//	payment.accepted     Accept, AcceptAuthorization (state queued); request.paid follows
//	payment.broadcast    queued -> broadcast (SetPaymentState, Apply, RecordRelayTx)
//	payment.seen         RecordRange: a transfer paid a request; request.paid follows
//	payment.confirmed    -> confirmed (SetPaymentState, Apply, ReportRelayOutcome, Settle)
//	payment.unconfirmed  confirmed -> broadcast: its block was lost
//	payment.final        -> final (terminal)
//	payment.failed       -> failed, with the reason (terminal)
//	payment.unmatched    RecordRange: money that paid no request, with the reason
//	payment.rewound      Rewind: a chain payment or unmatched receipt taken back
//	request.paid         with payment.accepted or payment.seen
//	request.cancelled    CancelRequest
//	request.expired      ExpireRequests, once ExpiresAt + MatchGrace has passed unpaid
//	request.reopened     Rewind took back the chain payment that paid it
//
// A change of delivery bookkeeping alone (Apply with the same state), a
// repeat and a refusal write no event. Expiry changes nothing stored (a
// request's expiry is derived from the clock), so request.expired is
// written by a sweep, ExpireRequests, from the request_expiry index
// (pending requests by expiry, entered by PutRequest and a reopening, left
// when paid, cancelled or reported): it reads only what it reports, and
// reports a request once, when no transfer can pay it any more (once more
// if a reorg reopens it). Every
// payment, unmatched receipt and request record names its latest event
// (LastEvent), so a pruner can tell whether it has been delivered.
//
// Sinks are named cursors ("mqtt", "webhook:<client>"): RegisterSink
// (from the log's end, or from the oldest event kept; registering again
// is a no-op), MarkDelivered(sink, seq) (every event up to seq delivered;
// durable; never moves back), Sink and Sinks (the backlog: a count and one
// seek), RemoveSink. Events(after, limit) reads in order from a cursor: a
// seek, then the events returned; EventsAppended wakes a reader when a
// commit appends more. The log bounds itself: once it holds 64 events more
// than Options.EventRetention (DefaultEventRetention, 10,000), an append
// drops the oldest events that every sink has delivered (any, with no sink
// registered) down to it, up to 66 in its own write (trimEvents). PruneEvents(keep, limit) deletes more at once, in one
// small write: the oldest events every sink has delivered, keeping the
// newest keep. EventLog gives the first and last seq and the lowest
// delivered seq.
//
// What the next parts call:
//
//   - the MQTT publisher: RegisterSink("mqtt", SinkFromOldest) at start;
//     loop Events(delivered, n), publish each Body at QoS 1 in seq order,
//     and on the broker's PUBACK for a prefix, MarkDelivered up to it.
//   - the webhook deliverer (sync/webhook): the same, with
//     "webhook:<client>", one POST of Body a 2xx before each
//     WebhookDelivered; SetWebhook, RemoveWebhook and RevokeClient
//     register and remove the sink in their own writes.
//   - the daemon: ExpireRequests(now, limit) now and then, until it
//     returns less than limit.
//   - the bounded store: PruneEvents(keep, limit) in a loop; a payment or
//     request may go once its LastEvent <= EventLog().LowestDelivered
//     (any LastEvent, with no sink registered).
//
// # Webhooks (schema 11)
//
// A client's webhook (webhooks.go) is its URL, a secret sealed with the
// sealing key as service keys are (bound to the client and the secret's
// creation), and what delivery must remember across a restart: since when
// the receiver has failed with no 2xx since (FailingSince), the event being
// retried (FailingSeq) and the events given up. SetWebhook registers the
// sink "webhook:<client>" at the log's end with the first URL;
// WebhookDelivered moves that sink and, after a 2xx, ends the failing
// period in one write (with gaveUp, counts the event given up instead and
// keeps the period: giving up is not the receiver answering).
//
// Open checks the log with bounded work: the seq counter at or above the
// last key, and each sink's cursor within the log (from one below its first
// event to its last). It never walks the log for it (the scrub checks every
// event's CRC after READY, as it does every bucket's).
//
// # The bounded store (schema 12)
//
// Prune (prune.go) deletes, in one small durable write per call, what can
// no longer change and every sink has delivered: final payments and
// failed ones whose failure was acknowledged, accepted before a bar (the
// caller's "keep", or the last Z's end if earlier: the current period is
// never pruned), with their requests, index entries, failure records and
// recorded transfers, and an authorization's relay journal rows once its
// validBefore has passed; cancelled requests and pending ones reported
// expired (ExpireRequests) over AmountKeep ago; unmatched receipts the
// operator acknowledged (AckUnmatched) below the watcher's reorg window.
// Queued, broadcast, seen and confirmed payments (a confirmed block may
// still be lost until final) and unacknowledged failures and receipts are
// never pruned. A record whose LastEvent a registered sink has not delivered is
// kept. Counts and indexes stay as Open checks them. A pruned final
// handover leaves its sender's highest mined nonce in spent_nonces, so
// Accept goes on refusing that nonce and lower ones (ErrNonceConflict).
// bbolt reuses the freed pages, so the file stops growing; it never
// shrinks: compacting is an offline rewrite (posctl store compact). Stats
// gives the file's size, the counts and the oldest payment kept.
//
// # Schema versions
//
// Schema 15 is schema 14 with every by_sender_nonce value the payment's
// Seq (8 bytes; by_seq names its hash), not its 32-byte hash: an index
// with an entry for every handed-over payment, 24 bytes less each. A schema 14
// build refuses a 15 file (unknown schema) rather than read its Seqs as
// damage. Open migrates a schema 14 file in small transactions
// (schema15.go): each hash checked against its payment (handed over, at
// that sender and nonce) and by_seq and rewritten as the Seq, a Seq
// already there passed over, the whole file verified and "15" written
// last, so a crash anywhere leaves a schema 14 file that the next Open
// migrates on. A schema 13 file is migrated to 14 (its by_sender_nonce
// still hashes) and on to 15 in the same Open.
//
// Schema 14 is schema 13 with the queued index (queued: chain || Seq ->
// payment id for every queued payment, so ChainStore.OldestQueued is one
// seek; Open checks it holds exactly the queued payments, each chain's
// as many as its count) and payments and requests written in a binary
// form (binrecord.go), read beside the JSON records of older schemas by
// their first byte; the open index's values are empty, by_sender_nonce
// naming the payment under the same key (openHash); and a request's
// shared part (its terminal id, merchant, signer and URLs,
// Request.DocShared) is kept once in doc_shared, named by its SHA-256 in
// doc_shared_ids, the record holding its number (docshared.go); a 14
// file without those buckets is refused (preRelease14). Open migrates a
// schema 13 file in small transactions (schema14.go): the index rebuilt
// and open's values emptied (each checked against by_sender_nonce's), then
// every record rewritten, a few thousand to a transaction, the version
// written last, so a crash anywhere leaves a schema 13 file that the next
// Open migrates on. Buckets whose keys only grow fill their pages whole
// (appendOnly), requests (UUIDv7 ids, made in about the order they are
// stored) 90% (fillPercent); the others split at bbolt's default, half
// full, which keeps most pages in use for keys in random order (a shop's
// many payers; 0.7 helped only a few payers paying again and again). The
// file grows 1 MiB at a time ahead of its pages (allocSize), not bbolt's
// 16 MiB.
// Schema 13 is schema 12 with every per-chain key under its chain id and
// the chain in every payment, unmatched receipt and request record (see
// Several chains above; schema13.go).
// Schema 11 is schema 10 with the webhooks (webhooks), empty after Open
// migrates a schema 10 file in one transaction.
// Schema 12 is schema 11 with pruned_chain_txs (the hashes of chain
// payments pruned) and spent_nonces (sender -> the highest nonce of
// a final handed-over payment pruned) and relay_by_auth (the relayer's
// journal by authorization), for the bounded store; Open migrates a
// schema 11 file in one transaction that indexes the journal there and
// leaves spent_nonces empty. Open checks relay_by_auth against the
// journal, row for row.
//
// Schema 9 is schema 8 with the registrations (registrations,
// registration_expiry), empty after Open migrates a schema 8 file in one
// transaction. Schema 10 is schema 9 with the event log (events, event_sinks) and the
// expiry index (request_expiry); Open migrates a schema 9 file in one
// transaction that makes them, the log and sinks empty (the log reports
// what happens from then on), and enters in the index every pending request
// that can still be paid (one that expired before is not reported). Payment,
// unmatched and request records gained last_event; older ones read as 0.
//
// Schema 8 is schema 7 with the failures (failures, failures_open) and Z
// reports (zreports, zreport_keys); Open migrates a schema 7 file in one
// transaction that numbers every failed payment as an unacknowledged
// failure (an older build showed each only until the next).
//
// Schema 7 is schema 6 with the relayer's journal (relay_txs, relay_live,
// relay_hashes), empty after Open migrates a schema 6 file in one
// transaction; authorization records gained an optional settlement hash.
//
// Schema 6 is schema 5 with the authorizations' indexes (auth_nonces,
// auth_open, auth_payer, auth_unfinal), empty after Open migrates a schema
// 5 file in one transaction.
//
// Schema 5 is schema 4 with the chain watcher's buckets and the pending
// amounts index; Open migrates a schema 4 file in one transaction that
// makes them and enters every pending request in the index. Payment
// records gained a source; older ones read as handover, unchanged.
//
// Schema 3 is schema 2 with the unfinal index; Open migrates a schema 2
// file in one transaction by entering every confirmed payment in it, so
// payments confirmed by an older build are checked against the canonical
// chain and followed until final too. Payment records gained a block hash
// and a reorg count and note (Delivery); older records read with none.
//
// Schema 2 is schema 1 with a CRC after every value (the schema version
// itself included: "1" is stored bare, "2" and "3" with their CRC). Open
// migrates a schema 1 file before anything else: after checking its
// structure it rewrites every value with its CRC and the version in one
// bbolt transaction (a crash leaves it all schema 1 or all schema 2), logs
// it, and verifies the file again. The migration holds the rewritten values
// in memory, about the size of the file, once.
//
// Schema 3 is schema 2 with the clients' service keys sealed and a check
// of the sealing key in the meta bucket. Open seals a schema 2 file's keys
// by writing a sealed copy and renaming it over the file (a crash leaves
// one or the other; rewriting in place would leave the clear keys in freed
// pages); a schema 2 file with no client key is migrated in one
// transaction instead. A build that reads only schema 2 refuses a schema 3
// file (unknown schema version) rather than take a sealed key it cannot
// read for an empty one.
//
// # Errors
//
// Errors are the sentinels in errors.go, wrapped with the operation and its
// subject; test with errors.Is.
package store
