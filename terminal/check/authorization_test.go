package check

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestCheckPaymentPayload(t *testing.T) {
	for _, tc := range authCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			before := new(big.Int).Set(tc.terms.Amount)
			p, err := New(tc.pol).CheckPaymentPayload(tc.raw, tc.terms)
			if tc.terms.Amount.Cmp(before) != 0 {
				t.Errorf("the check changed Terms.Amount to %s", tc.terms.Amount)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.From != tc.from || p.Paid.Cmp(tc.paid) != 0 || p.ID != tc.id || p.Token != tc.terms.Token || p.To != tc.terms.Merchant {
					t.Errorf("payment = from %s paid %s id %s token %s to %s; want %s %s %s %s %s",
						p.From, p.Paid, p.ID, p.Token, p.To, tc.from, tc.paid, tc.id, tc.terms.Token, tc.terms.Merchant)
				}
				checkSignatureNormalised(t, p)
				return
			}
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("err = %v (%T), want a *Refusal %s", err, err, tc.code)
			}
			t.Log(r)
			if r.Code != tc.code || !strings.Contains(r.Msg, tc.msg) {
				t.Errorf("refusal = %q; want code %s with a message containing %q", r, tc.code, tc.msg)
			}
			if p.Paid != nil || p.ID != (common.Hash{}) || p.From != (common.Address{}) {
				t.Errorf("refused check returned a payment: %+v", p)
			}
		})
	}
}

// checkSignatureNormalised: the payment's signature is what
// transferWithAuthorization(…, v, r, s) takes (v 27 or 28, low s) and
// recovers From over the payment's ID.
func checkSignatureNormalised(t *testing.T, p AuthorizedPayment) {
	t.Helper()
	v := p.Signature[64]
	r, s := new(big.Int).SetBytes(p.Signature[:32]), new(big.Int).SetBytes(p.Signature[32:64])
	if (v != 27 && v != 28) || !crypto.ValidateSignatureValues(v-27, r, s, true) {
		t.Fatalf("signature %x is not r || s || v with v 27/28 and low s", p.Signature)
	}
	plain := p.Signature
	plain[64] -= 27
	pub, err := crypto.SigToPub(p.ID[:], plain[:])
	if err != nil || crypto.PubkeyToAddress(*pub) != p.From {
		t.Fatalf("signature does not recover %s over the ID %s: %v", p.From.Hex(), p.ID, err)
	}
}

func TestEveryAuthorizationCodeHasACase(t *testing.T) {
	seen := map[Code]bool{}
	for _, tc := range authCases(t) {
		seen[tc.code] = true
	}
	for _, c := range authProducible {
		if !seen[c] {
			t.Errorf("no case refuses with %s", c)
		}
	}
	if !seen[""] {
		t.Error("no accepted case")
	}
}

// The digest the package signs over (go-ethereum's apitypes) is the one
// EIP-3009 tokens compute, written out by hand from the type hash FiatToken
// declares.
func TestAuthorizationDigestIsEIP3009s(t *testing.T) {
	typ := "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
	if h := crypto.Keccak256Hash([]byte(typ)); h != transferWithAuthorizationTypeHash {
		t.Fatalf("keccak(%s) = %s, FiatToken's TRANSFER_WITH_AUTHORIZATION_TYPEHASH is %s", typ, h, transferWithAuthorizationTypeHash)
	}
	p := newPayer(t)
	m := p.defaultMsg()
	m.Value, _ = new(big.Int).SetString(strings.Repeat("f", 64), 16)
	m.ValidAfter = big.NewInt(1)
	a := &Authorization{From: m.From, To: m.To, Value: m.Value, ValidAfter: m.ValidAfter, ValidBefore: m.ValidBefore, Nonce: m.Nonce}
	got, err := New(testPolicy()).authorizationDigest(a, authTerms())
	if err != nil {
		t.Fatal(err)
	}
	if want := digestByHand(m); got != want {
		t.Errorf("digest %s, by hand %s", got, want)
	}
}

// A repeat of the same authorization, in any encoding, has the same ID;
// another nonce another.
func TestAuthorizationIDRecognisesARepeat(t *testing.T) {
	p := newPayer(t)
	m := p.defaultMsg()
	sig := p.signAuth(m)
	c := New(testPolicy())
	a, err := c.CheckPaymentPayload(payloadV2(m, sig), authTerms())
	if err != nil {
		t.Fatal(err)
	}
	sig0 := append([]byte(nil), sig...)
	sig0[64] -= 27
	b, err := c.CheckPaymentPayload(payloadV1(m, sig0, "sepolia", set("payload.authorization.value", "12340000")), authTerms())
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.Signature != b.Signature {
		t.Errorf("the same authorization in v2 and v1 has IDs %s and %s, signatures %x and %x", a.ID, b.ID, a.Signature, b.Signature)
	}
	m.Nonce[31]++
	d, err := c.CheckPaymentPayload(payloadV2(m, p.signAuth(m)), authTerms())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == a.ID {
		t.Error("another nonce has the same ID")
	}
}

func TestCheckAuthorizationPanicsOnCallerBugs(t *testing.T) {
	p := newPayer(t)
	a, err := ParsePaymentPayload(payloadV2(p.defaultMsg(), p.signAuth(p.defaultMsg())))
	if err != nil {
		t.Fatal(err)
	}
	c := New(testPolicy())
	for name, f := range map[string]func(){
		"nil authorization": func() { c.CheckAuthorization(nil, authTerms()) },
		"no amount":         func() { t := authTerms(); t.Amount = nil; c.CheckAuthorization(a, t) },
		"zero amount":       func() { t := authTerms(); t.Amount = new(big.Int); c.CheckAuthorization(a, t) },
		"no token":          func() { t := authTerms(); t.Token = common.Address{}; c.CheckAuthorization(a, t) },
		"no domain name":    func() { t := authTerms(); t.Domain.Name = ""; c.CheckAuthorization(a, t) },
		"no domain version": func() { t := authTerms(); t.Domain.Version = ""; c.CheckAuthorization(a, t) },
		"negative window":   func() { New(withPolicy(func(p *Policy) { p.SettleWindow = -1 })) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}
