package request

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"showpos/terminal/asset"
)

// compactCases are documents the compact form must carry exactly. They drive
// TestCompactRoundTrip and seed FuzzParseCompact.
var compactCases = []struct {
	name          string
	params        func(p *Params)
	reqURL, bcURL string
}{
	{"ERC-20", func(p *Params) {}, testReqURL, testBcastURL},
	{"native", func(p *Params) { p.Asset, p.Amount = eth(), bigString("10000000000000000") }, testReqURL, testBcastURL},
	{"every field at its limit", func(p *Params) {
		p.TerminalID = strings.Repeat("t", MaxTerminalIDLength)
		p.ChainID = MaxChainID
		p.Asset = asset.Asset{Symbol: strings.Repeat("S", asset.MaxSymbolLength), Decimals: asset.MaxDecimals,
			Token: common.HexToAddress("0xffffffffffffffffffffffffffffffffffffffff")}
		p.Amount = bigString(maxUint256)
		p.Memo = strings.Repeat("é", MaxMemoLength/2)
		p.TTL = MaxTTL
	}, "https://" + strings.Repeat("a", MaxURLLength-len("https://")), "http://" + strings.Repeat("b", MaxURLLength-len("http://"))},
	{"smallest amount, no memo, no decimals", func(p *Params) {
		p.Amount, p.Memo, p.Asset.Decimals, p.TTL = big.NewInt(1), "", 0, time.Second
	}, testReqURL, testBcastURL},
	{"request URL without the id", func(p *Params) {}, "https://pay.example.com/r/till-1", "https://relay.example.org/tx"},
	{"broadcast URL a prefix of the request URL", func(p *Params) {}, testReqURL, "http://127.0.0.1:8080/api"},
	{"broadcast URL the request URL and more", func(p *Params) {}, testReqURL, testReqURL + "&broadcast=1"},
	{"URLs share nothing", func(p *Params) {}, "https://a.example/" + "00112233445566778899aabbccddeeff", "http://b.example/tx"},
	{"priced in EUR with a tip", priceInEUR, testReqURL, testBcastURL},
	{"priced in JPY, no tip, native coin", priceInJPY, testReqURL, testBcastURL},
	{"a tip keyed in the asset", func(p *Params) { p.Tip = big.NewInt(1_250_000) }, testReqURL, testBcastURL},
	{"two networks", twoNetworks, testReqURL, testBcastURL},
	{"three networks, priced in EUR with a tip", func(p *Params) { threeNetworks(p); priceInEUR(p) }, testReqURL, testBcastURL},
	{"MaxOptions networks, unnamed, native on one", func(p *Params) {
		manyNetworks(MaxOptions)(p)
		p.Network, p.Also[3].Token = "", common.Address{}
		for i := range p.Also {
			p.Also[i].Network = ""
		}
	}, testReqURL, testBcastURL},
	{"two networks, names and chain ids at their limits", func(p *Params) {
		twoNetworks(p)
		p.Network, p.Also[0].Network, p.Also[0].ChainID = strings.Repeat("n", MaxNetworkNameLength), strings.Repeat("é", MaxNetworkNameLength/2), MaxChainID
	}, testReqURL, testBcastURL},
}

// compactCaseDocument makes the document of compactCases[i], signed with the
// test key.
func compactCaseDocument(t testing.TB, i int) *Document {
	t.Helper()
	tc := compactCases[i]
	p := goodParams()
	tc.params(&p)
	d, err := mustSigner(t, testKey(t)).Document(mustNew(t, p), tc.reqURL, tc.bcURL)
	if err != nil {
		t.Fatalf("%s: Signer.Document: %v", tc.name, err)
	}
	return d
}

func mustCompact(t testing.TB, d *Document) []byte {
	t.Helper()
	b, err := d.Compact()
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	return b
}

