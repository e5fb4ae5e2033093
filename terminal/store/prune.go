package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// The bounded store: Prune deletes what can no longer change and has been
// delivered, a few records per write, so the file stops growing (bbolt
// reuses the freed pages; it never shrinks the file: posctl store compact
// does that offline).
//
// What is prunable (all of it accepted, or made, before the bar; see
// Prune):
//
//   - a payment in state final (its block is final: no reorg can take it
//     back), handed over, seen on chain or an EIP-3009 authorization, with
//     the transfers the watcher recorded for it (chain_transfers,
//     chain_transfer_ids), its index entries (by_seq, by_sender_nonce or
//     auth_nonces while they name it) and the request it paid; a
//     handed-over one leaves its sender's nonce in spent_nonces (below);
//   - a payment in state failed whose failure was acknowledged, with its
//     failure record and the request it was for;
//   - for an authorization, also every row of the relayer's journal for
//     it (relay_by_auth), their hashes (relay_hashes) and the settlement
//     transfers recorded for those; only once its validBefore has passed
//     (the till refuses it from then on, so its nonce guards nothing) and
//     none of its rows is live (the relayer follows a sent or mined one);
//   - a request cancelled, or pending and reported expired by
//     ExpireRequests (out of the expiry index) more than AmountKeep after
//     its expiry, with its leftover pending_amounts entry;
//   - an unmatched receipt the operator acknowledged (AckUnmatched: it was
//     given back or booked by hand), in a block below the watcher's reorg
//     window, with its recorded transfer.
//
// Never prunable: queued, broadcast, seen and confirmed payments (a
// confirmed payment's block may still be lost until final), a failure or
// an unmatched receipt not acknowledged, a request still pending or paid
// by a payment kept, and any record whose LastEvent a registered sink has
// not delivered (EventLog().LowestDelivered).
//
// The bar is before, or the end of the last Z report if that is earlier:
// a payment of the current period (since the last Z) is never pruned, so
// an X report of it, and the next Z, read the same books whatever the
// pruner did. Z reports themselves are kept: they are small and they are
// the books.
//
// A handed-over payment held its sender+nonce while stored: Accept refused
// another transaction with it. A final one's nonce was mined, and so was
// every lower one of that sender, so when Prune deletes it the sender's
// highest such nonce goes into spent_nonces (bounded.go) and Accept
// refuses any nonce at or below it: the guard outlives the record, at one
// entry per payer. A failed payment's nonce was free already.

// PruneResult is what one Prune call deleted.
type PruneResult struct {
	Payments int // payments deleted (final, failed and acknowledged) and acknowledged unmatched receipts
	Requests int // requests deleted: those of the payments, and cancelled or expired ones
	// More: the walk has not reached its end; call again (after a pause,
	// to leave the writer to the till).
	More bool
}

// pruneWalk is where the pruner's walks stand between calls: the next
// acceptance Seq, failure number and request ID to look at. It lives in
// memory only: after a restart the walks begin again from the start,
// which reads what the last run skipped (records still kept) once more.
type pruneWalk struct {
	seq      uint64 // next by_seq key
	failure  uint64 // next failure number
	request  []byte // next request ID (nil: from the first)
	requests bool   // the request walk is under way (request nil means its start)
	receipt  uint64 // next unmatched receipt
}

// pruneScan bounds the keys one Prune call looks at per walk, as a
// multiple of its limit, so records that must be kept (an unacknowledged
// failure, a stuck payment, a request paid by a payment kept; the request
// walk jumps over those made since the bar, pastNewIDs) cost a bounded
// read per call:
// at limit 150, at most 600 records decoded per walk, in the read
// transaction (the write reads only what was picked).
const pruneScan = 4

