package request

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
)

func TestSignProducesWalletStyleSignature(t *testing.T) {
	r := mustNew(t, goodParams())
	sig, err := Sign(r, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 65 {
		t.Fatalf("signature is %d bytes, want 65", len(sig))
	}
	if v := sig[64]; v != 27 && v != 28 {
		t.Errorf("v = %d, want 27 or 28", v)
	}
	// Independently of Verify: plain geth recovery of the EIP-712 digest.
	h, err := r.Hash()
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Clone(sig)
	plain[64] -= 27
	pub, err := crypto.SigToPub(h[:], plain)
	if err != nil {
		t.Fatal(err)
	}
	if got := crypto.PubkeyToAddress(*pub).Hex(); got != testSigner {
		t.Errorf("recovered %s, want %s", got, testSigner)
	}
}

func TestSignRefusesBadKeys(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := mustNew(t, goodParams())
	for name, key := range map[string]*ecdsa.PrivateKey{"nil": nil, "P-256": p256} {
		if _, err := Sign(r, key); !errors.Is(err, ErrKey) {
			t.Errorf("Sign with %s key = %v, want ErrKey", name, err)
		}
	}
}

func TestVerifyRecoversSigner(t *testing.T) {
	for name, a := range map[string]bool{"ERC-20": false, "native": true} {
		t.Run(name, func(t *testing.T) {
			p := goodParams()
			if a {
				p.Asset = eth()
			}
			d := mustDocument(t, mustNew(t, p))
			got, err := d.Verify()
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Hex() != testSigner || d.Signer.Hex() != testSigner {
				t.Errorf("Verify = %s, Signer = %s, want %s", got.Hex(), d.Signer.Hex(), testSigner)
			}
		})
	}
}

func TestNewDocumentRefuses(t *testing.T) {
	r := mustNew(t, goodParams())
	sig, err := Sign(r, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	other := mustNew(t, func() Params { p := goodParams(); p.Amount = big.NewInt(1); return p }())
	otherSig, err := Sign(other, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		sig           []byte
		reqURL, bcURL string
		err           error
	}{
		{"short signature", sig[:64], testReqURL, testBcastURL, ErrSignature},
		{"v of 0", append(bytes.Clone(sig[:64]), 0), testReqURL, testBcastURL, ErrSignature},
		{"empty request URL", sig, "", testBcastURL, ErrURL},
		{"relative broadcast URL", sig, testReqURL, "/api/showpos/broadcastTx", ErrURL},
		{"ftp request URL", sig, "ftp://host/x", testBcastURL, ErrURL},
		{"request URL not UTF-8", sig, testReqURL + "\xe1", testBcastURL, ErrURL},
		// A signature of another request recovers some other address; the
		// document would name a stranger as signer, so Verify against a
		// pinned address would catch it, but NewDocument cannot tell. It
		// must at least not fail.
		{"other request's signature", otherSig, testReqURL, testBcastURL, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDocument(r, tc.sig, tc.reqURL, tc.bcURL)
			if !errors.Is(err, tc.err) {
				t.Fatalf("NewDocument = %v, want %v", err, tc.err)
			}
			if tc.err == nil && d.Signer.Hex() == testSigner {
				t.Errorf("another request's signature recovered the terminal address")
			}
		})
	}
}

// tamperings change a document the way an attacker between terminal and
// payer might. Each must make Verify fail with the given error.
var tamperings = []struct {
	name   string
	change func(d *Document)
	err    error
}{
	// Fields changed alone disagree with the signed typed data.
	{"amount", func(d *Document) { d.Amount = big.NewInt(1) }, ErrMismatch},
	{"merchant", func(d *Document) { d.Merchant = common.HexToAddress("0x1111111111111111111111111111111111111111") }, ErrMismatch},
	{"expiresAt", func(d *Document) { d.ExpiresAt = d.ExpiresAt.Add(time.Hour) }, ErrMismatch},
	{"memo", func(d *Document) { d.Memo = "refund" }, ErrMismatch},
	{"token", func(d *Document) { d.Asset.Token = common.HexToAddress("0x2222222222222222222222222222222222222222") }, ErrMismatch},
	{"decimals", func(d *Document) { d.Asset.Decimals = 18 }, ErrMismatch},
	{"chainId", func(d *Document) { d.ChainID = 1 }, ErrMismatch},
	{"terminalId", func(d *Document) { d.TerminalID = "till-2" }, ErrMismatch},
	{"id", func(d *Document) { d.ID = "ffffffffffffffffffffffffffffffff" }, ErrMismatch},
	// Unsigned but derived: must agree with the signed fields.
	{"uri", func(d *Document) { d.URI = "ethereum:0x1111111111111111111111111111111111111111@31337?value=1" }, ErrMismatch},
	{"amountDisplay", func(d *Document) { d.AmountDisplay = "1.25" }, ErrMismatch},
	// Typed data changed alone disagrees with the fields.
	{"typedData amount", func(d *Document) { d.TypedData.Message["amount"] = "1" }, ErrMismatch},
	{"typedData domain chainId", func(d *Document) { d.TypedData.Domain.ChainId = nil }, ErrMismatch},
	{"typedData domain name", func(d *Document) { d.TypedData.Domain.Name = "other" }, ErrMismatch},
	{"typedData extra field", func(d *Document) { d.TypedData.Message["tip"] = "1" }, ErrMismatch},
	{"typedData types", func(d *Document) { d.TypedData.Types[PrimaryType] = d.TypedData.Types[PrimaryType][:9] }, ErrMismatch},
	{"typedData primaryType", func(d *Document) { d.TypedData.PrimaryType = "EIP712Domain" }, ErrMismatch},
	// Fields, typed data and URI changed together: only the signature tells.
	{"amount everywhere", func(d *Document) { rewrite(d, func(r *Request) { r.Amount = big.NewInt(1) }) }, ErrSignature},
	{"merchant everywhere", func(d *Document) {
		rewrite(d, func(r *Request) { r.Merchant = common.HexToAddress("0x1111111111111111111111111111111111111111") })
	}, ErrSignature},
	{"expiresAt everywhere", func(d *Document) { rewrite(d, func(r *Request) { r.ExpiresAt = r.ExpiresAt.Add(time.Hour) }) }, ErrSignature},
	{"memo everywhere", func(d *Document) { rewrite(d, func(r *Request) { r.Memo = "refund" }) }, ErrSignature},
	// The signature itself.
	{"signature bit flip", func(d *Document) { d.Signature[10] ^= 1 }, ErrSignature},
	{"signature v flip", func(d *Document) { d.Signature[64] ^= 27 ^ 28 }, ErrSignature},
	{"signature v raw", func(d *Document) { d.Signature[64] -= 27 }, ErrSignature},
	{"signature high s", func(d *Document) { highS(d.Signature) }, ErrSignature},
	{"signature truncated", func(d *Document) { d.Signature = d.Signature[:64] }, ErrSignature},
	{"signature zero", func(d *Document) { d.Signature = make([]byte, 65) }, ErrSignature},
	{"signer", func(d *Document) { d.Signer = common.HexToAddress(testMerchant) }, ErrSignature},
	// Fields that break the rules.
	{"memo control character", func(d *Document) { rewrite(d, func(r *Request) { r.Memo = "\x1b[2J" }) }, ErrMemo},
	{"zero amount", func(d *Document) { rewrite(d, func(r *Request) { r.Amount = new(big.Int) }) }, ErrAmount},
}

// rewrite changes the request behind d and regenerates everything derived
// from it except the signature, as a careful attacker would.
func rewrite(d *Document, change func(*Request)) {
	r := d.Request()
	change(r)
	*d = Document{
		ID: r.ID, TerminalID: r.TerminalID, Merchant: r.Merchant, ChainID: r.ChainID, Asset: r.Asset,
		Amount: r.Amount, Memo: r.Memo, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		URI: r.URI(d.RequestURL), RequestURL: d.RequestURL, BroadcastURL: d.BroadcastURL,
		TypedData: r.TypedData(), Signature: d.Signature, Signer: d.Signer,
		Network: r.documentNetwork(), Also: r.Also, Offers: r.offers(d.RequestURL),
	}
	d.AmountDisplay = asset.FormatAmount(r.Amount, r.Asset.Decimals)
}

// highS replaces s with n-s and flips v: the same signature in its other,
// malleable encoding.
func highS(sig []byte) {
	n := crypto.S256().Params().N
	s := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:64]))
	s.FillBytes(sig[32:64])
	sig[64] ^= 27 ^ 28
}

