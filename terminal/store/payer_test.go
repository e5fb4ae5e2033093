package store

import (
	"context"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestAcceptPerPayerLimit: what one payer has waiting to settle is capped,
// per asset, inside the write that accepts; other payers and other assets
// are not counted, and money settled on chain frees the cap.
func TestAcceptPerPayerLimit(t *testing.T) {
	alice, bob := randAddr(), randAddr()
	type step struct {
		from    common.Address
		asset   string
		amount  int64
		confirm bool  // after accepting, mark it confirmed
		want    error // nil: accepted
	}
	cases := []struct {
		name  string
		limit *big.Int
		steps []step
	}{
		{"a payer's payments up to the cap are taken, the one over it refused", big.NewInt(250), []step{
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "ETH", amount: 100, want: ErrPayerLimit},
		}},
		{"exactly at the cap is taken", big.NewInt(200), []step{
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "ETH", amount: 100},
		}},
		{"another payer is not held by the first payer's queue", big.NewInt(150), []step{
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "ETH", amount: 100, want: ErrPayerLimit},
			{from: bob, asset: "ETH", amount: 100},
		}},
		{"another asset of the same payer is counted apart", big.NewInt(150), []step{
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "TUSD", amount: 100},
		}},
		{"a confirmed payment frees the cap", big.NewInt(150), []step{
			{from: alice, asset: "ETH", amount: 100, confirm: true},
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "ETH", amount: 100, want: ErrPayerLimit},
		}},
		{"no cap takes everything", nil, []step{
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "ETH", amount: 100},
			{from: alice, asset: "ETH", amount: 100},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			ctx := context.Background()
			nonces := map[common.Address]uint64{}
			for i, st := range tc.steps {
				id := fmt.Sprintf("r%d", i)
				putRequest(t, s, id)
				p := newPayment(id)
				p.From, p.Nonce, p.Asset, p.Amount = st.from, nonces[st.from], st.asset, big.NewInt(st.amount)
				before, err := s.Chain(testChain).Unsettled(st.asset)
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = s.AcceptLimited(ctx, p, t0, Limits{PerPayer: tc.limit})
				if st.want != nil {
					wantErr(t, fmt.Sprintf("step %d", i), err, st.want)
					after, err := s.Chain(testChain).Unsettled(st.asset)
					if err != nil {
						t.Fatal(err)
					}
					if after.Cmp(before) != 0 {
						t.Errorf("step %d: refused, yet unsettled moved from %s to %s", i, before, after)
					}
					if _, err := s.Payment(p.TxHash); err == nil {
						t.Errorf("step %d: refused, yet the payment is stored", i)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: AcceptLimited: %v", i, err)
				}
				nonces[st.from]++
				if st.confirm {
					if _, err := s.SetPaymentState(ctx, p.TxHash, PaymentConfirmed, "", t0); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// TestAcceptPerPayerLimitWithTotal: both caps hold at once, the total
// checked first.
func TestAcceptPerPayerLimitWithTotal(t *testing.T) {
	s := openTemp(t)
	putRequest(t, s, "r1")
	p := newPayment("r1")
	_, _, err := s.AcceptLimited(context.Background(), p, t0, Limits{Unsettled: big.NewInt(50), PerPayer: big.NewInt(50)})
	wantErr(t, "over both", err, ErrExposureLimit)
}