func mustJSON(t testing.TB, d *Document) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompactRoundTrip(t *testing.T) {
	for i, tc := range compactCases {
		t.Run(tc.name, func(t *testing.T) {
			d := compactCaseDocument(t, i)
			b := mustCompact(t, d)
			want := map[bool]byte{false: CompactVersion, true: CompactPricedVersion}[d.Tip != nil || d.Fiat != nil]
			if len(d.Also) > 0 {
				want = CompactNetworksVersion
			}
			if b[0] != want {
				t.Errorf("first byte %#x, want %#x", b[0], want)
			}
			back, err := ParseCompact(b)
			if err != nil {
				t.Fatalf("ParseCompact: %v", err)
			}
			if got, want := mustJSON(t, back), mustJSON(t, d); !bytes.Equal(got, want) {
				t.Errorf("JSON after a compact round trip:\n%s\nwant\n%s", got, want)
			}
			if !reflect.DeepEqual(back, d) {
				t.Errorf("document after a compact round trip:\n%+v\nwant\n%+v", back, d)
			}
			if again := mustCompact(t, back); !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs:\n%x\n%x", again, b)
			}
			if addr, err := back.Verify(); err != nil || addr.Hex() != testSigner {
				t.Errorf("Verify = %s, %v; want %s", addr.Hex(), err, testSigner)
			}
			// The rebuilt document shares no memory with the stored bytes.
			for j := range b {
				b[j] = 0xff
			}
			if got, want := mustJSON(t, back), mustJSON(t, d); !bytes.Equal(got, want) {
				t.Error("document changed when the stored bytes were overwritten")
			}
		})
	}
}

// A typical request must be small in the store: that is the point of the
// compact form.
func TestCompactSize(t *testing.T) {
	d := compactCaseDocument(t, 0)
	b := mustCompact(t, d)
	full := mustJSON(t, d)
	t.Logf("compact %d bytes, JSON %d bytes", len(b), len(full))
	if len(b) > 300 {
		t.Errorf("compact form of a typical request is %d bytes, want at most 300", len(b))
	}
}

// rawCompact spells the compact form out field by field, independently of
// Compact, so tests can write both the exact bytes the format promises and
// encodings Compact never writes.
type rawCompact struct {
	version, flags   byte
	id               []byte
	terminalID       []byte
	merchant         []byte
	chainID          []byte // varint as written
	symbol           []byte
	decimals         byte
	token            []byte // written only if set
	amount           []byte
	memo             []byte
	created, ttl     []byte // varints as written
	signature        []byte
	signer           []byte
	requestURL       []byte
	shared           []byte // varint as written
	broadcastURLRest []byte
	trailing         []byte
}

func (c rawCompact) bytes() []byte {
	str := func(b, s []byte) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	b := []byte{c.version, c.flags}
	b = append(b, c.id...)
	b = str(b, c.terminalID)
	b = append(b, c.merchant...)
	b = append(b, c.chainID...)
	b = str(b, c.symbol)
	b = append(b, c.decimals)
	b = append(b, c.token...)
	b = str(b, c.amount)
	b = str(b, c.memo)
	b = append(b, c.created...)
	b = append(b, c.ttl...)
	b = append(b, c.signature...)
	b = append(b, c.signer...)
	b = str(b, c.requestURL)
	b = append(b, c.shared...)
	b = str(b, c.broadcastURLRest)
	return append(b, c.trailing...)
}

func uvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goodRaw is compactCases[0] (the ERC-20 request) spelled out.
func goodRaw(t testing.TB) rawCompact {
	d := compactCaseDocument(t, 0)
	return rawCompact{
		version:          0x01,
		flags:            0x03, // token, request URL ends with the id
		id:               unhex(t, "00112233445566778899aabbccddeeff"),
		terminalID:       []byte("till-1"),
		merchant:         unhex(t, testMerchant),
		chainID:          []byte{0xe9, 0xf4, 0x01}, // 31337
		symbol:           []byte("TUSD"),
		decimals:         6,
		token:            unhex(t, testToken),
		amount:           []byte{0xbe, 0xbc, 0x20}, // 12500000
		memo:             []byte("Coffee & croissant ☕"),
		created:          uvarint(uint64(testNow().Unix())),
		ttl:              []byte{0xac, 0x02}, // 300
		signature:        bytes.Clone(d.Signature),
		signer:           unhex(t, testSigner),
		requestURL:       []byte("http://127.0.0.1:8080/api/showpos/getPaymentRequest?id="),
		shared:           []byte{34}, // "http://127.0.0.1:8080/api/showpos/"
		broadcastURLRest: []byte("broadcastTx"),
	}
}

func TestCompactIsTheDocumentedForm(t *testing.T) {
	raw := goodRaw(t)
	if got, want := mustCompact(t, compactCaseDocument(t, 0)), raw.bytes(); !bytes.Equal(got, want) {
		t.Errorf("Compact =\n%x\nthe documented form is\n%x", got, want)
	}
}

