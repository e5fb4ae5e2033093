package watch_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

const fakeChainID = 1337

var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// fakeNode is a chain kept in memory, served over JSON-RPC on loopback by
// go-ethereum's own rpc server (the protocol is the library's; only the
// chain is made up). Tests build blocks with what reaches the merchant and
// replace blocks to make reorgs; every call is counted.
type fakeNode struct {
	t        testing.TB
	srv      *httptest.Server
	merchant common.Address

	mu        sync.Mutex
	blocks    []*fakeBlock // the canonical chain; blocks[n] is block n
	finalized int64        // the finalized block's number; <0: no tag
	calls     map[string]int
	stall     chan struct{} // non-nil: every call waits for it to close
	salt      byte          // makes blocks of a new fork differ
}

// fakeBlock is one block: its transactions that concern the merchant, its
// logs to it, and the merchant's balance after it.
type fakeBlock struct {
	number  uint64
	hash    common.Hash
	parent  common.Hash
	time    uint64
	bloom   types.Bloom
	txs     []fakeTx
	logs    []*types.Log
	balance *big.Int
}

type fakeTx struct {
	hash   common.Hash
	from   common.Address
	to     *common.Address
	value  *big.Int
	failed bool
	fee    *big.Int // gas used × price (the receipt's)
}

// What a test puts in a block.
type (
	native struct {
		from   common.Address
		value  int64
		failed bool
	}
	token struct {
		token, from common.Address
		value       int64
	}
	internal struct{ value int64 } // a contract's call: no tx to the merchant
	spend    struct {
		to         common.Address
		value, fee int64
	} // the merchant's own transaction
)

func newFakeNode(t testing.TB, merchant common.Address, height uint64) *fakeNode {
	t.Helper()
	f := &fakeNode{t: t, merchant: merchant, finalized: -1, calls: map[string]int{}}
	f.blocks = []*fakeBlock{{number: 0, hash: common.Hash{0xff}, time: 1_700_000_000, balance: big.NewInt(1e18)}}
	for uint64(len(f.blocks)) <= height {
		f.mine()
	}
	srv := rpc.NewServer()
	if err := srv.RegisterName("eth", &fakeEth{f}); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(srv)
	t.Cleanup(func() {
		f.mu.Lock()
		if f.stall != nil {
			close(f.stall)
			f.stall = nil
		}
		f.mu.Unlock()
		f.srv.Close()
		srv.Stop()
	})
	return f
}

func (f *fakeNode) URL() string { return f.srv.URL }

// head returns the number of the newest block.
func (f *fakeNode) head() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return uint64(len(f.blocks) - 1)
}

// hash returns block n's hash.
func (f *fakeNode) hash(n uint64) common.Hash {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blocks[n].hash
}

