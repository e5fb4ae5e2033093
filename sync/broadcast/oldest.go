package broadcast

import (
	"fmt"
)

// oldestQueued fills r.OldestQueued after a round: the AcceptedAt of the
// chain's first payment in acceptance order (Seq) still queued, read from
// the store's queued index with one seek (Store.OldestQueued), so no round
// reads the queue for it, online or offline, however long the queue.
// Acceptance order is taken for the order of AcceptedAt: were the clock
// stepped back, the first queued in Seq order could be younger than the
// oldest by AcceptedAt.
func (b *Broadcaster) oldestQueued(r *Report) error {
	p, ok, err := b.o.Store.OldestQueued()
	if err != nil {
		return fmt.Errorf("oldest queued: %w", err)
	}
	if ok {
		r.OldestQueued = p.AcceptedAt
	}
	return nil
}
