package store

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// SetPaymentState moves a payment forward along
// queued -> broadcast -> confirmed -> final | failed (steps may be
// skipped, e.g. queued -> failed) and returns it; the change is durable on
// return. The one move back is confirmed -> broadcast: the payment's block
// was lost and it is sent again. reason is stored with the new state
// (meant for failed). UpdatedAt becomes now. Leaving the unsettled states
// (queued, broadcast) subtracts Amount from Unsettled(Asset) and removes
// the payment from the open index; coming back to them adds it again.
// Entering confirmed enters the unfinal index; leaving it, leaves it.
//
// Setting the state a queued, broadcast or confirmed payment already has
// is a no-op that returns it unchanged. Any move out of final or failed,
// or any other move backwards, gives ErrBadTransition; an unknown hash
// ErrUnknownPayment.
func (s *Store) SetPaymentState(ctx context.Context, hash common.Hash, state PaymentState, reason string, now time.Time) (Payment, error) {
	var out Payment
	err := s.write(ctx, func(w *wtx) error {
		p, err := loadPayment(w, hash)
		if err != nil {
			return fmt.Errorf("set state %s: %w", hash, err)
		}
		if p.State == state && !state.terminal() {
			out = p
			return nil
		}
		next := p
		next.State, next.Reason = state, reason
		pw, err := planTransition(w, p, next, storeTime(now))
		if err != nil {
			return fmt.Errorf("set state %s: %w", hash, err)
		}
		if err := pw.do(w); err != nil {
			return fmt.Errorf("set state %s: %w", hash, err)
		}
		out = pw.p
		return nil
	})
	if err != nil {
		return Payment{}, err
	}
	return out, nil
}

// Change is one update Apply makes to a payment: its new state, reason and
// delivery bookkeeping. State may stay what it is.
type Change struct {
	Hash     common.Hash
	State    PaymentState
	Reason   string
	Delivery Delivery
}