// Prune deletes, in one durable write, up to limit prunable records (see
// the top of this file): final payments accepted before the bar and
// failed ones with acknowledged failures, with everything that belongs
// only to them, and finished requests made before the bar (a reported
// expired one also AmountKeep past its expiry, by the store's clock).
// limit <= 0 means 100; keep it small (100-200) so an accept queued
// behind the write waits little. Every count and index Open checks stays
// consistent; a crash at any moment leaves the write whole or not at all.
//
// Call it again while More is true. It walks payments in acceptance
// order, failures by number and requests by ID, each from where the last
// call stopped, reading at most pruneScan*limit keys of each, in a read
// transaction; the write then reads again only the records picked.
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (PruneResult, error) {
	if limit <= 0 {
		limit = 100
	}
	before, now := storeTime(before), storeTime(s.now())
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	// The walks read in a read transaction, beside the writer; the write
	// reads again only what they picked (at most limit records), checks
	// it still may go, and deletes it: an accept queued behind it waits
	// for that alone.
	next := s.prune
	next.request = bytes.Clone(next.request)
	var picked pruneCandidates
	var more bool
	err := s.view(func(tx *bbolt.Tx) error {
		pr, err := newPruner(tx, before, now)
		if err != nil {
			return err
		}
		more, err = pr.walk(&next, limit)
		picked = pr.picked
		return err
	})
	if err != nil {
		return PruneResult{}, fmt.Errorf("prune before %s: %w", before.Format(time.RFC3339), err)
	}
	res := PruneResult{More: more}
	if !picked.empty() {
		err = s.write(ctx, func(w *wtx) error {
			pr, err := newPruner(w.tx, before, now)
			if err != nil {
				return err
			}
			if err := pr.replan(picked); err != nil {
				return err
			}
			if err := pr.plan.do(w); err != nil {
				return err
			}
			res.Payments, res.Requests = pr.payments, pr.requests
			return nil
		})
		if err != nil {
			return PruneResult{}, fmt.Errorf("prune before %s: %w", before.Format(time.RFC3339), err)
		}
	}
	s.prune = next
	return res, nil
}

// pruneCandidates are what the walks picked, by key, for the write to
// read again.
type pruneCandidates struct {
	payments []common.Hash // final payments
	failures []uint64      // acknowledged failures, with their payments
	requests []string      // finished requests no payment holds
	receipts []uint64      // acknowledged unmatched receipts
}

func (c pruneCandidates) empty() bool {
	return len(c.payments)+len(c.failures)+len(c.requests)+len(c.receipts) == 0
}

// prunePlan is one Prune's deletions and count changes, all read before
// the first write (an op must not fail after writing: see op).
type prunePlan struct {
	dels   []kv // b and k only
	counts map[chainState]uint64
	seen   map[string]bool // bucket+key already planned
	// spent is, per sender, the highest nonce of a final handed-over
	// payment deleted (or already recorded): spent_nonces after the write.
	spent map[spentKey]uint64
	// chainTxs are the chain payments deleted: pruned_chain_txs after the
	// write.
	chainTxs []common.Hash
}

func (p *prunePlan) del(b, k []byte) {
	id := string(b) + "\x00" + string(k)
	if p.seen[id] {
		return
	}
	p.seen[id] = true
	p.dels = append(p.dels, kv{b: b, k: bytes.Clone(k)})
}

func (p *prunePlan) do(w *wtx) error {
	for _, d := range p.dels {
		if err := w.del(d.b, d.k); err != nil {
			return err
		}
	}
	for cs, n := range p.counts {
		if err := w.putChecked(bucketCounts, countKey(cs.chain, cs.state), countBytes(n)); err != nil {
			return err
		}
	}
	for k, nonce := range p.spent {
		if err := w.putChecked(bucketSpentNonces, chainKey(k.chain, k.from[:]), binary.BigEndian.AppendUint64(nil, nonce)); err != nil {
			return err
		}
	}
	for _, h := range p.chainTxs {
		if err := w.putChecked(bucketPrunedChainTxs, h[:], nil); err != nil {
			return err
		}
	}
	return nil
}

