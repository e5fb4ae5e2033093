package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// Payments seen on chain.
//
// The chain watcher (sync/watch) follows the merchant's incoming transfers
// block by block and records them here, a range of blocks at a time: the
// store's methods below are its Ledger. Recording a range is one durable
// write that records its transfers, matches them to requests and moves the
// watcher's cursor together; so a crash (kill -9 included) leaves the range
// recorded whole with the cursor after it, or not at all with the cursor
// before it, and the watcher reads it again: no transfer recorded twice,
// none lost.
//
// Matching (inside that write): a transfer pays the pending request of the
// same asset whose amount equals the transfer's exactly, created at or
// before the block's timestamp and expiring after it minus MatchGrace. The
// request becomes paid by the transfer's transaction and a payment with
// source chain and state seen is stored, with the next Seq like any other.
// A transfer whose transaction is already a handed-over payment in the
// store is that payment (recorded, not paid again); so is one whose
// transaction the relayer signed to settle an authorization (relay.go). Anything else is an
// unmatched receipt: a transfer of no pending request's amount, made
// before a request was created or after its expiry plus grace, to a
// request cancelled or already paid, a second transfer in one transaction,
// a balance gap, one that would pay a request but is seen on a chain
// RetireChains took out of service (network_removed). Unmatched receipts
// are kept in their own bucket and never dropped.

// Transfer is money that reached the merchant in one block, as the watcher
// saw it (sync/watch.Transfer, field for field).
type Transfer struct {
	Block     uint64
	BlockHash common.Hash
	BlockTime time.Time      // the block's timestamp
	TxHash    common.Hash    // zero for a balance gap
	Index     uint           // log index (ERC-20), or the transaction's index in the block (native)
	From      common.Address // zero for a balance gap
	Asset     string         // the configured asset's symbol
	Amount    *big.Int       // base units
	// Gap: an increase of the merchant's native balance over a processed
	// range that no transaction explains; Block is the range's end.
	Gap bool
}

// WatchCursor is how far the watcher has processed: every block up to
// Height, and the hashes of the last blocks it processed, newest last
// (sync/watch.Cursor, field for field).
type WatchCursor struct {
	Height uint64
	Hashes []common.Hash
}

// maxCursorHashes bounds the hashes a cursor keeps (a final depth of 64
// blocks on Ethereum, with room).
const maxCursorHashes = 1024

// Unmatched reasons, stored with each unmatched receipt (Payment.Reason).
const (
	UnmatchedNoRequest     = "no_request"     // no pending request of that asset and amount
	UnmatchedBeforeRequest = "before_request" // a request of that amount was made after the block
	UnmatchedExpired       = "expired"        // its request had expired (plus grace) at the block's time
	UnmatchedSecondInTx    = "second_in_tx"   // one transaction's second transfer to the merchant, or its replay on another chain
	UnmatchedBalanceGap    = "balance_gap"    // a native balance increase no transaction explains
	// UnmatchedNetworkRemoved: seen on a chain RetireChains took out of
	// service (its network removed from the config), where no request is
	// paid any more; the request it would have paid, if any, is named.
	UnmatchedNetworkRemoved = "network_removed"
)

// Outcome of a recorded transfer.
const (
	outcomePayment   = "payment"   // paid a request: a chain payment
	outcomeUnmatched = "unmatched" // an unmatched receipt
	outcomeHandover  = "handover"  // the transfer of a handed-over payment already stored
	// the transfer of an authorization's settlement: a transaction the
	// relayer signed (relay_hashes); the relayer reports its outcome
	outcomeSettlement = "settlement"
)

type transferRecord struct {
	Block     uint64         `json:"block"`
	BlockHash common.Hash    `json:"block_hash"`
	BlockTime time.Time      `json:"block_time"`
	TxHash    common.Hash    `json:"tx_hash"`
	Index     uint           `json:"index"`
	From      common.Address `json:"from"`
	Asset     string         `json:"asset"`
	Amount    string         `json:"amount"`
	Gap       bool           `json:"gap,omitempty"`
	Outcome   string         `json:"outcome"`
	Unmatched uint64         `json:"unmatched,omitempty"` // its unmatched seq
}

