package broadcast_test

import (
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/broadcast"
	"showpos/terminal/store"
)

// A backlog six times the window, accepted while the node is unreachable,
// drains into the dev chain a window at a time: every payment mined
// exactly once, each sender's in nonce order, and no read of the store
// returning more than a window.
func TestDrainABacklogLargerThanTheWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("3,000 payments on the dev chain: not in -short")
	}
	const payers, each, window = 60, 50, 500
	node := startNode(t, payers)
	reads := &readCounter{}
	r := newRigWith(t, node, broadcast.Options{Window: window}, func(s *store.ChainStore) broadcast.Store {
		reads.ChainStore = s
		return reads
	})
	r.link.cut()
	txs := make([][]*types.Transaction, payers)
	var wg sync.WaitGroup
	errs := make(chan error, payers)
	for i, acct := range node.Payers() {
		wg.Go(func() {
			for n := range each {
				tx, err := r.tryPay("0.001", "ETH", acct.Key, uint64(n))
				if err != nil {
					errs <- err
					return
				}
				txs[i] = append(txs[i], tx)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c, _ := r.store.Counts(); c[store.PaymentQueued] != payers*each {
		t.Fatalf("accepted offline: %v", c)
	}
	began := time.Now()
	r.link.restore(t)
	counts := r.waitSettled(5 * time.Minute)
	t.Logf("%d payments drained in %s", payers*each, time.Since(began).Round(time.Millisecond))
	if counts[store.PaymentConfirmed]+counts[store.PaymentFinal] != payers*each || counts[store.PaymentFailed] != 0 {
		t.Fatalf("after drain: %v", counts)
	}
	r.minedInOrder(txs)
	if _, most := reads.snapshot(); most > window {
		t.Errorf("a read returned %d payments; want at most the window of %d", most, window)
	}
}