// pruner holds what one transaction of Prune reads once, and what it
// planned.
type pruner struct {
	tx        *bbolt.Tx
	plan      *prunePlan
	picked    pruneCandidates
	bar, now  time.Time
	delivered uint64 // LowestDelivered; every seq when no sink is registered
	sinks     bool
	payments  int
	requests  int
}

func (pr *pruner) isDelivered(last uint64) bool { return !pr.sinks || last <= pr.delivered }

// newPruner reads the bar (before, or the last Z's end if earlier) and
// the sinks' lowest cursor in tx.
func newPruner(tx *bbolt.Tx, before, now time.Time) (*pruner, error) {
	st, err := logState(tx)
	if err != nil {
		return nil, err
	}
	bar := before
	if z, ok, err := lastZ(tx); err != nil {
		return nil, err
	} else if ok && z.To.Before(bar) {
		bar = z.To
	}
	return &pruner{
		tx: tx, plan: &prunePlan{counts: map[chainState]uint64{}, seen: map[string]bool{}, spent: map[spentKey]uint64{}},
		bar: bar, now: now, delivered: st.LowestDelivered, sinks: st.Sinks,
	}, nil
}

// walk runs the three walks from where walk stands, picking up to limit
// records, and reports whether one stopped short of its end.
func (pr *pruner) walk(walk *pruneWalk, limit int) (bool, error) {
	// Payments in acceptance order (final ones; failed ones go with their
	// failure, below, so the failures and the failed count stay in step).
	more, err := pr.walkPayments(walk, limit)
	if err != nil {
		return false, err
	}
	m, err := pr.walkFailures(walk, limit)
	if err != nil {
		return false, err
	}
	more = more || m
	if m, err = pr.walkRequests(walk, limit); err != nil {
		return false, err
	}
	more = more || m
	if m, err = pr.walkReceipts(walk, limit); err != nil {
		return false, err
	}
	return more || m, nil
}

// replan plans, in the write, the records the walks picked that still may
// go (each read again: a sink, a Z or the relayer may have moved since).
func (pr *pruner) replan(c pruneCandidates) error {
	for _, h := range c.payments {
		if pr.tx.Bucket(bucketPayments).Get(h[:]) == nil {
			continue
		}
		p, err := paymentByHash(pr.tx, h[:])
		if err != nil {
			return err
		}
		if p.State == PaymentFinal && p.AcceptedAt.Before(pr.bar) {
			if err := pr.payment(p); err != nil {
				return err
			}
		}
	}
	for _, n := range c.failures {
		if pr.tx.Bucket(bucketFailures).Get(seqKey(n)) == nil {
			continue
		}
		if err := pr.failure(n); err != nil {
			return err
		}
	}
	for _, id := range c.requests {
		v, err := getChecked(pr.tx, bucketRequests, []byte(id))
		if err != nil {
			return err
		}
		if v == nil {
			continue
		}
		r, err := decodeRequest([]byte(id), v)
		if err != nil {
			return fmt.Errorf("request %q: %w", id, err)
		}
		if pr.finished(r) {
			if err := pr.request(r); err != nil {
				return err
			}
		}
	}
	for _, n := range c.receipts {
		if pr.tx.Bucket(bucketUnmatched).Get(seqKey(n)) == nil {
			continue
		}
		if err := pr.receipt(n); err != nil {
			return err
		}
	}
	return nil
}

// walkReceipts plans acknowledged unmatched receipts.
func (pr *pruner) walkReceipts(walk *pruneWalk, limit int) (bool, error) {
	c := pr.tx.Bucket(bucketUnmatched).Cursor()
	scanned := 0
	for k, _ := c.Seek(seqKey(walk.receipt)); k != nil; k, _ = c.Next() {
		if pr.full(limit) || scanned >= pruneScan*limit {
			walk.receipt = binary.BigEndian.Uint64(k)
			return true, nil
		}
		scanned++
		if len(k) != 8 {
			return false, fmt.Errorf("bucket %s: key %x: %w", bucketUnmatched, k, ErrCorrupt)
		}
		if err := pr.receipt(binary.BigEndian.Uint64(k)); err != nil {
			return false, err
		}
	}
	walk.receipt = 0
	return false, nil
}

