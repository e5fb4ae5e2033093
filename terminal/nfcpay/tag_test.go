package nfcpay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/drivers/pn532"
	"showpos/drivers/pn532/pn532test"
	"showpos/terminal/asset"
	"showpos/terminal/nfcpay"
	"showpos/terminal/request"
	"showpos/tools/jstools"
)

// networksDocument is a request for 12.5 USDC on n networks (Base, then
// n-1 others, each with its own token contract) made by request.New and
// signed by a terminal's request.Signer, served at publicURL as posd
// serves it (publicURL + "/api/showpos/getPaymentRequest?id=" + id).
func networksDocument(t *testing.T, n int, publicURL string) *request.Document {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := request.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	var also []request.Option
	for i := range n - 1 {
		also = append(also, request.Option{Network: fmt.Sprintf("net-%d", i+1), ChainID: uint64(42161 + i),
			Token: common.BigToAddress(big.NewInt(0xaf88d065e77c + int64(i)))})
	}
	r, err := request.New(request.Params{
		TerminalID: "till-01", Merchant: common.HexToAddress("0x00000000000000000000000000000000000bEEF1"),
		ChainID: 8453, Network: "base", Also: also,
		Asset:  asset.Asset{Symbol: "USDC", Decimals: 6, Token: common.HexToAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913")},
		Amount: big.NewInt(12_500_000), Now: time.Now(), TTL: 5 * time.Minute,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := s.Document(r, publicURL+"/api/showpos/getPaymentRequest?id="+r.ID, publicURL+"/api/showpos/broadcastTx")
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Offers) != n {
		t.Fatalf("the document offers %d networks, want %d", len(doc.Offers), n)
	}
	return doc
}

// offerURIs are doc's networks' EIP-681 URIs, primary first.
func offerURIs(doc *request.Document) []string {
	var out []string
	for _, o := range doc.Offers {
		out = append(out, o.URI)
	}
	return out
}

// longestPublicURL makes a request URL of request.MaxURLLength bytes.
var longestPublicURL = "https://" + strings.Repeat("p", request.MaxURLLength-len("https://")-len("/api/showpos/getPaymentRequest?id=")-32)

// recordSize is the size of a URI record of uri under NDEF's rules (a
// short record's payload is at most 255 bytes), uri's prefix code being
// one of http(s)://, or none.
func recordSize(uri string) int {
	p := 1 + len(uri)
	for _, prefix := range []string{"https://", "http://"} {
		if strings.HasPrefix(uri, prefix) {
			p -= len(prefix)
			break
		}
	}
	if p <= 0xFF {
		return 4 + p
	}
	return 7 + p
}

// The message's bound is the tag's: what the pn532 driver holds in its
// Type 4 tag's NDEF file.
func TestTagMessageBoundIsTheDriversNDEFFile(t *testing.T) {
	if nfcpay.MaxTagMessage != pn532.MaxNDEF {
		t.Errorf("nfcpay.MaxTagMessage %d, pn532.MaxNDEF %d: a message of the one is refused by the other", nfcpay.MaxTagMessage, pn532.MaxNDEF)
	}
}

// A phone reading the terminal's tag over the Type 4 exchange (the pn532
// driver on the emulated chip, the phone's NFC stack as pn532test's
// ForumReader) gets the request's link first, then each network's
// EIP-681 URI in the document's order, as many as the tag holds: for
// eight networks it stops before the record that would not fit, every
// record whole. The npm `ndef` package reads what the phone got.
func TestTagOfARequestOnSeveralNetworksIsReadOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		name      string
		networks  int
		publicURL string
		held      int
	}{
		{"two networks: the link, then both URIs", 2, "https://pos.example:8443", 2},
		{"eight networks: the link and the first three", 8, "http://192.168.1.20:8080", 3},
		{"eight networks at the longest link: the link and the primary's", 8, longestPublicURL, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := networksDocument(t, tc.networks, tc.publicURL)
			uris := offerURIs(doc)
			d, em := wire(t)
			var mu sync.Mutex
			var got [][]byte
			em.SetReader(pn532test.ForumReader(func(m []byte, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("the phone's read: %v", err)
					return
				}
				got = append(got, m)
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := &nfcpay.Roles{Reader: d, Tag: d,
				Timing: nfcpay.Timing{Reader: 70 * time.Millisecond, Tag: 300 * time.Millisecond, Rest: time.Hour},
				OnRead: func(string) { cancel() },
			}
			_, err := r.WaitTap(ctx, func() nfcpay.TagContent { return nfcpay.TagContent{Link: doc.RequestURL, URIs: uris} })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("WaitTap = %v; want the context's end after the read", err)
			}
			phoneRead := func() [][]byte {
				mu.Lock()
				defer mu.Unlock()
				return append([][]byte(nil), got...)
			}
			for deadline := time.Now().Add(2 * time.Second); len(phoneRead()) == 0 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			reads := phoneRead()
			if len(reads) != 1 {
				t.Fatalf("the phone read the tag %d times, want once", len(reads))
			}
			msg := reads[0]
			want, held, err := nfcpay.TagMessage(doc.RequestURL, uris)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(msg, want) || held != tc.held {
				t.Fatalf("the phone read %d bytes, the tag was to hold %d (%d URIs, want %d)", len(msg), len(want), held, tc.held)
			}
			// Whole records, the first held ones, to the bound and no further.
			size := recordSize(doc.RequestURL)
			for _, u := range uris[:held] {
				size += recordSize(u)
			}
			if len(msg) != size || len(msg) > nfcpay.MaxTagMessage {
				t.Errorf("the message is %d bytes, want %d: the link's and %d URIs' records, at most %d", len(msg), size, held, nfcpay.MaxTagMessage)
			}
			if held < len(uris) && size+recordSize(uris[held]) <= nfcpay.MaxTagMessage {
				t.Errorf("URI %d (%d bytes) would fit in the %d bytes left, but is not held", held, len(uris[held]), nfcpay.MaxTagMessage-size)
			}
			t.Run("npm ndef reads the link then the URIs", func(t *testing.T) {
				nfcpay.CheckNdefJS(t, jstools.Dir(t, "ndef"), msg, append([]string{doc.RequestURL}, uris[:held]...))
			})
		})
	}
}
