package request

import (
	"encoding/json"
	"math/big"
	"net/url"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestURIGolden(t *testing.T) {
	native := goodParams()
	native.Asset = eth()
	native.Amount = big.NewInt(10_000_000_000_000_000) // 0.01 ETH
	for _, tc := range []struct {
		name   string
		params Params
		reqURL string
		want   string
	}{
		{"ERC-20", goodParams(), testReqURL,
			"ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@31337/transfer?address=0x70997970C51812dc3A010C7d01b50e0d17dc79C8&uint256=12500000" +
				"&req=http%3A%2F%2F127.0.0.1%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D00112233445566778899aabbccddeeff"},
		{"native", native, testReqURL,
			"ethereum:0x70997970C51812dc3A010C7d01b50e0d17dc79C8@31337?value=10000000000000000" +
				"&req=http%3A%2F%2F127.0.0.1%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D00112233445566778899aabbccddeeff"},
		{"native without request URL", native, "",
			"ethereum:0x70997970C51812dc3A010C7d01b50e0d17dc79C8@31337?value=10000000000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustNew(t, tc.params).URI(tc.reqURL); got != tc.want {
				t.Errorf("URI =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// ethURL is what eth-url-parser returns.
type ethURL struct {
	TargetAddress string            `json:"target_address"`
	ChainID       string            `json:"chain_id"`
	FunctionName  string            `json:"function_name"`
	Parameters    map[string]string `json:"parameters"`
}

func TestURIReadByEthURLParser(t *testing.T) {
	dir := jsTools(t)
	for _, tc := range []struct {
		name   string
		native bool
		amount string
	}{
		{"ERC-20 small", false, "12500000"},
		{"ERC-20 above 1e21", false, "123456789012345678901234567891"},
		{"ERC-20 max uint256", false, maxUint256},
		{"native small", true, "1"},
		{"native 1 ETH", true, "1000000000000000000"},
		{"native above 1e21", true, "1000000000000000000001"},
		{"native max uint256", true, maxUint256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParams()
			if tc.native {
				p.Asset = eth()
			}
			p.Amount = bigString(tc.amount)
			r := mustNew(t, p)
			var got ethURL
			if err := json.Unmarshal(runJS(t, dir, nil, "uri", r.URI(testReqURL)), &got); err != nil {
				t.Fatal(err)
			}
			wantTarget, amountKey := r.Asset.Token, "uint256"
			if tc.native {
				wantTarget, amountKey = r.Merchant, "value"
			} else {
				if got.FunctionName != "transfer" {
					t.Errorf("function_name = %q, want transfer", got.FunctionName)
				}
				if a := got.Parameters["address"]; !common.IsHexAddress(a) || common.HexToAddress(a) != r.Merchant {
					t.Errorf("address parameter = %q, want %s", a, r.Merchant.Hex())
				}
			}
			if !common.IsHexAddress(got.TargetAddress) || common.HexToAddress(got.TargetAddress) != wantTarget {
				t.Errorf("target_address = %q, want %s", got.TargetAddress, wantTarget.Hex())
			}
			if got.ChainID != "31337" {
				t.Errorf("chain_id = %q, want 31337", got.ChainID)
			}
			// eth-url-parser turns amounts into BigNumber strings, which
			// switch to exponent form from 1e21: compare exactly as rationals.
			raw := got.Parameters[amountKey]
			v, ok := new(big.Rat).SetString(raw)
			if !ok || !v.IsInt() || v.Num().Cmp(r.Amount) != 0 {
				t.Errorf("%s parameter = %q, want exactly %s", amountKey, raw, r.Amount)
			}
			if req := got.Parameters["req"]; req != testReqURL {
				t.Errorf("req parameter = %q, want %q", req, testReqURL)
			}
		})
	}
}

func TestURIRequestURLSurvivesQueryParsing(t *testing.T) {
	reqURL := "https://pos.example/api/showpos/getPaymentRequest?id=abc&x=1 2+3#frag"
	u, err := url.Parse(mustNew(t, goodParams()).URI(reqURL))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("req"); got != reqURL {
		t.Errorf("req = %q, want %q", got, reqURL)
	}
}
