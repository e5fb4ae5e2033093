package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Layout of the bbolt file (schema version 15; per-chain keys begin with
// the chain id, 8 bytes big-endian, from 13 on; payment and request
// records are binary from 14 on, JSON before, and both read: binrecord.go). Every bucket lives at the
// top level; no nested buckets. Every value shown below is followed by its
// CRC-32C (see checksum.go); schema 1 had schema 2's layout without CRCs,
// schema 2 kept client keys in the clear, schema 3 had no unfinal bucket,
// schema 4 none of the chain buckets nor pending_amounts, schema 5 none
// of the auth_ buckets, schema 6 none of the relay_ buckets, schema 7 none of the failures
// nor Z buckets, schema 8 none of the registrations' buckets, schema 9 none
// of the event log's;
// Open migrates each (migrate.go, clients_seal.go).
var (
	bucketMeta      = []byte("meta")            // "schema" -> schemaVersion (schema 1: "1", no CRC); "seal_check" -> sealed check (clients_seal.go)
	bucketRequests  = []byte("requests")        // request ID -> the binary request record (JSON requestRecord before 14)
	bucketPayments  = []byte("payments")        // tx hash (32 bytes) -> the binary payment record (JSON paymentRecord before 14)
	bucketBySender  = []byte("by_sender_nonce") // chain (8) || sender (20) || nonce (8, big-endian) -> Seq (8; by_seq names the payment) from 15 on, the tx hash before (senderValueHash)
	bucketBySeq     = []byte("by_seq")          // Seq (8, big-endian) -> tx hash; its bucket sequence issues Seq
	bucketUnsettled = []byte("unsettled")       // chain (8) || asset -> decimal amount in queued or broadcast payments
	bucketCounts    = []byte("counts")          // chain (8) || payment state -> count (8, big-endian)
	bucketOpen      = []byte("open")            // chain (8) || sender (20) || nonce (8) -> nothing (by_sender_nonce names the payment; the tx hash before 14), for queued and broadcast payments only
	bucketUnfinal   = []byte("unfinal")         // chain (8) || sender (20) || nonce (8) -> tx hash, for confirmed handed-over payments only (followed until final)

	// Schema 5: payments seen on chain (chain.go) and unique pending
	// amounts (amounts.go).
	bucketWatch        = []byte("watch")              // chain (8) -> cursorRecord (JSON): how far that chain's watcher got (before 13: "cursor")
	bucketTransfers    = []byte("chain_transfers")    // chain (8) || block (8) || transferID -> transferRecord (JSON): every transfer recorded, with its outcome
	bucketTransferIDs  = []byte("chain_transfer_ids") // transferID -> chain (8) || block (8): a transfer is recorded once
	bucketChainUnfinal = []byte("chain_unfinal")      // chain (8) || block (8) || tx hash -> tx hash, for chain payments seen or confirmed (Settle follows them to final)
	bucketUnmatched    = []byte("unmatched")          // seq (8) -> unmatchedRecord (JSON); its bucket sequence issues the seq
	bucketAmounts      = []byte("pending_amounts")    // len(asset) || asset || amount (32) || request ID -> request ID, for pending requests

	// Schema 6: EIP-3009 authorizations (authorization.go). They have no
	// sender+nonce of a transaction, so they are in none of the indexes
	// above but by_seq; these are theirs.
	bucketAuthNonces  = []byte("auth_nonces")  // chain (8) || token (20) || from (20) || nonce (32) -> authorization ID, for every authorization ever taken
	bucketAuthOpen    = []byte("auth_open")    // chain (8) || Seq (8) -> authorization ID, for queued and broadcast authorizations (the relayer's queue)
	bucketAuthPayer   = []byte("auth_payer")   // chain (8) || from (20) || Seq (8) -> authorization ID, the same set by payer (the per-payer cap)
	bucketAuthUnfinal = []byte("auth_unfinal") // chain (8) || Seq (8) -> authorization ID, for confirmed authorizations (followed until final)

	// Schema 7: the relayer's journal (relay.go).
	bucketRelayTxs    = []byte("relay_txs")    // chain ID (8) || relayer (20) || nonce (8) -> relayTxRecord (JSON), every transaction the relayer signed
	bucketRelayLive   = []byte("relay_live")   // the same key -> authorization ID, for the live ones (sent, mined)
	bucketRelayHashes = []byte("relay_hashes") // tx hash (32) -> authorization ID, for every hash the relayer signed

	// Schema 8: failures after acceptance kept until acknowledged
	// (failures.go), and the day's closes, Z reports (zreport.go).
	bucketFailures     = []byte("failures")      // failure number (8) -> failureRecord (JSON); its bucket sequence issues the number
	bucketFailuresOpen = []byte("failures_open") // failure number (8) -> tx hash, for the unacknowledged ones
	bucketZs           = []byte("zreports")      // Z number (8) -> zRecord (JSON), never rewritten
	bucketZKeys        = []byte("zreport_keys")  // idempotency key -> Z number (8)

	// Schema 9: third parties' registrations (registrations.go):
	// bucketRegistrations and bucketRegExpiry.
	// Schema 10: the event log and its sinks' cursors (events.go), and
	// the pending requests by expiry, for the sweep that reports them
	// expired (expiry.go).
	bucketEvents        = []byte("events")         // event seq (8) -> the event's JSON (Event.Body); its bucket sequence issues the seq
	bucketEventSinks    = []byte("event_sinks")    // sink name -> sinkRecord (JSON): how far that sink has delivered
	bucketRequestExpiry = []byte("request_expiry") // expiry (8, unix ns) || request ID -> request ID, for pending requests not yet reported expired

	// Schema 14: the queued payments in acceptance order (queued.go), and
	// the parts requests share, kept once (docshared.go).
	bucketQueued       = []byte("queued")         // chain (8) || Seq (8) -> nothing (by_seq names the payment), for queued payments only
	bucketDocShared    = []byte("doc_shared")     // number (8) -> a shared part (Request.DocShared); its bucket sequence issues the number
	bucketDocSharedIDs = []byte("doc_shared_ids") // SHA-256 of a shared part (32) -> its number (8)

	allBuckets = [][]byte{bucketMeta, bucketRequests, bucketPayments, bucketBySender,
		bucketBySeq, bucketUnsettled, bucketCounts, bucketOpen, bucketUnfinal,
		bucketClients, bucketClientNonces, bucketNonceExpiry, bucketFleet,
		bucketWatch, bucketTransfers, bucketTransferIDs, bucketChainUnfinal, bucketUnmatched, bucketAmounts,
		bucketAuthNonces, bucketAuthOpen, bucketAuthPayer, bucketAuthUnfinal,
		bucketRelayTxs, bucketRelayLive, bucketRelayHashes,
		bucketFailures, bucketFailuresOpen, bucketZs, bucketZKeys,
		bucketRegistrations, bucketRegExpiry,
		bucketEvents, bucketEventSinks, bucketRequestExpiry,
		bucketWebhooks,
		bucketSpentNonces, bucketRelayByAuth, bucketPrunedChainTxs,
		bucketQueued, bucketDocShared, bucketDocSharedIDs}

	keySchema = []byte("schema")
	// keyJournal names the last journal record the file holds (journal.go):
	// 8 bytes, big-endian; none: no record was ever committed.
	keyJournal = []byte("journal")
)

// schemaVersion is the schema this build writes; schemaV1 to schemaV3 are
// the older ones it reads, and migrates at Open. Schema 3 sealed client
// keys (a build that reads only schema 2 refuses it rather than take a
// sealed key for an empty one); schema 4 added the unfinal index; schema 5
// the chain watcher's buckets and the pending amounts index; schema 6 the
// authorizations' indexes; schema 7 the relayer's journal; schema 8 the
// failures kept until acknowledged and the Z reports; schema 9 the third
// parties' registrations; schema 10 the event log, its sinks and the
// expiry index; schema 11 the clients' webhooks (webhooks.go); schema 12
// the bounded store's spent nonces and the relay journal by authorization
// (bounded.go); schema 13 keys every per-chain index, sum, count and
// cursor by chain id (schema13.go); schema 14 adds the queued index
// (queued.go, schema14.go); schema 15 names each by_sender_nonce entry's
// payment by its Seq, not its hash (schema15.go); schema 16 adds no
// bucket: its accepts may wait in the journal beside the file
// (journal.go), which a build before it would not run again, so such a
// build must refuse the file.
const (
	schemaVersion = "16"
	schemaV15     = "15"
	schemaV14     = "14"
	schemaV13     = "13"
	schemaV12     = "12"
	schemaV11     = "11"
	schemaV10     = "10"
	schemaV9      = "9"
	schemaV8      = "8"
	schemaV7      = "7"
	schemaV6      = "6"
	schemaV5      = "5"
	schemaV4      = "4"
	schemaV3      = "3"
	schemaV2      = "2"
	schemaV1      = "1"
)

// schemaNumber is a known schema's number (1 to schemaVersion's); 0 for
// any other string, a newer build's version included.
func schemaNumber(schema string) int {
	n := 0
	for _, c := range schema {
		if c < '0' || c > '9' || n > 1000 {
			return 0
		}
		n = 10*n + int(c-'0')
	}
	if schema == "" || schema[0] == '0' || n > schemaLatest {
		return 0
	}
	return n
}

// schemaLatest is schemaVersion as a number: change the two together.
const schemaLatest = 16

// schemaKnown reports whether this build reads schema (and migrates it).
func schemaKnown(schema string) bool { return schemaNumber(schema) != 0 }

// schemaAtLeast reports whether schema is a known schema at or after n:
// the checks of a layout apply to every later schema that kept it.
func schemaAtLeast(schema string, n int) bool { return schemaNumber(schema) >= n }

// RequestStatus is the life stage of a payment request.
type RequestStatus string

const (
	RequestPending   RequestStatus = "pending"
	RequestPaid      RequestStatus = "paid"
	RequestCancelled RequestStatus = "cancelled"
	// RequestExpired is never stored: it is derived by StatusAt.
	RequestExpired RequestStatus = "expired"
)

// Request is a payment request shown to a payer.
type Request struct {
	ID        string
	Asset     string   // asset symbol, e.g. "ETH", "TUSD"
	Amount    *big.Int // base units
	CreatedAt time.Time
	ExpiresAt time.Time
	// Status as stored: pending, paid or cancelled. "expired" is derived,
	// see StatusAt.
	Status RequestStatus
	PaidTx common.Hash // set when paid
	Doc    []byte      // the signed request in the till's stored form (request.ParseStoredParts with DocShared), opaque to the store
	// DocShared is the part of Doc the terminal's requests share
	// (request.Document.CompactParts), kept once in the store for all
	// requests that have the same bytes (docshared.go); nil: Doc is
	// whole. Opaque to the store.
	DocShared []byte
	// shared is DocShared's number in bucketDocShared (0: none): what the
	// record holds. Reads give DocShared where they give Doc to a caller.
	shared uint64
	// LastEvent is the seq of the last event that reported this request
	// (request.paid, request.cancelled, ...); 0: none (a request made
	// before the log, or never reported). Set by the store: a pruner may
	// delete the request once every sink has delivered it.
	LastEvent uint64
	// Chains are the chain ids the request may be paid on (schema 13),
	// its primary first: a transfer the watcher sees on another chain
	// does not pay it. A request stored before schema 13 is payable on
	// the store's home chain (Options.HomeChainID) only.
	Chains []uint64
}

// offeredOn reports whether r may be paid on chain: one of its Chains, or,
// for a request with none (stored before schema 13), the home chain; a
// store opened with no home chain (one network, none named) takes such a
// request as any chain's.
func (r Request) offeredOn(chain, home uint64) bool {
	if len(r.Chains) == 0 {
		return home == 0 || chain == home
	}
	return slices.Contains(r.Chains, chain)
}

// StatusAt is the status as seen at now: a pending request whose expiry is
// at or before now is expired.
func (r Request) StatusAt(now time.Time) RequestStatus {
	if r.Status == RequestPending && !now.Before(r.ExpiresAt) {
		return RequestExpired
	}
	return r.Status
}

// PaymentState is where a payment is on its way to the chain.
type PaymentState string

const (
	PaymentQueued    PaymentState = "queued"
	PaymentBroadcast PaymentState = "broadcast"
	// PaymentConfirmed: mined in a block that is on the canonical chain at
	// the configured depth; followed until that block is final, and moved
	// back to broadcast if the block is lost.
	PaymentConfirmed PaymentState = "confirmed"
	// PaymentFinal: its block is final (the node's finalized block, or the
	// configured depth where the node has none). Terminal.
	PaymentFinal  PaymentState = "final"
	PaymentFailed PaymentState = "failed"
	// PaymentSeen: a transfer paying a request, seen on chain by the
	// watcher (source chain), not yet at the configured depth. Chain
	// payments go seen -> confirmed -> final (Settle), or are taken back
	// whole when their block is reorganised away (Rewind); queued and
	// broadcast are for handed-over payments only.
	PaymentSeen PaymentState = "seen"
	// PaymentUnmatched: money that reached the merchant on chain and paid
	// no request (wrong amount, too late, a request cancelled or already
	// paid, a balance gap). Not a sale: kept in its own bucket, listed
	// only when asked for by this state, never counted in a sale's sums.
	PaymentUnmatched PaymentState = "unmatched"
)

// PaymentStates lists every state, in the order of a payment's life,
// then unmatched (a receipt, not a payment of a request).
var PaymentStates = []PaymentState{PaymentQueued, PaymentBroadcast, PaymentSeen, PaymentConfirmed, PaymentFinal, PaymentFailed, PaymentUnmatched}

// Known reports whether s is one of PaymentStates.
func (s PaymentState) Known() bool {
	for _, k := range PaymentStates {
		if s == k {
			return true
		}
	}
	return false
}

// PaymentSource says how a payment reached the terminal.
type PaymentSource string

const (
	// SourceHandover: the payer handed over a signed transaction (HTTP,
	// NFC, scanner); the terminal broadcasts it. Records stored before
	// sources existed read as handover.
	SourceHandover PaymentSource = "handover"
	// SourceChain: the payer's wallet sent the transfer itself; the
	// chain watcher saw it and the store matched it to the request.
	SourceChain PaymentSource = "chain"
	// SourceAuthorization: the payer signed an EIP-3009
	// transferWithAuthorization (an x402 "exact" payload); the terminal's
	// relayer submits it. Accepted by AcceptAuthorization; its TxHash is
	// the authorization's ID (the EIP-712 digest signed), not a
	// transaction's hash, and Authorization holds what the relayer needs.
	SourceAuthorization PaymentSource = "authorization"
)

// Settled reports whether money in state s is on the chain (confirmed or
// final): what totals count as confirmed.
func (s PaymentState) Settled() bool { return s == PaymentConfirmed || s == PaymentFinal }

// rank orders the states of a handed-over payment for SetPaymentState: a
// payment moves to a higher rank, except that a confirmed one whose block
// is lost goes back to broadcast (see allowed). Seen and unmatched are not
// a handed-over payment's (rank -1), nor are unknown states.
func (s PaymentState) rank() int {
	switch s {
	case PaymentQueued:
		return 0
	case PaymentBroadcast:
		return 1
	case PaymentConfirmed:
		return 2
	case PaymentFinal, PaymentFailed:
		return 3
	}
	return -1
}

// allowed reports whether a payment may move from s to to (to == s: its
// Delivery changes). Final and failed are terminal.
func (s PaymentState) allowed(to PaymentState) bool {
	switch {
	case to.rank() < 0 || s.terminal():
		return false
	case s == PaymentConfirmed && to == PaymentBroadcast:
		return true // its block was lost: sent again
	}
	return to.rank() >= s.rank()
}

// terminal reports whether s is a state a payment never leaves.
func (s PaymentState) terminal() bool { return s == PaymentFinal || s == PaymentFailed }

// unsettled reports whether a payment in state s counts toward Unsettled
// and is in the open index. Confirmed payments do not: their money is on
// the canonical chain; one whose block is lost counts again.
func (s PaymentState) unsettled() bool { return s == PaymentQueued || s == PaymentBroadcast }

// unfinal reports whether a payment in state s is in the unfinal index.
func (s PaymentState) unfinal() bool { return s == PaymentConfirmed }

// Payment is an accepted, signed transaction paying one request.
type Payment struct {
	TxHash common.Hash
	// Source is how it came: handover (a signed transaction handed over,
	// the only kind Accept stores) or chain (a transfer the watcher saw).
	// A chain payment has no Raw and no Nonce, is in neither the open nor
	// the unfinal index and never counts toward Unsettled: its money is on
	// chain already.
	Source     PaymentSource
	RequestID  string
	From       common.Address
	Nonce      uint64
	Asset      string
	Amount     *big.Int // amount paid, base units of Asset
	Raw        []byte   // the signed tx exactly as received
	State      PaymentState
	Reason     string // why failed
	AcceptedAt time.Time
	UpdatedAt  time.Time
	Seq        uint64 // assigned by the store: acceptance order, strictly increasing, never reused
	// Delivery is the broadcaster's bookkeeping, changed only through Apply.
	Delivery Delivery
	// Authorization is set for source authorization only: the signed
	// EIP-3009 authorization (its from is From, its value Amount).
	Authorization *Authorization
	// LastEvent is the seq of the event that reported the payment's
	// latest state (payment.accepted, payment.final, ...); 0: none (a
	// payment stored before the log). Set by the store, in the write that
	// appends that event: a pruner may delete the payment once every sink
	// has delivered that seq (LowestDelivered).
	LastEvent uint64
	// AckedAt is, for an unmatched receipt, when the operator acknowledged
	// it (AckUnmatched); zero otherwise.
	AckedAt time.Time
	// ChainID is the chain the payment is on (schema 13): the handed-over
	// transaction's, the authorization's token domain's, or the chain the
	// watcher saw the transfer on. Sender+nonce uniqueness, the open and
	// unfinal indexes and the unsettled sums are per chain.
	ChainID uint64
}

// Delivery records how a payment is getting to the chain.
type Delivery struct {
	Attempts    int       // sends tried
	NextAttempt time.Time // not before; zero: at once
	LastError   string    // the node's or the link's last answer that was not success
	SentAt      time.Time // when a node first took it (zero: never)
	Block       uint64    // block it was mined in (0: not seen mined)
	// BlockHash is the hash of Block as the receipt named it and the
	// canonical header at that height had it when last checked (zero: not
	// known; records written before schema 3 have none).
	BlockHash common.Hash
	// Reorgs counts the times a block this payment was mined in was lost
	// (the canonical chain took another block at its height and the
	// transaction was no longer found there); ReorgNote says what happened
	// the last time.
	Reorgs    int
	ReorgNote string
	// Retrying is when the current run of one retryable kind of error
	// began (e.g. "insufficient funds"), for windows shorter than the
	// payment's whole life; zero when the last attempt did not fail so.
	Retrying time.Time
}

// The JSON forms, written before schema 14 and still read (and written
// for a record the binary form cannot say exactly). Amounts are decimal
// strings, byte fields base64, times RFC 3339 in UTC. Separate from the API types so the file format changes
// only on purpose.
type requestRecord struct {
	ID        string        `json:"id"`
	Asset     string        `json:"asset"`
	Amount    string        `json:"amount"`
	CreatedAt time.Time     `json:"created_at"`
	ExpiresAt time.Time     `json:"expires_at"`
	Status    RequestStatus `json:"status"`
	PaidTx    *common.Hash  `json:"paid_tx,omitempty"`
	Doc       []byte        `json:"doc"`
	LastEvent uint64        `json:"last_event,omitempty"` // schema 9; older records have none
	Chains    []uint64      `json:"chains,omitempty"`     // schema 13; older records have none (the home chain's)
}

type paymentRecord struct {
	TxHash     common.Hash     `json:"tx_hash"`
	RequestID  string          `json:"request_id"`
	From       common.Address  `json:"from"`
	Nonce      uint64          `json:"nonce"`
	Asset      string          `json:"asset"`
	Amount     string          `json:"amount"`
	Raw        []byte          `json:"raw"`
	State      PaymentState    `json:"state"`
	Reason     string          `json:"reason,omitempty"`
	AcceptedAt time.Time       `json:"accepted_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	Seq        uint64          `json:"seq"`
	Delivery   *deliveryRecord `json:"delivery,omitempty"`
	// Schema 5 added it; omitted for handover, so records written before
	// read as handover without a rewrite.
	Source PaymentSource `json:"source,omitempty"`
	// Schema 6: set for source authorization only.
	Auth *authorizationRecord `json:"authorization,omitempty"`
	// Schema 9; older records have none.
	LastEvent uint64 `json:"last_event,omitempty"`
	// Schema 13: every record has one (the migration writes the home
	// chain's into older ones).
	ChainID uint64 `json:"chain_id"`
}

type deliveryRecord struct {
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	Block       uint64    `json:"block,omitempty"`
	Retrying    time.Time `json:"retrying,omitzero"`
	// Schema 3 added these; older records have none, and read as zero.
	BlockHash *common.Hash `json:"block_hash,omitempty"`
	Reorgs    int          `json:"reorgs,omitempty"`
	ReorgNote string       `json:"reorg_note,omitempty"`
}

// encodeRequest is r's record as schema 14 writes it: binary, or JSON
// where the binary form cannot say it exactly (binrecord.go).
func encodeRequest(r Request) ([]byte, error) {
	b, err := encodeRequestBinary(r)
	if err != nil && r.shared != 0 {
		// The JSON form has no field for the shared part's number.
		return nil, fmt.Errorf("encode request %q with a shared part: %w", r.ID, err)
	}
	return jsonOrBinary(b, err, func() ([]byte, error) { return encodeRequestJSON(r) })
}

// decodeRequest reads a request record stored under id, in either form.
func decodeRequest(id, b []byte) (Request, error) {
	if len(b) > 0 && b[0] == binVersion {
		return decodeRequestBinary(id, b)
	}
	return decodeRequestJSON(b)
}

// encodePayment is p's record as schema 14 writes it: binary, or JSON
// where the binary form cannot say it exactly (binrecord.go).
func encodePayment(p Payment) ([]byte, error) {
	b, err := encodePaymentBinary(p)
	return jsonOrBinary(b, err, func() ([]byte, error) { return encodePaymentJSON(p) })
}

// decodePayment reads a payment record stored under hash, in either form.
func decodePayment(hash, b []byte) (Payment, error) {
	if len(b) == 0 || b[0] != binVersion {
		return decodePaymentJSON(b)
	}
	p, err := decodePaymentBinary(hash, b)
	if err != nil {
		return Payment{}, err
	}
	if (p.Source == SourceAuthorization) != (p.Authorization != nil) {
		return Payment{}, fmt.Errorf("decode payment %s: source %s with authorization %v: %w", p.TxHash, p.Source, p.Authorization != nil, ErrCorrupt)
	}
	return p, nil
}

// encodeRequestJSON is r's record as JSON, the form before schema 14.
func encodeRequestJSON(r Request) ([]byte, error) {
	rec := requestRecord{
		ID: r.ID, Asset: r.Asset, Amount: r.Amount.String(),
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, Status: r.Status, Doc: r.Doc,
		LastEvent: r.LastEvent, Chains: r.Chains,
	}
	if r.PaidTx != (common.Hash{}) {
		h := r.PaidTx
		rec.PaidTx = &h
	}
	return json.Marshal(rec)
}

func decodeRequestJSON(b []byte) (Request, error) {
	var rec requestRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Request{}, fmt.Errorf("decode request: %v: %w", err, ErrCorrupt)
	}
	amount, ok := new(big.Int).SetString(rec.Amount, 10)
	if !ok {
		return Request{}, fmt.Errorf("decode request %s: bad amount %q: %w", rec.ID, rec.Amount, ErrCorrupt)
	}
	r := Request{
		ID: rec.ID, Asset: rec.Asset, Amount: amount,
		CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt, Status: rec.Status, Doc: rec.Doc,
		LastEvent: rec.LastEvent, Chains: rec.Chains,
	}
	if rec.PaidTx != nil {
		r.PaidTx = *rec.PaidTx
	}
	return r, nil
}

// encodePaymentJSON is p's record as JSON, the form before schema 14.
func encodePaymentJSON(p Payment) ([]byte, error) {
	rec := paymentRecord{
		TxHash: p.TxHash, RequestID: p.RequestID, From: p.From, Nonce: p.Nonce,
		Asset: p.Asset, Amount: p.Amount.String(), Raw: p.Raw, State: p.State,
		Reason: p.Reason, AcceptedAt: p.AcceptedAt, UpdatedAt: p.UpdatedAt, Seq: p.Seq,
		LastEvent: p.LastEvent, ChainID: p.ChainID,
	}
	if p.Source != SourceHandover {
		rec.Source = p.Source
	}
	if a := p.Authorization; a != nil {
		rec.Auth = encodeAuthorization(a)
	}
	if d := p.Delivery; d != (Delivery{}) {
		rec.Delivery = &deliveryRecord{
			Attempts: d.Attempts, NextAttempt: d.NextAttempt, LastError: d.LastError,
			SentAt: d.SentAt, Block: d.Block, Retrying: d.Retrying,
			Reorgs: d.Reorgs, ReorgNote: d.ReorgNote,
		}
		if d.BlockHash != (common.Hash{}) {
			h := d.BlockHash
			rec.Delivery.BlockHash = &h
		}
	}
	return json.Marshal(rec)
}

func decodePaymentJSON(b []byte) (Payment, error) {
	var rec paymentRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Payment{}, fmt.Errorf("decode payment: %v: %w", err, ErrCorrupt)
	}
	amount, ok := new(big.Int).SetString(rec.Amount, 10)
	if !ok {
		return Payment{}, fmt.Errorf("decode payment %s: bad amount %q: %w", rec.TxHash, rec.Amount, ErrCorrupt)
	}
	p := Payment{
		TxHash: rec.TxHash, RequestID: rec.RequestID, From: rec.From, Nonce: rec.Nonce,
		Asset: rec.Asset, Amount: amount, Raw: rec.Raw, State: rec.State,
		Reason: rec.Reason, AcceptedAt: rec.AcceptedAt, UpdatedAt: rec.UpdatedAt, Seq: rec.Seq,
		Source: rec.Source, LastEvent: rec.LastEvent, ChainID: rec.ChainID,
	}
	if p.Source == "" {
		p.Source = SourceHandover
	}
	if rec.Auth != nil {
		a, err := decodeAuthorization(rec.Auth)
		if err != nil {
			return Payment{}, fmt.Errorf("decode payment %s: %w", rec.TxHash, err)
		}
		p.Authorization = a
	}
	if (p.Source == SourceAuthorization) != (p.Authorization != nil) {
		return Payment{}, fmt.Errorf("decode payment %s: source %s with authorization %v: %w", rec.TxHash, p.Source, p.Authorization != nil, ErrCorrupt)
	}
	if d := rec.Delivery; d != nil {
		p.Delivery = Delivery{
			Attempts: d.Attempts, NextAttempt: d.NextAttempt, LastError: d.LastError,
			SentAt: d.SentAt, Block: d.Block, Retrying: d.Retrying,
			Reorgs: d.Reorgs, ReorgNote: d.ReorgNote,
		}
		if d.BlockHash != nil {
			p.Delivery.BlockHash = *d.BlockHash
		}
	}
	return p, nil
}

// storeTime drops the monotonic reading and the zone so that a time reads
// back from the file equal (==) to what was returned when it was written.
func storeTime(t time.Time) time.Time { return t.Round(0).UTC() }

// senderNonceKey is a handover's key in by_sender_nonce, open and
// unfinal: chain (8, big-endian) || sender (20) || nonce (8, big-endian).
func senderNonceKey(chain uint64, from common.Address, nonce uint64) []byte {
	return append(chainKey(chain, from[:]), binary.BigEndian.AppendUint64(nil, nonce)...)
}

// legacySenderNonceKey is senderNonceKey before schema 13: no chain.
func legacySenderNonceKey(from common.Address, nonce uint64) []byte {
	k := make([]byte, common.AddressLength+8)
	copy(k, from[:])
	binary.BigEndian.PutUint64(k[common.AddressLength:], nonce)
	return k
}

// chainKey is rest under chain: chain (8, big-endian) || rest, the key
// of every per-chain entry from schema 13 on.
func chainKey(chain uint64, rest []byte) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(rest)), chain), rest...)
}

// chainPrefix is the first 8 bytes of a per-chain key.
func chainPrefix(chain uint64) []byte { return binary.BigEndian.AppendUint64(nil, chain) }

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func decodeAmount(asset string, v []byte) (*big.Int, error) {
	if v == nil {
		return new(big.Int), nil
	}
	n, ok := new(big.Int).SetString(string(v), 10)
	if !ok {
		return nil, fmt.Errorf("unsettled %s: bad amount %q: %w", asset, v, ErrCorrupt)
	}
	return n, nil
}
