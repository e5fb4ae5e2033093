package request_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/asset"
	"showpos/terminal/request"
)

func Example() {
	// The terminal's key comes from termkey.LoadOrCreate; a fixed one here.
	key, _ := crypto.HexToECDSA("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}

	// The cashier keys 12.50.
	amount, err := asset.ParseAmount("12.50", tusd.Decimals)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := request.New(request.Params{
		TerminalID: "till-1",
		Merchant:   common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
		ChainID:    31337,
		Asset:      tusd,
		Amount:     amount,
		Memo:       "Table 4",
		Now:        time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		TTL:        5 * time.Minute,
	}, bytes.NewReader(make([]byte, 10))) // crypto/rand.Reader (or nil) in real use
	if err != nil {
		fmt.Println(err)
		return
	}
	sig, err := request.Sign(r, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	reqURL := "http://10.0.0.5:8080/api/showpos/getPaymentRequest?id=" + r.ID
	doc, err := request.NewDocument(r, sig, reqURL, "http://10.0.0.5:8080/api/showpos/broadcastTx")
	if err != nil {
		fmt.Println(err)
		return
	}
	qr, err := request.QR(doc.URI, 4) // for the display
	if err != nil {
		fmt.Println(err)
		return
	}

	// On the payer's phone: parse the served JSON, verify, compare the signer.
	signer, err := doc.Verify()
	fmt.Println(doc.URI)
	fmt.Println(doc.AmountDisplay, doc.Asset.Symbol, "expires", doc.ExpiresAt.Format(time.RFC3339))
	fmt.Println("signed by", signer.Hex(), err)
	fmt.Println("QR:", qr.Bounds().Dx()/4, "modules with quiet zone,", qr.Bounds().Dx(), "px square")
	// Output:
	// ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@31337/transfer?address=0x70997970C51812dc3A010C7d01b50e0d17dc79C8&uint256=12500000&req=http%3A%2F%2F10.0.0.5%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D01959533f87070008000000000000000
	// 12.5 TUSD expires 2025-03-14T15:14:26Z
	// signed by 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23 <nil>
	// QR: 69 modules with quiet zone, 276 px square
}

func ExampleParseDocument() {
	// body is what GET /api/showpos/getPaymentRequest returned.
	body := []byte(`{"id":"not json`)
	_, err := request.ParseDocument(body)
	fmt.Println(err)
	// Output:
	// parse document: malformed payment request document: unexpected EOF
}

func ExampleDocument_Compact() {
	key, _ := crypto.HexToECDSA("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	r, err := request.New(request.Params{
		TerminalID: "till-1",
		Merchant:   common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
		ChainID:    31337,
		Asset:      asset.Asset{Symbol: "ETH", Decimals: 18},
		Amount:     big.NewInt(10_000_000_000_000_000),
		Memo:       "Table 4",
		Now:        time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		TTL:        5 * time.Minute,
	}, bytes.NewReader(make([]byte, 10)))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The terminal signs its own request and stores the compact form.
	signer, err := request.NewSigner(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, err := signer.Document(r,
		"http://10.0.0.5:8080/api/showpos/getPaymentRequest?id="+r.ID, "http://10.0.0.5:8080/api/showpos/broadcastTx")
	if err != nil {
		fmt.Println(err)
		return
	}
	stored, err := doc.Compact()
	if err != nil {
		fmt.Println(err)
		return
	}
	served, _ := json.Marshal(doc)

	// Later, to serve it: the same document, byte for byte.
	back, err := request.ParseStored(stored)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := json.Marshal(back)
	fmt.Printf("stored %d bytes (version %d) for a %d-byte document; the same JSON: %v\n",
		len(stored), stored[0], len(served), bytes.Equal(served, again))
	// Output:
	// stored 229 bytes (version 1) for a 1791-byte document; the same JSON: true
}
