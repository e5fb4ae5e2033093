package broadcast_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/chain"
	"showpos/terminal/store"
)

// fakeChain is a node that takes every transaction, keeps it in its pool
// and mines none unless a test says so (mined). It records what it was
// sent and asked, so tests can check the order of sends and count the
// lookups of a round. Raw bytes are fakeRaw's: the sender and nonce, then
// padding.
type fakeChain struct {
	online atomic.Bool

	mu       sync.Mutex
	sent     []sentTx               // every transaction sent, in order
	refuse   func(sentTx) error     // the node's answer to a send; nil: taken
	receipts int                    // hashes looked up for receipts
	mined    map[common.Hash]uint64 // hashes mined, by block
	// The canonical chain: blocks 0..head, block n's hash blockHash(n,
	// forks[n]); finalized is the finalized block's number, <0: the node
	// has no finalized tag. stale holds receipts naming a block of their
	// own (a node serving receipts of a block it lost).
	head      uint64
	finalized int64
	forks     map[uint64]byte
	stale     map[common.Hash]chain.BlockRef
	canonical int                 // heights asked for headers
	cutNext   int                 // SendBatch calls to fail as the link, from the next
	cutIf     func([]sentTx) bool // fail a batch as the link when it says so
	// cutReceipts, if set, fails a Receipts call as the link when it says
	// so; call counts the Receipts calls from 1.
	cutReceipts  func(call int, hs []common.Hash) bool
	receiptCalls int
	changes      chan chain.Status
}

type sentTx struct {
	From  common.Address
	Nonce uint64
}

func newFakeChain() *fakeChain {
	f := &fakeChain{mined: map[common.Hash]uint64{}, changes: make(chan chain.Status, 1),
		head: 100, forks: map[uint64]byte{}, stale: map[common.Hash]chain.BlockRef{}}
	f.online.Store(true)
	return f
}

// fakeRaw is a payment's raw bytes for the fake: sender, nonce, and
// padding to the size of a real signed transfer.
func fakeRaw(from common.Address, nonce uint64) []byte {
	raw := make([]byte, 0, 120)
	raw = append(raw, from[:]...)
	raw = binary.BigEndian.AppendUint64(raw, nonce)
	return append(raw, make([]byte, 120-len(raw))...)
}

func (f *fakeChain) Status() chain.Status {
	if f.online.Load() {
		return chain.Status{Online: true, Endpoint: "fake"}
	}
	return chain.Status{Err: "fake: offline"}
}

func (f *fakeChain) Changes() <-chan chain.Status       { return f.changes }
func (f *fakeChain) Probe(context.Context) chain.Status { return f.Status() }

// BlockNumber is the head (the broadcaster before Canonical asked it).
func (f *fakeChain) BlockNumber(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.head, nil
}

// blockHash is the hash of block n on fork (0: the first chain).
func blockHash(n uint64, fork byte) common.Hash {
	var h common.Hash
	binary.BigEndian.PutUint64(h[:], n)
	h[8], h[31] = fork, 0xb1
	return h
}

func (f *fakeChain) Canonical(_ context.Context, ns []uint64) (chain.Canonical, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canonical += len(ns)
	out := chain.Canonical{Headers: make([]*chain.BlockRef, len(ns)),
		Latest: chain.BlockRef{Number: f.head, Hash: blockHash(f.head, f.forks[f.head])}}
	for i, n := range ns {
		if n <= f.head {
			out.Headers[i] = &chain.BlockRef{Number: n, Hash: blockHash(n, f.forks[n])}
		}
	}
	if f.finalized >= 0 {
		n := uint64(f.finalized)
		out.Finalized = &chain.BlockRef{Number: n, Hash: blockHash(n, f.forks[n])}
	} else {
		out.NoFinalized = "fake: no finalized tag"
	}
	return out, nil
}

func (f *fakeChain) Call(context.Context, chain.CallMsg, string) ([]byte, error) {
	return nil, errors.New("fake: no calls")
}

