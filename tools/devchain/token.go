package devchain

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// The test token, Test USD (TUSD): an ERC-20 present from genesis.
const (
	// TokenAddress is where the token lives on every dev chain (it is also
	// the address of the first contract a Hardhat/Anvil deployer creates).
	TokenAddress  = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	TokenName     = "Test USD"
	TokenSymbol   = "TUSD"
	TokenDecimals = 6
)

// TokenAddr is TokenAddress as an address.
var TokenAddr = common.HexToAddress(TokenAddress)

// tokenAccount returns the genesis account of the token: its runtime code,
// and storage in which each holder has balance and totalSupply is their sum.
// The EIP-3009 authorization states (slotAuthorizationStates) and the
// allowances start empty, and the EIP-712 domain needs no storage: the token
// computes it from block.chainid at every call.
func tokenAccount(holders []Account, balance *big.Int) types.Account {
	storage := make(map[common.Hash]common.Hash, len(holders)+1)
	total := new(big.Int)
	for _, h := range holders {
		if balance.Sign() == 0 {
			break
		}
		storage[balanceSlot(h.Address)] = common.BigToHash(balance)
		total.Add(total, balance)
	}
	if total.Sign() != 0 {
		storage[common.BigToHash(big.NewInt(slotTotalSupply))] = common.BigToHash(total)
	}
	return types.Account{
		Code:    common.FromHex(tokenRuntimeHex),
		Storage: storage,
		Nonce:   1, // as if created by a transaction (EIP-161)
		Balance: new(big.Int),
	}
}

// balanceSlot is the storage slot of balanceOf[holder]: Solidity puts
// mapping value m[k] at keccak256(pad32(k) ++ pad32(slot of m)).
func balanceSlot(holder common.Address) common.Hash {
	return crypto.Keccak256Hash(
		common.LeftPadBytes(holder.Bytes(), 32),
		common.LeftPadBytes(big.NewInt(slotBalanceOf).Bytes(), 32),
	)
}
