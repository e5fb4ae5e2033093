package devchain

import (
	"crypto/ecdsa"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/tools/devchain/devkeys"
)

// Account is a funded payer: its address and private key.
type Account struct {
	Address common.Address
	Key     *ecdsa.PrivateKey
}

// PayerKey returns payer i's private key, the same on every run and
// machine (see devkeys.PayerKey). It panics for a negative i.
func PayerKey(i int) *ecdsa.PrivateKey { return devkeys.PayerKey(i) }

// payers returns the first n payer accounts.
func payers(n int) []Account {
	out := make([]Account, n)
	for i := range out {
		k := PayerKey(i)
		out[i] = Account{Address: crypto.PubkeyToAddress(k.PublicKey), Key: k}
	}
	return out
}

// ether returns n·10^18 wei.
func ether(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18))
}

// typesAccount is a genesis account holding balance wei.
func typesAccount(balance *big.Int) types.Account {
	return types.Account{Balance: new(big.Int).Set(balance)}
}