func (f *fakeChain) SendBatch(_ context.Context, raws [][]byte) ([]error, error) {
	if !f.online.Load() {
		return nil, &chain.TransportError{Reason: "fake: offline", Err: errors.New("offline")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cutNext > 0 {
		f.cutNext--
		return nil, &chain.TransportError{Reason: "fake: link cut", Err: errors.New("link cut")}
	}
	txs := make([]sentTx, len(raws))
	for i, raw := range raws {
		txs[i] = sentTx{From: common.BytesToAddress(raw[:20]), Nonce: binary.BigEndian.Uint64(raw[20:28])}
	}
	if f.cutIf != nil && f.cutIf(txs) {
		return nil, &chain.TransportError{Reason: "fake: batch refused", Err: errors.New("batch refused")}
	}
	out := make([]error, len(raws))
	for i, tx := range txs {
		if f.refuse != nil {
			if out[i] = f.refuse(tx); out[i] != nil {
				continue
			}
		}
		f.sent = append(f.sent, tx)
	}
	return out, nil
}

func (f *fakeChain) Receipts(_ context.Context, hs []common.Hash) ([]*types.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.receiptCalls++
	if f.cutReceipts != nil && f.cutReceipts(f.receiptCalls, hs) {
		return nil, &chain.TransportError{Reason: "fake: link cut", Err: errors.New("link cut")}
	}
	f.receipts += len(hs)
	out := make([]*types.Receipt, len(hs))
	for i, h := range hs {
		if ref, ok := f.stale[h]; ok {
			out[i] = &types.Receipt{Status: types.ReceiptStatusSuccessful, BlockNumber: new(big.Int).SetUint64(ref.Number), BlockHash: ref.Hash}
		} else if b, ok := f.mined[h]; ok && b <= f.head {
			out[i] = &types.Receipt{Status: types.ReceiptStatusSuccessful, BlockNumber: new(big.Int).SetUint64(b), BlockHash: blockHash(b, f.forks[b])}
		}
	}
	return out, nil
}

func (f *fakeChain) Transactions(_ context.Context, hs []common.Hash) ([]chain.TxInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]chain.TxInfo, len(hs))
	for i, h := range hs {
		if b, ok := f.mined[h]; ok && b <= f.head {
			out[i] = chain.TxInfo{Known: true, BlockNumber: b}
			continue
		}
		out[i] = chain.TxInfo{Known: true, Pending: true} // in the pool
	}
	return out, nil
}

// sends returns what was sent so far.
func (f *fakeChain) sends() []sentTx {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentTx(nil), f.sent...)
}

func (f *fakeChain) lookedUp() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.receipts
}

// seedStore fills store with payments from senders payers, nonces
// 0..each-1 each, accepted at now in order of nonce; broadcast says how
// many of each sender's first nonces are already broadcast. It runs many
// writers at once so that group commit makes it quick.
func seedStore(t testing.TB, st *store.Store, payers []common.Address, each, broadcast int, now time.Time) []store.Payment {
	t.Helper()
	ctx := context.Background()
	out := make([]store.Payment, len(payers)*each)
	var wg sync.WaitGroup
	errs := make(chan error, len(payers))
	for i, from := range payers {
		wg.Go(func() {
			for n := range each {
				p, err := acceptFake(ctx, st, from, uint64(n), now)
				if err != nil {
					errs <- err
					return
				}
				out[i*each+n] = p
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var changes []store.Change
	for i := range payers {
		for n := range broadcast {
			p := out[i*each+n]
			changes = append(changes, store.Change{Hash: p.TxHash, State: store.PaymentBroadcast,
				Delivery: store.Delivery{Attempts: 1, SentAt: now}})
		}
	}
	for start := 0; start < len(changes); start += 1000 {
		if _, err := st.Apply(ctx, now, changes[start:min(start+1000, len(changes))]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// acceptFake stores a request and a payment for it from from at nonce.
// Each request has an amount of its own (pending requests of one asset may
// not share one); the payment's amount is the store's to count, not to check.
// fakeChainID is the chain the fake payments are on.
const fakeChainID = 1337

func acceptFake(ctx context.Context, st *store.Store, from common.Address, nonce uint64, now time.Time) (store.Payment, error) {
	id := fmt.Sprintf("%x-%d", from, nonce)
	sum := sha256.Sum256([]byte(id))
	if err := st.PutRequest(ctx, store.Request{ID: id, Asset: "ETH", Amount: new(big.Int).SetBytes(sum[:]),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), Doc: []byte(`{}`)}); err != nil {
		return store.Payment{}, fmt.Errorf("request %s: %w", id, err)
	}
	raw := fakeRaw(from, nonce)
	h := common.BytesToHash(append(append([]byte(nil), raw[:28]...), 0xfe, 0xed, 0xfa, 0xce))
	p, _, err := st.Accept(ctx, store.Payment{TxHash: h, RequestID: id, From: from, Nonce: nonce,
		Asset: "ETH", Amount: big.NewInt(1000), Raw: raw, State: store.PaymentQueued, ChainID: fakeChainID}, now, nil)
	if err != nil {
		return store.Payment{}, fmt.Errorf("accept %s: %w", id, err)
	}
	return p, nil
}

func addrN(i int) common.Address {
	var a common.Address
	binary.BigEndian.PutUint64(a[12:], uint64(i)*0x9e3779b97f4a7c15) // spread over the key space
	a[0] = byte(i)
	return a
}
