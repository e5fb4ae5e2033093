package request

import (
	"bytes"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
)

// Fixed values so URIs, typed data and signatures are reproducible.
const (
	testKeyHex   = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	testSigner   = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
	testMerchant = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
	testToken    = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	testReqURL   = "http://127.0.0.1:8080/api/showpos/getPaymentRequest?id=00112233445566778899aabbccddeeff"
	testBcastURL = "http://127.0.0.1:8080/api/showpos/broadcastTx"
)

func testKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.HexToECDSA(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSigner(t testing.TB, key *ecdsa.PrivateKey) *Signer {
	t.Helper()
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testNow() time.Time { return time.Date(2025, 3, 14, 15, 9, 26, 535000000, time.UTC) }

func tusd() asset.Asset {
	return asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress(testToken)}
}

func eth() asset.Asset { return asset.Asset{Symbol: "ETH", Decimals: 18} }

// goodParams returns params New accepts; tests change one thing at a time.
func goodParams() Params {
	return Params{
		TerminalID: "till-1",
		Merchant:   common.HexToAddress(testMerchant),
		ChainID:    31337,
		Asset:      tusd(),
		Amount:     big.NewInt(12_500_000),
		Memo:       "Coffee & croissant ☕",
		Now:        testNow(),
		TTL:        5 * time.Minute,
	}
}

// fixedRandom yields the random bits of the id 01959533fa877011a233445566778899
// (New at testNow).
func fixedRandom() *bytes.Reader {
	return bytes.NewReader([]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99})
}

// testID is the fixtures' request id (and the one in the golden files):
// 128 random bits, as ids were made before they were UUIDv7s. A stored
// request keeps the id it was made with.
const testID = "00112233445566778899aabbccddeeff"

// mustNew makes a request with New and gives it the fixtures' id.
func mustNew(t testing.TB, p Params) *Request {
	t.Helper()
	r, err := New(p, fixedRandom())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.ID = testID
	return r
}

// mustDocument signs r with the test key and wraps it in a document.
func mustDocument(t testing.TB, r *Request) *Document {
	t.Helper()
	sig, err := Sign(r, testKey(t))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	d, err := NewDocument(r, sig, testReqURL, testBcastURL)
	if err != nil {
		t.Fatalf("NewDocument: %v", err)
	}
	return d
}

func bigString(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return v
}
