package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// Tokens of the second and third networks in these tests: USDC on
// Arbitrum One and on Base.
const (
	arbitrumUSDC = "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"
	baseUSDC     = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
)

// twoNetworks makes goodParams a request payable on the dev chain (its
// primary, 31337, named "dev") and on Arbitrum One.
func twoNetworks(p *Params) {
	p.Network = "dev"
	p.Also = []Option{{Network: "arbitrum", ChainID: 42161, Token: common.HexToAddress(arbitrumUSDC)}}
}

// threeNetworks adds Base to twoNetworks.
func threeNetworks(p *Params) {
	twoNetworks(p)
	p.Also = append(p.Also, Option{Network: "base", ChainID: 8453, Token: common.HexToAddress(baseUSDC)})
}

// manyNetworks makes a request on MaxOptions networks in all.
func manyNetworks(n int) func(p *Params) {
	return func(p *Params) {
		p.Network = "dev"
		p.Also = nil
		for i := range n - 1 {
			p.Also = append(p.Also, Option{Network: fmt.Sprintf("net-%d", i), ChainID: uint64(100 + i), Token: common.BigToAddress(big.NewInt(int64(0x1000 + i)))})
		}
	}
}

func mustDocumentWith(t testing.TB, change func(*Params)) *Document {
	t.Helper()
	p := goodParams()
	change(&p)
	return mustDocument(t, mustNew(t, p))
}

