package broadcast_test

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/broadcast"
	"showpos/sync/chain"
	"showpos/terminal/store"
)

// noFinalized is a node without the "finalized" tag (a chain without a
// beacon chain, an older node): the broadcaster counts FinalDepth there.
type noFinalized struct{ *chain.Client }

func (n noFinalized) Canonical(ctx context.Context, ns []uint64) (chain.Canonical, error) {
	c, err := n.Client.Canonical(ctx, ns)
	c.Finalized, c.NoFinalized = nil, "hidden by the test"
	return c, err
}

// On geth: a payment confirmed in a block the node then loses (rewound
// below it, as the geth did after a kill, and another block
// sealed at its height; geth does not put the lost block's transactions
// back in its pool) is sent again, mined in a new block, confirmed there,
// and final once past finality, by the node's finalized block or by the
// depth. The merchant is paid once; the books count it once.
func TestAPaymentInABlockTheNodeLosesIsMinedAgain(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*chain.Client) broadcast.Chain
	}{
		{"finalized tag", nil},
		{"no finalized tag: final depth", func(c *chain.Client) broadcast.Chain { return noFinalized{c} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := startNode(t, 1)
			r := newRigChain(t, node, broadcast.Options{Confirmations: 1, FinalDepth: 8}, nil, tc.wrap)
			tx := r.pay("0.02", "ETH", node.Payers()[0].Key, 0)
			rcpt := waitMined(t, r.eth, tx.Hash())
			block := rcpt.BlockNumber.Uint64()
			waitState(t, r, tx.Hash(), func(p store.Payment) bool {
				return p.State == store.PaymentConfirmed && p.Delivery.BlockHash == rcpt.BlockHash
			})

			if err := node.Rewind(block - 1); err != nil {
				t.Fatal(err)
			}
			if err := node.Mine(1); err != nil { // another block at its height
				t.Fatal(err)
			}
			waitState(t, r, tx.Hash(), func(p store.Payment) bool {
				return p.Delivery.Reorgs == 1 && p.State == store.PaymentConfirmed && p.Delivery.Block > block
			})
			if err := node.Mine(40); err != nil {
				t.Fatal(err)
			}
			waitState(t, r, tx.Hash(), func(p store.Payment) bool { return p.State == store.PaymentFinal })

			p, _ := r.store.Payment(tx.Hash())
			header, err := r.eth.HeaderByNumber(context.Background(), new(big.Int).SetUint64(p.Delivery.Block))
			if err != nil || header.Hash() != p.Delivery.BlockHash || header.Hash() == rcpt.BlockHash {
				t.Fatalf("final in block %d %s; canonical there %v (%v); first block %s", p.Delivery.Block, p.Delivery.BlockHash, header, err, rcpt.BlockHash)
			}
			if p.Delivery.Reorgs != 1 || p.Delivery.ReorgNote == "" {
				t.Errorf("delivery %+v: want one reorg, noted", p.Delivery)
			}
			paid, err := r.eth.BalanceAt(context.Background(), common.HexToAddress("0x000000000000000000000000000000000000dEaD"), nil)
			if err != nil || paid.Cmp(big.NewInt(2e16)) != 0 {
				t.Errorf("merchant holds %v wei (%v), want 2e16: paid once", paid, err)
			}
			counts, _ := r.store.Counts()
			if counts[store.PaymentFinal] != 1 || counts[store.PaymentConfirmed]+counts[store.PaymentBroadcast]+counts[store.PaymentQueued]+counts[store.PaymentFailed] != 0 {
				t.Errorf("counts %v: want one final", counts)
			}
			if u, _ := r.store.Chain(r.cfg.ChainID).Unsettled("ETH"); u.Sign() != 0 {
				t.Errorf("unsettled %s, want 0", u)
			}
		})
	}
}
