// Package devkeys holds the dev chain's deterministic payer keys, apart
// from the chain itself, so a tool that only signs as those payers (the
// payer simulator) does not link a whole go-ethereum node.
package devkeys

import (
	"crypto/ecdsa"
	"fmt"
	"strconv"

	"github.com/ethereum/go-ethereum/crypto"
)

// PayerKey returns payer i's private key, the same on every run and machine:
// keccak256("showpos devnet payer " + decimal i) read as a secp256k1 scalar.
// These keys are public knowledge; never fund them anywhere real.
// It panics for a negative i.
func PayerKey(i int) *ecdsa.PrivateKey {
	if i < 0 {
		panic(fmt.Sprintf("devkeys: negative payer index %d", i))
	}
	seed := crypto.Keccak256([]byte("showpos devnet payer " + strconv.Itoa(i)))
	key, err := crypto.ToECDSA(seed)
	if err != nil {
		// Only if the hash were zero or ≥ the curve order: about 2^-128.
		panic(fmt.Sprintf("devkeys: payer %d has no valid key: %v", i, err))
	}
	return key
}
