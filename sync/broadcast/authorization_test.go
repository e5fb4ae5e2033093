package broadcast_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/sync/broadcast"
	"showpos/terminal/store"
)

// An EIP-3009 authorization is accepted in the same acceptance order as
// handed-over transactions, but it has no raw transaction: a kick round
// leaves it to the relayer, queued, and sends the handover after it.
func TestAKickRoundLeavesAuthorizationsToTheRelayer(t *testing.T) {
	r := newFakeRig(t, nil)
	r.start(broadcast.Options{Window: 16, Poll: time.Hour})
	ctx := context.Background()
	if err := r.store.PutRequest(ctx, store.Request{ID: "auth", Asset: "TUSD", Amount: big.NewInt(5),
		CreatedAt: r.now, ExpiresAt: r.now.Add(time.Hour), Doc: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	auth, _, err := r.store.AcceptAuthorization(ctx, store.Payment{TxHash: common.HexToHash("0xa1"), RequestID: "auth",
		From: addrN(7), Asset: "TUSD", Amount: big.NewInt(5), State: store.PaymentQueued, ChainID: fakeChainID,
		Authorization: &store.Authorization{Token: addrN(8), To: addrN(9), ValidAfter: new(big.Int), ValidBefore: big.NewInt(1 << 40),
			Nonce: common.HexToHash("0x01"), Signature: [65]byte{64: 27}}}, r.now, store.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r.bc.Kick()
	r.accept(addrN(1), 0)
	r.bc.Kick()
	r.waitSent(1)
	r.quiet()
	if s := r.chain.sends(); len(s) != 1 || s[0].From != addrN(1) {
		t.Fatalf("node took %v, want only the handover", s)
	}
	if p, err := r.store.Payment(auth.TxHash); err != nil || p.State != store.PaymentQueued || p.Delivery.Attempts != 0 {
		t.Fatalf("authorization after the rounds: %+v %v", p, err)
	}
}