// New copies the networks it is given: a caller reusing its slice cannot
// change a request already made (and signed).
func TestNewCopiesNetworks(t *testing.T) {
	p := goodParams()
	threeNetworks(&p)
	r := mustNew(t, p)
	p.Also[0].ChainID, p.Network = 1, "other"
	if r.Network != "dev" || r.Also[0].ChainID != 42161 || len(r.Also) != 2 {
		t.Fatalf("request changed with its params: network %q, also %+v", r.Network, r.Also)
	}
	want := []Option{{Network: "dev", ChainID: 31337, Token: common.HexToAddress(testToken)}, r.Also[0], r.Also[1]}
	if got := r.Options(); !reflect.DeepEqual(got, want) {
		t.Errorf("Options = %+v, want %+v", got, want)
	}
	if o, ok := r.Option(8453); !ok || o.Network != "base" {
		t.Errorf("Option(8453) = %+v, %v; want base", o, ok)
	}
	// An empty Also is no Also: the request is one-network, signed as before.
	p = goodParams()
	p.Also = []Option{}
	if r := mustNew(t, p); r.Also != nil {
		t.Errorf("an empty Also kept as %#v, want nil", r.Also)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	token := common.HexToAddress(arbitrumUSDC)
	for _, tc := range []struct {
		name   string
		change func(*Params)
		err    error
	}{
		{"more than MaxOptions networks", manyNetworks(MaxOptions + 1), ErrOptions},
		{"an option on chain id 0", func(p *Params) { p.Also = []Option{{Network: "x", ChainID: 0, Token: token}} }, ErrOptions},
		{"an option beyond 2^53-1", func(p *Params) { p.Also = []Option{{Network: "x", ChainID: MaxChainID + 1, Token: token}} }, ErrOptions},
		{"the primary chain again", func(p *Params) { p.Also = []Option{{Network: "x", ChainID: p.ChainID, Token: token}} }, ErrOptions},
		{"one chain twice", func(p *Params) {
			threeNetworks(p)
			p.Also[1].ChainID = p.Also[0].ChainID
		}, ErrOptions},
		{"a network name with a newline", func(p *Params) { twoNetworks(p); p.Also[0].Network = "arbi\ntrum" }, ErrOptions},
		{"a network name with a bidi override", func(p *Params) { twoNetworks(p); p.Network = "\u202ebase" }, ErrOptions},
		{"a network name of 33 bytes", func(p *Params) { twoNetworks(p); p.Also[0].Network = strings.Repeat("n", 33) }, ErrOptions},
		{"a one-network request's name not text", func(p *Params) { p.Network = "dev\x00" }, ErrOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParams()
			tc.change(&p)
			r, err := New(p, fixedRandom())
			if !errors.Is(err, tc.err) || r != nil {
				t.Fatalf("New = %v, %v; want %v", r, err, tc.err)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		change func(*Params)
	}{
		{"MaxOptions networks", manyNetworks(MaxOptions)},
		{"names of 32 bytes", func(p *Params) { twoNetworks(p); p.Network = strings.Repeat("é", 16) }},
		{"unnamed networks", func(p *Params) { twoNetworks(p); p.Network, p.Also[0].Network = "", "" }},
		{"the native coin on another network", func(p *Params) { p.Asset = eth(); twoNetworks(p); p.Also[0].Token = common.Address{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParams()
			tc.change(&p)
			if _, err := New(p, fixedRandom()); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

// A network's name is for display: a one-network request named or not is
// signed exactly as before networks existed (the goldens in
// document_test.go and stored_test.go hold the bytes).
func TestOneNetworkRequestSignedAsBefore(t *testing.T) {
	for name, price := range map[string]func(*Params){"unpriced": func(*Params) {}, "priced": priceInEUR} {
		t.Run(name, func(t *testing.T) {
			p := goodParams()
			price(&p)
			before, err := mustNew(t, p).Hash()
			if err != nil {
				t.Fatal(err)
			}
			p.Network = "dev"
			named := mustNew(t, p)
			if got, err := named.Hash(); err != nil || got != before {
				t.Errorf("Hash of the named request = %s, %v; want %s", got, err, before)
			}
			if _, ok := named.TypedData().Types["PaymentOption"]; ok {
				t.Error("a one-network request's typed data has the PaymentOption type")
			}
		})
	}
}

// A request on several networks signs every option, primary first, in one
// more field after the priced ones; the domain stays the primary's chain.
func TestMultiNetworkTypedData(t *testing.T) {
	for _, tc := range []struct {
		name   string
		price  func(*Params)
		fields int
	}{{"unpriced", func(*Params) {}, 11}, {"priced", priceInEUR, 18}} {
		t.Run(tc.name, func(t *testing.T) {
			p := goodParams()
			tc.price(&p)
			one := mustNew(t, p)
			threeNetworks(&p)
			r := mustNew(t, p)
			td := r.TypedData()
			fields := td.Types[PrimaryType]
			if len(fields) != tc.fields || fields[len(fields)-1].Name != "options" || fields[len(fields)-1].Type != "PaymentOption[]" {
				t.Fatalf("PaymentRequest fields = %+v, want %d ending with options PaymentOption[]", fields, tc.fields)
			}
			if !reflect.DeepEqual(fields[:len(fields)-1], one.TypedData().Types[PrimaryType]) {
				t.Errorf("the fields before options are not the one-network request's")
			}
			if got := fmt.Sprint(td.Types["PaymentOption"]); got != "[{chainId uint256} {token address}]" {
				t.Errorf("PaymentOption = %s, want (uint256 chainId, address token)", got)
			}
			want := []any{
				map[string]any{"chainId": "31337", "token": testToken},
				map[string]any{"chainId": "42161", "token": arbitrumUSDC},
				map[string]any{"chainId": "8453", "token": baseUSDC},
			}
			if got := td.Message["options"]; !reflect.DeepEqual(got, want) {
				t.Errorf("message.options = %#v, want %#v", got, want)
			}
			if got := td.Domain.ChainId; got == nil || (*big.Int)(got).Uint64() != 31337 {
				t.Errorf("domain chainId = %v, want the primary's 31337", got)
			}
			// The options are signed: another list is another digest.
			h3, _ := r.Hash()
			h1, _ := one.Hash()
			p.Also = p.Also[:1]
			h2, _ := mustNew(t, p).Hash()
			if h3 == h1 || h3 == h2 || h2 == h1 {
				t.Errorf("digests of one, two and three networks are not all different: %s %s %s", h1, h2, h3)
			}
		})
	}
}

// Every option is offered with its own EIP-681 URI: the option's token on
// the option's chain, everything else the request's. The primary's is the
// document's URI.
func TestOfferURIs(t *testing.T) {
	p := goodParams()
	threeNetworks(&p)
	d := mustDocument(t, mustNew(t, p))
	if len(d.Offers) != 3 {
		t.Fatalf("%d offers, want 3", len(d.Offers))
	}
	req := "&req=" + strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(testReqURL, ":", "%3A"), "/", "%2F"), "?", "%3F"), "=", "%3D")
	want := []Offer{
		{Option: Option{Network: "dev", ChainID: 31337, Token: common.HexToAddress(testToken)},
			URI: "ethereum:" + testToken + "@31337/transfer?address=" + testMerchant + "&uint256=12500000" + req},
		{Option: Option{Network: "arbitrum", ChainID: 42161, Token: common.HexToAddress(arbitrumUSDC)},
			URI: "ethereum:" + arbitrumUSDC + "@42161/transfer?address=" + testMerchant + "&uint256=12500000" + req},
		{Option: Option{Network: "base", ChainID: 8453, Token: common.HexToAddress(baseUSDC)},
			URI: "ethereum:" + baseUSDC + "@8453/transfer?address=" + testMerchant + "&uint256=12500000" + req},
	}
	if !reflect.DeepEqual(d.Offers, want) {
		t.Errorf("Offers =\n%+v\nwant\n%+v", d.Offers, want)
	}
	if d.URI != d.Offers[0].URI {
		t.Errorf("URI %q is not the primary offer's %q", d.URI, d.Offers[0].URI)
	}
	// A native coin on one network and a token on another.
	p = goodParams()
	p.Asset, p.Amount = eth(), big.NewInt(5)
	twoNetworks(&p)
	d = mustDocument(t, mustNew(t, p))
	if got, want := d.Offers[0].URI, "ethereum:"+testMerchant+"@31337?value=5"+req; got != want {
		t.Errorf("native offer URI %q, want %q", got, want)
	}
	if got, want := d.Offers[1].URI, "ethereum:"+arbitrumUSDC+"@42161/transfer?address="+testMerchant+"&uint256=5"+req; got != want {
		t.Errorf("token offer URI %q, want %q", got, want)
	}
	// A one-network document offers its one option, unnamed: neither its
	// JSON nor its stored form names a lone network.
	p = goodParams()
	p.Network = "dev"
	d = mustDocument(t, mustNew(t, p))
	if want := []Offer{{Option: Option{ChainID: 31337, Token: common.HexToAddress(testToken)}, URI: d.URI}}; !reflect.DeepEqual(d.Offers, want) || d.Network != "" {
		t.Errorf("one-network document: network %q, offers %+v; want none and %+v", d.Network, d.Offers, want)
	}
}

// A document on several networks says so in JSON, exactly as the golden
// file holds it, and reads back to the same document.
func TestMultiNetworkDocumentJSON(t *testing.T) {
	d := mustDocumentWith(t, twoNetworks)
	d.Status = "pending"
	d.X402 = testRequirements(31337, testToken)
	d.Offers[0].X402 = testRequirements(31337, testToken)
	d.Offers[1].X402 = testRequirements(42161, arbitrumUSDC)
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "document-networks.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("document JSON changed; the payer API's format is stable. Got:\n%s", got)
	}
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	if m["network"] != "dev" {
		t.Errorf("network = %v, want dev", m["network"])
	}
	opts, _ := m["options"].([]any)
	if len(opts) != 2 {
		t.Fatalf("options = %v, want 2", m["options"])
	}
	for i, o := range opts {
		keys := sortedKeys(o.(map[string]any))
		if !slices.Equal(keys, []string{"chainId", "network", "token", "uri", "x402"}) {
			t.Errorf("options[%d] keys = %v", i, keys)
		}
		if c, ok := o.(map[string]any)["chainId"].(float64); !ok || c != float64(d.Offers[i].ChainID) {
			t.Errorf("options[%d].chainId = %v, want the number %d like the top level's", i, o.(map[string]any)["chainId"], d.Offers[i].ChainID)
		}
	}

	back, err := ParseDocument(got)
	if err != nil {
		t.Fatalf("ParseDocument: %v", err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Errorf("document after a JSON round trip:\n%+v\nwant\n%+v", back, d)
	}
	if addr, err := back.Verify(); err != nil || addr.Hex() != testSigner {
		t.Errorf("Verify = %s, %v; want %s", addr.Hex(), err, testSigner)
	}
}

// A one-network document's JSON has neither network nor options, even
// when its request names its network: today's documents are unchanged.
func TestOneNetworkDocumentJSONUnchanged(t *testing.T) {
	plain := mustJSON(t, mustDocument(t, mustNew(t, goodParams())))
	named := mustJSON(t, mustDocumentWith(t, func(p *Params) { p.Network = "dev" }))
	if !bytes.Equal(plain, named) {
		t.Errorf("naming the one network changed the JSON:\n%s\n%s", plain, named)
	}
	if bytes.Contains(plain, []byte(`"options"`)) || bytes.Contains(plain, []byte(`"network"`)) {
		t.Errorf("one-network JSON has network or options: %s", plain)
	}
	// Read back, it offers its one option with the top level's uri and x402.
	d := mustDocument(t, mustNew(t, goodParams()))
	d.X402 = testRequirements(31337, testToken)
	back, err := ParseDocument(mustJSON(t, d))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Offers) != 1 || back.Offers[0].URI != d.URI || !reflect.DeepEqual(back.Offers[0].X402, d.X402) || back.Offers[0].ChainID != 31337 {
		t.Errorf("one-network document read back offers %+v", back.Offers)
	}
}

func testRequirements(chainID uint64, token string) *PaymentRequirements {
	return &PaymentRequirements{
		Scheme: "exact", Network: fmt.Sprintf("eip155:%d", chainID), Amount: big.NewInt(12_500_000),
		Asset: common.HexToAddress(token), PayTo: common.HexToAddress(testMerchant), MaxTimeoutSeconds: 300,
		Name: "USD Coin", Version: "2",
	}
}

// The stored form of a request on several networks carries them, names
// included, for about 30 bytes a network more.
func TestMultiNetworkCompact(t *testing.T) {
	one := mustCompact(t, mustDocument(t, mustNew(t, goodParams())))
	for _, tc := range []struct {
		name   string
		change func(*Params)
		extra  int // networks beyond the first
	}{
		{"two networks", twoNetworks, 1},
		{"three networks, priced", func(p *Params) { threeNetworks(p); priceInEUR(p) }, 2},
		{"MaxOptions networks", manyNetworks(MaxOptions), MaxOptions - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDocumentWith(t, tc.change)
			b := mustCompact(t, d)
			if b[0] != CompactNetworksVersion {
				t.Errorf("first byte %#x, want %#x", b[0], CompactNetworksVersion)
			}
			back, err := ParseStored(b)
			if err != nil {
				t.Fatalf("ParseStored: %v", err)
			}
			if !reflect.DeepEqual(back, d) {
				t.Errorf("document after a compact round trip:\n%+v\nwant\n%+v", back, d)
			}
			if !bytes.Equal(mustJSON(t, back), mustJSON(t, d)) {
				t.Error("JSON changed over a compact round trip")
			}
			// Beyond the networks: the empty tip, the primary's name "dev"
			// and the count, 6 bytes.
			if more := len(b) - len(one); d.Fiat == nil && more > 6+35*tc.extra {
				t.Errorf("%d bytes for %d more networks, want at most 6 + 35 each", more, tc.extra)
			}
			t.Logf("%d networks: compact %d bytes (one network %d), JSON %d", tc.extra+1, len(b), len(one), len(mustJSON(t, d)))
		})
	}
}

// A document on MaxOptions networks, every field at its limit and x402
// requirements on every offer, is still one ParseDocument reads.
func TestLargestDocumentFits(t *testing.T) {
	p := goodParams()
	compactCases[2].params(&p)                  // every field at its limit
	p.Memo = strings.Repeat("<", MaxMemoLength) // each escaped as \u003c
	manyNetworks(MaxOptions)(&p)
	for i := range p.Also {
		p.Also[i].Network = strings.Repeat("<", 32) // escaped in JSON
		p.Also[i].ChainID = MaxChainID - uint64(i) - 1
	}
	p.Network = strings.Repeat("<", 32)
	reqURL := "https://h/" + strings.Repeat("&", MaxURLLength-len("https://h/")) // \u0026 in JSON, %26 in a URI
	d, err := mustSigner(t, testKey(t)).Document(mustNew(t, p), reqURL, "http://"+strings.Repeat("b", MaxURLLength-len("http://")))
	if err != nil {
		t.Fatal(err)
	}
	d.Status, d.PaidTx, d.PaidState = "pending", "0x"+strings.Repeat("ab", 32), "confirmed"
	d.Certificate = json.RawMessage(`{"fleet":"` + strings.Repeat("c", 4<<10-12) + `"}`) // fleet.MaxCertificate
	d.X402 = testRequirements(1, testToken)
	for i := range d.Offers {
		d.Offers[i].X402 = testRequirements(d.Offers[i].ChainID, testToken)
		d.Offers[i].X402.Name = strings.Repeat("N", 64)
		d.Offers[i].X402.Amount = bigString(maxUint256)
	}
	b := mustJSON(t, d)
	t.Logf("largest document: %d bytes of %d", len(b), MaxDocumentSize)
	if _, err := ParseDocument(b); err != nil {
		t.Fatalf("ParseDocument of the largest document: %v", err)
	}
}

// Verify holds every offer to the signed options: its chain id and token
// to the option's, its URI to the one they give, and no offer missing or
// added.
func TestVerifyRefusesTamperedOffers(t *testing.T) {
	other := common.HexToAddress("0x2222222222222222222222222222222222222222")
	for _, tc := range []struct {
		name   string
		change func(d *Document)
		err    error
	}{
		{"an offer's chain id", func(d *Document) { d.Offers[1].ChainID = 10 }, ErrMismatch},
		{"an offer's token", func(d *Document) { d.Offers[1].Token = other }, ErrMismatch},
		{"an offer's uri", func(d *Document) { d.Offers[1].URI = strings.Replace(d.Offers[1].URI, "@42161", "@10", 1) }, ErrMismatch},
		{"the primary offer's uri", func(d *Document) { d.Offers[0].URI = d.Offers[1].URI }, ErrMismatch},
		{"an offer's network name", func(d *Document) { d.Offers[1].Network = "optimism" }, ErrMismatch},
		{"an offer dropped", func(d *Document) { d.Offers = d.Offers[:1] }, ErrMismatch},
		{"an offer added", func(d *Document) { d.Offers = append(d.Offers, Offer{Option: Option{ChainID: 10}, URI: "ethereum:x"}) }, ErrMismatch},
		{"offers swapped", func(d *Document) { d.Offers[0], d.Offers[1] = d.Offers[1], d.Offers[0] }, ErrMismatch},
		// The options themselves are signed.
		{"an option's chain id", func(d *Document) { d.Also[0].ChainID = 10 }, ErrMismatch},
		{"an option's token", func(d *Document) { d.Also[0].Token = other }, ErrMismatch},
		{"an option dropped", func(d *Document) { d.Also = d.Also[:1] }, ErrMismatch},
		{"typedData options reordered", func(d *Document) {
			o := d.TypedData.Message["options"].([]any)
			o[1], o[2] = o[2], o[1]
		}, ErrMismatch},
		{"typedData option null", func(d *Document) { d.TypedData.Message["options"].([]any)[1] = nil }, ErrMismatch},
		{"typedData options not a list", func(d *Document) { d.TypedData.Message["options"] = "x" }, ErrMismatch},
		{"an option's chain id everywhere", func(d *Document) { rewrite(d, func(r *Request) { r.Also[0].ChainID = 10 }) }, ErrSignature},
		{"an option's token everywhere", func(d *Document) { rewrite(d, func(r *Request) { r.Also[1].Token = other }) }, ErrSignature},
		{"an option dropped everywhere", func(d *Document) { rewrite(d, func(r *Request) { r.Also = r.Also[:1] }) }, ErrSignature},
		{"all options dropped everywhere", func(d *Document) { rewrite(d, func(r *Request) { r.Also = nil }) }, ErrSignature},
		// Breaking the rules is refused by the rule.
		{"a chain duplicated", func(d *Document) { rewrite(d, func(r *Request) { r.Also[1].ChainID = r.Also[0].ChainID }) }, ErrOptions},
		{"the primary's chain again", func(d *Document) { rewrite(d, func(r *Request) { r.Also[1].ChainID = r.ChainID }) }, ErrOptions},
		{"more than MaxOptions", func(d *Document) {
			rewrite(d, func(r *Request) {
				for i := range MaxOptions {
					r.Also = append(r.Also, Option{ChainID: uint64(1000 + i)})
				}
			})
		}, ErrOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDocumentWith(t, threeNetworks)
			if _, err := d.Verify(); err != nil {
				t.Fatalf("untampered: %v", err)
			}
			tc.change(d)
			addr, err := d.Verify()
			if !errors.Is(err, tc.err) {
				t.Fatalf("Verify = %s, %v; want %v", addr.Hex(), err, tc.err)
			}
			t.Log(err)
		})
	}
}

// The same through JSON, what a payer receives: an offer changed in the
// served document is refused, by ParseDocument or by Verify.
func TestVerifyRefusesTamperedOffersInJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		err  error
	}{
		{"an offer's chain id", func(m map[string]any) { option(m, 1)["chainId"] = 10 }, ErrMismatch},
		{"an offer's token", func(m map[string]any) { option(m, 2)["token"] = "0x2222222222222222222222222222222222222222" }, ErrMismatch},
		{"an offer's uri", func(m map[string]any) { option(m, 1)["uri"] = option(m, 2)["uri"] }, ErrMismatch},
		{"an offer dropped", func(m map[string]any) { m["options"] = m["options"].([]any)[:2] }, ErrMismatch},
		{"a chain duplicated", func(m map[string]any) { option(m, 2)["chainId"] = option(m, 1)["chainId"] }, ErrOptions},
		{"more than MaxOptions", func(m map[string]any) {
			for i := range MaxOptions {
				o := maps(option(m, 1))
				o["chainId"] = 1000 + i
				m["options"] = append(m["options"].([]any), o)
			}
		}, ErrOptions},
		{"the primary offer not the top level's chain", func(m map[string]any) { option(m, 0)["chainId"] = 1 }, ErrDocument},
		{"the primary offer not the top level's token", func(m map[string]any) { option(m, 0)["token"] = arbitrumUSDC }, ErrDocument},
		{"the primary offer not the top level's network", func(m map[string]any) { option(m, 0)["network"] = "main" }, ErrDocument},
		{"one option only", func(m map[string]any) { m["options"] = m["options"].([]any)[:1] }, ErrDocument},
		{"network without options", func(m map[string]any) { delete(m, "options") }, ErrDocument},
		{"options as an object", func(m map[string]any) { m["options"] = map[string]any{} }, ErrDocument},
		{"an unknown offer field", func(m map[string]any) { option(m, 1)["memo"] = "x" }, ErrDocument},
		{"an offer's zero token", func(m map[string]any) { option(m, 1)["token"] = "0x0000000000000000000000000000000000000000" }, ErrDocument},
		{"an offer's token misspelt", func(m map[string]any) { option(m, 1)["token"] = strings.ToUpper(arbitrumUSDC) }, ErrDocument},
		{"an offer's chain id as a string", func(m map[string]any) { option(m, 1)["chainId"] = "42161" }, ErrDocument},
		{"an offer's network not text", func(m map[string]any) { option(m, 1)["network"] = "a\u0007" }, ErrOptions},
		{"an offer's x402 amount", func(m map[string]any) {
			option(m, 1)["x402"] = map[string]any{"scheme": "exact", "network": "eip155:42161", "amount": "1e6", "asset": arbitrumUSDC,
				"payTo": testMerchant, "maxTimeoutSeconds": 60, "extra": map[string]any{"name": "USD Coin", "version": "2"}}
		}, ErrDocument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(mustDocumentWith(t, threeNetworks))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			if b, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
			d, err := ParseDocument(b)
			if err == nil {
				_, err = d.Verify()
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("ParseDocument then Verify = %v, want %v", err, tc.err)
			}
			t.Log(err)
		})
	}
}

