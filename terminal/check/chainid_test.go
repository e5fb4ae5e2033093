package check

import (
	"errors"
	"math/big"
	"testing"
)

// ChainIDOf reads a transaction as Check reads it: what it refuses, Check
// refuses with the same code and words; the chain id it returns is the one
// Check takes (no wrong_chain under a policy on it) and the only one (a
// policy on any other chain is refused wrong_chain, or earlier). A terminal
// on several chains picks the chain's Checker by it.
func TestChainIDOfAgreesWithCheck(t *testing.T) {
	for _, tc := range checkCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			id, err := ChainIDOf(tc.raw)
			if err != nil {
				var r *Refusal
				if !errors.As(err, &r) {
					t.Fatalf("ChainIDOf: %v is not a *Refusal", err)
				}
				_, cerr := New(tc.pol).Check(tc.raw, tc.terms)
				if cerr == nil || cerr.Error() != err.Error() {
					t.Fatalf("ChainIDOf refused %q, Check %v", err, cerr)
				}
				return
			}
			on := tc.pol
			on.ChainID = new(big.Int).SetUint64(id)
			if _, err := New(on).Check(tc.raw, tc.terms); isCode(err, CodeWrongChain) {
				t.Fatalf("chain %d read, but a checker on it says %v", id, err)
			}
			off := tc.pol
			off.ChainID = new(big.Int).SetUint64(id + 1)
			if _, err := New(off).Check(tc.raw, tc.terms); err == nil {
				t.Fatalf("chain %d read, but a checker on chain %d accepts it", id, id+1)
			}
		})
	}
}

func isCode(err error, c Code) bool {
	var r *Refusal
	return errors.As(err, &r) && r.Code == c
}

// An authorization's network names its chain as CheckAuthorization reads
// it; a network it cannot read is refused wrong_chain.
func TestAuthorizationChainID(t *testing.T) {
	tests := []struct {
		name, network string
		version       int
		want          uint64
		code          Code
	}{
		{"v2 eip155", "eip155:42161", 2, 42161, ""},
		{"v1 name", "base", 1, 8453, ""},
		{"a v1 name in v2", "base", 2, 0, CodeWrongChain},
		{"not EVM", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", 2, 0, CodeWrongChain},
		{"leading zero", "eip155:08453", 2, 0, CodeWrongChain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := (&Authorization{Network: tc.network, X402Version: tc.version}).ChainID()
			if tc.code != "" {
				if !isCode(err, tc.code) {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil || id != tc.want {
				t.Fatalf("ChainID = %d, %v; want %d", id, err, tc.want)
			}
		})
	}
}
