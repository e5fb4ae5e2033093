package store

import (
	"context"
	"fmt"
	"slices"
)

// RetireChains takes the chains out of service, for a network removed
// from the config, in one write: the committer's order decides between it
// and a payment on one of them, so none can commit there once it
// returns nil. It refuses, with ErrChainOpen naming the first such chain
// and how many, and retires none, while any of them has payments still
// to settle: queued, broadcast, seen or confirmed (not yet final or
// failed), handovers and authorizations alike; its network's
// broadcaster, watcher and relayer must follow them to the end first.
//
// While a chain is retired, Accept, AcceptLimited and AcceptAuthorization
// refuse a payment on it with ErrChainRetired (inside their write, after
// rule 1: a repeat of a stored payment is still answered as one).
//
// The retired set lives in memory only, not in the file: a restarted
// posd starts without the removed network, and its till refuses that
// chain by its config before the store is asked. ActivateChains takes a
// chain back into service (a network added again).
func (s *Store) RetireChains(ctx context.Context, ids []uint64) error {
	ids = slices.Clone(ids)
	var marked []uint64 // retired by this call, not before it
	err := s.write(ctx, func(w *wtx) error {
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
