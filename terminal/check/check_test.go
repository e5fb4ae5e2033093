package check

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestCheck(t *testing.T) {
	for _, tc := range checkCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			before := new(big.Int).Set(tc.terms.Amount)
			p, err := New(tc.pol).Check(tc.raw, tc.terms)
			if tc.terms.Amount.Cmp(before) != 0 {
				t.Errorf("Check changed Terms.Amount to %s", tc.terms.Amount)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.From != tc.from || p.Nonce != tc.nonce || p.Type != tc.typ || p.Paid.Cmp(tc.paid) != 0 || p.TxHash != tc.hash {
					t.Errorf("payment = from %s nonce %d type %d paid %s hash %s; want %s %d %d %s %s",
						p.From, p.Nonce, p.Type, p.Paid, p.TxHash, tc.from, tc.nonce, tc.typ, tc.paid, tc.hash)
				}
				if h := crypto.Keccak256Hash(tc.raw); p.TxHash != h {
					t.Errorf("TxHash %s is not keccak256(raw) %s", p.TxHash, h)
				}
				if p.Gas == 0 || p.FeeCap == nil || p.TipCap == nil || p.TipCap.Cmp(p.FeeCap) > 0 {
					t.Errorf("gas %d, fee cap %v, tip cap %v", p.Gas, p.FeeCap, p.TipCap)
				}
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
			if p.Paid != nil || p.TxHash != (common.Hash{}) || p.From != (common.Address{}) {
				t.Errorf("refused check returned a payment: %+v", p)
			}
		})
	}
}

func TestEveryCheckCodeHasACase(t *testing.T) {
	seen := map[Code]bool{}
	for _, tc := range checkCases(t) {
		seen[tc.code] = true
	}
	for _, c := range producible {
		if !seen[c] {
			t.Errorf("no case refuses with %s", c)
		}
	}
	if !seen[""] {
		t.Error("no accepted case")
	}
}

// The codes are public API: this pins their spelling.
func TestCodesAreStable(t *testing.T) {
	want := map[Code]string{
		CodeTxTooLarge: "tx_too_large", CodeInvalidTx: "invalid_tx", CodeUnsupportedTxType: "unsupported_tx_type",
		CodeWrongChain: "wrong_chain", CodeBadSignature: "bad_signature", CodeWrongRecipient: "wrong_recipient",
		CodeUnderpaid: "underpaid", CodeOverpaid: "overpaid", CodeGasTooLow: "gas_too_low", CodeGasTooHigh: "gas_too_high",
		CodeUnexpectedData: "unexpected_data", CodeUnexpectedValue: "unexpected_value", CodeWrongTransfer: "wrong_transfer",
		CodeFeeTooLow: "fee_too_low", CodeFeeInvalid: "fee_invalid", CodePaymentLimit: "payment_limit",
		CodeUnknownRequest: "unknown_request", CodeExpired: "expired", CodeCancelled: "cancelled",
		CodeAlreadyPaid: "already_paid", CodeTxReused: "tx_reused", CodeNonceConflict: "nonce_conflict",
		CodeExposureLimit:  "exposure_limit",
		CodeInvalidPayload: "invalid_payload", CodeBadAuthorization: "bad_authorization", CodeWrongAsset: "wrong_asset",
		CodeAuthorizationNotYetValid: "authorization_not_yet_valid", CodeAuthorizationExpiresTooSoon: "authorization_expires_too_soon",
		CodeAuthorizationReused: "authorization_reused",
	}
	if len(want) != 29 {
		t.Fatalf("%d distinct codes, want 29", len(want))
	}
	for c, s := range want {
		if string(c) != s {
			t.Errorf("code %q renamed from %q", c, s)
		}
	}
}