func TestVerifyRefusesTampering(t *testing.T) {
	for _, tc := range tamperings {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDocument(t, mustNew(t, goodParams()))
			tc.change(d)
			addr, err := d.Verify()
			if !errors.Is(err, tc.err) {
				t.Fatalf("Verify = %s, %v; want %v", addr.Hex(), err, tc.err)
			}
		})
	}
}

func TestVerifyRefusesTamperingInJSON(t *testing.T) {
	// The same tamperings, carried through JSON: what a payer receives.
	for _, tc := range tamperings {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDocument(t, mustNew(t, goodParams()))
			tc.change(d)
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := ParseDocument(b)
			if err != nil {
				return // refused even earlier: fine
			}
			if _, err := parsed.Verify(); err == nil {
				t.Fatal("tampered document verified after a JSON round trip")
			}
		})
	}
}

func TestEthersVerifiesSignature(t *testing.T) {
	dir := jsTools(t)
	for name, native := range map[string]bool{"ERC-20": false, "native": true} {
		t.Run(name, func(t *testing.T) {
			p := goodParams()
			if native {
				p.Asset = eth()
			}
			p.Amount = bigString(maxUint256) // exercises uint256 beyond JS numbers
			d := mustDocument(t, mustNew(t, p))
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ Signer string }
			if err := json.Unmarshal(runJS(t, dir, b, "verify"), &got); err != nil {
				t.Fatal(err)
			}
			if got.Signer != testSigner {
				t.Errorf("ethers recovered %s, want %s", got.Signer, testSigner)
			}

			// And ethers must not be fooled by a tampered memo either.
			d.TypedData.Message["memo"] = "refund"
			b, _ = json.Marshal(d)
			if err := json.Unmarshal(runJS(t, dir, b, "verify"), &got); err != nil {
				t.Fatal(err)
			}
			if got.Signer == testSigner {
				t.Error("ethers recovered the terminal address from a tampered message")
			}
		})
	}
}

