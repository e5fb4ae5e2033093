package receipt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/receipt"
	"showpos/tools/jstools"
)

func TestTheSameReceiptSignsTheSame(t *testing.T) {
	key := termKey(t)
	a, err := receipt.Sign(paidTUSD(), key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := receipt.Sign(paidTUSD(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Signature, b.Signature) {
		t.Fatalf("two signatures of one receipt differ:\n%x\n%x", a.Signature, b.Signature)
	}
	if a.Signer != crypto.PubkeyToAddress(key.PublicKey) {
		t.Errorf("signer %s, want the terminal's address", a.Signer.Hex())
	}
	if err := a.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	// A time in another zone or with a fraction of a second is the same
	// receipt: signed in UTC whole seconds.
	r := paidTUSD()
	r.Time = t0.Add(300 * time.Millisecond).In(time.FixedZone("CET", 3600))
	c, err := receipt.Sign(r, key)
	if err != nil || !bytes.Equal(c.Signature, a.Signature) || !c.Time.Equal(t0) {
		t.Errorf("the same time in another form signs differently (%v)", err)
	}
}

// Every signed field is in the digest: a receipt changed after signing no
// longer verifies.
func TestAChangedReceiptDoesNotVerify(t *testing.T) {
	s, err := receipt.Sign(paidTUSD(), termKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*receipt.Receipt){
		"state":      func(r *receipt.Receipt) { r.State = receipt.StateAccepted },
		"amount":     func(r *receipt.Receipt) { r.Amount = big.NewInt(5_175_001) },
		"tip":        func(r *receipt.Receipt) { r.Tip = nil },
		"fiatAmount": func(r *receipt.Receipt) { r.FiatAmount = "4.76" },
		"currency":   func(r *receipt.Receipt) { r.Currency = "USD" },
		"rate":       func(r *receipt.Receipt) { r.Rate = "0.9" },
		"merchant":   func(r *receipt.Receipt) { r.MerchantName = "Another shop" },
		"time":       func(r *receipt.Receipt) { r.Time = r.Time.Add(time.Second) },
		"txHash":     func(r *receipt.Receipt) { r.TxHash[0] ^= 1 },
		"from":       func(r *receipt.Receipt) { r.From[0] ^= 1 },
		"authNonce":  func(r *receipt.Receipt) { r.AuthNonce[31] = 1 },
		"chain":      func(r *receipt.Receipt) { r.ChainID = 1 },
		"request":    func(r *receipt.Receipt) { r.RequestID = "other" },
		"reason":     func(r *receipt.Receipt) { r.Reason = "underpaid" },
		"method":     func(r *receipt.Receipt) { r.Method = receipt.MethodChain },
	} {
		t.Run(name, func(t *testing.T) {
			c := s
			change(&c.Receipt)
			if err := c.Verify(); !errors.Is(err, receipt.ErrSignature) {
				t.Errorf("changed %s: Verify = %v, want ErrSignature", name, err)
			}
		})
	}
	// The link is where it is served, not a claim: not signed.
	c := s
	c.Link = "https://elsewhere.example/receipt/x"
	if err := c.Verify(); err != nil {
		t.Errorf("changed link: %v", err)
	}
}

func TestSignRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*receipt.Receipt)
		want   error
	}{
		"no request id":     {func(r *receipt.Receipt) { r.RequestID = "" }, receipt.ErrReceipt},
		"no chain":          {func(r *receipt.Receipt) { r.ChainID = 0 }, receipt.ErrReceipt},
		"unknown state":     {func(r *receipt.Receipt) { r.State = "refunded" }, receipt.ErrReceipt},
		"negative amount":   {func(r *receipt.Receipt) { r.Amount = big.NewInt(-1) }, receipt.ErrReceipt},
		"amount over 2^256": {func(r *receipt.Receipt) { r.Amount = new(big.Int).Lsh(big.NewInt(1), 256) }, receipt.ErrReceipt},
	} {
		t.Run(name, func(t *testing.T) {
			r := paidTUSD()
			tc.change(&r)
			if _, err := receipt.Sign(r, termKey(t)); !errors.Is(err, tc.want) {
				t.Errorf("Sign = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := receipt.Sign(paidTUSD(), nil); !errors.Is(err, receipt.ErrKey) {
		t.Errorf("Sign without a key = %v, want ErrKey", err)
	}
}

// The JSON a payer reads carries the typed data exactly as signed: Recover
// on it gives the terminal, and a receipt's signature is not a payment
// request's (its own primary type).
func TestTheJSONRecoversTheTerminal(t *testing.T) {
	s, err := receipt.Sign(paidTUSD(), termKey(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := receipt.ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Signer != s.Signer || got.Link != s.Link {
		t.Errorf("read back signer %s link %q", got.Signer.Hex(), got.Link)
	}
	td := got.TypedData
	td.PrimaryType = "PaymentRequest"
	if _, err := receipt.Recover(td, got.Signature); !errors.Is(err, receipt.ErrReceipt) {
		t.Errorf("typed data of another primary type: %v", err)
	}
}

// ethers v6's verifyTypedData, given the JSON the route serves, recovers
// the terminal's address: any EIP-712 library checks a receipt.
func TestEthersVerifiesAReceipt(t *testing.T) {
	dir := jstools.Dir(t, "ethers")
	for name, r := range map[string]receipt.Receipt{
		"paid with fiat and tip": paidTUSD(),
		"authorization": func() receipt.Receipt {
			r := paidTUSD()
			r.Method, r.State, r.TxHash = receipt.MethodAuthorization, receipt.StateAccepted, common.Hash{}
			r.AuthNonce = common.HexToHash("0x1f2e3d4c5b6a79880102030405060708090a0b0c0d0e0f101112131415161718")
			return r
		}(),
		"unpaid": func() receipt.Receipt {
			r := paidTUSD()
			r.State, r.Reason, r.Method, r.TxHash, r.From, r.Tip = receipt.StateUnpaid, "expired", "", common.Hash{}, common.Address{}, nil
			r.FiatAmount, r.Currency, r.Rate = "", "", ""
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := receipt.Sign(r, termKey(t))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(s)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "check.js"), "verify")
			cmd.Dir, cmd.Stdin = dir, bytes.NewReader(b)
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("node check.js verify: %v\n%s", err, stderr.Bytes())
			}
			var got struct{ Signer string }
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Signer != s.Signer.Hex() {
				t.Errorf("ethers recovered %s, want the terminal %s", got.Signer, s.Signer.Hex())
			}
		})
	}
}