func option(m map[string]any, i int) map[string]any { return m["options"].([]any)[i].(map[string]any) }

func maps(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ethers' verifyTypedData recovers the terminal's address from a
// multi-network document's typed data and signature, and the signed
// options are the offers the JSON lists, each offer's URI naming its chain
// and token to eth-url-parser.
func TestEthersVerifiesMultiNetworkDocument(t *testing.T) {
	dir := jsTools(t)
	for name, change := range map[string]func(*Params){
		"three networks": threeNetworks,
		"priced, native and token": func(p *Params) {
			p.Asset, p.Amount = eth(), bigString(maxUint256)
			twoNetworks(p)
			p.Tip = big.NewInt(1)
		},
		"MaxOptions networks":          manyNetworks(MaxOptions),
		"two networks, native on both": func(p *Params) { p.Asset = eth(); twoNetworks(p); p.Also[0].Token = common.Address{} },
	} {
		t.Run(name, func(t *testing.T) {
			d := mustDocumentWith(t, change)
			var got struct {
				Signer  string
				Signed  []struct{ ChainID, Token string }
				Offered []struct{ ChainID, Token, URIChainID, URIToken string }
			}
			if err := json.Unmarshal(runJS(t, dir, mustJSON(t, d), "offers"), &got); err != nil {
				t.Fatal(err)
			}
			if got.Signer != testSigner {
				t.Errorf("ethers recovered %s, want %s", got.Signer, testSigner)
			}
			if len(got.Signed) != len(d.Offers) || len(got.Offered) != len(d.Offers) {
				t.Fatalf("JS saw %d signed options and %d offers, want %d", len(got.Signed), len(got.Offered), len(d.Offers))
			}
			for i, o := range d.Offers {
				token := o.Token.Hex()
				if s := got.Signed[i]; s.ChainID != fmt.Sprint(o.ChainID) || s.Token != token {
					t.Errorf("signed option %d = %+v, want %d %s", i, s, o.ChainID, token)
				}
				uriTarget := token
				if o.Token == (common.Address{}) {
					uriTarget = d.Merchant.Hex() // a native coin's URI names the payee
				}
				if f := got.Offered[i]; f.ChainID != fmt.Sprint(o.ChainID) || f.Token != token || f.URIChainID != fmt.Sprint(o.ChainID) || f.URIToken != uriTarget {
					t.Errorf("offer %d as JS reads it = %+v, want chain %d token %s (uri target %s)", i, f, o.ChainID, token, uriTarget)
				}
			}

			// A second offer's chain id changed in the signed options is
			// no longer the terminal's signature.
			d.TypedData.Message["options"].([]any)[1].(map[string]any)["chainId"] = "10"
			if err := json.Unmarshal(runJS(t, dir, mustJSON(t, d), "offers"), &got); err != nil {
				t.Fatal(err)
			}
			if got.Signer == testSigner {
				t.Error("ethers recovered the terminal address from tampered options")
			}
		})
	}
}

// networksTail is the end of a version 3 compact form as Compact's
// documentation spells it: the tip (empty), the primary's network name,
// the count of other options and each of them.
func networksTail(network string, count uint64, options ...[]byte) []byte {
	str := func(b []byte, s string) []byte { return append(uvarint(uint64(len(s))), s...) }
	b := append([]byte{0}, str(nil, network)...)
	b = append(b, uvarint(count)...)
	for _, o := range options {
		b = append(b, o...)
	}
	return b
}

// storedOption is one option in the compact form.
func storedOption(network string, chainID uint64, token []byte) []byte {
	b := append(uvarint(uint64(len(network))), network...)
	b = append(b, uvarint(chainID)...)
	b = append(b, uvarint(uint64(len(token)))...)
	return append(b, token...)
}

// twoNetworksHead returns the compact form of the twoNetworks document
// without its networks' tail, having checked that tail is the documented
// one.
func twoNetworksHead(t testing.TB) []byte {
	t.Helper()
	b := mustCompact(t, mustDocumentWith(t, twoNetworks))
	tail := networksTail("dev", 1, storedOption("arbitrum", 42161, common.HexToAddress(arbitrumUSDC).Bytes()))
	if !bytes.HasSuffix(b, tail) {
		t.Fatalf("compact form of two networks\n%x\ndoes not end with the documented\n%x", b, tail)
	}
	return b[:len(b)-len(tail)]
}

// networkRefusals are version 3 values ParseCompact must refuse; they seed
// FuzzParseCompact too.
var networkRefusals = []struct {
	name   string
	stored func(t testing.TB) []byte
	err    error
}{
	{"no other network", func(t testing.TB) []byte { return append(twoNetworksHead(t), networksTail("dev", 0)...) }, ErrDocument},
	{"more options than MaxOptions", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail("dev", MaxOptions, storedOption("arbitrum", 42161, common.HexToAddress(arbitrumUSDC).Bytes()))...)
	}, ErrDocument},
	{"more options counted than stored", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail("dev", 2, storedOption("arbitrum", 42161, common.HexToAddress(arbitrumUSDC).Bytes()))...)
	}, ErrDocument},
	{"a token of 19 bytes", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail("dev", 1, storedOption("arbitrum", 42161, common.HexToAddress(arbitrumUSDC).Bytes()[1:]))...)
	}, ErrDocument},
	{"a zero token stored", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail("dev", 1, storedOption("arbitrum", 42161, make([]byte, 20)))...)
	}, ErrDocument},
	{"an option on chain 0", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail("dev", 1, storedOption("arbitrum", 0, nil))...)
	}, ErrOptions},
	{"an option on the primary's chain", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail("dev", 1, storedOption("arbitrum", 31337, nil))...)
	}, ErrOptions},
	{"one chain twice", func(t testing.TB) []byte {
		o := storedOption("arbitrum", 42161, nil)
		return append(twoNetworksHead(t), networksTail("dev", 2, o, o)...)
	}, ErrOptions},
	{"a network name with an escape", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail("d\x1bv", 1, storedOption("arbitrum", 42161, nil))...)
	}, ErrOptions},
	{"a network name of 33 bytes", func(t testing.TB) []byte {
		return append(twoNetworksHead(t), networksTail(strings.Repeat("n", 33), 1, storedOption("arbitrum", 42161, nil))...)
	}, ErrDocument},
	{"a trailing byte", func(t testing.TB) []byte { return append(mustCompact(t, mustDocumentWith(t, twoNetworks)), 0) }, ErrDocument},
	{"version 2 with networks", func(t testing.TB) []byte {
		b := mustCompact(t, mustDocumentWith(t, twoNetworks))
		b[0] = CompactPricedVersion
		return b
	}, ErrDocument},
	{"version 1 with networks", func(t testing.TB) []byte {
		b := mustCompact(t, mustDocumentWith(t, twoNetworks))
		b[0] = CompactVersion
		return b
	}, ErrDocument},
	{"version 4", func(t testing.TB) []byte {
		b := mustCompact(t, mustDocumentWith(t, twoNetworks))
		b[0] = CompactNetworksVersion + 1
		return b
	}, ErrDocument},
}