// The compact form is a file format: what this build stores, later builds
// must read. testdata/compact-erc20.hex is the ERC-20 golden document's
// compact form; it must keep decoding to that golden JSON.
func TestCompactGolden(t *testing.T) {
	path := filepath.Join("testdata", "compact-erc20.hex")
	if *update {
		enc := hex.EncodeToString(mustCompact(t, compactCaseDocument(t, 0))) + "\n"
		if err := os.WriteFile(path, []byte(enc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	d, err := ParseCompact(unhex(t, strings.TrimSpace(string(text))))
	if err != nil {
		t.Fatalf("ParseCompact(golden): %v", err)
	}
	d.Status = "pending" // as in the JSON golden file
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "document-erc20.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		t.Errorf("golden compact form decodes to\n%s\nwant testdata/document-erc20.json", got)
	}
}

// compactRefusals are stored values ParseCompact must refuse. They drive
// TestParseCompactRefuses and seed FuzzParseCompact. Every refusal wraps
// ErrDocument; err is the more precise sentinel where there is one.
var compactRefusals = []struct {
	name   string
	change func(c *rawCompact)
	err    error
}{
	{"version 2", func(c *rawCompact) { c.version = 2 }, ErrDocument},
	{"version 0", func(c *rawCompact) { c.version = 0 }, ErrDocument},
	{"unknown flag", func(c *rawCompact) { c.flags |= 0x04 }, ErrDocument},
	{"token flag without a token", func(c *rawCompact) { c.flags &^= compactToken }, ErrDocument}, // the token's bytes become a stray length
	{"zero token", func(c *rawCompact) { c.token = make([]byte, 20) }, ErrDocument},
	{"chain id varint too long", func(c *rawCompact) { c.chainID = []byte{0xe9, 0xf4, 0x81, 0x00} }, ErrDocument},
	{"chain id varint overflows", func(c *rawCompact) { c.chainID = bytes.Repeat([]byte{0xff}, 11) }, ErrDocument},
	{"chain id zero", func(c *rawCompact) { c.chainID = []byte{0} }, ErrChainID},
	{"chain id beyond 2^53-1", func(c *rawCompact) { c.chainID = uvarint(MaxChainID + 1) }, ErrChainID},
	{"amount with a leading zero byte", func(c *rawCompact) { c.amount = append([]byte{0}, c.amount...) }, ErrDocument},
	{"amount of 33 bytes", func(c *rawCompact) { c.amount = bytes.Repeat([]byte{1}, 33) }, ErrDocument},
	{"amount zero", func(c *rawCompact) { c.amount = nil }, ErrAmount},
	{"memo with a control character", func(c *rawCompact) { c.memo = []byte("a\x1b[2Jb") }, ErrMemo},
	{"memo not UTF-8", func(c *rawCompact) { c.memo = []byte{0xff, 0xfe} }, ErrMemo},
	{"memo too long", func(c *rawCompact) { c.memo = bytes.Repeat([]byte("m"), MaxMemoLength+1) }, ErrDocument},
	{"empty terminal id", func(c *rawCompact) { c.terminalID = nil }, ErrTerminalID},
	{"zero merchant", func(c *rawCompact) { c.merchant = make([]byte, 20) }, ErrMerchant},
	{"symbol with a space", func(c *rawCompact) { c.symbol = []byte("T USD") }, asset.ErrAsset},
	{"too many decimals", func(c *rawCompact) { c.decimals = asset.MaxDecimals + 1 }, asset.ErrAsset},
	{"zero time to live", func(c *rawCompact) { c.ttl = []byte{0} }, ErrTime},
	{"created after 9999", func(c *rawCompact) { c.created = uvarint(maxUnixTime + 1) }, ErrTime},
	{"expires after 9999", func(c *rawCompact) { c.created, c.ttl = uvarint(maxUnixTime), []byte{1} }, ErrTime},
	{"created beyond int64", func(c *rawCompact) { c.created = uvarint(1 << 63) }, ErrTime},
	{"signature v raw", func(c *rawCompact) { c.signature[64] -= 27 }, ErrSignature},
	{"signature high s", func(c *rawCompact) { highS(c.signature) }, ErrSignature},
	{"signature zero", func(c *rawCompact) { c.signature = make([]byte, 65) }, ErrSignature},
	{"ftp request URL", func(c *rawCompact) {
		c.requestURL = []byte("ftp://127.0.0.1/x?id=")
		c.shared = []byte{0}
		c.broadcastURLRest = []byte(testBcastURL)
	}, ErrURL},
	{"request URL not UTF-8", func(c *rawCompact) { c.requestURL = append(c.requestURL, 0xe1) }, ErrURL},
	{"relative broadcast URL", func(c *rawCompact) { c.shared, c.broadcastURLRest = []byte{0}, []byte("/api/showpos/broadcastTx") }, ErrURL},
	{"request URL ends with the id but not flagged", func(c *rawCompact) {
		c.flags &^= compactIDSuffix
		c.requestURL = append(c.requestURL, "00112233445566778899aabbccddeeff"...)
	}, ErrDocument},
	{"broadcast URL prefix too long", func(c *rawCompact) { c.shared = uvarint(uint64(len(testReqURL) + 1)) }, ErrDocument},
	{"broadcast URL prefix not the longest", func(c *rawCompact) { c.shared, c.broadcastURLRest = []byte{33}, []byte("/broadcastTx") }, ErrDocument},
	{"string length beyond the value", func(c *rawCompact) { c.broadcastURLRest = nil; c.trailing = nil; c.shared = append(c.shared, 0x05) }, ErrDocument},
	{"trailing byte", func(c *rawCompact) { c.trailing = []byte{0} }, ErrDocument},
}

func TestParseCompactRefuses(t *testing.T) {
	for _, tc := range compactRefusals {
		t.Run(tc.name, func(t *testing.T) {
			raw := goodRaw(t)
			tc.change(&raw)
			d, err := ParseCompact(raw.bytes())
			if !errors.Is(err, ErrDocument) || !errors.Is(err, tc.err) {
				t.Fatalf("ParseCompact = %v, want ErrDocument and %v", err, tc.err)
			}
			if d != nil {
				t.Error("ParseCompact returned a document with its error")
			}
		})
	}
}

func TestParseCompactRefusesEveryTruncation(t *testing.T) {
	b := goodRaw(t).bytes()
	for n := range len(b) {
		if d, err := ParseCompact(b[:n]); !errors.Is(err, ErrDocument) || d != nil {
			t.Fatalf("ParseCompact of the first %d of %d bytes = %v, %v; want ErrDocument", n, len(b), d, err)
		}
	}
}

func TestCompactRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *Document)
		err    error
	}{
		// Parts Compact does not store must be what the fields give, or
		// the document read back would differ from the one stored.
		{"uri", func(d *Document) { d.URI = "ethereum:0x1111111111111111111111111111111111111111@31337?value=1" }, ErrMismatch},
		{"amountDisplay", func(d *Document) { d.AmountDisplay = "1.25" }, ErrMismatch},
		{"typedData amount", func(d *Document) { d.TypedData.Message["amount"] = "1" }, ErrMismatch},
		{"typedData domain name", func(d *Document) { d.TypedData.Domain.Name = "other" }, ErrMismatch},
		{"typedData extra field", func(d *Document) { d.TypedData.Message["tip"] = "1" }, ErrMismatch},
		{"typedData types", func(d *Document) { d.TypedData.Types[PrimaryType] = d.TypedData.Types[PrimaryType][:9] }, ErrMismatch},
		// What it stores must read back.
		{"signature truncated", func(d *Document) { d.Signature = d.Signature[:64] }, ErrSignature},
		{"signature high s", func(d *Document) { highS(d.Signature) }, ErrSignature},
		{"relative broadcast URL", func(d *Document) { d.BroadcastURL = "/api/showpos/broadcastTx" }, ErrURL},
		{"zero amount", func(d *Document) { rewrite(d, func(r *Request) { r.Amount = new(big.Int) }) }, ErrAmount},
		{"nil amount", func(d *Document) { d.Amount = nil }, ErrAmount},
		{"expires after 9999", func(d *Document) {
			rewrite(d, func(r *Request) { r.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })
		}, ErrTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := compactCaseDocument(t, 0)
			tc.change(d)
			if b, err := d.Compact(); !errors.Is(err, tc.err) {
				t.Fatalf("Compact = %x, %v; want %v", b, err, tc.err)
			}
		})
	}
}

