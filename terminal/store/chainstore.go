package store

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.etcd.io/bbolt"
)

// ChainStore is one chain's view of the store (schema 13): the queues,
// sums, counts and cursor of the payments on that chain, for the parts
// that work one network each (the broadcaster, the watcher, the relayer).
// What names a payment by its hash (Payment, Apply) is the whole store's:
// an EIP-155 transaction names its chain, so a hash is one chain's. Its
// methods are safe for concurrent use; it is as long-lived as its Store.
type ChainStore struct {
	s  *Store
	id uint64
	// committed: reads see what is committed, with no commit asked of
	// the journal first (Committed).
	committed bool
}

// Committed returns the view whose reads see what is committed and no
// more: an accept the journal holds (journal.go) is not in them until the
// commit that takes it, which Store.JournalCommitted tells of. It is for a
// follower that the commit wakes (the broadcaster, the relayer): its
// reads then never ask for a commit, so a stream of payments is committed
// a few hundred at a time, not once for each follower's round. Payment is
// exact in it as in the store (Store.Payment).
func (cs *ChainStore) Committed() *ChainStore {
	return &ChainStore{s: cs.s, id: cs.id, committed: true}
}

// view is the store's view, or its committed reads (Committed).
func (cs *ChainStore) view(fn func(*bbolt.Tx) error) error {
	if cs.committed {
		if err := cs.s.moneyDamagedErr(); err != nil {
			return err
		}
		return cs.s.viewCommitted(fn)
	}
	return cs.s.view(fn)
}

// viewAny is the store's viewAny, or its committed reads (Committed).
func (cs *ChainStore) viewAny(fn func(*bbolt.Tx) error) error {
	if cs.committed {
		return cs.s.viewCommitted(fn)
	}
	return cs.s.viewAny(fn)
}

// Chain returns the view of chain id. It reads nothing: a chain with no
// payments is an empty view.
func (s *Store) Chain(id uint64) *ChainStore { return &ChainStore{s: s, id: id} }

// ID is the view's chain id.
func (cs *ChainStore) ID() uint64 { return cs.id }

// Store is the whole store the view is of.
func (cs *ChainStore) Store() *Store { return cs.s }

// Payment is Store.Payment: a hash is one chain's already.
func (cs *ChainStore) Payment(hash common.Hash) (Payment, error) { return cs.s.Payment(hash) }

// Payments is Store.Payments on the chain alone (f.ChainID is set to it).
func (cs *ChainStore) Payments(f PaymentFilter) ([]Payment, error) {
	f.ChainID = cs.id
	return paymentsIn(cs.view, f)
}

// LastSeq is Store.LastSeq: Seq is the store's order across chains.
func (cs *ChainStore) LastSeq() (uint64, error) { return lastSeqIn(cs.view) }

// Apply is Store.Apply: changes name payments by hash.
func (cs *ChainStore) Apply(ctx context.Context, now time.Time, changes []Change) ([]Payment, error) {
	return cs.s.Apply(ctx, now, changes)
}

// RecordRelayTx is Store.RecordRelayTx; t.ChainID is the journal row's chain.
func (cs *ChainStore) RecordRelayTx(ctx context.Context, t RelayTx, now time.Time) error {
	return cs.s.RecordRelayTx(ctx, t, now)
}

// ReportRelayOutcome is Store.ReportRelayOutcome.
func (cs *ChainStore) ReportRelayOutcome(ctx context.Context, o RelayOutcome, now time.Time) (Payment, error) {
	return cs.s.ReportRelayOutcome(ctx, o, now)
}