func TestParseCompactRefusesBadNetworks(t *testing.T) {
	for _, tc := range networkRefusals {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseStored(tc.stored(t))
			if !errors.Is(err, ErrDocument) || !errors.Is(err, tc.err) || d != nil {
				t.Fatalf("ParseStored = %v, %v; want ErrDocument and %v", d, err, tc.err)
			}
			t.Log(err)
		})
	}
	b := mustCompact(t, mustDocumentWith(t, threeNetworks))
	for n := range len(b) {
		if d, err := ParseCompact(b[:n]); !errors.Is(err, ErrDocument) || d != nil {
			t.Fatalf("ParseCompact of the first %d of %d bytes = %v, %v; want ErrDocument", n, len(b), d, err)
		}
	}
}

// Compact refuses a multi-network document whose offers are not what its
// options give, and a one-network document naming its network: it could
// not rebuild either.
func TestCompactRefusesOffersItCannotRebuild(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params func(*Params)
		change func(d *Document)
	}{
		{"an offer's uri", twoNetworks, func(d *Document) { d.Offers[1].URI = d.Offers[0].URI }},
		{"an offer's chain id", twoNetworks, func(d *Document) { d.Offers[1].ChainID = 10 }},
		{"an offer's name", twoNetworks, func(d *Document) { d.Offers[1].Network = "base" }},
		{"an offer missing", twoNetworks, func(d *Document) { d.Offers = d.Offers[:1] }},
		{"no offers on one network", func(*Params) {}, func(d *Document) { d.Offers = nil }},
		{"typedData options", twoNetworks, func(d *Document) { d.TypedData.Message["options"].([]any)[1] = map[string]any{} }},
		{"a network named on one network", func(*Params) {}, func(d *Document) { d.Network = "dev" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDocumentWith(t, tc.params)
			tc.change(d)
			if b, err := d.Compact(); !errors.Is(err, ErrMismatch) {
				t.Fatalf("Compact = %x, %v; want ErrMismatch", b, err)
			}
		})
	}
	// The till's x402 requirements are not stored, as the top level's are not.
	d := mustDocumentWith(t, twoNetworks)
	want := mustCompact(t, d)
	d.Offers[1].X402 = testRequirements(42161, arbitrumUSDC)
	if got := mustCompact(t, d); !bytes.Equal(got, want) {
		t.Error("an offer's x402 requirements changed the compact form")
	}
}

// testdata/compact-networks.hex is the stored form of the two-network
// request: what this build stores, later builds must read.
func TestCompactNetworksGolden(t *testing.T) {
	d := mustDocumentWith(t, twoNetworks)
	path := filepath.Join("testdata", "compact-networks.hex")
	if *update {
		if err := os.WriteFile(path, []byte(fmt.Sprintf("%x\n", mustCompact(t, d))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	back, err := ParseStored(unhex(t, strings.TrimSpace(string(text))))
	if err != nil {
		t.Fatalf("ParseStored(golden): %v", err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Errorf("golden compact form decodes to\n%+v\nwant\n%+v", back, d)
	}
	if _, err := back.Verify(); err != nil {
		t.Errorf("golden no longer verifies: %v", err)
	}
}