func TestRefusalErrorIsCodeColonMessage(t *testing.T) {
	r := Refuse(CodeUnderpaid, "paid %s, request is %s", "1 ETH", "2 ETH")
	if got, want := r.Error(), "underpaid: paid 1 ETH, request is 2 ETH"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var got *Refusal
	if !errors.As(fmt.Errorf("pay: %w", r), &got) || got != r {
		t.Error("errors.As does not find a wrapped *Refusal")
	}
}

func TestNewPanicsWithoutChainID(t *testing.T) {
	for _, id := range []*big.Int{nil, big.NewInt(0), big.NewInt(-1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New with chain id %v did not panic", id)
				}
			}()
			New(Policy{ChainID: id})
		}()
	}
}

func TestCheckPanicsWithoutAmount(t *testing.T) {
	c := New(testPolicy())
	for _, a := range []*big.Int{nil, big.NewInt(0)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Check with amount %v did not panic", a)
				}
			}()
			c.Check([]byte{0x02}, Terms{Merchant: merchant, Amount: a})
		}()
	}
}

func TestNewCopiesPolicy(t *testing.T) {
	id, floor := big.NewInt(11155111), big.NewInt(1)
	c := New(Policy{ChainID: id, MinFeeCap: floor})
	id.SetInt64(1)
	floor.Mul(floor, gweis(1000))
	p := newPayer(t)
	raw := p.raw(londonSigner(), dynamic())
	if _, err := c.Check(raw, nativeTerms()); err != nil {
		t.Fatalf("changing the caller's Policy values changed the Checker: %v", err)
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		v    *big.Int
		t    Terms
		want string
	}{
		{big.NewInt(1e16), Terms{Symbol: "ETH", Decimals: 18}, "0.01 ETH"},
		{big.NewInt(0), Terms{Symbol: "ETH", Decimals: 18}, "0 ETH"},
		{big.NewInt(1), Terms{Decimals: 18}, "0.000000000000000001"},
		{big.NewInt(12_340_000), Terms{Symbol: "USDC", Decimals: 6}, "12.34 USDC"},
		{big.NewInt(5_000_000), Terms{Symbol: "USDC", Decimals: 6}, "5 USDC"},
		{big.NewInt(42), Terms{}, "42"},
		{big.NewInt(-15), Terms{Decimals: 1}, "-1.5"},
	} {
		if got := formatAmount(tc.v, tc.t); got != tc.want {
			t.Errorf("formatAmount(%s, %d) = %q, want %q", tc.v, tc.t.Decimals, got, tc.want)
		}
	}
}

func TestCheckerIsSafeForConcurrentUse(t *testing.T) {
	p := newPayer(t)
	c := New(testPolicy())
	raws := [][]byte{p.raw(londonSigner(), dynamic()), p.raw(types.NewEIP155Signer(testChain), legacy())}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := c.Check(raws[i%2], nativeTerms()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSymbolNamesTheAssetEvenWithoutASymbol(t *testing.T) {
	for _, tc := range []struct {
		t    Terms
		want string
	}{
		{Terms{Symbol: "USDC", Token: token}, "USDC"},
		{Terms{}, "native"},
		{Terms{Token: token}, "token"},
	} {
		if got := symbol(tc.t); got != tc.want {
			t.Errorf("symbol(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// Codes lists every code once, the ones Check decides among them: the
// other packages' tables (HTTP statuses, a cashier's words) are checked
// against it.
func TestCodesListsEveryCodeOnce(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range Codes() {
		if seen[c] {
			t.Errorf("%s listed twice", c)
		}
		seen[c] = true
	}
	if len(seen) != 34 { // 16 of Check, 5 more of CheckAuthorization, 10 of the store, 3 of the pre-flight
		t.Errorf("%d codes listed, want 34", len(seen))
	}
	for _, c := range producible {
		if !seen[c] {
			t.Errorf("Codes lacks %s, which Check returns", c)
		}
	}
	for _, c := range authProducible {
		if !seen[c] {
			t.Errorf("Codes lacks %s, which CheckAuthorization returns", c)
		}
	}
}