type unmatchedRecord struct {
	Seq       uint64         `json:"seq"`
	TxHash    common.Hash    `json:"tx_hash"`
	Index     uint           `json:"index"`
	From      common.Address `json:"from"`
	Asset     string         `json:"asset"`
	Amount    string         `json:"amount"`
	Block     uint64         `json:"block"`
	BlockHash common.Hash    `json:"block_hash"`
	BlockTime time.Time      `json:"block_time"`
	Gap       bool           `json:"gap,omitempty"`
	Reason    string         `json:"reason"`
	RequestID string         `json:"request_id,omitempty"` // the request of that amount, if one was near
	Recorded  time.Time      `json:"recorded"`
	LastEvent uint64         `json:"last_event,omitempty"` // schema 9: its payment.unmatched event
	ChainID   uint64         `json:"chain_id"`             // schema 13: the chain it was seen on (the migration writes the home chain's)
	// AckedAt: when the operator acknowledged it (AckUnmatched, unmatched.go);
	// zero: not yet. Older records have none.
	AckedAt time.Time `json:"acked_at,omitzero"`
}

type cursorRecord struct {
	Height uint64        `json:"height"`
	Hashes []common.Hash `json:"hashes"`
}

// keyCursor is the cursor's key before schema 13; from 13 on each chain's
// is under its chain id (chainPrefix).
var keyCursor = []byte("cursor")

// transferID is a transfer's identity on chain: tx hash (32) || index
// (8) || chain (8). A balance gap has no transaction: its identity is the
// zero hash || its block || chain. The chain is in it because neither a
// gap's block nor the hash of a transaction with no chain id (before
// EIP-155, replayable on every chain) names one; it is last so that every
// transfer of a tx hash, on any chain, is one range (Accept refuses a
// hash the watcher recorded unmatched anywhere).
func transferID(chain uint64, t Transfer) []byte {
	k := make([]byte, 0, transferIDLen)
	k = append(k, t.TxHash[:]...)
	if t.Gap {
		k = binary.BigEndian.AppendUint64(k, t.Block)
	} else {
		k = binary.BigEndian.AppendUint64(k, uint64(t.Index))
	}
	return binary.BigEndian.AppendUint64(k, chain)
}

// transferIDLen is a transferID's length (40 before schema 13).
const transferIDLen = 32 + 8 + 8

// blockKey is a key of chain_transfers and chain_unfinal: chain (8) ||
// block (8) || rest.
func blockKey(chain, block uint64, rest []byte) []byte {
	return chainKey(chain, append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(rest)), block), rest...))
}

// Recorded is what one RecordRange stored: the chain payments it made
// (state seen) and the unmatched receipts, in the order given. Transfers
// recorded before, and those of handed-over payments, are in neither.
type Recorded struct {
	Payments  []Payment
	Unmatched []Payment // State PaymentUnmatched; Seq is the receipt's own
}

// WatchCursor returns the watcher's cursor; ok is false before its first
// range.
func (cs *ChainStore) WatchCursor() (c WatchCursor, ok bool, err error) {
	err = cs.view(func(tx *bbolt.Tx) error {
		c, ok, err = readCursor(tx, chainPrefix(cs.id))
		return err
	})
	return c, ok, err
}

// readCursor reads the cursor under key: a chain's (chainPrefix), or
// keyCursor in a file before schema 13.
func readCursor(tx *bbolt.Tx, key []byte) (WatchCursor, bool, error) {
	v, err := getChecked(tx, bucketWatch, key)
	if err != nil || v == nil {
		return WatchCursor{}, false, err
	}
	var rec cursorRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return WatchCursor{}, false, fmt.Errorf("watch cursor: %v: %w", err, ErrCorrupt)
	}
	return WatchCursor{Height: rec.Height, Hashes: rec.Hashes}, true, nil
}

