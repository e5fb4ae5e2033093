package main

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/request"
)

const (
	merchantHex = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
	tokenHex    = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	reqURL      = "http://127.0.0.1:8080/api/showpos/getPaymentRequest?id=00112233445566778899aabbccddeeff"
	reqEsc      = "http%3A%2F%2F127.0.0.1%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D00112233445566778899aabbccddeeff"
)

// uriCases drive the parser test and seed its fuzz target.
var uriCases = []struct {
	name, uri string
	ok        bool
}{
	{"native", "ethereum:" + merchantHex + "@1337?value=10000000000000000&req=" + reqEsc, true},
	{"native without req", "ethereum:" + merchantHex + "@1?value=1", true},
	{"token", "ethereum:" + tokenHex + "@1337/transfer?address=" + merchantHex + "&uint256=2500000&req=" + reqEsc, true},
	{"no scheme", merchantHex + "@1337?value=1", false},
	{"no chain", "ethereum:" + merchantHex + "?value=1", false},
	{"chain zero", "ethereum:" + merchantHex + "@0?value=1", false},
	{"chain leading zero", "ethereum:" + merchantHex + "@01?value=1", false},
	{"lowercase address", "ethereum:" + strings.ToLower(merchantHex) + "@1?value=1", false},
	{"bad checksum", "ethereum:0x70997970c51812dc3A010C7d01b50e0d17dc79C8@1?value=1", false},
	{"ens name", "ethereum:shop.eth@1?value=1", false},
	{"exponent", "ethereum:" + merchantHex + "@1?value=1e18", false},
	{"zero value", "ethereum:" + merchantHex + "@1?value=0", false},
	{"negative", "ethereum:" + merchantHex + "@1?value=-1", false},
	{"leading zero amount", "ethereum:" + merchantHex + "@1?value=01", false},
	{"over uint256", "ethereum:" + merchantHex + "@1?value=" + new(big.Int).Lsh(big.NewInt(1), 256).String(), false},
	{"other function", "ethereum:" + tokenHex + "@1/approve?address=" + merchantHex + "&uint256=1", false},
	{"token params swapped", "ethereum:" + tokenHex + "@1/transfer?uint256=1&address=" + merchantHex, false},
	{"native with token params", "ethereum:" + merchantHex + "@1?address=" + merchantHex + "&uint256=1", false},
	{"extra parameter", "ethereum:" + merchantHex + "@1?value=1&req=" + reqEsc + "&gas=21000", false},
	{"repeated value", "ethereum:" + merchantHex + "@1?value=1&value=2", false},
	{"req not escaped", "ethereum:" + merchantHex + "@1?value=1&req=" + reqURL, false},
	{"req not http", "ethereum:" + merchantHex + "@1?value=1&req=file%3A%2F%2F%2Fetc%2Fpasswd", false},
	{"empty req", "ethereum:" + merchantHex + "@1?value=1&req=", false},
}

func TestParseURIAcceptsOnlyTheTerminalsTwoForms(t *testing.T) {
	for _, c := range uriCases {
		t.Run(c.name, func(t *testing.T) {
			u, err := parseURI(c.uri)
			if (err == nil) != c.ok {
				t.Fatalf("parseURI(%q) err = %v, want ok %v", c.uri, err, c.ok)
			}
			if err == nil && u.String() != c.uri {
				t.Errorf("round trip: %q, want %q", u.String(), c.uri)
			}
		})
	}
}

// What request.Request.URI writes, parseURI reads back field for field.
func TestParseURIReadsWhatTheTerminalWrites(t *testing.T) {
	tok := asset.Asset{Symbol: "TUSD", Decimals: 6, Token: common.HexToAddress(tokenHex)}
	for _, a := range []asset.Asset{{Symbol: "ETH", Decimals: 18}, tok} {
		r := &request.Request{Merchant: common.HexToAddress(merchantHex), ChainID: 1337, Asset: a, Amount: big.NewInt(1234567)}
		text := r.URI(reqURL)
		u, err := parseURI(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if u.Merchant != r.Merchant || u.ChainID != 1337 || u.Amount.Cmp(r.Amount) != 0 || u.RequestURL != reqURL ||
			(u.Token == nil) != a.Native() || (u.Token != nil && *u.Token != a.Token) {
			t.Errorf("%s parsed as %+v", text, u)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, c := range uriCases {
		f.Add(c.uri)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseURI(s)
		if err != nil {
			return
		}
		// Strict means canonical: what it accepts, it writes back unchanged.
		if u.String() != s {
			t.Fatalf("accepted %q but writes %q", s, u.String())
		}
	})
}