// mine adds a block holding what is given, and returns its number.
func (f *fakeNode) mine(what ...any) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	parent := f.blocks[len(f.blocks)-1]
	n := parent.number + 1
	b := &fakeBlock{number: n, parent: parent.hash, time: parent.time + 2, balance: new(big.Int).Set(parent.balance)}
	var h [9]byte
	binary.BigEndian.PutUint64(h[:8], n)
	h[8] = f.salt
	b.hash = crypto.Keccak256Hash(h[:])
	to := f.merchant
	for i, w := range what {
		txHash := crypto.Keccak256Hash(b.hash[:], []byte{byte(i)})
		switch w := w.(type) {
		case native:
			b.txs = append(b.txs, fakeTx{hash: txHash, from: w.from, to: &to, value: big.NewInt(w.value), failed: w.failed, fee: big.NewInt(21000)})
			if !w.failed {
				b.balance.Add(b.balance, big.NewInt(w.value))
			}
		case token:
			l := &types.Log{Address: w.token, Topics: []common.Hash{transferTopic, common.BytesToHash(w.from[:]), common.BytesToHash(to[:])},
				Data: common.LeftPadBytes(big.NewInt(w.value).Bytes(), 32), BlockNumber: n, BlockHash: b.hash, TxHash: txHash,
				TxIndex: uint(len(b.txs)), Index: uint(len(b.logs))}
			b.logs = append(b.logs, l)
			b.bloom.Add(l.Address[:])
			for _, tp := range l.Topics {
				b.bloom.Add(tp[:])
			}
			b.txs = append(b.txs, fakeTx{hash: txHash, from: w.from, to: &w.token, value: new(big.Int), fee: big.NewInt(50000)})
		case internal:
			other := common.Address{0xc0}
			b.txs = append(b.txs, fakeTx{hash: txHash, from: common.Address{0xaa}, to: &other, value: big.NewInt(w.value), fee: big.NewInt(40000)})
			b.balance.Add(b.balance, big.NewInt(w.value))
		case spend:
			b.txs = append(b.txs, fakeTx{hash: txHash, from: f.merchant, to: &w.to, value: big.NewInt(w.value), fee: big.NewInt(w.fee)})
			b.balance.Sub(b.balance, big.NewInt(w.value+w.fee))
		default:
			f.t.Fatalf("fake node: cannot mine %T", w)
		}
	}
	f.blocks = append(f.blocks, b)
	return n
}

// mineN adds n empty blocks.
func (f *fakeNode) mineN(n int) {
	for range n {
		f.mine()
	}
}

// reorg drops the blocks above n: the next blocks mined are another fork.
func (f *fakeNode) reorg(n uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = f.blocks[:n+1]
	f.salt++
}

func (f *fakeNode) setFinalized(n int64) {
	f.mu.Lock()
	f.finalized = n
	f.mu.Unlock()
}

// setStall makes every call hang (until unstall or the test's end).
func (f *fakeNode) setStall() {
	f.mu.Lock()
	f.stall = make(chan struct{})
	f.mu.Unlock()
}

func (f *fakeNode) unstall() {
	f.mu.Lock()
	if f.stall != nil {
		close(f.stall)
		f.stall = nil
	}
	f.mu.Unlock()
}

// counts returns the calls per method since the last reset, eth_chainId
// apart (the chain client's check of the endpoint, once a minute).
func (f *fakeNode) counts() (total int, by map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	by = map[string]int{}
	for m, n := range f.calls {
		by[m] = n
		if m != "eth_chainId" {
			total += n
		}
	}
	return total, by
}

func (f *fakeNode) resetCounts() {
	f.mu.Lock()
	f.calls = map[string]int{}
	f.mu.Unlock()
}

// fakeEth is the "eth" namespace of the fake node.
type fakeEth struct{ f *fakeNode }

// enter counts a call and waits while the node stalls; it returns the
// node locked.
func (e *fakeEth) enter(ctx context.Context, method string) error {
	f := e.f
	f.mu.Lock()
	f.calls[method]++
	stall := f.stall
	f.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	return nil
}

func (e *fakeEth) ChainId(ctx context.Context) (hexutil.Uint64, error) {
	if err := e.enter(ctx, "eth_chainId"); err != nil {
		return 0, err
	}
	defer e.f.mu.Unlock()
	return fakeChainID, nil
}

func (e *fakeEth) block(tag string) (*fakeBlock, error) {
	f := e.f
	switch tag {
	case "latest":
		return f.blocks[len(f.blocks)-1], nil
	case "finalized":
		if f.finalized < 0 {
			return nil, errors.New("finalized block not found")
		}
		return f.blocks[f.finalized], nil
	}
	n, err := hexutil.DecodeUint64(tag)
	if err != nil {
		return nil, err
	}
	if n >= uint64(len(f.blocks)) {
		return nil, nil
	}
	return f.blocks[n], nil
}