func writeCursor(w *wtx, chain uint64, c WatchCursor) error {
	enc, err := json.Marshal(cursorRecord{Height: c.Height, Hashes: c.Hashes})
	if err != nil {
		return err
	}
	return w.putChecked(bucketWatch, chainPrefix(chain), enc)
}

func validCursor(c WatchCursor) error {
	if len(c.Hashes) > maxCursorHashes {
		return fmt.Errorf("cursor holds %d hashes, at most %d", len(c.Hashes), maxCursorHashes)
	}
	return nil
}

// RecordRange records the transfers of the blocks after the chain's
// stored cursor up to next.Height, matches them (see the top of this
// file) to pending requests offered on the chain (Request.Chains) and
// moves the chain's cursor to next, in one durable write. Idempotent per transfer (TxHash,
// Index): a transfer already recorded is not recorded again, and one whose
// TxHash is a handed-over payment already stored is that payment.
func (cs *ChainStore) RecordRange(ctx context.Context, next WatchCursor, ts []Transfer) error {
	_, err := cs.RecordRangeOutcome(ctx, next, ts)
	return err
}

// RecordRangeOutcome is RecordRange, returning what it stored, so the till
// can tell the screen (a sale on screen shown SEEN) and the metrics.
func (cs *ChainStore) RecordRangeOutcome(ctx context.Context, next WatchCursor, ts []Transfer) (Recorded, error) {
	s, chain := cs.s, cs.id
	if err := validCursor(next); err != nil {
		return Recorded{}, fmt.Errorf("record range to %d: %w", next.Height, err)
	}
	for i, t := range ts {
		if err := validTransfer(t, next.Height); err != nil {
			return Recorded{}, fmt.Errorf("record range to %d: transfer %d: %w", next.Height, i, err)
		}
	}
	now := storeTime(s.now())
	var out Recorded
	err := s.write(ctx, func(w *wtx) error {
		out = Recorded{}
		cur, ok, err := readCursor(w.tx, chainPrefix(chain))
		if err != nil {
			return fmt.Errorf("record range to %d: %w", next.Height, err)
		}
		if ok && next.Height < cur.Height {
			return fmt.Errorf("record range to %d: the cursor is at %d; a reorg is Rewind's: %w", next.Height, cur.Height, ErrBadTransition)
		}
		// Record each transfer in order, seeing the ones before it (one
		// transaction sees its own writes): a transfer's checks all come
		// before its writes only per transfer, so any error after the first
		// write aborts the whole batch (committer), never half a range.
		// Asked inside the write: the committer's order decides between
		// this range and RetireChains, as for Accept.
		retired := s.isRetired(chain)
		for _, t := range ts {
			if err := recordTransfer(w, chain, s.home, retired, t, now, &out); err != nil {
				return fmt.Errorf("record range to %d: tx %s index %d: %w", next.Height, t.TxHash, t.Index, err)
			}
		}
		if err := writeCursor(w, chain, next); err != nil {
			return fmt.Errorf("record range to %d: %w", next.Height, err)
		}
		return nil
	})
	if err != nil {
		return Recorded{}, err
	}
	return out, nil
}

func validTransfer(t Transfer, height uint64) error {
	switch {
	case t.Block > height:
		return fmt.Errorf("block %d above the range's end %d", t.Block, height)
	case t.Amount == nil || t.Amount.Sign() <= 0 || t.Amount.BitLen() > 256:
		return fmt.Errorf("amount %v: want 1 to 2^256-1", t.Amount)
	case t.Asset == "" || len(t.Asset) > maxAssetKey:
		return fmt.Errorf("asset %q: want 1 to %d bytes", t.Asset, maxAssetKey)
	case t.Gap != (t.TxHash == common.Hash{}):
		return fmt.Errorf("gap %v with tx hash %s: a gap, and only a gap, has none", t.Gap, t.TxHash)
	}
	return nil
}

