package watch

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
)

// transferTopic is topic0 of ERC-20's Transfer(address indexed from,
// address indexed to, uint256 value).
var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// tokenTransfers returns the configured tokens' Transfers to the merchant
// in the blocks hs: one eth_getLogs over the blocks whose logs bloom may
// hold one (none when no bloom does).
func (w *Watcher) tokenTransfers(ctx context.Context, r *Report, hs []*chain.Header) ([]Transfer, error) {
	to := common.BytesToHash(w.o.Merchant[:])
	first, last := -1, -1
	for i, h := range hs {
		if w.mayHoldTransfer(h.Bloom, to) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil, nil
	}
	logs, err := w.o.Chain.Logs(ctx, chain.LogFilter{
		From: hs[first].Number, To: hs[last].Number, Addresses: w.tokenIDs,
		Topics: [][]common.Hash{{transferTopic}, nil, {to}},
	})
	r.Calls++
	if err != nil {
		return nil, fmt.Errorf("watch: logs %d..%d: %w", hs[first].Number, hs[last].Number, err)
	}
	var out []Transfer
	for _, l := range logs {
		h := hs[l.BlockNumber-hs[0].Number]
		if l.BlockHash != h.Hash {
			return nil, fmt.Errorf("%w: a log of block %d names block %s, the header %s", errMoved, l.BlockNumber, l.BlockHash.TerminalString(), h.Hash.TerminalString())
		}
		sym, ok := w.tokens[l.Address]
		// ERC-721's Transfer has the same topic0 with a fourth topic and
		// no data: not a payment.
		if !ok || l.Removed || len(l.Topics) != 3 || l.Topics[0] != transferTopic || l.Topics[2] != to || len(l.Data) != 32 {
			continue
		}
		amount := new(big.Int).SetBytes(l.Data)
		if amount.Sign() == 0 {
			continue
		}
		out = append(out, Transfer{
			Block: l.BlockNumber, BlockHash: l.BlockHash, BlockTime: blockTime(h), TxHash: l.TxHash, Index: l.Index,
			From: common.BytesToAddress(l.Topics[1][12:]), Asset: sym, Amount: amount,
		})
	}
	return out, nil
}

// mayHoldTransfer reports whether a block with bloom b may hold a
// configured token's Transfer to the merchant.
func (w *Watcher) mayHoldTransfer(b types.Bloom, to common.Hash) bool {
	if !types.BloomLookup(b, transferTopic) || !types.BloomLookup(b, to) {
		return false
	}
	for _, t := range w.tokenIDs {
		if types.BloomLookup(b, t) {
			return true
		}
	}
	return false
}

func blockTime(h *chain.Header) time.Time { return time.Unix(int64(h.Time), 0).UTC() }

// nativeTransfers returns the native money that reached the merchant in
// the blocks hs, and the merchant's balance after the last of them. See
// "Native payments" in the package comment: the balance at the range's
// end is compared with the one at its start; where it moved, the range is
// halved (a balance at the middle block) down to the blocks in which it
// moved; only those blocks are read with their transactions.
func (w *Watcher) nativeTransfers(ctx context.Context, r *Report, hs []*chain.Header) ([]Transfer, *big.Int, error) {
	parent := hs[0].ParentHash
	start := w.bal
	if start == nil || w.balAt != parent {
		b, err := w.balance(ctx, r, parent)
		if err != nil {
			return nil, nil, err
		}
		start = b
	}
	end, err := w.balance(ctx, r, hs[len(hs)-1].Hash)
	if err != nil {
		return nil, nil, err
	}
	type moved struct {
		i     int
		delta *big.Int
	}
	var changed []moved
	// bisect finds the blocks in (lo, hi] whose balance differs from their
	// parent's; lo == -1 is the range's parent.
	var bisect func(lo, hi int, blo, bhi *big.Int) error
	bisect = func(lo, hi int, blo, bhi *big.Int) error {
		if blo.Cmp(bhi) == 0 {
			return nil
		}
		if hi == lo+1 {
			changed = append(changed, moved{hi, new(big.Int).Sub(bhi, blo)})
			return nil
		}
		mid := lo + (hi-lo)/2
		bmid, err := w.balance(ctx, r, hs[mid].Hash)
		if err != nil {
			return err
		}
		if err := bisect(lo, mid, blo, bmid); err != nil {
			return err
		}
		return bisect(mid, hi, bmid, bhi)
	}
	if err := bisect(-1, len(hs)-1, start, end); err != nil {
		return nil, nil, err
	}
	if len(changed) == 0 {
		return nil, end, nil
	}
	nums := make([]uint64, len(changed))
	for i, c := range changed {
		nums[i] = hs[c.i].Number
	}
	blocks, err := w.o.Chain.Blocks(ctx, nums)
	r.Calls += len(nums)
	if err != nil {
		return nil, nil, fmt.Errorf("watch: blocks with transactions: %w", err)
	}
	var out []Transfer
	for i, b := range blocks {
		h := hs[changed[i].i]
		if b == nil || b.Hash != h.Hash {
			return nil, nil, fmt.Errorf("%w: block %d is not the one whose header was read", errMoved, h.Number)
		}
		ts, err := w.reconcile(ctx, r, b, changed[i].delta)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ts...)
	}
	return out, end, nil
}

