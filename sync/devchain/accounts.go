package devchain

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Account is a funded payer: its address and private key.
type Account struct {
	Address common.Address
	Key     *ecdsa.PrivateKey
}

// PayerKey returns payer i's private key, the same on every run and machine:
// keccak256("showpos devnet payer " + decimal i) read as a secp256k1 scalar.
// These keys are public knowledge; never fund them anywhere real.
// It panics for a negative i.
func PayerKey(i int) *ecdsa.PrivateKey {
	if i < 0 {
		panic(fmt.Sprintf("devchain: negative payer index %d", i))
	}
	seed := crypto.Keccak256([]byte("showpos devnet payer " + strconv.Itoa(i)))
	key, err := crypto.ToECDSA(seed)
	if err != nil {
		// Only if the hash were zero or ≥ the curve order: about 2^-128.
		panic(fmt.Sprintf("devchain: payer %d has no valid key: %v", i, err))
	}
	return key
}

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