// recordTransfer records one transfer inside RecordRange's write. On a
// retired chain (RetireChains) it pays no request: what would have is
// unmatched network_removed, naming the request.
func recordTransfer(w *wtx, chain, home uint64, retired bool, t Transfer, now time.Time, out *Recorded) error {
	id := transferID(chain, t)
	if v, err := w.getChecked(bucketTransferIDs, id); err != nil {
		return err
	} else if v != nil {
		return nil // recorded before
	}
	rec := transferRecord{
		Block: t.Block, BlockHash: t.BlockHash, BlockTime: storeTime(t.BlockTime), TxHash: t.TxHash,
		Index: t.Index, From: t.From, Asset: t.Asset, Amount: t.Amount.String(), Gap: t.Gap,
	}
	reason, req := "", (*Request)(nil)
	if t.Gap {
		reason = UnmatchedBalanceGap
	} else {
		// The relayer's settlement of an authorization moves the payer's
		// tokens to the merchant in a transaction of its own: that
		// authorization's payment, whose state the relayer follows.
		if auth, err := w.getChecked(bucketRelayHashes, t.TxHash[:]); err != nil {
			return err
		} else if auth != nil {
			rec.Outcome = outcomeSettlement
			return putTransfer(w, chain, id, rec)
		}
		existing, err := w.getChecked(bucketPayments, t.TxHash[:])
		if err != nil {
			return err
		}
		if existing != nil {
			p, err := decodePayment(t.TxHash[:], existing)
			if err != nil {
				return err
			}
			if p.Source == SourceHandover && p.ChainID == chain {
				rec.Outcome = outcomeHandover
				return putTransfer(w, chain, id, rec)
			}
			// A second transfer of its transaction, or the transaction
			// replayed on another chain (one with no chain id has one
			// hash everywhere): the merchant got it a second time.
			reason = UnmatchedSecondInTx
		} else {
			var err error
			if req, reason, err = matchRequest(w, chain, home, t); err != nil {
				return err
			}
			if retired && reason == "" {
				// Nothing follows a payment on a removed network to
				// confirmed (its watcher is stopping): the money is
				// kept as a receipt, the request stays payable where
				// it is still offered.
				reason = UnmatchedNetworkRemoved
			}
		}
	}
	if reason == "" {
		p, err := payByChain(w, chain, t, *req, now)
		if err != nil {
			return err
		}
		rec.Outcome = outcomePayment
		if err := putTransfer(w, chain, id, rec); err != nil {
			return err
		}
		out.Payments = append(out.Payments, p)
		return nil
	}
	u, err := putUnmatched(w, chain, t, reason, req, now)
	if err != nil {
		return err
	}
	rec.Outcome, rec.Unmatched = outcomeUnmatched, u.Seq
	if err := putTransfer(w, chain, id, rec); err != nil {
		return err
	}
	out.Unmatched = append(out.Unmatched, u)
	return nil
}

// matchRequest finds the request t, seen on chain, pays; none gives the
// reason it is unmatched (and the nearest request of that amount, if
// any). A request not offered on chain is not one t can pay, nor near.
func matchRequest(w *wtx, chain, home uint64, t Transfer) (*Request, string, error) {
	rs, err := pendingWithAmount(w.tx, t.Asset, t.Amount)
	if err != nil {
		return nil, "", err
	}
	at := storeTime(t.BlockTime)
	var early, late *Request
	for i := range rs {
		r := &rs[i]
		switch {
		case !r.offeredOn(chain, home):
		case at.Before(r.CreatedAt):
			early = r
		case !at.Before(r.ExpiresAt.Add(MatchGrace)):
			late = r
		default:
			return r, "", nil
		}
	}
	switch {
	case late != nil:
		return late, UnmatchedExpired, nil
	case early != nil:
		return early, UnmatchedBeforeRequest, nil
	}
	return nil, UnmatchedNoRequest, nil
}