// Apply makes all changes in one durable transaction, so a broadcaster's
// round of sends and lookups is recorded whole or not at all, with one
// fsync. Each change keeps the transition rules of SetPaymentState, except
// that a queued, broadcast or confirmed payment may keep its state while
// its Delivery changes. If any change is refused (unknown payment, illegal transition),
// none is made. It returns the payments as stored, in the order given.
func (s *Store) Apply(ctx context.Context, now time.Time, changes []Change) ([]Payment, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	now = storeTime(now)
	out := make([]Payment, len(changes))
	err := s.write(ctx, func(w *wtx) error {
		// Plan every change against the transaction's view first, counting
		// earlier changes of this batch, then write.
		plans := make([]*plannedWrite, len(changes))
		staged := make(map[common.Hash]Payment, len(changes))
		counts := newCountDeltas()
		for i, c := range changes {
			p, ok := staged[c.Hash]
			if !ok {
				var err error
				if p, err = loadPayment(w, c.Hash); err != nil {
					return fmt.Errorf("apply %s: %w", c.Hash, err)
				}
			}
			next := p
			next.State, next.Reason, next.Delivery = c.State, c.Reason, c.Delivery
			if c.State == "" {
				next.State = p.State
			}
			pw, err := planTransitionWith(w, p, next, now, counts)
			if err != nil {
				return fmt.Errorf("apply %s: %w", c.Hash, err)
			}
			plans[i], staged[c.Hash] = pw, pw.p
		}
		// A later change to the same payment was planned before an
		// earlier one took its event: carry the event it took forward.
		lastEvent := make(map[common.Hash]uint64, len(plans))
		for i, pw := range plans {
			if ev, ok := lastEvent[pw.p.TxHash]; ok {
				pw.p.LastEvent = ev
			}
			if err := pw.do(w); err != nil {
				return fmt.Errorf("apply %s: %w", changes[i].Hash, err)
			}
			lastEvent[pw.p.TxHash] = pw.p.LastEvent
			out[i] = pw.p
		}
		return counts.write(w)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func loadPayment(w *wtx, hash common.Hash) (Payment, error) {
	v, err := w.getChecked(bucketPayments, hash[:])
	if err != nil {
		return Payment{}, err
	}
	if v == nil {
		return Payment{}, ErrUnknownPayment
	}
	return decodePayment(hash[:], v)
}

// plannedWrite is a checked transition waiting to be written.
type plannedWrite struct {
	p      Payment
	from   PaymentState // the state it leaves (p.State if it stays)
	dels   []index      // index entries (open, unfinal) it leaves
	adds   []index      // index entries it enters
	counts *countDeltas
	failed bool // it enters failed: it gets a failure number (failures.go)
}

// index is a payment's entry in an index: a handover's open and unfinal
// entries are at its sender+nonce, an authorization's at its Seq
// (auth_open, auth_unfinal) and its payer || Seq (auth_payer). Their
// values are the payment's hash; a bare entry's value is empty, its key
// (one Seq's, never another payment's) naming the payment (queued). An
// open entry's value is empty too, by_sender_nonce naming its payment
// (openHash): it is read and written through held and value.
type index struct {
	b, k []byte
	bare bool
}

// held returns the hash of the payment e's key holds in its index; nil
// if none (or, for a bare entry, the empty value).
func (e index) held(w *wtx) ([]byte, error) {
	if bytes.Equal(e.b, bucketOpen) {
		return openHash(w.tx, e.k, w.tx.Bucket(bucketOpen).Get(e.k))
	}
	return w.getChecked(e.b, e.k)
}

// value is what e's entry for the payment hash holds.
func (e index) value(hash []byte) []byte {
	if e.bare || bytes.Equal(e.b, bucketOpen) {
		return nil
	}
	return hash
}

type kv struct{ b, k, v []byte }

// planTransition checks the move from p to next and plans its writes:
// the record, the state counters, the unsettled sum and the open index.
func planTransition(w *wtx, p, next Payment, now time.Time) (*plannedWrite, error) {
	counts := newCountDeltas()
	pw, err := planTransitionWith(w, p, next, now, counts)
	if err != nil {
		return nil, err
	}
	pw.counts = counts
	return pw, nil
}

func planTransitionWith(w *wtx, p, next Payment, now time.Time, counts *countDeltas) (*plannedWrite, error) {
	from, to := p.State, next.State
	if p.Source == SourceChain {
		// Its state follows the chain: Settle and Rewind move it.
		return nil, fmt.Errorf("chain payment %s: %s -> %s: moved only by the chain watcher: %w", p.TxHash, from, to, ErrBadTransition)
	}
	if to.rank() < 0 {
		return nil, fmt.Errorf("unknown state %q: %w", to, ErrBadTransition)
	}
	if !from.allowed(to) {
		return nil, fmt.Errorf("%s -> %s: %w", from, to, ErrBadTransition)
	}
	pw := &plannedWrite{failed: to == PaymentFailed && from != PaymentFailed, from: from}
	chain := p.ChainID
	if from != to {
		counts.add(chain, from, -1)
		counts.add(chain, to, +1)
	}
	if from.unsettled() != to.unsettled() {
		uKey := unsettledKey{chain, p.Asset}
		v, err := w.getChecked(bucketUnsettled, uKey.bytes())
		if err != nil {
			return nil, err
		}
		u, err := decodeAmount(p.Asset, v)
		if err != nil {
			return nil, err
		}
		// An earlier change in the same batch may already have moved it.
		if pending, ok := counts.unsettled[uKey]; ok {
			u = pending
		}
		if to.unsettled() {
			// A confirmed payment whose block was lost: its money is
			// not on the chain any more, so it counts again (it may
			// take the sum over the exposure limit; new payments are
			// then refused until it settles).
			u.Add(u, p.Amount)
		} else if u.Sub(u, p.Amount); u.Sign() < 0 {
			return nil, fmt.Errorf("unsettled %s would be negative: %w", p.Asset, ErrCorrupt)
		}
		counts.unsettled[uKey] = u
	}
	open, unfinal := []index{{b: bucketOpen, k: senderNonceKey(chain, p.From, p.Nonce)}}, []index{{b: bucketUnfinal, k: senderNonceKey(chain, p.From, p.Nonce)}}
	if p.Source == SourceAuthorization {
		open = []index{{b: bucketAuthOpen, k: chainKey(chain, seqKey(p.Seq))}, {b: bucketAuthPayer, k: payerSeqKey(chain, p.From, p.Seq)}}
		unfinal = []index{{b: bucketAuthUnfinal, k: chainKey(chain, seqKey(p.Seq))}}
	}
	if from.unsettled() && !to.unsettled() {
		pw.dels = append(pw.dels, open...)
	}
	if to.unsettled() && !from.unsettled() {
		pw.adds = append(pw.adds, open...)
	}
	if from == PaymentQueued && to != PaymentQueued {
		// No payment comes back to queued: it only ever leaves the index.
		pw.dels = append(pw.dels, index{bucketQueued, queuedKey(chain, p.Seq), true})
	}
	if from.unfinal() && !to.unfinal() {
		pw.dels = append(pw.dels, unfinal...)
	}
	if to.unfinal() && !from.unfinal() {
		pw.adds = append(pw.adds, unfinal...)
	}
	next.UpdatedAt = now
	if _, err := encodePayment(next); err != nil {
		return nil, err // refused before any write; do encodes it again
	}
	pw.p = next
	return pw, nil
}

// do writes a planned transition (and, for a single one, its counters).
func (pw *plannedWrite) do(w *wtx) error {
	// A change of state is reported by its event, in this write, and the
	// record names it (LastEvent); a change of Delivery alone is not.
	kind := EventKind("")
	if pw.from != pw.p.State {
		kind = transitionKind(pw.from, pw.p.State)
	}
	var seq uint64
	if kind != "" {
		var err error
		if seq, err = w.nextEvent(); err != nil {
			return err
		}
		pw.p.LastEvent = seq
	}
	enc, err := encodePayment(pw.p)
	if err != nil {
		return err
	}
	if err := w.putChecked(bucketPayments, pw.p.TxHash[:], enc); err != nil {
		return err
	}
	if kind != "" {
		if err := w.putEvent(seq, w.paymentEvent(kind, pw.p, pw.from, pw.p.UpdatedAt)); err != nil {
			return err
		}
	}
	if pw.failed {
		if err := recordFailure(w, pw.p, pw.p.UpdatedAt); err != nil {
			return err
		}
	}
	// Remove an index entry only if it is this payment's. It always is: a
	// payment leaves the open index when it settles, and only then (failed)
	// can another payment take its sender+nonce. Checked so that no
	// transition can ever drop an entry naming another payment.
	for _, e := range pw.dels {
		held, err := e.held(w)
		if err != nil {
			return err
		}
		if e.bare && held != nil || bytes.Equal(held, pw.p.TxHash[:]) {
			if err := w.del(e.b, e.k); err != nil {
				return err
			}
		}
	}
	// Enter an index at the payment's sender+nonce. No other payment can
	// hold that key: Accept refuses a nonce held by a confirmed payment, so
	// none was accepted at it while this one was confirmed.
	for _, e := range pw.adds {
		held, err := e.held(w)
		if err != nil {
			return err
		}
		if held != nil && !bytes.Equal(held, pw.p.TxHash[:]) {
			return fmt.Errorf("bucket %s: key %x names 0x%x, not %s: %w", e.b, e.k, held, pw.p.TxHash, ErrCorrupt)
		}
		if bytes.Equal(e.b, bucketOpen) {
			// Its empty value names what by_sender_nonce does, which
			// must be this payment (nonceFree kept it while confirmed).
			bs, err := senderHash(w.tx, e.k)
			if err != nil {
				return err
			}
			if !bytes.Equal(bs, pw.p.TxHash[:]) {
				return fmt.Errorf("bucket %s: key %x names 0x%x, not %s: %w", bucketBySender, e.k, bs, pw.p.TxHash, ErrCorrupt)
			}
		}
		if err := w.putChecked(e.b, e.k, e.value(pw.p.TxHash[:])); err != nil {
			return err
		}
	}
	if pw.counts != nil {
		return pw.counts.write(w)
	}
	return nil
}

// countDeltas gathers one write's changes to the per-chain counts and
// unsettled sums, written once at its end.
type countDeltas struct {
	states    map[chainState]int64
	unsettled map[unsettledKey]*big.Int
}

type chainState struct {
	chain uint64
	state PaymentState
}

// unsettledKey is an entry of the unsettled bucket: an asset on a chain.
type unsettledKey struct {
	chain uint64
	asset string
}

func (k unsettledKey) bytes() []byte { return chainKey(k.chain, []byte(k.asset)) }

func newCountDeltas() *countDeltas {
	return &countDeltas{states: map[chainState]int64{}, unsettled: map[unsettledKey]*big.Int{}}
}

func (c *countDeltas) add(chain uint64, s PaymentState, d int64) { c.states[chainState{chain, s}] += d }

func (c *countDeltas) write(w *wtx) error {
	for cs, d := range c.states {
		if d == 0 {
			continue
		}
		n, err := readChainCount(w.tx, cs.chain, cs.state)
		if err != nil {
			return err
		}
		if int64(n)+d < 0 {
			return fmt.Errorf("count of %s on chain %d would be negative: %w", cs.state, cs.chain, ErrCorrupt)
		}
		if err := w.putChecked(bucketCounts, countKey(cs.chain, cs.state), countBytes(uint64(int64(n)+d))); err != nil {
			return err
		}
	}
	for k, u := range c.unsettled {
		if err := w.putChecked(bucketUnsettled, k.bytes(), []byte(u.String())); err != nil {
			return err
		}
	}
	return nil
}