// receipt plans unmatched receipt n's deletion with its recorded transfer
// and its count, if it is acknowledged, delivered, dated before the bar
// and in a block below the watcher's reorg window (the blocks whose
// hashes its cursor keeps, chain.final_depth of them): no Rewind can take
// it back then.
func (pr *pruner) receipt(n uint64) error {
	body, err := getChecked(pr.tx, bucketUnmatched, seqKey(n))
	if err != nil {
		return err
	}
	var u unmatchedRecord
	if err := json.Unmarshal(body, &u); err != nil {
		return fmt.Errorf("unmatched receipt %d: %v: %w", n, err, ErrCorrupt)
	}
	if u.AckedAt.IsZero() || !u.BlockTime.Before(pr.bar) || !pr.isDelivered(u.LastEvent) {
		return nil
	}
	cur, ok, err := readCursor(pr.tx, chainPrefix(u.ChainID))
	if err != nil {
		return err
	}
	if !ok || u.Block+uint64(len(cur.Hashes)) > cur.Height {
		return nil
	}
	ck := chainState{u.ChainID, PaymentUnmatched}
	if _, ok := pr.plan.counts[ck]; !ok {
		c, err := readChainCount(pr.tx, u.ChainID, PaymentUnmatched)
		if err != nil {
			return err
		}
		pr.plan.counts[ck] = c
	}
	if pr.plan.counts[ck] == 0 {
		return fmt.Errorf("unmatched receipt %d: count of unmatched on chain %d is 0: %w", n, u.ChainID, ErrCorrupt)
	}
	pr.plan.counts[ck]--
	pr.plan.del(bucketUnmatched, seqKey(n))
	if !u.Gap {
		pr.plan.chainTxs = append(pr.plan.chainTxs, u.TxHash) // still refused handed over
	}
	id := transferID(u.ChainID, Transfer{Block: u.Block, TxHash: u.TxHash, Index: u.Index, Gap: u.Gap})
	if tk := blockKey(u.ChainID, u.Block, id); pr.tx.Bucket(bucketTransfers).Get(tk) != nil {
		pr.plan.del(bucketTransfers, tk)
		pr.plan.del(bucketTransferIDs, id)
	}
	pr.payments++
	pr.picked.receipts = append(pr.picked.receipts, n)
	return nil
}

// failure plans failure n's deletion with its payment, if it is
// acknowledged and the payment may go.
func (pr *pruner) failure(n uint64) error {
	fl, err := failureAt(pr.tx, n)
	if err != nil {
		return err
	}
	if !fl.Acked() || !fl.Payment.AcceptedAt.Before(pr.bar) {
		return nil
	}
	before := pr.payments
	if err := pr.payment(fl.Payment); err != nil {
		return err
	}
	if pr.payments != before {
		pr.plan.del(bucketFailures, seqKey(n))
		pr.picked.failures = append(pr.picked.failures, n)
	}
	return nil
}

// full reports whether this call has planned its limit.
func (pr *pruner) full(limit int) bool { return pr.payments+pr.requests >= limit }

