package devchain_test

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/tools/devchain"
)

// A test starts a chain, pays from payer 0, and reads the receipt. (Not run
// by go test: it has no Output line; TestChain runs the same steps.)
func Example() {
	ctx := context.Background()
	chain, err := devchain.Start(ctx, devchain.Options{Payers: 2})
	if err != nil {
		panic(err)
	}
	defer chain.Close()

	ec, err := ethclient.Dial(chain.Endpoint())
	if err != nil {
		panic(err)
	}
	defer ec.Close()

	from, to := chain.Payers()[0], chain.Payers()[1]
	tx, _ := types.SignNewTx(from.Key, types.LatestSignerForChainID(chain.ChainID()), &types.DynamicFeeTx{
		ChainID: chain.ChainID(), Nonce: 0, Gas: 21_000,
		GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9),
		To: &to.Address, Value: big.NewInt(1e18),
	})
	if err := ec.SendTransaction(ctx, tx); err != nil {
		panic(err)
	}
	// Mined within tens of milliseconds; poll eth_getTransactionReceipt.
	fmt.Println("sent", tx.Hash())
}
