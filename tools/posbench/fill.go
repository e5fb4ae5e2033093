package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/store"
	"showpos/terminal/termkey"
	"showpos/tools/paytx"
)

// benchConfig is posd's benchmark config for a terminal with its data in
// dataDir, on nets networks (configForNets).
func benchConfig(dataDir string, nets int) (*config.Config, error) {
	text, err := configForNets(dataDir, nets)
	if err != nil {
		return nil, err
	}
	return config.Parse([]byte(text))
}

// till is a terminal's store and till, in this process.
type till struct {
	store *store.Store
	till  *checkout.Service
}

// openTill opens the store in dataDir with the terminal's key there (made
// if missing, as posd would), and the till on it.
func openTill(dataDir string, cfg *config.Config, onAccept func(checkout.Receipt)) (*till, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	key, _, err := termkey.LoadOrCreate(filepath.Join(dataDir, "terminal.key"))
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(dataDir, "showpos.db"), nil)
	if err != nil {
		return nil, err
	}
	return &till{store: st, till: checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, OnAccept: onAccept})}, nil
}

// payer is a wallet: a key and its next nonce on each chain.
type payer struct {
	key    *ecdsa.PrivateKey
	nonces map[uint64]uint64
}

// next returns the payer's next nonce on chain id and counts it used.
func (p *payer) next(id uint64) uint64 {
	if p.nonces == nil {
		p.nonces = map[uint64]uint64{}
	}
	n := p.nonces[id]
	p.nonces[id] = n + 1
	return n
}

// chainOf is the chain payment i is made on when payments are split over
// chains in turn: chains[i mod len(chains)]; 0 (the request's own chain)
// for no chains.
func chainOf(chains []uint64, i int) uint64 {
	if len(chains) == 0 {
		return 0
	}
	return chains[i%len(chains)]
}

// fill queues n accepted payments, as posd's till would store them: a
// request made and signed by the till, then its payment, a signed EIP-1559
// transaction, taken by the store's Accept. The check is skipped (these
// transactions are ours, made to pass it: the tests of terminal/check hold
// that, and one payment in 1,000 goes through it here): its sender
// recovery would add a quarter to the fill's CPU time for nothing the
// store keeps. Writers goroutines work at once so that the store's
// group commit shares their fsyncs; writer w pays as payers w, w+writers,
// w+2·writers, … in turn, each in nonce order (a payer is one writer's
// alone), so there must be at least as many payers. fee is the max fee per
// gas (nil: the payer default). Payment i is made on chainOf(chains, i),
// so half on each of two chains; the till must offer them all (none: the
// request's own chain).
func (t *till) fill(ctx context.Context, n, writers int, payers []*payer, fee *big.Int, chains []uint64) error {
	if writers > len(payers) {
		return fmt.Errorf("fill: %d writers for %d payers", writers, len(payers))
	}
	var (
		next   atomic.Int64
		failed firstError
		wg     sync.WaitGroup
	)
	opts := paytx.Options{Type: types.DynamicFeeTxType}
	if fee != nil {
		opts.FeeCap, opts.TipCap = fee, big.NewInt(1e9)
	}
	fail := failed.set
	for w := range writers {
		wg.Go(func() {
			var mine []*payer
			for i := w; i < len(payers); i += writers {
				mine = append(mine, payers[i])
			}
			for j := 0; failed.get() == nil; j++ {
				p := mine[j%len(mine)]
				from := crypto.PubkeyToAddress(p.key.PublicKey)
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				doc, err := t.till.NewRequest(ctx, "0.0001", "ETH", "")
				if err != nil {
					fail(err)
					return
				}
				r := doc.Request()
				id := chainOf(chains, int(i-1))
				if id == 0 {
					id = r.ChainID
				}
				if _, ok := r.Option(id); !ok {
					fail(fmt.Errorf("fill: request %s is not offered on chain %d", r.ID, id))
					return
				}
				o := opts
				o.Nonce, o.ChainID = p.next(id), new(big.Int).SetUint64(id)
				tx, err := paytx.Build(r, p.key, o)
				if err != nil {
					fail(err)
					return
				}
				raw, _ := tx.MarshalBinary()
				if i%1000 == 1 { // a sample through the check: it must pass, as the till's would
					pay, err := checkerOn(id).Check(raw, check.Terms{Merchant: r.Merchant, Amount: r.Amount})
					if err != nil || pay.From != from || pay.TxHash != tx.Hash() {
						fail(fmt.Errorf("fill: payment %d: check says %+v, %v", i, pay, err))
						return
					}
				}
				_, _, err = t.store.Accept(ctx, store.Payment{TxHash: tx.Hash(), RequestID: r.ID, From: from, Nonce: o.Nonce,
					Asset: r.Asset.Symbol, Amount: r.Amount, Raw: raw, State: store.PaymentQueued, ChainID: id}, time.Now(), nil)
				if err != nil {
					fail(fmt.Errorf("payment of request %s: %w", r.ID, err))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.get(); err != nil {
		return err
	}
	counts, err := t.store.Counts()
	if err != nil {
		return err
	}
	if counts[store.PaymentQueued] < n {
		return fmt.Errorf("fill: %d queued, want %d", counts[store.PaymentQueued], n)
	}
	return nil
}