// payByChain marks r paid by t's transaction and stores the chain payment.
func payByChain(w *wtx, chain uint64, t Transfer, r Request, now time.Time) (Payment, error) {
	seen, err := readChainCount(w.tx, chain, PaymentSeen)
	if err != nil {
		return Payment{}, err
	}
	seq, err := w.nextSeq(bucketBySeq)
	if err != nil {
		return Payment{}, fmt.Errorf("next seq: %w", err)
	}
	p := Payment{
		TxHash: t.TxHash, Source: SourceChain, RequestID: r.ID, From: t.From,
		Asset: t.Asset, Amount: new(big.Int).Set(t.Amount), State: PaymentSeen,
		AcceptedAt: storeTime(t.BlockTime), UpdatedAt: now, Seq: seq,
		Delivery: Delivery{Block: t.Block, BlockHash: t.BlockHash}, ChainID: chain,
	}
	r.Status, r.PaidTx = RequestPaid, t.TxHash
	pEv, err := w.nextEvent()
	if err != nil {
		return Payment{}, err
	}
	rEv, err := w.nextEvent()
	if err != nil {
		return Payment{}, err
	}
	p.LastEvent, r.LastEvent = pEv, rEv
	encP, err := encodePayment(p)
	if err != nil {
		return Payment{}, err
	}
	encR, err := encodeRequest(r)
	if err != nil {
		return Payment{}, err
	}
	for _, e := range []kv{
		{bucketPayments, t.TxHash[:], encP},
		{bucketBySeq, seqKey(seq), t.TxHash[:]},
		{bucketChainUnfinal, blockKey(chain, t.Block, t.TxHash[:]), t.TxHash[:]},
		{bucketRequests, []byte(r.ID), encR},
		{bucketCounts, countKey(chain, PaymentSeen), countBytes(seen + 1)},
	} {
		if err := w.putChecked(e.b, e.k, e.v); err != nil {
			return Payment{}, err
		}
	}
	if err := unreserve(w, r); err != nil {
		return Payment{}, err
	}
	if err := leaveExpiry(w, r); err != nil {
		return Payment{}, err
	}
	if err := w.putEvent(pEv, w.paymentEvent(EventPaymentSeen, p, "", now)); err != nil {
		return Payment{}, err
	}
	if err := w.putEvent(rEv, w.requestEvent(EventRequestPaid, r, RequestPaid, now)); err != nil {
		return Payment{}, err
	}
	return p, nil
}

func putUnmatched(w *wtx, chain uint64, t Transfer, reason string, near *Request, now time.Time) (Payment, error) {
	n, err := readChainCount(w.tx, chain, PaymentUnmatched)
	if err != nil {
		return Payment{}, err
	}
	seq, err := w.nextSeq(bucketUnmatched)
	if err != nil {
		return Payment{}, fmt.Errorf("next unmatched seq: %w", err)
	}
	rec := unmatchedRecord{
		Seq: seq, TxHash: t.TxHash, Index: t.Index, From: t.From, Asset: t.Asset, Amount: t.Amount.String(),
		Block: t.Block, BlockHash: t.BlockHash, BlockTime: storeTime(t.BlockTime), Gap: t.Gap,
		Reason: reason, Recorded: now, ChainID: chain,
	}
	if near != nil {
		rec.RequestID = near.ID
	}
	if rec.LastEvent, err = w.nextEvent(); err != nil {
		return Payment{}, err
	}
	enc, err := json.Marshal(rec)
	if err != nil {
		return Payment{}, err
	}
	if err := w.putChecked(bucketUnmatched, seqKey(seq), enc); err != nil {
		return Payment{}, err
	}
	if err := w.putChecked(bucketCounts, countKey(chain, PaymentUnmatched), countBytes(n+1)); err != nil {
		return Payment{}, err
	}
	p, err := rec.payment()
	if err != nil {
		return Payment{}, err
	}
	if err := w.putEvent(rec.LastEvent, w.paymentEvent(EventPaymentUnmatched, p, "", now)); err != nil {
		return Payment{}, err
	}
	return p, nil
}