// Status and PaidTx are the store's to keep: Compact leaves them out.
func TestCompactLeavesOutServerState(t *testing.T) {
	d := compactCaseDocument(t, 0)
	want := mustCompact(t, d)
	d.Status, d.PaidTx = "paid", "0x"+strings.Repeat("ab", 32)
	if got := mustCompact(t, d); !bytes.Equal(got, want) {
		t.Errorf("Status and PaidTx changed the compact form")
	}
}

func TestParseStoredReadsBothForms(t *testing.T) {
	d := compactCaseDocument(t, 0)
	want := mustJSON(t, d)
	indented, err := os.ReadFile(filepath.Join("testdata", "document-erc20.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		stored []byte
	}{
		{"compact", mustCompact(t, d)},
		{"JSON, as builds before the compact form stored it", mustJSON(t, d)},
		{"indented JSON", indented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStored(tc.stored)
			if err != nil {
				t.Fatalf("ParseStored: %v", err)
			}
			got.Status = "" // the indented golden file has one
			if b := mustJSON(t, got); !bytes.Equal(b, want) {
				t.Errorf("ParseStored gives\n%s\nwant\n%s", b, want)
			}
		})
	}
	for _, bad := range [][]byte{nil, {}, {0x02, 0x03}, []byte(" {}"), []byte("[]"), []byte("{")} {
		if d, err := ParseStored(bad); !errors.Is(err, ErrDocument) || d != nil {
			t.Errorf("ParseStored(%q) = %v, %v; want ErrDocument", bad, d, err)
		}
	}
}

