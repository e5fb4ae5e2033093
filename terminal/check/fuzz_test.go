package check

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"reflect"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// fuzzSetup is one pair of terms and policy from the specification table,
// with the real Checker for it.
type fuzzSetup struct {
	terms Terms
	pol   Policy
	c     *Checker
}

// fuzzSetups collects the distinct terms and policies checkCases uses
// (native and ERC-20, strict and overpaying, with and without a fee floor,
// a gas minimum or a per-payment limit), in table order, and seeds f with
// every case's bytes under its own setup's index.
func fuzzSetups(f *testing.F) []fuzzSetup {
	var setups []fuzzSetup
	for _, tc := range checkCases(f) {
		i := slices.IndexFunc(setups, func(s fuzzSetup) bool {
			return reflect.DeepEqual(s.terms, tc.terms) && reflect.DeepEqual(s.pol, tc.pol)
		})
		if i < 0 {
			i = len(setups)
			setups = append(setups, fuzzSetup{terms: tc.terms, pol: tc.pol, c: New(tc.pol)})
		}
		if len(tc.raw) <= 4096 { // keep the corpus small; size is not what is fuzzed
			f.Add(tc.raw, uint8(i))
		}
	}
	if len(setups) < 4 {
		f.Fatalf("only %d setups in the table: native and ERC-20 terms should both be there", len(setups))
	}
	return setups
}

// FuzzCheck feeds arbitrary bytes to the real Checker under every terms and
// policy the specification table uses. Check must never panic; a refusal is
// always a *Refusal with one of the codes Check documents, a message, and no
// payment; an acceptance must, decoded again independently of the package,
// pay exactly what the terms ask, and a looser policy must accept it too.
func FuzzCheck(f *testing.F) {
	setups := fuzzSetups(f)
	f.Fuzz(func(t *testing.T, raw []byte, which uint8) {
		s := setups[int(which)%len(setups)]
		p, err := s.c.Check(raw, s.terms)
		if err != nil {
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("error %v is a %T, not a *Refusal", err, err)
			}
			if !slices.Contains(producible, r.Code) || r.Msg == "" {
				t.Fatalf("refusal %q has an unknown code or no message", r)
			}
			if !reflect.DeepEqual(p, Payment{}) {
				t.Fatalf("refusal %q came with a payment %+v", r, p)
			}
			if len(raw) > MaxTxSize && r.Code != CodeTxTooLarge {
				t.Fatalf("%d bytes refused as %s, not %s", len(raw), r.Code, CodeTxTooLarge)
			}
			return
		}
		verifyPays(t, raw, p, s.terms, s.pol)

		// The same bytes as a payer's hex, as HTTP and scanners carry them.
		back, err := DecodeHex(" 0x" + hex.EncodeToString(raw) + "\r\n")
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("hex round trip: %v", err)
		}
		// Loosening the policy never turns an acceptance into a refusal.
		loose := s.pol
		loose.AllowOverpay, loose.MinFeeCap = true, nil
		p2, err := New(loose).Check(raw, s.terms)
		if err != nil || !reflect.DeepEqual(p, p2) {
			t.Fatalf("accepted under %+v, but under %+v: %v", s.pol, loose, err)
		}
	})
}