// walkPayments plans final payments, from walk.seq on. It returns whether
// the walk stopped short of its end.
func (pr *pruner) walkPayments(walk *pruneWalk, limit int) (bool, error) {
	c := pr.tx.Bucket(bucketBySeq).Cursor()
	scanned := 0
	for k, v := c.Seek(seqKey(walk.seq)); k != nil; k, v = c.Next() {
		if pr.full(limit) || scanned >= pruneScan*limit {
			walk.seq = binary.BigEndian.Uint64(k)
			return true, nil
		}
		scanned++
		h, err := checkValue(bucketBySeq, k, v)
		if err != nil {
			return false, err
		}
		p, err := paymentByHash(pr.tx, h)
		if err != nil {
			return false, fmt.Errorf("bucket %s: key %x: %w", bucketBySeq, k, err)
		}
		if !p.AcceptedAt.Before(pr.bar) {
			// Acceptance order is time order, give or take a chain
			// payment's block time (a transfer recorded late): the rest
			// are newer. One older than this, behind it, is reached once
			// the bar passes this one: later, never skipped for good.
			break
		}
		if p.State != PaymentFinal {
			continue
		}
		before := pr.payments
		if err := pr.payment(p); err != nil {
			return false, err
		}
		if pr.payments != before {
			pr.picked.payments = append(pr.picked.payments, p.TxHash)
		}
	}
	walk.seq = 0
	return false, nil
}

// walkFailures plans failed payments whose failure is acknowledged.
func (pr *pruner) walkFailures(walk *pruneWalk, limit int) (bool, error) {
	c := pr.tx.Bucket(bucketFailures).Cursor()
	scanned := 0
	for k, _ := c.Seek(seqKey(walk.failure)); k != nil; k, _ = c.Next() {
		if pr.full(limit) || scanned >= pruneScan*limit {
			walk.failure = binary.BigEndian.Uint64(k)
			return true, nil
		}
		scanned++
		if len(k) != 8 {
			return false, fmt.Errorf("bucket %s: key %x: %w", bucketFailures, k, ErrCorrupt)
		}
		if err := pr.failure(binary.BigEndian.Uint64(k)); err != nil {
			return false, err
		}
	}
	walk.failure = 0
	return false, nil
}

// walkRequests plans finished requests no payment holds: cancelled, and
// pending ones reported expired more than AmountKeep after their expiry.
func (pr *pruner) walkRequests(walk *pruneWalk, limit int) (bool, error) {
	c := pr.tx.Bucket(bucketRequests).Cursor()
	var k, v []byte
	if walk.requests {
		k, v = c.Seek(walk.request)
	} else {
		k, v = c.First()
	}
	scanned := 0
	for ; k != nil; k, v = c.Next() {
		if to := pastNewIDs(k, pr.bar, pr.now); to != nil {
			if k, v = c.Seek(to); k == nil {
				break
			}
		}
		if pr.full(limit) || scanned >= pruneScan*limit {
			walk.request, walk.requests = bytes.Clone(k), true
			return true, nil
		}
		scanned++
		body, err := checkValue(bucketRequests, k, v)
		if err != nil {
			return false, err
		}
		r, err := decodeRequest(k, body)
		if err != nil {
			return false, fmt.Errorf("request %q: %w", k, err)
		}
		if !pr.finished(r) {
			continue
		}
		if err := pr.request(r); err != nil {
			return false, err
		}
		pr.picked.requests = append(pr.picked.requests, r.ID)
	}
	walk.request, walk.requests = nil, false
	return false, nil
}

// pastNewIDs returns the key to seek to past a run of requests too new to
// go, if id begins one, else nil. request.New makes ids that are UUIDv7s:
// their first 12 hex digits are the Unix milliseconds they were made at,
// so the requests made from the bar to now sort together and none of them
// is finished (CreatedAt is before the bar). Without the jump the walk read
// every request kept, every round: a cost that grew with the store. A key
// that only looks like one (an older id, 128 random bits) in that run is
// passed over this round and reached once the bar passes its first digits.
func pastNewIDs(id []byte, bar, now time.Time) []byte {
	if len(id) != 32 {
		return nil
	}
	var ms uint64
	for _, c := range id[:12] {
		switch {
		case '0' <= c && c <= '9':
			ms = ms<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			ms = ms<<4 | uint64(c-'a'+10)
		default:
			return nil
		}
	}
	from, to := bar.UnixMilli(), now.UnixMilli()
	if from < 0 || ms < uint64(from) || to < from || ms > uint64(to) {
		return nil
	}
	return fmt.Appendf(nil, "%012x", uint64(to)+1)
}

