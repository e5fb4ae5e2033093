package watch_test

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/chain"
	"showpos/sync/watch"
	"showpos/terminal/asset"
	"showpos/tools/devchain"
)

// devRig is a watcher on a real geth dev chain (tools/devchain).
type devRig struct {
	node     *devchain.Chain
	client   *chain.Client
	ledger   *memLedger
	w        *watch.Watcher
	merchant common.Address
	nonces   map[common.Address]uint64
}

var devAssets = []asset.Asset{{Symbol: "ETH", Decimals: 18}, {Symbol: devchain.TokenSymbol, Decimals: devchain.TokenDecimals, Token: devchain.TokenAddr}}

func newDevRig(t testing.TB, o watch.Options) *devRig {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a geth dev chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, err := devchain.Start(ctx, devchain.Options{Payers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	c, err := chain.New(chain.Options{Endpoints: []string{node.Endpoint()}, ChainID: node.ChainID().Uint64()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	key, _ := crypto.GenerateKey()
	r := &devRig{node: node, client: c, ledger: newMemLedger(t), merchant: crypto.PubkeyToAddress(key.PublicKey),
		nonces: map[common.Address]uint64{}}
	o.Ledger, o.Chain, o.Merchant, o.Assets = r.ledger, c, r.merchant, devAssets
	if r.w, err = watch.New(o); err != nil {
		t.Fatal(err)
	}
	r.round(t) // the cursor at the head
	return r
}

func (r *devRig) round(t testing.TB) watch.Report {
	t.Helper()
	rep, err := r.w.Round(context.Background())
	if err != nil {
		t.Fatalf("round: %v", err)
	}
	return rep
}

// send signs a transaction from payer i, sends it and waits until it is
// mined; it returns its receipt.
func (r *devRig) send(t testing.TB, i int, to common.Address, value *big.Int, data []byte, gas uint64) *types.Receipt {
	t.Helper()
	payer := r.node.Payers()[i]
	tx, err := types.SignNewTx(payer.Key, types.LatestSignerForChainID(r.node.ChainID()), &types.DynamicFeeTx{
		ChainID: r.node.ChainID(), Nonce: r.nonces[payer.Address], GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9),
		Gas: gas, To: &to, Value: value, Data: data,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.nonces[payer.Address]++
	return r.sendTx(t, tx)
}

func (r *devRig) sendTx(t testing.TB, tx *types.Transaction) *types.Receipt {
	t.Helper()
	raw, _ := tx.MarshalBinary()
	ctx := context.Background()
	if errs, err := r.client.SendBatch(ctx, [][]byte{raw}); err != nil || errs[0] != nil {
		t.Fatalf("send: %v %v", errs, err)
	}
	for range 500 {
		rs, err := r.client.Receipts(ctx, []common.Hash{tx.Hash()})
		if err == nil && rs[0] != nil {
			return rs[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("not mined in 5 s")
	return nil
}

// tokenTransfer is the calldata of ERC-20 transfer(to, amount).
func tokenTransfer(to common.Address, amount int64) []byte {
	data := common.FromHex("0xa9059cbb")
	data = append(data, common.LeftPadBytes(to[:], 32)...)
	return append(data, common.LeftPadBytes(big.NewInt(amount).Bytes(), 32)...)
}

// untilCaughtUp runs rounds until the cursor is at the node's head.
func (r *devRig) untilCaughtUp(t testing.TB) {
	t.Helper()
	for range 1000 {
		rep := r.round(t)
		if !rep.More && rep.Height == r.node.Head() {
			return
		}
	}
	t.Fatal("not caught up in 1000 rounds")
}

// On geth: a Test USD transfer and an ETH transfer that payers' wallets
// send straight to the chain are recorded with their senders, hashes and
// blocks; a transfer that reverts is not a payment.
func TestDevChainTokenAndNativeTransfersAreRecorded(t *testing.T) {
	r := newDevRig(t, watch.Options{})
	payers := r.node.Payers()
	tok := r.send(t, 0, devchain.TokenAddr, new(big.Int), tokenTransfer(r.merchant, 12_340_000), 100_000)
	eth := r.send(t, 1, r.merchant, big.NewInt(5e16), nil, 21_000)
	// Too little for the token: transfer reverts (status 0), nothing moves.
	bad := r.send(t, 1, devchain.TokenAddr, new(big.Int), tokenTransfer(r.merchant, 1e18), 100_000)
	if tok.Status != 1 || eth.Status != 1 || bad.Status != 0 {
		t.Fatalf("statuses %d %d %d", tok.Status, eth.Status, bad.Status)
	}
	r.untilCaughtUp(t)
	want := []string{
		describeN(12_340_000, "TUSD", payers[0].Address, tok.BlockNumber.Uint64()),
		describeN(5e16, "ETH", payers[1].Address, eth.BlockNumber.Uint64()),
	}
	if got := r.ledger.got(); !slices.Equal(got, want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	r.ledger.mu.Lock()
	ts := slices.Clone(r.ledger.transfers)
	r.ledger.mu.Unlock()
	if ts[0].TxHash != tok.TxHash || ts[0].BlockHash != tok.BlockHash || ts[0].Index != tok.Logs[0].Index ||
		ts[1].TxHash != eth.TxHash || ts[1].Index != eth.TransactionIndex || ts[1].BlockHash != eth.BlockHash {
		t.Errorf("transfers %+v\nreceipts %+v %+v", ts, tok, eth)
	}
}

// On geth: a block holding a recorded payment is lost (the node rewinds
// below it and seals another block at its height; geth does not put the
// lost transaction back in its pool): the watcher rewinds the ledger to
// the block before, and the payment is gone from it.
func TestDevChainALostBlockIsRewound(t *testing.T) {
	r := newDevRig(t, watch.Options{})
	rc := r.send(t, 0, r.merchant, big.NewInt(1e15), nil, 21_000)
	r.untilCaughtUp(t)
	if got := r.ledger.got(); len(got) != 1 {
		t.Fatalf("recorded %v", got)
	}
	block := rc.BlockNumber.Uint64()
	if err := r.node.Rewind(block - 1); err != nil {
		t.Fatal(err)
	}
	if err := r.node.Mine(2); err != nil {
		t.Fatal(err)
	}
	rep := r.round(t)
	if !rep.Reorg || len(r.ledger.rewinds) != 1 || r.ledger.rewinds[0] != block-1 {
		t.Fatalf("report %+v, rewinds %v: want a rewind to %d", rep, r.ledger.rewinds, block-1)
	}
	r.untilCaughtUp(t)
	if got := r.ledger.got(); len(got) != 0 {
		t.Errorf("after the lost block: %v, want nothing", got)
	}
	c := r.ledger.cursor()
	h, err := r.client.Headers(context.Background(), []uint64{c.Height})
	if err != nil || h[0] == nil || h[0].Hash != c.Hashes[len(c.Hashes)-1] {
		t.Errorf("cursor %d %s, canonical %v (%v)", c.Height, c.Hashes[len(c.Hashes)-1], h, err)
	}
}

// On geth: payments made while the terminal could not see the chain are
// found when it catches up from its cursor, in ranges of MaxRange blocks.
func TestDevChainCatchUpAfterTimeOffline(t *testing.T) {
	r := newDevRig(t, watch.Options{MaxRange: 4})
	payers := r.node.Payers()
	var want []string
	for i := range 3 {
		rc := r.send(t, i%2, r.merchant, big.NewInt(int64(1e15)*int64(i+1)), nil, 21_000)
		want = append(want, describeN(int64(1e15)*int64(i+1), "ETH", payers[i%2].Address, rc.BlockNumber.Uint64()))
		rc = r.send(t, i%2, devchain.TokenAddr, new(big.Int), tokenTransfer(r.merchant, int64(i+1)), 100_000)
		want = append(want, describeN(int64(i+1), "TUSD", payers[i%2].Address, rc.BlockNumber.Uint64()))
		if err := r.node.Mine(5); err != nil {
			t.Fatal(err)
		}
	}
	rounds := 0
	for {
		rounds++
		if rep := r.round(t); !rep.More {
			break
		}
	}
	if rounds < 5 {
		t.Errorf("%d rounds for %d blocks of MaxRange 4", rounds, r.node.Head())
	}
	if got := r.ledger.got(); !slices.Equal(got, want) {
		t.Errorf("recorded %v\nwant %v", got, want)
	}
}

// forwarderCode deploys a contract that sends every wei it receives on to
// to, by an internal CALL: what a contract wallet's payment looks like.
func forwarderCode(to common.Address) []byte {
	runtime := []byte{0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x34, 0x73} // retSize retOff argSize argOff CALLVALUE PUSH20
	runtime = append(runtime, to[:]...)
	runtime = append(runtime, 0x5a, 0xf1, 0x50, 0x00) // GAS CALL POP STOP
	n := byte(len(runtime))
	// CODECOPY(0, 12, n); RETURN(0, n)
	init := []byte{0x60, n, 0x60, 12, 0x60, 0, 0x39, 0x60, n, 0x60, 0, 0xf3}
	return append(init, runtime...)
}

// On geth: money that reaches the merchant by a contract's internal call
// (no transaction to the merchant) is a Gap: the balance rose and no
// transaction explains it.
func TestDevChainAnInternalCallIsAGap(t *testing.T) {
	r := newDevRig(t, watch.Options{})
	payer := r.node.Payers()[0]
	deploy, err := types.SignNewTx(payer.Key, types.LatestSignerForChainID(r.node.ChainID()), &types.DynamicFeeTx{
		ChainID: r.node.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9),
		Gas: 200_000, Data: forwarderCode(r.merchant),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.nonces[payer.Address] = 1
	rc := r.sendTx(t, deploy)
	if rc.Status != 1 {
		t.Fatalf("deploy: status %d", rc.Status)
	}
	pay := r.send(t, 0, rc.ContractAddress, big.NewInt(3e15), nil, 100_000)
	if pay.Status != 1 {
		t.Fatalf("pay the forwarder: status %d", pay.Status)
	}
	r.untilCaughtUp(t)
	want := []string{"3000000000000000 ETH gap @" + big.NewInt(int64(pay.BlockNumber.Uint64())).String()}
	if got := r.ledger.got(); !slices.Equal(got, want) {
		t.Errorf("recorded %v, want %v", got, want)
	}
}

// On geth: a fleet bundle moves the merchant to a new address and drops
// the token. From the next round, ETH to the new address is recorded, and
// neither ETH to the old one nor the token to the new one is; the new
// address's balance is compared from the cursor on, so what it held
// before is no gap.
func TestDevChainReconfigureWatchesTheNewMerchantFromTheNextRound(t *testing.T) {
	r := newDevRig(t, watch.Options{})
	payers := r.node.Payers()
	key, _ := crypto.GenerateKey()
	next := crypto.PubkeyToAddress(key.PublicKey)
	r.send(t, 0, next, big.NewInt(7e16), nil, 21_000) // held before the change
	r.untilCaughtUp(t)
	if got := r.ledger.got(); len(got) != 0 {
		t.Fatalf("before: recorded %v", got)
	}
	if err := r.w.Reconfigure(next, devAssets[:1]); err != nil {
		t.Fatal(err)
	}
	old := r.send(t, 0, r.merchant, big.NewInt(1e16), nil, 21_000)
	tok := r.send(t, 1, devchain.TokenAddr, new(big.Int), tokenTransfer(next, 5_000_000), 100_000)
	eth := r.send(t, 1, next, big.NewInt(3e16), nil, 21_000)
	if old.Status != 1 || tok.Status != 1 || eth.Status != 1 {
		t.Fatalf("statuses %d %d %d", old.Status, tok.Status, eth.Status)
	}
	r.untilCaughtUp(t)
	want := []string{describeN(3e16, "ETH", payers[1].Address, eth.BlockNumber.Uint64())}
	if got := r.ledger.got(); !slices.Equal(got, want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	if err := r.w.Reconfigure(common.Address{}, devAssets); err == nil {
		t.Error("a zero merchant was taken")
	}
}
