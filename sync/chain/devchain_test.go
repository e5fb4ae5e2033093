package chain_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"showpos/sync/chain"
	"showpos/tools/devchain"
)

// Through a real geth dev chain: two payments in one batch are accepted
// and mined; the receipts, the tx lookups and the nonces agree; sending a
// mined payment again is a node error with geth's own words.
func TestAgainstDevChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dc, c := devClient(t, ctx)
	if st := c.Probe(ctx); !st.Online {
		t.Fatalf("probe: %+v", st)
	}

	payer := dc.Payers()[0]
	signer := types.LatestSignerForChainID(dc.ChainID())
	to := common.HexToAddress("0x000000000000000000000000000000000000beef")
	var raws [][]byte
	var hashes []common.Hash
	for nonce := range uint64(2) {
		tx, err := types.SignNewTx(payer.Key, signer, &types.DynamicFeeTx{
			ChainID: dc.ChainID(), Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9),
			Gas: 21000, To: &to, Value: big.NewInt(1e15),
		})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tx.MarshalBinary()
		raws, hashes = append(raws, raw), append(hashes, tx.Hash())
	}
	errs, err := c.SendBatch(ctx, raws)
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("SendBatch = %v, %v", errs, err)
	}

	var rs []*types.Receipt
	for {
		if rs, err = c.Receipts(ctx, hashes); err != nil {
			t.Fatal(err)
		}
		if rs[0] != nil && rs[1] != nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("not mined")
		case <-time.After(20 * time.Millisecond):
		}
	}
	for i, r := range rs {
		if r.Status != types.ReceiptStatusSuccessful || r.TxHash != hashes[i] {
			t.Errorf("receipt %d: %+v", i, r)
		}
	}
	infos, err := c.Transactions(ctx, hashes)
	if err != nil || !infos[1].Known || infos[1].Pending || infos[1].BlockNumber != rs[1].BlockNumber.Uint64() {
		t.Errorf("Transactions = %+v, %v", infos, err)
	}
	if n, err := c.NonceAt(ctx, payer.Address, "pending"); err != nil || n != 2 {
		t.Errorf("NonceAt = %d, %v", n, err)
	}
	if n, err := c.BlockNumber(ctx); err != nil || n < rs[1].BlockNumber.Uint64() {
		t.Errorf("BlockNumber = %d, %v", n, err)
	}

	// Resending a mined transaction: "nonce too low" once the pool has
	// taken the new head; "already known" in the moment before it has (its
	// reset after a block is asynchronous: seen once in a loaded run). The
	// broadcaster takes both for ours (a lookup, or success).
	err = c.Send(ctx, raws[0])
	var ne *chain.NodeError
	if !errors.As(err, &ne) || chain.IsTransport(err) ||
		!strings.Contains(ne.Message, "nonce too low") && !strings.Contains(ne.Message, "already known") {
		t.Errorf("resend: %#v, want geth's nonce too low (or already known)", err)
	}

	// balanceOf(payer) on the test token: a plain eth_call.
	data := append(common.FromHex("0x70a08231"), common.LeftPadBytes(payer.Address.Bytes(), 32)...)
	out, err := c.Call(ctx, chain.CallMsg{To: &devchain.TokenAddr, Data: data}, "latest")
	if err != nil || new(big.Int).SetBytes(out).Sign() <= 0 {
		t.Errorf("balanceOf = %x, %v", out, err)
	}
	// transfer(beef, 2^200) from the payer reverts: code 3, the reason in
	// the message, the revert data kept as a hex string.
	data = append(common.FromHex("0xa9059cbb"), common.LeftPadBytes(to.Bytes(), 32)...)
	data = append(data, common.LeftPadBytes(new(big.Int).Lsh(big.NewInt(1), 200).Bytes(), 32)...)
	_, err = c.Call(ctx, chain.CallMsg{From: payer.Address, To: &devchain.TokenAddr, Data: data}, "latest")
	if !errors.As(err, &ne) || ne.Code != 3 || !strings.Contains(ne.Message, "insufficient balance") {
		t.Errorf("reverting call: %#v", err)
	} else if d, ok := ne.Data.(string); !ok || !strings.HasPrefix(d, "0x08c379a0") {
		t.Errorf("revert data %#v", ne.Data)
	}
	if st := c.Status(); !st.Online || st.LastContact.IsZero() {
		t.Errorf("status %+v", st)
	}
}

// What the dev chain (geth with catalyst's simulated beacon) answers for
// the "finalized" tag: a block, the last multiple of 32 below the head
// (genesis until block 33), so the broadcaster takes the tag's path there.
func TestDevChainHasAFinalizedBlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, c := devClient(t, ctx)
	got, err := c.Canonical(ctx, []uint64{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got.Finalized == nil || got.Finalized.Number != 0 || got.Headers[0] == nil || got.Finalized.Hash != got.Headers[0].Hash {
		t.Fatalf("finalized %v (%s), want genesis %v", got.Finalized, got.NoFinalized, got.Headers[0])
	}
	if got.Latest.Number != 1 || got.Headers[1] == nil || got.Headers[1].Hash != got.Latest.Hash || got.Headers[2] != nil {
		t.Fatalf("latest %v, headers %v: want head 1 and no block 2", got.Latest, got.Headers)
	}
}

// FeeHistory against a real geth: the next block's base fee is there and
// positive (London is active on the dev chain), one reward row per block.
func TestFeeHistoryAgainstDevChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, c := devClient(t, ctx)
	h, err := c.FeeHistory(ctx, 1, "latest", []float64{50})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.BaseFees) != 2 || h.NextBaseFee().Sign() <= 0 || len(h.Rewards) != 1 || len(h.Rewards[0]) != 1 {
		t.Fatalf("got %+v", h)
	}
}

// devClient starts a geth dev chain with one funded payer and a client of
// it on its chain id; both stop when the test ends.
func devClient(t *testing.T, ctx context.Context) (*devchain.Chain, *chain.Client) {
	t.Helper()
	dc, err := devchain.Start(ctx, devchain.Options{Payers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	c, err := chain.New(chain.Options{Endpoints: []string{dc.Endpoint()}, ChainID: dc.ChainID().Uint64()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return dc, c
}