// finished reports whether r, paid by no payment, can go.
func (pr *pruner) finished(r Request) bool {
	if !pr.isDelivered(r.LastEvent) || !r.CreatedAt.Before(pr.bar) {
		return false
	}
	switch r.Status {
	case RequestCancelled:
		return true
	case RequestPending:
		// Reported expired (out of the index), and past the time a late
		// transfer could still find it in the amounts index.
		gone := !r.ExpiresAt.Add(AmountKeep).After(pr.now) && r.ExpiresAt.Before(pr.bar)
		return gone && pr.tx.Bucket(bucketRequestExpiry).Get(expiryKey(r)) == nil
	}
	return false
}

// request plans r's deletion with its index entries.
func (pr *pruner) request(r Request) error {
	pr.plan.del(bucketRequests, []byte(r.ID))
	if k, err := amountKey(r.Asset, r.Amount, r.ID); err == nil && pr.tx.Bucket(bucketAmounts).Get(k) != nil {
		pr.plan.del(bucketAmounts, k)
	}
	if k := expiryKey(r); pr.tx.Bucket(bucketRequestExpiry).Get(k) != nil {
		pr.plan.del(bucketRequestExpiry, k)
	}
	pr.requests++
	return nil
}

// payment plans p's deletion (final, or failed with its failure
// acknowledged: the caller checked) with its request, index entries and
// recorded transfers, if p and its request have been delivered. It plans
// nothing otherwise.
func (pr *pruner) payment(p Payment) error {
	if !pr.isDelivered(p.LastEvent) {
		return nil
	}
	var rows []relayRow
	if p.Source == SourceAuthorization {
		// Its nonce guards it from being taken twice until it expires:
		// after that the till refuses it anyway (check: validBefore).
		if a := p.Authorization; a == nil || a.ValidBefore == nil || !a.ValidBefore.IsInt64() || !time.Unix(a.ValidBefore.Int64(), 0).Before(pr.now) {
			return nil
		}
		var ok bool
		var err error
		if rows, ok, err = pr.relayRows(p.TxHash); err != nil || !ok {
			return err
		}
	}
	var req *Request
	v, err := getChecked(pr.tx, bucketRequests, []byte(p.RequestID))
	if err != nil {
		return err
	}
	if v != nil {
		r, err := decodeRequest([]byte(p.RequestID), v)
		if err != nil {
			return fmt.Errorf("request %q: %w", p.RequestID, err)
		}
		if r.Status == RequestPaid && r.PaidTx == p.TxHash {
			if !pr.isDelivered(r.LastEvent) {
				return nil
			}
			req = &r
		}
	}
	ck := chainState{p.ChainID, p.State}
	if _, ok := pr.plan.counts[ck]; !ok {
		n, err := readChainCount(pr.tx, p.ChainID, p.State)
		if err != nil {
			return err
		}
		pr.plan.counts[ck] = n
	}
	if pr.plan.counts[ck] == 0 {
		return fmt.Errorf("payment %s: count of %s on chain %d is 0: %w", p.TxHash, p.State, p.ChainID, ErrCorrupt)
	}
	pr.plan.counts[ck]--
	pr.plan.del(bucketPayments, p.TxHash[:])
	pr.plan.del(bucketBySeq, seqKey(p.Seq))
	switch p.Source {
	case SourceHandover:
		sn := senderNonceKey(p.ChainID, p.From, p.Nonce)
		for _, b := range [][]byte{bucketBySender, bucketOpen, bucketUnfinal} {
			// The plan deletes at the end: open still reads by_sender_nonce's.
			if h, err := indexHash(pr.tx, b, sn, pr.tx.Bucket(b).Get(sn)); err != nil {
				return err
			} else if bytes.Equal(h, p.TxHash[:]) {
				pr.plan.del(b, sn)
			}
		}
		if p.State == PaymentFinal {
			if err := pr.spend(p.ChainID, p.From, p.Nonce); err != nil {
				return err
			}
		}
	case SourceChain:
		pr.plan.chainTxs = append(pr.plan.chainTxs, p.TxHash)
	case SourceAuthorization:
		a := p.Authorization
		k := authNonceKey(p.ChainID, a.Token, p.From, a.Nonce)
		if h, err := getChecked(pr.tx, bucketAuthNonces, k); err != nil {
			return err
		} else if bytes.Equal(h, p.TxHash[:]) {
			pr.plan.del(bucketAuthNonces, k)
		}
		for _, row := range rows {
			if err := pr.relayRow(p.TxHash, row); err != nil {
				return err
			}
		}
	}
	if p.Delivery.Block > 0 {
		if err := pr.transfers(p); err != nil {
			return err
		}
	}
	if req != nil {
		if err := pr.request(*req); err != nil {
			return err
		}
	}
	pr.payments++
	return nil
}