// payment shows an unmatched receipt as a Payment in state unmatched:
// AcceptedAt is the block's time, Seq the receipt's own (unmatched
// receipts are numbered apart from payments).
func (u unmatchedRecord) payment() (Payment, error) {
	amount, ok := new(big.Int).SetString(u.Amount, 10)
	if !ok {
		return Payment{}, fmt.Errorf("unmatched %d: bad amount %q: %w", u.Seq, u.Amount, ErrCorrupt)
	}
	return Payment{
		TxHash: u.TxHash, Source: SourceChain, RequestID: u.RequestID, From: u.From, Asset: u.Asset,
		Amount: amount, State: PaymentUnmatched, Reason: u.Reason, AcceptedAt: u.BlockTime,
		UpdatedAt: u.Recorded, Seq: u.Seq, Delivery: Delivery{Block: u.Block, BlockHash: u.BlockHash},
		LastEvent: u.LastEvent, AckedAt: u.AckedAt, ChainID: u.ChainID,
	}, nil
}

func putTransfer(w *wtx, chain uint64, id []byte, rec transferRecord) error {
	enc, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := w.putChecked(bucketTransfers, blockKey(chain, rec.Block, id), enc); err != nil {
		return err
	}
	return w.putChecked(bucketTransferIDs, id, blockKey(chain, rec.Block, nil))
}

// Rewound is what one Rewind took back.
type Rewound struct {
	Payments  []Payment // chain payments removed (their requests pending again)
	Unmatched []Payment // unmatched receipts removed
}

// Rewind takes back everything recorded on the chain from blocks above c.Height (their
// blocks were reorganised away), in one durable write that also moves the
// cursor to c: a chain payment is removed and its request is pending again
// (expired, if its time has passed; it is paid again if the transfer is
// mined again in time, MatchGrace included), an unmatched receipt is
// removed, counts follow. A handed-over payment's transfer is only
// forgotten: the broadcaster follows that payment itself. c.Height above
// the stored cursor is refused.
func (cs *ChainStore) Rewind(ctx context.Context, c WatchCursor) error {
	_, err := cs.RewindOutcome(ctx, c)
	return err
}

// RewindOutcome is Rewind, returning what it took back.
func (cs *ChainStore) RewindOutcome(ctx context.Context, c WatchCursor) (Rewound, error) {
	s, chain := cs.s, cs.id
	if err := validCursor(c); err != nil {
		return Rewound{}, fmt.Errorf("rewind to %d: %w", c.Height, err)
	}
	var out Rewound
	now := storeTime(s.now())
	err := s.write(ctx, func(w *wtx) error {
		out = Rewound{}
		cur, ok, err := readCursor(w.tx, chainPrefix(chain))
		if err != nil {
			return fmt.Errorf("rewind to %d: %w", c.Height, err)
		}
		if ok && c.Height > cur.Height {
			return fmt.Errorf("rewind to %d: the cursor is at %d: %w", c.Height, cur.Height, ErrBadTransition)
		}
		// Collect first: bbolt does not promise a cursor survives a delete.
		type entry struct{ k, v []byte }
		var gone []entry
		cr := w.bucket(bucketTransfers).Cursor()
		prefix := chainPrefix(chain)
		for k, v := cr.Seek(blockKey(chain, c.Height+1, nil)); k != nil && bytes.HasPrefix(k, prefix); k, v = cr.Next() {
			gone = append(gone, entry{bytes.Clone(k), bytes.Clone(v)})
		}
		counts := newCountDeltas()
		for _, e := range gone {
			if err := rewindTransfer(w, e.k, e.v, counts, now, &out); err != nil {
				return fmt.Errorf("rewind to %d: %w", c.Height, err)
			}
		}
		if err := counts.write(w); err != nil {
			return fmt.Errorf("rewind to %d: %w", c.Height, err)
		}
		if err := writeCursor(w, chain, c); err != nil {
			return fmt.Errorf("rewind to %d: %w", c.Height, err)
		}
		return nil
	})
	if err != nil {
		return Rewound{}, err
	}
	return out, nil
}

