package check

import (
	"bytes"
	"errors"
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// FuzzCheck feeds arbitrary bytes to Check against the native and the token
// terms, with and without overpayment. It must never panic, must only ever
// refuse with a *Refusal carrying one of the codes Check produces, and whatever it accepts must,
// decoded again independently, pay the terms.
func FuzzCheck(f *testing.F) {
	for _, tc := range checkCases(f) {
		if len(tc.raw) <= 4096 { // keep the corpus small; size is not what is fuzzed
			f.Add(tc.raw, tc.terms.Token != (common.Address{}), tc.pol.AllowOverpay)
		}
	}
	strict, loose := New(testPolicy()), New(withPolicy(func(p *Policy) { p.AllowOverpay = true }))
	f.Fuzz(func(t *testing.T, raw []byte, isToken, overpay bool) {
		terms, c := nativeTerms(), strict
		if isToken {
			terms = tokenTerms()
		}
		if overpay {
			c = loose
		}
		p, err := c.Check(raw, terms)
		if err != nil {
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("error %v is a %T, not a *Refusal", err, err)
			}
			if !slices.Contains(producible, r.Code) || r.Msg == "" {
				t.Fatalf("refusal %q has an unknown code or no message", r)
			}
			if p.Paid != nil {
				t.Fatalf("refusal %q came with a payment", r)
			}
			return
		}
		verifyPays(t, raw, p, terms, overpay)
	})
}

// verifyPays re-derives, without the package's code, that raw pays terms as p says.
func verifyPays(t *testing.T, raw []byte, p Payment, terms Terms, overpay bool) {
	t.Helper()
	if len(raw) > MaxTxSize {
		t.Fatalf("accepted %d bytes", len(raw))
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		t.Fatalf("accepted undecodable bytes: %v", err)
	}
	if typ := tx.Type(); typ > types.DynamicFeeTxType || typ != p.Type {
		t.Fatalf("accepted type %d (payment says %d)", typ, p.Type)
	}
	if !tx.Protected() || tx.ChainId().Cmp(testChain) != 0 {
		t.Fatalf("accepted chain id %v (protected %v)", tx.ChainId(), tx.Protected())
	}
	from, err := types.Sender(types.LatestSignerForChainID(testChain), &tx)
	if err != nil || from != p.From {
		t.Fatalf("sender %s, %v; payment says %s", from, err, p.From)
	}
	if h := crypto.Keccak256Hash(raw); tx.Hash() != p.TxHash || h != p.TxHash {
		t.Fatalf("hash %s, keccak(raw) %s, payment says %s", tx.Hash(), h, p.TxHash)
	}
	if tx.Nonce() != p.Nonce || tx.Gas() != p.Gas || tx.Gas() < 21000 || tx.Gas() < terms.MinGas || tx.Gas() > params.MaxTxGas {
		t.Fatalf("nonce %d gas %d, payment says %d %d", tx.Nonce(), tx.Gas(), p.Nonce, p.Gas)
	}
	if tx.GasTipCap().Cmp(tx.GasFeeCap()) > 0 || tx.GasFeeCap().Cmp(gwei) < 0 {
		t.Fatalf("fees: tip %s cap %s", tx.GasTipCap(), tx.GasFeeCap())
	}
	to, value, data := tx.To(), tx.Value(), tx.Data()
	var paid []byte
	if terms.Token == (common.Address{}) {
		if to == nil || *to != terms.Merchant || len(data) != 0 {
			t.Fatalf("native payment to %v with %d bytes of data", to, len(data))
		}
		paid = value.Bytes()
	} else {
		want := transferData(terms.Merchant, p.Paid)
		if to == nil || *to != terms.Token || value.Sign() != 0 || !bytes.Equal(data, want) {
			t.Fatalf("token payment to %v value %s data %x", to, value, data)
		}
		paid = data[36:]
	}
	if got := new(big.Int).SetBytes(paid); got.Cmp(p.Paid) != 0 {
		t.Fatalf("paid %s, payment says %s", got, p.Paid)
	}
	if d := p.Paid.Cmp(terms.Amount); d < 0 || (d > 0 && !overpay) {
		t.Fatalf("paid %s for a request of %s (overpay %v)", p.Paid, terms.Amount, overpay)
	}
}
