package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// RetireChains takes the chains out of service, for a network removed
// from the config, in one write: the committer's order decides between it
// and a payment on one of them, so none can commit there once it
// returns nil. It refuses, with ErrChainOpen naming the first such chain
// and how many, and retires none, while any of them has payments still
// to settle: queued, broadcast, seen or confirmed (not yet final or
// failed), handovers and authorizations alike; its network's
// broadcaster, watcher and relayer must follow them to the end first.
// It refuses so too (naming how many requests) while a request offered on
// one of them (Request.Chains; one with none: the home chain's) is pending
// and could still be paid there: not cancelled, not paid, and the store's
// clock (Options.Now) before its expiry plus MatchGrace, up to which the
// watcher pays a request by a transfer. Its EIP-681 URI could be paid on
// the removed network with nothing watching. Cancelling it, or its time
// running out, lets the chain go. Cost: a walk of the amounts index (one
// entry per request not yet paid or cancelled, expired ones until pruned)
// and a read of each entry's request, in the write; not of every request
// stored.
//
// While a chain is retired, Accept, AcceptLimited and AcceptAuthorization
// refuse a payment on it with ErrChainRetired (inside their write, after
// rule 1: a repeat of a stored payment is still answered as one),
// PutRequest refuses a request offered on it with ErrChainRetired, and
// a transfer the watcher records on it pays no request (unmatched
// network_removed).
//
// The retired set lives in memory only, not in the file: a restarted
// posd starts without the removed network, and its till refuses that
// chain by its config before the store is asked. ActivateChains takes a
// chain back into service (a network added again).
func (s *Store) RetireChains(ctx context.Context, ids []uint64) error {
	ids = slices.Clone(ids)
	var marked []uint64 // retired by this call, not before it
	err := s.saleWrite(ctx, func(w *wtx) error {
		for _, id := range ids {
			n := 0
			for _, st := range PaymentStates {
				if !st.toSettle() {
					continue
				}
				c, err := readChainCount(w.tx, id, st)
				if err != nil {
					return fmt.Errorf("retire chain %d: %w", id, err)
				}
				n += int(c)
			}
			if n > 0 {
				return fmt.Errorf("retire chain %d: %d %s still to settle: %w", id, n, plural(n, "payment", "payments"), ErrChainOpen)
			}
		}
		payable, err := payableOn(w.tx, ids, s.home, s.now())
		if err != nil {
			return fmt.Errorf("retire chains: %w", err)
		}
		for _, id := range ids {
			if n := payable[id]; n > 0 {
				return fmt.Errorf("retire chain %d: %d %s offered on it still payable (pending, before expiry plus %s): %w",
					id, n, plural(n, "request", "requests"), MatchGrace, ErrChainOpen)
			}
		}
		s.retireMu.Lock()
		defer s.retireMu.Unlock()
		if s.retired == nil {
			s.retired = map[uint64]bool{}
		}
		for _, id := range ids {
			if !s.retired[id] {
				s.retired[id] = true
				marked = append(marked, id)
			}
		}
		return nil
	})
	if err != nil && len(marked) > 0 {
		// Its batch failed after it ran (another op's write): the caller
		// is told it failed, so the chains go back into service. A
		// payment refused meanwhile was refused, not lost.
		s.ActivateChains(marked)
	}
	return err
}

// ActivateChains takes the chains back into service (see RetireChains);
// a chain never retired is left as it is. A payment on one is accepted
// from the next write on: letting payments in races with nothing.
func (s *Store) ActivateChains(ids []uint64) {
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	for _, id := range ids {
		delete(s.retired, id)
	}
}

// isRetired reports whether chain is retired. Called inside a write
// (Accept's), it sees every RetireChains the committer took before.
func (s *Store) isRetired(chain uint64) bool {
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	return s.retired[chain]
}

// retiredOffer returns a retired chain r is offered on (Request.Chains;
// none: the home chain), if any. A request with no Chains in a store with
// no home chain names no chain and is not refused (the till always names
// its chains). Called inside a write (PutRequest's).
func (s *Store) retiredOffer(r Request) (uint64, bool) {
	chains := r.Chains
	if len(chains) == 0 && s.home != 0 {
		chains = []uint64{s.home}
	}
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	for _, chain := range chains {
		if s.retired[chain] {
			return chain, true
		}
	}
	return 0, false
}

// toSettle reports whether a payment in state s is still followed on its
// chain: RetireChains refuses its chain.
func (s PaymentState) toSettle() bool {
	return s == PaymentQueued || s == PaymentBroadcast || s == PaymentSeen || s == PaymentConfirmed
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// payableOn counts, per chain of ids, the requests offered on it that the
// watcher could still pay at now: pending and now before their expiry plus
// MatchGrace. It walks the amounts index, which holds every request not
// yet paid or cancelled (an entry whose request is no longer pending is
// stale, left for PutRequest to prune, and skipped here).
func payableOn(tx *bbolt.Tx, ids []uint64, home uint64, now time.Time) (map[uint64]int, error) {
	out, counted := map[uint64]int{}, map[uint64]bool{} // counted: r's chains (ids may repeat one)
	err := tx.Bucket(bucketAmounts).ForEach(func(k, v []byte) error {
		id, err := checkValue(bucketAmounts, k, v)
		if err != nil {
			return err
		}
		r, err := requestByID(tx, string(id))
		if err != nil {
			return fmt.Errorf("amounts index names request %q: %w", id, err)
		}
		if r.Status != RequestPending || !now.Before(r.ExpiresAt.Add(MatchGrace)) {
			return nil
		}
		for _, chain := range ids {
			if r.offeredOn(chain, home) && !counted[chain] {
				counted[chain] = true
				out[chain]++
			}
		}
		clear(counted)
		return nil
	})
	return out, err
}