func rewindTransfer(w *wtx, k, v []byte, counts *countDeltas, now time.Time, out *Rewound) error {
	body, err := checkValue(bucketTransfers, k, v)
	if err != nil {
		return err
	}
	var rec transferRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		return fmt.Errorf("transfer 0x%x: %v: %w", k, err, ErrCorrupt)
	}
	switch rec.Outcome {
	case outcomePayment:
		p, err := loadPayment(w, rec.TxHash)
		if err != nil {
			return fmt.Errorf("transfer 0x%x names payment %s: %v: %w", k, rec.TxHash, err, ErrCorrupt)
		}
		r, err := requestByID(w.tx, p.RequestID)
		if err != nil {
			return err
		}
		pEv, err := w.nextEvent()
		if err != nil {
			return err
		}
		if err := w.putEvent(pEv, w.paymentEvent(EventPaymentRewound, p, "", now)); err != nil {
			return err
		}
		if r.Status == RequestPaid && r.PaidTx == p.TxHash {
			r.Status, r.PaidTx = RequestPending, common.Hash{}
			if r.LastEvent, err = w.nextEvent(); err != nil {
				return err
			}
			enc, err := encodeRequest(r)
			if err != nil {
				return err
			}
			if err := w.putChecked(bucketRequests, []byte(r.ID), enc); err != nil {
				return err
			}
			if err := reserve(w, r); err != nil {
				return err
			}
			// Its expiry is to be reported again (the sweep reports it at
			// once if its time and grace have passed).
			if err := enterExpiry(w, r); err != nil {
				return err
			}
			if err := w.putEvent(r.LastEvent, w.requestEvent(EventRequestReopened, r, r.StatusAt(now), now)); err != nil {
				return err
			}
		}
		for _, d := range []kv{
			{b: bucketPayments, k: p.TxHash[:]},
			{b: bucketBySeq, k: seqKey(p.Seq)},
			{b: bucketChainUnfinal, k: blockKey(p.ChainID, p.Delivery.Block, p.TxHash[:])},
		} {
			if w.bucket(d.b).Get(d.k) != nil {
				if err := w.del(d.b, d.k); err != nil {
					return err
				}
			}
		}
		counts.add(p.ChainID, p.State, -1)
		out.Payments = append(out.Payments, p)
	case outcomeUnmatched:
		key := seqKey(rec.Unmatched)
		uv, err := w.getChecked(bucketUnmatched, key)
		if err != nil {
			return err
		}
		if uv == nil {
			return fmt.Errorf("transfer 0x%x names unmatched %d, which is not stored: %w", k, rec.Unmatched, ErrCorrupt)
		}
		u, err := decodeUnmatched(uv)
		if err != nil {
			return err
		}
		if err := w.del(bucketUnmatched, key); err != nil {
			return err
		}
		seq, err := w.nextEvent()
		if err != nil {
			return err
		}
		if err := w.putEvent(seq, w.paymentEvent(EventPaymentRewound, u, "", now)); err != nil {
			return err
		}
		counts.add(u.ChainID, PaymentUnmatched, -1)
		out.Unmatched = append(out.Unmatched, u)
	case outcomeHandover:
	default:
		return fmt.Errorf("transfer 0x%x: outcome %q: %w", k, rec.Outcome, ErrCorrupt)
	}
	if err := w.del(bucketTransfers, k); err != nil {
		return err
	}
	return w.del(bucketTransferIDs, k[16:])
}

func decodeUnmatched(v []byte) (Payment, error) {
	var u unmatchedRecord
	if err := json.Unmarshal(v, &u); err != nil {
		return Payment{}, fmt.Errorf("decode unmatched: %v: %w", err, ErrCorrupt)
	}
	return u.payment()
}