func (e *fakeEth) GetBlockByNumber(ctx context.Context, tag string, full bool) (map[string]any, error) {
	if err := e.enter(ctx, "eth_getBlockByNumber"); err != nil {
		return nil, err
	}
	defer e.f.mu.Unlock()
	b, err := e.block(tag)
	if b == nil || err != nil {
		return nil, err
	}
	out := map[string]any{"number": hexutil.Uint64(b.number), "hash": b.hash, "parentHash": b.parent,
		"timestamp": hexutil.Uint64(b.time), "logsBloom": b.bloom}
	if full {
		e.f.calls["full"]++
		txs := make([]any, len(b.txs))
		for i, tx := range b.txs {
			txs[i] = map[string]any{"hash": tx.hash, "transactionIndex": hexutil.Uint64(i), "from": tx.from, "to": tx.to,
				"value": (*hexutil.Big)(tx.value)}
		}
		out["transactions"] = txs
	}
	return out, nil
}

type logFilter struct {
	FromBlock hexutil.Uint64    `json:"fromBlock"`
	ToBlock   hexutil.Uint64    `json:"toBlock"`
	Address   []common.Address  `json:"address"`
	Topics    []json.RawMessage `json:"topics"`
}

func (e *fakeEth) GetLogs(ctx context.Context, q logFilter) ([]*types.Log, error) {
	if err := e.enter(ctx, "eth_getLogs"); err != nil {
		return nil, err
	}
	defer e.f.mu.Unlock()
	f := e.f
	f.calls[fmt.Sprintf("logs %d", q.ToBlock-q.FromBlock+1)]++
	if q.ToBlock < q.FromBlock || uint64(q.ToBlock) >= uint64(len(f.blocks)) {
		return nil, fmt.Errorf("bad range %d..%d", q.FromBlock, q.ToBlock)
	}
	out := []*types.Log{}
	for n := q.FromBlock; n <= q.ToBlock; n++ {
		for _, l := range f.blocks[n].logs {
			for _, a := range q.Address {
				if a == l.Address {
					out = append(out, l)
				}
			}
		}
	}
	return out, nil
}

func (e *fakeEth) GetBalance(ctx context.Context, addr common.Address, at rpc.BlockNumberOrHash) (*hexutil.Big, error) {
	if err := e.enter(ctx, "eth_getBalance"); err != nil {
		return nil, err
	}
	defer e.f.mu.Unlock()
	h, ok := at.Hash()
	if !ok || !at.RequireCanonical {
		return nil, errors.New("fake: ask by canonical block hash")
	}
	if addr != e.f.merchant {
		return (*hexutil.Big)(new(big.Int)), nil
	}
	for _, b := range e.f.blocks {
		if b.hash == h {
			return (*hexutil.Big)(new(big.Int).Set(b.balance)), nil
		}
	}
	return nil, errors.New("hash is not currently canonical")
}

func (e *fakeEth) GetTransactionReceipt(ctx context.Context, h common.Hash) (map[string]any, error) {
	if err := e.enter(ctx, "eth_getTransactionReceipt"); err != nil {
		return nil, err
	}
	defer e.f.mu.Unlock()
	for _, b := range e.f.blocks {
		for i, tx := range b.txs {
			if tx.hash != h {
				continue
			}
			status := types.ReceiptStatusSuccessful
			if tx.failed {
				status = types.ReceiptStatusFailed
			}
			rc := &types.Receipt{Type: types.DynamicFeeTxType, Status: status, CumulativeGasUsed: tx.fee.Uint64(), GasUsed: tx.fee.Uint64(),
				EffectiveGasPrice: big.NewInt(1), Logs: []*types.Log{}, TxHash: h, BlockHash: b.hash,
				BlockNumber: new(big.Int).SetUint64(b.number), TransactionIndex: uint(i)}
			raw, err := rc.MarshalJSON()
			if err != nil {
				return nil, err
			}
			var out map[string]any
			return out, json.Unmarshal(raw, &out)
		}
	}
	return nil, nil
}

var _ http.Handler = (*rpc.Server)(nil)