func FuzzParseCompact(f *testing.F) {
	for i := range compactCases {
		f.Add(mustCompact(f, compactCaseDocument(f, i)))
	}
	for _, tc := range compactRefusals {
		raw := goodRaw(f)
		tc.change(&raw)
		f.Add(raw.bytes())
	}
	for _, tc := range networkRefusals {
		f.Add(tc.stored(f))
	}
	f.Add([]byte{})
	f.Add([]byte{CompactVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseCompact(b)
		if err != nil {
			if !errors.Is(err, ErrDocument) {
				t.Fatalf("ParseCompact error does not wrap ErrDocument: %v", err)
			}
			return
		}
		// Anything that decodes is the one encoding of its document.
		again, err := d.Compact()
		if err != nil {
			t.Fatalf("Compact of a parsed document: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b)
		}
		// Its JSON is a document ParseDocument reads back to the same
		// JSON and compact form: the two forms say one thing.
		full := mustJSON(t, d)
		viaJSON, err := ParseDocument(full)
		if err != nil {
			t.Fatalf("ParseDocument of a parsed compact document: %v\n%s", err, full)
		}
		if b2 := mustJSON(t, viaJSON); !bytes.Equal(b2, full) {
			t.Fatalf("JSON changed over a round trip:\n%s\n%s", full, b2)
		}
		if c2, err := viaJSON.Compact(); err != nil || !bytes.Equal(c2, b) {
			t.Fatalf("compact form via JSON = %x, %v; want %x", c2, err, b)
		}
		if s, err := ParseStored(b); err != nil || !bytes.Equal(mustJSON(t, s), full) {
			t.Fatalf("ParseStored disagrees with ParseCompact: %v", err)
		}
		// Everything derived is consistent; only the signature can be wrong.
		if _, err := d.Verify(); err != nil && !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify of a parsed compact document: %v", err)
		}
	})
}

// isTypedData is Compact's cheap check that a document's typed data is the
// one its fields give; it must agree with comparing against TypedData.
func TestIsTypedDataAgreesWithTypedData(t *testing.T) {
	t.Run("unpriced", func(t *testing.T) { isTypedDataAgrees(t, mustNew(t, goodParams())) })
	t.Run("priced", func(t *testing.T) {
		p := goodParams()
		priceInEUR(&p)
		isTypedDataAgrees(t, mustNew(t, p))
	})
	t.Run("three networks", func(t *testing.T) {
		p := goodParams()
		threeNetworks(&p)
		isTypedDataAgrees(t, mustNew(t, p))
	})
	t.Run("two networks, priced", func(t *testing.T) {
		p := goodParams()
		twoNetworks(&p)
		priceInEUR(&p)
		isTypedDataAgrees(t, mustNew(t, p))
	})
}

// optionChanges are changes to a multi-network request's typed data
// options for isTypedDataAgrees.
func optionChanges(r *Request) map[string]func(td *apitypes.TypedData) {
	if !r.multi() {
		return nil
	}
	opt := func(td *apitypes.TypedData, i int) map[string]any {
		return td.Message["options"].([]any)[i].(map[string]any)
	}
	return map[string]func(td *apitypes.TypedData){
		"options missing":          func(td *apitypes.TypedData) { delete(td.Message, "options") },
		"options empty":            func(td *apitypes.TypedData) { td.Message["options"] = []any{} },
		"options not a list":       func(td *apitypes.TypedData) { td.Message["options"] = map[string]any{} },
		"options typed as strings": func(td *apitypes.TypedData) { td.Message["options"] = []string{"a"} },
		"an option null":           func(td *apitypes.TypedData) { td.Message["options"].([]any)[1] = nil },
		"an option dropped":        func(td *apitypes.TypedData) { td.Message["options"] = td.Message["options"].([]any)[:1] },
		"an option repeated": func(td *apitypes.TypedData) {
			td.Message["options"] = append(td.Message["options"].([]any), td.Message["options"].([]any)[1])
		},
		"options swapped": func(td *apitypes.TypedData) {
			o := td.Message["options"].([]any)
			o[0], o[1] = o[1], o[0]
		},
		"an option's chain id":         func(td *apitypes.TypedData) { opt(td, 1)["chainId"] = "10" },
		"an option's chain id number":  func(td *apitypes.TypedData) { opt(td, 1)["chainId"] = 42161 },
		"an option's token lowercase":  func(td *apitypes.TypedData) { opt(td, 1)["token"] = strings.ToLower(arbitrumUSDC) },
		"an option with an extra key":  func(td *apitypes.TypedData) { opt(td, 0)["network"] = "dev" },
		"an option's key renamed":      func(td *apitypes.TypedData) { delete(opt(td, 0), "token"); opt(td, 0)["tokn"] = testToken },
		"PaymentOption fields swapped": func(td *apitypes.TypedData) { f := td.Types["PaymentOption"]; f[0], f[1] = f[1], f[0] },
		"PaymentOption missing":        func(td *apitypes.TypedData) { delete(td.Types, "PaymentOption") },
		"options typed PaymentOption":  func(td *apitypes.TypedData) { f := td.Types[PrimaryType]; f[len(f)-1].Type = "PaymentOption" },
	}
}

