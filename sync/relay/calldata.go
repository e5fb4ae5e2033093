package relay

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// The slice of FiatToken v2.2's ABI the relayer speaks (FIELD-NOTES:
// selectors 0xe3ee160e and 0xe94a0102, event AuthorizationUsed).
const tokenABI = `[
{"type":"function","name":"transferWithAuthorization","stateMutability":"nonpayable","inputs":[
 {"name":"from","type":"address"},{"name":"to","type":"address"},{"name":"value","type":"uint256"},
 {"name":"validAfter","type":"uint256"},{"name":"validBefore","type":"uint256"},{"name":"nonce","type":"bytes32"},
 {"name":"v","type":"uint8"},{"name":"r","type":"bytes32"},{"name":"s","type":"bytes32"}],"outputs":[]},
{"type":"function","name":"authorizationState","stateMutability":"view","inputs":[
 {"name":"authorizer","type":"address"},{"name":"nonce","type":"bytes32"}],"outputs":[{"name":"","type":"bool"}]},
{"type":"event","name":"AuthorizationUsed","anonymous":false,"inputs":[
 {"name":"authorizer","type":"address","indexed":true},{"name":"nonce","type":"bytes32","indexed":true}]}
]`

var token = mustABI(tokenABI)

// authorizationUsedTopic is the AuthorizationUsed event's topic 0.
var authorizationUsedTopic = crypto.Keccak256Hash([]byte("AuthorizationUsed(address,bytes32)"))

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic(err) // a constant above; covered by every test
	}
	return a
}

// transferCalldata is a's transferWithAuthorization(…, v, r, s) call. The
// signature's v may be 0/1 or 27/28: tokens take only 27/28, so 0/1 gets
// 27 added.
func transferCalldata(a Authorization) ([]byte, error) {
	if len(a.Signature) != 65 {
		return nil, fmt.Errorf("relay: authorization %s: signature of %d bytes, want 65", a.ID, len(a.Signature))
	}
	var r, s [32]byte
	copy(r[:], a.Signature[:32])
	copy(s[:], a.Signature[32:64])
	v := a.Signature[64]
	if v < 27 {
		v += 27
	}
	data, err := token.Pack("transferWithAuthorization", a.From, a.To, bigOr0(a.Value), bigOr0(a.ValidAfter),
		bigOr0(a.ValidBefore), a.Nonce, v, r, s)
	if err != nil {
		return nil, fmt.Errorf("relay: authorization %s: encode: %w", a.ID, err)
	}
	return data, nil
}

// stateCalldata is authorizationState(from, nonce).
func stateCalldata(from common.Address, nonce [32]byte) []byte {
	data, err := token.Pack("authorizationState", from, nonce)
	if err != nil {
		panic(err) // fixed-size arguments cannot fail to pack
	}
	return data
}

// usedIn reports whether the receipt holds token's AuthorizationUsed(from,
// nonce): the proof that this transaction consumed the authorization.
func usedIn(r *types.Receipt, tok, from common.Address, nonce [32]byte) bool {
	for _, l := range r.Logs {
		if l.Address == tok && len(l.Topics) == 3 && l.Topics[0] == authorizationUsedTopic &&
			l.Topics[1] == common.BytesToHash(from[:]) && l.Topics[2] == common.Hash(nonce) {
			return true
		}
	}
	return false
}

func bigOr0(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}