// Signer.Document is the terminal's shortcut: it must make exactly the
// document Sign and NewDocument make, and that document must verify.
func TestSignerDocumentIsSignThenNewDocument(t *testing.T) {
	for _, tc := range compactCases {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParams()
			tc.params(&p)
			r := mustNew(t, p)
			got, err := mustSigner(t, testKey(t)).Document(r, tc.reqURL, tc.bcURL)
			if err != nil {
				t.Fatalf("Signer.Document: %v", err)
			}
			sig, err := Sign(r, testKey(t))
			if err != nil {
				t.Fatal(err)
			}
			want, err := NewDocument(r, sig, tc.reqURL, tc.bcURL)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Signer.Document =\n%+v\nSign+NewDocument =\n%+v", got, want)
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(g, w) {
				t.Errorf("JSON differs:\n%s\n%s", g, w)
			}
			signer, err := got.Verify()
			if err != nil || signer != crypto.PubkeyToAddress(testKey(t).PublicKey) || got.Signer != signer {
				t.Errorf("Verify = %s, %v; Signer = %s; want %s", signer.Hex(), err, got.Signer.Hex(), testSigner)
			}
		})
	}
}

func TestSignerRefuses(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	foreign := *testKey(t) // the terminal's private half, another key's public half
	foreign.PublicKey = other.PublicKey
	bare := *testKey(t) // no public half at all
	bare.PublicKey = ecdsa.PublicKey{Curve: crypto.S256()}
	for _, tc := range []struct {
		name string
		key  *ecdsa.PrivateKey
	}{
		{"nil key", nil},
		{"P-256 key", p256},
		{"public key of another key", &foreign},
		{"no public key", &bare},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.key)
			if !errors.Is(err, ErrKey) || s != nil {
				t.Fatalf("NewSigner = %v, %v; want ErrKey", s, err)
			}
		})
	}
	zero := mustNew(t, goodParams())
	zero.Amount = new(big.Int)
	for _, tc := range []struct {
		name          string
		r             *Request
		reqURL, bcURL string
		err           error
	}{
		{"empty request URL", mustNew(t, goodParams()), "", testBcastURL, ErrURL},
		{"relative broadcast URL", mustNew(t, goodParams()), testReqURL, "/api/showpos/broadcastTx", ErrURL},
		{"zero amount", zero, testReqURL, testBcastURL, ErrAmount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := mustSigner(t, testKey(t)).Document(tc.r, tc.reqURL, tc.bcURL)
			if !errors.Is(err, tc.err) || d != nil {
				t.Fatalf("Signer.Document = %v, %v; want %v", d, err, tc.err)
			}
		})
	}
}

// The signer a Signer names is the one recovery finds, for any key (v is 27
// or 28 about equally often).
func TestSignerIsRecoveredSigner(t *testing.T) {
	r := mustNew(t, goodParams())
	for range 32 {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		d, err := mustSigner(t, key).Document(r, testReqURL, testBcastURL)
		if err != nil {
			t.Fatal(err)
		}
		recovered, err := NewDocument(r, d.Signature, testReqURL, testBcastURL)
		if err != nil {
			t.Fatal(err)
		}
		if d.Signer != recovered.Signer || d.Signer != crypto.PubkeyToAddress(key.PublicKey) {
			t.Fatalf("Signer.Document names %s, recovery finds %s", d.Signer.Hex(), recovered.Signer.Hex())
		}
	}
}