// balance asks the merchant's balance after the block with hash h.
func (w *Watcher) balance(ctx context.Context, r *Report, h common.Hash) (*big.Int, error) {
	b, err := w.o.Chain.BalanceAt(ctx, w.o.Merchant, h)
	r.Calls++
	if err != nil {
		// A block not canonical any more is answered with an error: the
		// next round sees the reorg.
		return nil, fmt.Errorf("watch: merchant balance at %s: %w", h.TerminalString(), err)
	}
	return b, nil
}

// reconcile explains the merchant's balance change delta in block b by its
// transactions: value in from transactions to the merchant, less what the
// merchant's own transactions spent (value and fee). Receipts are read
// for the merchant's own transactions (their fee), and for the
// transactions to it only when the balance did not rise by all of them
// (one failed: it moved no value). What rises beyond is a Gap.
func (w *Watcher) reconcile(ctx context.Context, r *Report, b *chain.Block, delta *big.Int) ([]Transfer, error) {
	m := w.o.Merchant
	var in, own []chain.Tx
	for _, tx := range b.Txs {
		switch {
		case tx.From == m:
			own = append(own, tx)
		case tx.To != nil && *tx.To == m && tx.Value.Sign() > 0:
			in = append(in, tx)
		}
	}
	// rest is what no transaction explains: delta + spent - in.
	rest := new(big.Int).Set(delta)
	if len(own) > 0 {
		rs, err := w.receipts(ctx, r, b.Hash, own)
		if err != nil {
			return nil, err
		}
		for i, tx := range own {
			rc := rs[i]
			fee := new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), effectivePrice(rc))
			rest.Add(rest, fee)
			if rc.Status == types.ReceiptStatusSuccessful && (tx.To == nil || *tx.To != m) {
				rest.Add(rest, tx.Value)
			}
		}
	}
	sum := new(big.Int)
	for _, tx := range in {
		sum.Add(sum, tx.Value)
	}
	if sum.Cmp(rest) > 0 {
		// Less came in than the transactions to the merchant carried:
		// some failed. Their receipts say which.
		rs, err := w.receipts(ctx, r, b.Hash, in)
		if err != nil {
			return nil, err
		}
		ok := in[:0:0]
		sum.SetInt64(0)
		for i, tx := range in {
			if rs[i].Status == types.ReceiptStatusSuccessful {
				ok = append(ok, tx)
				sum.Add(sum, tx.Value)
			} else {
				w.log.Info("watch: a failed transaction to the merchant is not a payment", "block", b.Number, "tx", tx.Hash.Hex())
			}
		}
		in = ok
	}
	rest.Sub(rest, sum)
	out := make([]Transfer, 0, len(in)+1)
	for _, tx := range in {
		out = append(out, Transfer{Block: b.Number, BlockHash: b.Hash, BlockTime: blockTime(&b.Header), TxHash: tx.Hash,
			Index: tx.Index, From: tx.From, Asset: w.native, Amount: new(big.Int).Set(tx.Value)})
	}
	switch rest.Sign() {
	case 1:
		out = append(out, Transfer{Block: b.Number, BlockHash: b.Hash, BlockTime: blockTime(&b.Header),
			Index: uint(b.Number), Asset: w.native, Amount: rest, Gap: true})
	case -1:
		w.log.Warn("watch: the merchant's balance fell by more than its own transactions explain (a contract wallet spending?)",
			"block", b.Number, "unexplained", rest.String())
	}
	return out, nil
}

// receipts reads the receipts of txs, all in block; a missing one, or one
// in another block, is the chain moving.
func (w *Watcher) receipts(ctx context.Context, r *Report, block common.Hash, txs []chain.Tx) ([]*types.Receipt, error) {
	hashes := make([]common.Hash, len(txs))
	for i, tx := range txs {
		hashes[i] = tx.Hash
	}
	rs, err := w.o.Chain.Receipts(ctx, hashes)
	r.Calls += len(hashes)
	if err != nil {
		return nil, fmt.Errorf("watch: receipts: %w", err)
	}
	for i, rc := range rs {
		if rc == nil || rc.BlockHash != block {
			return nil, fmt.Errorf("%w: no receipt for %s in block %s", errMoved, hashes[i].Hex(), block.TerminalString())
		}
	}
	return rs, nil
}

// effectivePrice is what the sender paid per gas (zero if the receipt
// does not say: a fee not counted makes no Gap, only a smaller rest).
func effectivePrice(rc *types.Receipt) *big.Int {
	if rc.EffectiveGasPrice == nil {
		return new(big.Int)
	}
	return rc.EffectiveGasPrice
}
