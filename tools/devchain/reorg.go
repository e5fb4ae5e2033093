package devchain

import (
	"fmt"
)

// Mine seals n blocks now, with whatever the pool holds (empty blocks if
// nothing): to put depth on a payment's block, or to move the finalized
// block (the simulated beacon finalizes every 32nd block, see Head).
func (c *Chain) Mine(n int) error {
	m := c.miner
	m.seal.Lock()
	defer m.seal.Unlock()
	chain := m.eth.BlockChain()
	for range n {
		before := chain.CurrentBlock().Number.Uint64()
		m.beacon.Commit()
		if after := chain.CurrentBlock().Number.Uint64(); after != before+1 {
			return fmt.Errorf("devchain: mine: head %d after sealing on %d", after, before)
		}
	}
	return m.eth.TxPool().Sync()
}

// Rewind drops every block above n, as a node does that loses blocks
// (geth's debug_setHead, or a restart that rewinds an unclean head): their
// transactions are not put back in the pool, and until a new block is
// sealed at a dropped height the node has no block there. The next
// block sealed at n+1 has another hash than the dropped one.
func (c *Chain) Rewind(n uint64) error {
	m := c.miner
	m.seal.Lock()
	defer m.seal.Unlock()
	chain := m.eth.BlockChain()
	if head := chain.CurrentBlock().Number.Uint64(); n >= head {
		return fmt.Errorf("devchain: rewind to %d: the head is %d", n, head)
	}
	if err := chain.SetHead(n); err != nil {
		return fmt.Errorf("devchain: rewind to %d: %w", n, err)
	}
	return m.eth.TxPool().Sync()
}

// Head returns the number of the latest block.
func (c *Chain) Head() uint64 { return c.miner.eth.BlockChain().CurrentBlock().Number.Uint64() }