// spend records that from's nonce was mined (spent_nonces keeps the
// highest).
func (pr *pruner) spend(chain uint64, from common.Address, nonce uint64) error {
	key := spentKey{chain, from}
	cur, ok := pr.plan.spent[key]
	if !ok {
		n, had, err := spentNonce(pr.tx, chain, from)
		if err != nil {
			return err
		}
		cur, ok = n, had
	}
	if !ok || nonce > cur {
		cur = nonce
	}
	pr.plan.spent[key] = cur
	return nil
}

// spentKey is an entry of spent_nonces: a sender on a chain.
type spentKey struct {
	chain uint64
	from  common.Address
}

// relayRow is one row of the relayer's journal.
type relayRow struct {
	key []byte
	tx  RelayTx
}

// relayRows reads every journal row of the authorization auth
// (relay_by_auth); ok is false when one is still live (sent or mined):
// the relayer follows it, so the authorization stays.
func (pr *pruner) relayRows(auth common.Hash) (rows []relayRow, ok bool, err error) {
	c := pr.tx.Bucket(bucketRelayByAuth).Cursor()
	for k, _ := c.Seek(auth[:]); k != nil && bytes.HasPrefix(k, auth[:]); k, _ = c.Next() {
		rk := bytes.Clone(k[common.HashLength:])
		body, err := getChecked(pr.tx, bucketRelayTxs, rk)
		if err != nil {
			return nil, false, err
		}
		if body == nil {
			return nil, false, fmt.Errorf("bucket %s: key %x names no journal row: %w", bucketRelayByAuth, k, ErrCorrupt)
		}
		t, err := decodeRelayTx(body)
		if err != nil {
			return nil, false, err
		}
		if t.State.live() {
			return nil, false, nil
		}
		rows = append(rows, relayRow{key: rk, tx: t})
	}
	return rows, true, nil
}

