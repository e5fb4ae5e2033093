package check

import (
	"encoding/hex"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
)

// BenchmarkCheck measures one whole check of a freshly received transaction:
// decode, sender recovery (the dominant cost) and the match against the terms.
func BenchmarkCheck(b *testing.B) {
	p := newPayer(b)
	c := New(testPolicy())
	for _, bc := range []struct {
		name  string
		raw   []byte
		terms Terms
	}{
		{"legacy", p.raw(types.NewEIP155Signer(testChain), legacy()), nativeTerms()},
		{"accesslist", p.raw(types.NewEIP2930Signer(testChain), accessList()), nativeTerms()},
		{"dynamicfee", p.raw(londonSigner(), dynamic()), nativeTerms()},
		{"erc20", p.raw(londonSigner(), erc20Dynamic()), tokenTerms()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.raw)))
			for b.Loop() {
				if _, err := c.Check(bc.raw, bc.terms); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeHex decodes a typical ERC-20 transfer as an HTTP body or a
// scanner carries it.
func BenchmarkDecodeHex(b *testing.B) {
	s := "0x" + hex.EncodeToString(newPayer(b).raw(londonSigner(), erc20Dynamic()))
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := DecodeHex(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckAuthorization measures one whole check of a received x402
// payment payload (the authorization check rate beside Check's): parse,
// the EIP-712 digest, signer recovery and the match against the terms;
// "parsed" is the check of an already parsed payload.
func BenchmarkCheckAuthorization(b *testing.B) {
	p := newPayer(b)
	m := p.defaultMsg()
	raw := payloadV2(m, p.signAuth(m))
	c, terms := New(testPolicy()), authTerms()
	b.Run("payload", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := c.CheckPaymentPayload(raw, terms); err != nil {
				b.Fatal(err)
			}
		}
	})
	a, err := ParsePaymentPayload(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parsed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.CheckAuthorization(a, terms); err != nil {
				b.Fatal(err)
			}
		}
	})
}