// verifyPays re-derives, without the package's code, that raw pays terms
// under pol as p says.
func verifyPays(t *testing.T, raw []byte, p Payment, terms Terms, pol Policy) {
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
	if !tx.Protected() || tx.ChainId().Cmp(pol.ChainID) != 0 {
		t.Fatalf("accepted chain id %v (protected %v)", tx.ChainId(), tx.Protected())
	}
	from, err := types.Sender(types.LatestSignerForChainID(pol.ChainID), &tx)
	if err != nil || from != p.From {
		t.Fatalf("sender %s, %v; payment says %s", from, err, p.From)
	}
	if h := crypto.Keccak256Hash(raw); tx.Hash() != p.TxHash || h != p.TxHash {
		t.Fatalf("hash %s, keccak(raw) %s, payment says %s", tx.Hash(), h, p.TxHash)
	}
	if tx.Nonce() != p.Nonce || tx.Nonce() == ^uint64(0) {
		t.Fatalf("nonce %d, payment says %d", tx.Nonce(), p.Nonce)
	}
	if tx.Gas() != p.Gas || tx.Gas() < 21000 || tx.Gas() < terms.MinGas || tx.Gas() > params.MaxTxGas {
		t.Fatalf("gas %d (payment says %d) for a minimum of %d", tx.Gas(), p.Gas, terms.MinGas)
	}
	if tx.GasTipCap().Cmp(tx.GasFeeCap()) > 0 || p.FeeCap.Cmp(tx.GasFeeCap()) != 0 || p.TipCap.Cmp(tx.GasTipCap()) != 0 {
		t.Fatalf("fees: tip %s cap %s; payment says %s %s", tx.GasTipCap(), tx.GasFeeCap(), p.TipCap, p.FeeCap)
	}
	if pol.MinFeeCap != nil && tx.GasFeeCap().Cmp(pol.MinFeeCap) < 0 {
		t.Fatalf("fee cap %s under the floor %s", tx.GasFeeCap(), pol.MinFeeCap)
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
	if d := p.Paid.Cmp(terms.Amount); d < 0 || (d > 0 && !pol.AllowOverpay) {
		t.Fatalf("paid %s for a request of %s (overpay %v)", p.Paid, terms.Amount, pol.AllowOverpay)
	}
	if terms.MaxPayment != nil && p.Paid.Cmp(terms.MaxPayment) > 0 {
		t.Fatalf("paid %s over the limit %s", p.Paid, terms.MaxPayment)
	}
}

// authSetup is one pair of authorization terms and policy from the
// authorization table, with the real Checker for it.
type authSetup struct {
	terms AuthorizationTerms
	pol   Policy
	c     *Checker
}

// FuzzPaymentPayload feeds arbitrary bytes, seeded with every payload of
// the authorization table (each field in every encoding clients send:
// decimal and hex numbers, 0x and 0X, leading zeros, oversize values,
// wrong lengths), to the real Checker under every terms and policy the
// table uses. It must never panic; a refusal is a *Refusal with one of
// the codes the check documents, a message, and no payment; an acceptance
// must, re-derived without the package (EIP-712 digest written out by
// hand, signature recovered), pay exactly what the terms ask, within the
// time window.
func FuzzPaymentPayload(f *testing.F) {
	var setups []authSetup
	for _, tc := range authCases(f) {
		i := slices.IndexFunc(setups, func(s authSetup) bool {
			return reflect.DeepEqual(s.terms, tc.terms) && reflect.DeepEqual(s.pol, tc.pol)
		})
		if i < 0 {
			i = len(setups)
			setups = append(setups, authSetup{terms: tc.terms, pol: tc.pol, c: New(tc.pol)})
		}
		if len(tc.raw) <= 4096 {
			f.Add(tc.raw, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, which uint8) {
		s := setups[int(which)%len(setups)]
		p, err := s.c.CheckPaymentPayload(raw, s.terms)
		if err != nil {
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("error %v is a %T, not a *Refusal", err, err)
			}
			if !slices.Contains(authProducible, r.Code) || r.Msg == "" {
				t.Fatalf("refusal %q has an unknown code or no message", r)
			}
			if !reflect.DeepEqual(p, AuthorizedPayment{}) {
				t.Fatalf("refusal %q came with a payment %+v", r, p)
			}
			if len(raw) > MaxPaymentPayloadSize && r.Code != CodeInvalidPayload {
				t.Fatalf("%d bytes refused as %s, not %s", len(raw), r.Code, CodeInvalidPayload)
			}
			return
		}
		verifyAuthorizes(t, raw, p, s.terms, s.pol)
	})
}

// verifyAuthorizes re-derives, without the package's code, that p is an
// authorization of terms under pol.
func verifyAuthorizes(t *testing.T, raw []byte, p AuthorizedPayment, terms AuthorizationTerms, pol Policy) {
	t.Helper()
	if len(raw) > MaxPaymentPayloadSize {
		t.Fatalf("accepted %d bytes", len(raw))
	}
	m := authMsg{From: p.From, To: p.To, Value: p.Paid, ValidAfter: p.ValidAfter, ValidBefore: p.ValidBefore, Nonce: p.Nonce,
		Name: terms.Domain.Name, Version: terms.Domain.Version, ChainID: pol.ChainID, Token: terms.Token}
	if h := digestByHand(m); h != p.ID {
		t.Fatalf("ID %s, the digest of what the payment says %s", p.ID, h)
	}
	checkSignatureNormalised(t, p)
	if p.Token != terms.Token || p.To != terms.Merchant {
		t.Fatalf("token %s to %s; terms %s to %s", p.Token.Hex(), p.To.Hex(), terms.Token.Hex(), terms.Merchant.Hex())
	}
	if d := p.Paid.Cmp(terms.Amount); d < 0 || (d > 0 && !pol.AllowOverpay) {
		t.Fatalf("paid %s for a request of %s (overpay %v)", p.Paid, terms.Amount, pol.AllowOverpay)
	}
	if terms.MaxPayment != nil && p.Paid.Cmp(terms.MaxPayment) > 0 {
		t.Fatalf("paid %s over the limit %s", p.Paid, terms.MaxPayment)
	}
	window := pol.SettleWindow
	if window == 0 {
		window = DefaultSettleWindow
	}
	if p.ValidAfter.Cmp(big.NewInt(terms.Now.Unix())) > 0 || p.ValidBefore.Cmp(big.NewInt(terms.Now.Add(window).Unix())) < 0 {
		t.Fatalf("valid from %s to %s, taken at %d with a window of %s", p.ValidAfter, p.ValidBefore, terms.Now.Unix(), window)
	}
}