// Settle marks the chain's chain payments in blocks at or below confirmed as
// confirmed, and at or below final as final (leaving the index Settle
// reads), in one durable write; idempotent. It returns the payments it
// moved, as stored. Handed-over payments are the broadcaster's and are not
// touched. Unmatched receipts have no state to settle.
func (cs *ChainStore) Settle(ctx context.Context, confirmed, final uint64) error {
	_, err := cs.SettleOutcome(ctx, confirmed, final)
	return err
}

// SettleOutcome is Settle, returning the payments it moved.
func (cs *ChainStore) SettleOutcome(ctx context.Context, confirmed, final uint64) ([]Payment, error) {
	s, chain := cs.s, cs.id
	now := storeTime(s.now())
	upto := max(confirmed, final)
	var out []Payment
	err := s.write(ctx, func(w *wtx) error {
		out = nil
		type entry struct{ k, h []byte }
		var due []entry
		c := w.bucket(bucketChainUnfinal).Cursor()
		prefix := chainPrefix(chain)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && binary.BigEndian.Uint64(k[8:16]) <= upto; k, v = c.Next() {
			h, err := checkValue(bucketChainUnfinal, k, v)
			if err != nil {
				return fmt.Errorf("settle: %w", err)
			}
			due = append(due, entry{bytes.Clone(k), bytes.Clone(h)})
		}
		counts := newCountDeltas()
		for _, e := range due {
			p, err := loadPayment(w, common.BytesToHash(e.h))
			if err != nil {
				return fmt.Errorf("settle: index 0x%x: %v: %w", e.k, err, ErrCorrupt)
			}
			block := binary.BigEndian.Uint64(e.k[8:16])
			to := p.State
			switch {
			case block <= final:
				to = PaymentFinal
			case block <= confirmed:
				to = PaymentConfirmed
			}
			if to == p.State {
				continue
			}
			counts.add(chain, p.State, -1)
			counts.add(chain, to, +1)
			from := p.State
			p.State, p.UpdatedAt = to, now
			seq, err := w.nextEvent()
			if err != nil {
				return fmt.Errorf("settle %s: %w", p.TxHash, err)
			}
			p.LastEvent = seq
			kind := EventPaymentConfirmed
			if to == PaymentFinal {
				kind = EventPaymentFinal
			}
			if err := w.putEvent(seq, w.paymentEvent(kind, p, from, now)); err != nil {
				return fmt.Errorf("settle %s: %w", p.TxHash, err)
			}
			enc, err := encodePayment(p)
			if err != nil {
				return fmt.Errorf("settle %s: %w", p.TxHash, err)
			}
			if err := w.putChecked(bucketPayments, p.TxHash[:], enc); err != nil {
				return fmt.Errorf("settle %s: %w", p.TxHash, err)
			}
			if to == PaymentFinal {
				if err := w.del(bucketChainUnfinal, e.k); err != nil {
					return fmt.Errorf("settle %s: %w", p.TxHash, err)
				}
			}
			out = append(out, p)
		}
		return counts.write(w)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unmatchedPayments lists unmatched receipts for Payments (state
// unmatched): in their own order, filters as there.
func unmatchedPayments(tx *bbolt.Tx, f PaymentFilter, limit int) ([]Payment, error) {
	var out []Payment
	c := tx.Bucket(bucketUnmatched).Cursor()
	first, next := func() ([]byte, []byte) { return c.Seek(seqKey(f.AfterSeq + 1)) }, c.Next
	if f.Newest {
		first, next = c.Last, c.Prev
	}
	for k, v := first(); k != nil && len(out) < limit; k, v = next() {
		body, err := checkValue(bucketUnmatched, k, v)
		if err != nil {
			return nil, err
		}
		p, err := decodeUnmatched(body)
		if err != nil {
			return nil, err
		}
		if !f.Since.IsZero() && p.AcceptedAt.Before(f.Since) || !f.Until.IsZero() && !p.AcceptedAt.Before(f.Until) ||
			f.ChainID != 0 && p.ChainID != f.ChainID {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}