func isTypedDataAgrees(t *testing.T, r *Request) {
	changes := map[string]func(td *apitypes.TypedData){
		"nothing":            func(td *apitypes.TypedData) {},
		"primaryType":        func(td *apitypes.TypedData) { td.PrimaryType = "EIP712Domain" },
		"domain name":        func(td *apitypes.TypedData) { td.Domain.Name = "other" },
		"domain version":     func(td *apitypes.TypedData) { td.Domain.Version = "2" },
		"domain chainId":     func(td *apitypes.TypedData) { td.Domain.ChainId = (*math.HexOrDecimal256)(big.NewInt(1)) },
		"domain chainId nil": func(td *apitypes.TypedData) { td.Domain.ChainId = nil },
		"domain chainId huge": func(td *apitypes.TypedData) {
			td.Domain.ChainId = (*math.HexOrDecimal256)(new(big.Int).Lsh(big.NewInt(31337), 64))
		},
		"domain verifyingContract": func(td *apitypes.TypedData) { td.Domain.VerifyingContract = testToken },
		"domain salt":              func(td *apitypes.TypedData) { td.Domain.Salt = "0x01" },
		"extra type":               func(td *apitypes.TypedData) { td.Types["Extra"] = nil },
		"missing type":             func(td *apitypes.TypedData) { delete(td.Types, "EIP712Domain") },
		"type renamed":             func(td *apitypes.TypedData) { td.Types[PrimaryType][3].Name = "tokn" },
		"type retyped":             func(td *apitypes.TypedData) { td.Types["EIP712Domain"][2].Type = "uint64" },
		"types reordered": func(td *apitypes.TypedData) {
			f := td.Types[PrimaryType]
			f[0], f[1] = f[1], f[0]
		},
		"extra message field":     func(td *apitypes.TypedData) { td.Message["tipp"] = "1" },
		"message value not text":  func(td *apitypes.TypedData) { td.Message["decimals"] = 6 },
		"message field missing":   func(td *apitypes.TypedData) { delete(td.Message, "memo"); td.Message["mem0"] = r.Memo },
		"merchant in lowercase":   func(td *apitypes.TypedData) { td.Message["merchant"] = strings.ToLower(r.Merchant.Hex()) },
		"amount with leading 0":   func(td *apitypes.TypedData) { td.Message["amount"] = "0" + r.Amount.String() },
		"createdAt one second on": func(td *apitypes.TypedData) { td.Message["createdAt"] = "1741964967" },
	}
	for _, f := range types(r.priced(), r.multi())[PrimaryType] {
		changes["message "+f.Name] = func(td *apitypes.TypedData) { td.Message[f.Name] = "x" }
	}
	for name, change := range optionChanges(r) {
		changes[name] = change
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			td := r.TypedData()
			change(&td)
			if got, want := r.isTypedData(td), reflect.DeepEqual(td, r.TypedData()); got != want {
				t.Errorf("isTypedData = %v, DeepEqual with TypedData = %v", got, want)
			}
		})
	}
}
