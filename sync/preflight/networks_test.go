package preflight_test

import (
	"context"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
	"showpos/sync/preflight"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/store"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// ETH on two dev chains, "one" (1337) the default.
const twoChains = `
[terminal]
id = "two-chains"
[merchant]
address = "0x000000000000000000000000000000000000dEaD"
[[networks]]
name = "one"
chain_id = 1337
[[networks.assets]]
symbol = "ETH"
[[networks]]
name = "two"
chain_id = 1338
[[networks.assets]]
symbol = "ETH"
`

// The pre-flight asks the network the payment is signed for: a payer
// whose nonce 0 is mined on one chain only is refused nonce_used there
// (the refusal names the network) and accepted at nonce 0 on the other;
// a network without a pre-flight is not asked.
func TestPreflightAsksThePaymentsNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	one, err := devchain.Start(ctx, devchain.Options{ChainID: 1337, Payers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	two, err := devchain.Start(ctx, devchain.Options{ChainID: 1338, Payers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	clients := map[uint64]*chain.Client{}
	for _, dc := range []*devchain.Chain{one, two} {
		c, err := chain.New(chain.Options{Endpoints: []string{dc.Endpoint()}, ChainID: dc.ChainID().Uint64()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if st := c.Probe(ctx); !st.Online {
			t.Fatalf("probe chain %d: %+v", dc.ChainID(), st)
		}
		clients[dc.ChainID().Uint64()] = c
	}
	payer := &one.Payers()[0] // the same key is funded on both chains
	send(t, ctx, clients[1337], one, payer, 0, common.HexToAddress("0x000000000000000000000000000000000000beef"), big.NewInt(1))

	cfg, err := config.Parse([]byte(twoChains))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, _ := crypto.GenerateKey()
	out := &outcomes{}
	asked := map[uint64]bool{1337: true, 1338: true}
	till := checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, OnPreflight: out.add,
		Preflights: func(id uint64) checkout.Preflight {
			if !asked[id] {
				return nil
			}
			return preflight.New(clients[id])
		}})
	pay := func(chainID uint64) error {
		doc, err := till.NewRequest(ctx, "0.01", "ETH", "")
		if err != nil {
			t.Fatal(err)
		}
		r := doc.Request()
		r.ChainID = chainID
		tx, err := paytx.Build(r, payer.Key, paytx.Options{Type: types.DynamicFeeTxType})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tx.MarshalBinary()
		_, err = till.Pay(ctx, doc.ID, raw)
		return err
	}

	if err := pay(1337); code(err) != check.CodeNonceUsed || !contains(err, "on one") {
		t.Errorf("nonce 0 on the chain that mined it: %v, want nonce_used on one", err)
	}
	if err := pay(1338); err != nil || out.last() != checkout.PreflightOK {
		t.Errorf("nonce 0 on the other chain: %v (outcome %q), want accepted after its pre-flight", err, out.last())
	}
	asked[1337] = false
	n := out.count()
	if err := pay(1337); code(err) == check.CodeNonceUsed || out.count() != n {
		t.Errorf("a network without a pre-flight: %v, %d outcomes more; want it not asked", err, out.count()-n)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

func (o *outcomes) count() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.got) }
