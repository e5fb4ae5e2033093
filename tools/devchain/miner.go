package devchain

import (
	"sync"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
)

// miner seals a block through the simulated beacon as soon as the pool
// announces new transactions, and again while each block still takes some:
// it replaces the on-demand loop that catalyst.RegisterSimulatedBeaconAPIs
// starts for period 0. That loop re-seals until the pool has no executable
// transaction, so one transaction whose fee cap is below the base fee made
// it seal empty blocks forever (measured: ~350 blocks/s, the base fee
// pinned at 7 wei, a core busy). Here an unminable transaction just stays
// pending, as it would on a real network whose base fee does not move.
type miner struct {
	eth    *eth.Ethereum
	beacon *catalyst.SimulatedBeacon
	quit   chan struct{}
	wg     sync.WaitGroup
	// seal is held while a block is sealed or the chain rewound, so that
	// Mine and Rewind do not race the miner's own sealing.
	seal sync.Mutex
}

// startMiner starts the miner's two goroutines; stop ends them.
func startMiner(backend *eth.Ethereum, beacon *catalyst.SimulatedBeacon) *miner {
	m := &miner{eth: backend, beacon: beacon, quit: make(chan struct{})}
	newTxs := make(chan core.NewTxsEvent)
	sub := backend.TxPool().SubscribeTransactions(newTxs, true)
	wake := make(chan struct{}, 1)
	m.wg.Add(2)
	// The announcer must never block: the pool sends the event while its
	// own reorg waits, and sealing waits for that reorg (TxPool.Sync).
	go func() {
		defer m.wg.Done()
		defer sub.Unsubscribe()
		for {
			select {
			case <-m.quit:
				return
			case <-sub.Err():
				return
			case <-newTxs:
				select {
				case wake <- struct{}{}:
				default: // a seal is already due
				}
			}
		}
	}()
	go func() {
		defer m.wg.Done()
		for {
			select {
			case <-m.quit:
				return
			case <-wake:
				m.sealWhileTaken()
			}
		}
	}()
	return m
}

// sealWhileTaken seals blocks until one comes out empty or the pool has
// nothing executable (a block's gas limit may leave some for the next).
func (m *miner) sealWhileTaken() {
	pool := m.eth.TxPool()
	for {
		if executable, _ := pool.Stats(); executable == 0 {
			return
		}
		m.seal.Lock()
		m.beacon.Commit()
		pool.Sync()
		m.seal.Unlock()
		if m.eth.BlockChain().CurrentBlock().GasUsed == 0 {
			return // nothing in the pool is minable now
		}
		select {
		case <-m.quit:
			return
		default:
		}
	}
}

// stop ends the goroutines, waiting for a seal in progress.
func (m *miner) stop() {
	close(m.quit)
	m.wg.Wait()
}