// relayRow plans the deletion of one ended journal row of auth: the row,
// its index entry, its hashes and the settlement transfers the watcher
// recorded for them.
func (pr *pruner) relayRow(auth common.Hash, row relayRow) error {
	pr.plan.del(bucketRelayTxs, row.key)
	pr.plan.del(bucketRelayByAuth, relayByAuthKey(auth, row.key))
	if held, err := getChecked(pr.tx, bucketRelayLive, row.key); err != nil {
		return err
	} else if held != nil {
		pr.plan.del(bucketRelayLive, row.key)
	}
	for _, h := range row.tx.Hashes {
		held, err := getChecked(pr.tx, bucketRelayHashes, h[:])
		if err != nil {
			return err
		}
		if !bytes.Equal(held, auth[:]) {
			continue
		}
		pr.plan.del(bucketRelayHashes, h[:])
		ids := pr.tx.Bucket(bucketTransferIDs).Cursor()
		for id, v := ids.Seek(h[:]); id != nil && bytes.HasPrefix(id, h[:]); id, v = ids.Next() {
			block, err := checkValue(bucketTransferIDs, id, v)
			if err != nil {
				return err
			}
			if len(block) != 16 {
				return fmt.Errorf("bucket %s: key %x: %w", bucketTransferIDs, id, ErrCorrupt)
			}
			tk := append(bytes.Clone(block), id...)
			body, err := getChecked(pr.tx, bucketTransfers, tk)
			if err != nil {
				return err
			}
			var rec transferRecord
			if err := json.Unmarshal(body, &rec); err != nil {
				return fmt.Errorf("bucket %s: key %x: %v: %w", bucketTransfers, tk, err, ErrCorrupt)
			}
			if rec.Outcome == outcomeSettlement && rec.TxHash == h {
				pr.plan.del(bucketTransfers, tk)
				pr.plan.del(bucketTransferIDs, id)
			}
		}
	}
	return nil
}

// transfers plans the deletion of the transfers the watcher recorded for
// p (a chain payment's, or a handed-over payment's seen mined), at its
// block.
func (pr *pruner) transfers(p Payment) error {
	prefix := blockKey(p.ChainID, p.Delivery.Block, p.TxHash[:])
	c := pr.tx.Bucket(bucketTransfers).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		body, err := checkValue(bucketTransfers, k, v)
		if err != nil {
			return err
		}
		var rec transferRecord
		if err := json.Unmarshal(body, &rec); err != nil {
			return fmt.Errorf("bucket %s: key %x: %v: %w", bucketTransfers, k, err, ErrCorrupt)
		}
		if (rec.Outcome != outcomePayment && rec.Outcome != outcomeHandover) || rec.TxHash != p.TxHash {
			continue // an unmatched second transfer of the same transaction stays
		}
		pr.plan.del(bucketTransfers, k)
		pr.plan.del(bucketTransferIDs, k[16:])
	}
	return nil
}

// StoreStats is what status shows of the store's size.
type StoreStats struct {
	FileBytes int64                // the file's size: pages in use, free pages bbolt reuses, and its growth room
	Payments  map[PaymentState]int // live payments by state (Counts)
	// OldestAccepted is when the oldest payment kept was accepted (zero:
	// none kept).
	OldestAccepted time.Time
}

// Stats reads the store's file size, its counts and its oldest payment: a
// stat and a few keys, cheap enough for every status read.
func (s *Store) Stats() (StoreStats, error) {
	st := StoreStats{Payments: map[PaymentState]int{}}
	fi, err := os.Stat(s.path)
	if err != nil {
		return StoreStats{}, fmt.Errorf("store stats: %w", err)
	}
	st.FileBytes = fi.Size()
	// The counts are read in a store out of service too (checked at Open,
	// like the status's): its gauges then say what it holds, not zero. The
	// oldest payment is a record, not read then.
	out := s.moneyDamagedErr() != nil
	err = s.viewAny(func(tx *bbolt.Tx) error {
		for _, state := range PaymentStates {
			n, err := readCount(tx, state)
			if err != nil {
				return err
			}
			st.Payments[state] = int(n)
		}
		if out {
			return nil
		}
		k, v := tx.Bucket(bucketBySeq).Cursor().First()
		if k == nil {
			return nil
		}
		h, err := checkValue(bucketBySeq, k, v)
		if err != nil {
			return err
		}
		p, err := paymentByHash(tx, h)
		if err != nil {
			return err
		}
		st.OldestAccepted = p.AcceptedAt
		return nil
	})
	if err != nil {
		return StoreStats{}, fmt.Errorf("store stats: %w", err)
	}
	return st, nil
}
