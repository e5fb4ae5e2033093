package checkout_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"showpos/device/clock/clocktest"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/config"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// Two networks, each with USDC at its own token address (EIP-3009, the
// dev token's domain name and version), base the default; ETH on base
// only, DAI on arbitrum only. USDC's exposure limits differ per network.
const twoNetworks = `
[terminal]
id = "two-nets"
request_ttl = "5m"
public_url = "http://pos.test"

[merchant]
address = "0x000000000000000000000000000000000000dEaD"

[[networks]]
name = "base"
chain_id = 1337

[[networks.assets]]
symbol = "USDC"
token = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
max_unsettled = "10"
authorization = "eip3009"
domain_name = "Test USD"
domain_version = "2"

[[networks.assets]]
symbol = "ETH"

[[networks]]
name = "arbitrum"
chain_id = 1338

[[networks.assets]]
symbol = "USDC"
token = "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"
decimals = 6
max_unsettled = "5"
authorization = "eip3009"
domain_name = "Test USD"
domain_version = "2"

[[networks.assets]]
symbol = "DAI"
token = "0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1"
decimals = 18
`

var (
	baseUSDC = common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
	arbUSDC  = common.HexToAddress("0xaf88d065e77c8cC2239327C5EDb3A432268e5831")
)

// twoNetTill is a till over twoNetworks and a real store.
type twoNetTill struct {
	till  *checkout.Service
	st    *store.Store
	clock *clocktest.Fake
}

func newTwoNetTill(t *testing.T) twoNetTill {
	t.Helper()
	cfg, err := config.Parse([]byte(twoNetworks))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := openStore(t)
	c := clocktest.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	key, _ := crypto.GenerateKey()
	return twoNetTill{till: checkout.New(checkout.Options{Config: cfg, Key: key, Store: st, Clock: c}), st: st, clock: c}
}

func (n twoNetTill) request(t *testing.T, amount, symbol string) *request.Document {
	t.Helper()
	doc, err := n.till.NewRequest(context.Background(), amount, symbol, "")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// txOn is key's transaction paying doc on chain id with token: what a
// wallet signs for the request's option on that network.
func txOn(t *testing.T, doc *request.Document, chainID uint64, token common.Address, key *ecdsa.PrivateKey, nonce uint64) []byte {
	t.Helper()
	r := doc.Request()
	r.ChainID, r.Asset.Token = chainID, token
	tx, err := paytx.Build(r, key, paytx.Options{Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	return raw
}

// perChainStore skips the test unless the store keeps payments per chain
// (schema 13: Payment.ChainID stored, sender+nonce and unsettled sums per
// chain), as p, a payment the till stored on chain id, shows.
func perChainStore(t *testing.T, st *store.Store, p common.Hash, chainID uint64) {
	t.Helper()
	got, err := st.Payment(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.ChainID != chainID {
		t.Skipf("the store keeps no chain per payment (read back chain %d, stored %d): needs terminal/store schema 13 (Payment.ChainID kept, sender+nonce, open indexes and unsettled sums per chain), the store helper's change for issue 18", got.ChainID, chainID)
	}
}

func refused(t *testing.T, err error, code check.Code, words ...string) {
	t.Helper()
	var r *check.Refusal
	if !errors.As(err, &r) || r.Code != code {
		t.Fatalf("err = %v, want a refusal %s", err, code)
	}
	for _, w := range words {
		if !strings.Contains(r.Msg, w) {
			t.Errorf("refusal %q does not say %q", r.Msg, w)
		}
	}
}

// A request is offered on every network that takes its asset, the
// default network's option first (its primary: the chain id, token and
// QR of the request as one network knew it), each offer with its own
// EIP-681 URI and, where the asset takes authorizations there, its own
// x402 requirements; an asset on one network only is offered there; one
// on none is unknown.
func TestARequestIsOfferedOnEveryNetworkThatTakesItsAsset(t *testing.T) {
	n := newTwoNetTill(t)
	type offer struct {
		network string
		chainID uint64
		token   common.Address
	}
	dai := common.HexToAddress("0xDA10009cBd5D07dd0CeCc66161FC93D7c9000da1")
	tests := []struct {
		name, symbol string
		want         []offer
		x402         []bool
	}{
		{"USDC on both, the default network first", "USDC", []offer{{"base", 1337, baseUSDC}, {"arbitrum", 1338, arbUSDC}}, []bool{true, true}},
		{"the default asset, on the default network only", "", []offer{{"base", 1337, baseUSDC}, {"arbitrum", 1338, arbUSDC}}, []bool{true, true}},
		// A request on one network names none (request.Document): its
		// JSON and stored form are as before networks.
		{"ETH on base only", "ETH", []offer{{"", 1337, common.Address{}}}, []bool{false}},
		{"DAI on arbitrum only: its primary is arbitrum", "dai", []offer{{"", 1338, dai}}, []bool{false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := n.request(t, "1", tc.symbol)
			if doc.ChainID != tc.want[0].chainID || doc.Asset.Token != tc.want[0].token || doc.Network != tc.want[0].network {
				t.Errorf("primary: chain %d token %s network %q, want %+v", doc.ChainID, doc.Asset.Token.Hex(), doc.Network, tc.want[0])
			}
			if len(doc.Offers) != len(tc.want) {
				t.Fatalf("offers %+v, want %+v", doc.Offers, tc.want)
			}
			for i, w := range tc.want {
				o := doc.Offers[i]
				if o.Network != w.network || o.ChainID != w.chainID || o.Token != w.token {
					t.Errorf("offer %d: %+v, want %+v", i, o.Option, w)
				}
				at := "@" + big.NewInt(int64(w.chainID)).String()
				if !strings.Contains(o.URI, at) || (w.token != common.Address{} && !strings.Contains(o.URI, w.token.Hex())) {
					t.Errorf("offer %d URI %s is not for chain %d token %s", i, o.URI, w.chainID, w.token.Hex())
				}
				if (o.X402 != nil) != tc.x402[i] {
					t.Fatalf("offer %d x402 %+v, want offered %v", i, o.X402, tc.x402[i])
				}
				if o.X402 != nil && (o.X402.Network != "eip155:"+big.NewInt(int64(w.chainID)).String() || o.X402.Asset != w.token) {
					t.Errorf("offer %d x402 %s %s, want its network's", i, o.X402.Network, o.X402.Asset.Hex())
				}
			}
			if doc.URI != doc.Offers[0].URI || (doc.X402 == nil) != (doc.Offers[0].X402 == nil) {
				t.Errorf("the document's QR and x402 are not its primary offer's")
			}
			if doc.X402 != nil && doc.X402.Network != "eip155:"+big.NewInt(int64(doc.ChainID)).String() {
				t.Errorf("the document's x402 is on %s, its primary on %d", doc.X402.Network, doc.ChainID)
			}
			if len(doc.Also) != len(tc.want)-1 {
				t.Errorf("also %+v, want the %d others", doc.Also, len(tc.want)-1)
			}
			// The store is told every chain it may be paid on, primary
			// first (kept from schema 13 on).
			rec, err := n.st.Request(doc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Chains) != 0 {
				var want []uint64
				for _, w := range tc.want {
					want = append(want, w.chainID)
				}
				if !slices.Equal(rec.Chains, want) {
					t.Errorf("stored chains %v, want %v", rec.Chains, want)
				}
			}
		})
	}
	_, err := n.till.NewRequest(context.Background(), "1", "DOGE", "")
	if !errors.Is(err, checkout.ErrUnknownAsset) {
		t.Errorf("an asset on no network: %v, want unknown asset", err)
	}
}

// A handed-over transaction on either offered network pays the request,
// once: the same request paid again on the other network is already paid,
// and the payment is stored on the chain it was signed for.
func TestAPaymentOnEitherNetworkPaysTheRequestOnce(t *testing.T) {
	type leg struct {
		chainID uint64
		token   common.Address
	}
	base, arbitrum := leg{1337, baseUSDC}, leg{1338, arbUSDC}
	for _, tc := range []struct {
		name          string
		first, second leg
	}{
		{"first on the default network", base, arbitrum},
		{"first on the other network", arbitrum, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTwoNetTill(t)
			ctx := context.Background()
			doc := n.request(t, "2.5", "USDC")
			payer, _ := crypto.GenerateKey()
			other, _ := crypto.GenerateKey()
			raw := txOn(t, doc, tc.first.chainID, tc.first.token, payer, 0)
			rec, err := n.till.Pay(ctx, doc.ID, raw)
			if err != nil || rec.Repeat || rec.Status != store.PaymentQueued {
				t.Fatalf("pay on chain %d: %+v, %v", tc.first.chainID, rec, err)
			}
			if again, err := n.till.Pay(ctx, doc.ID, raw); err != nil || !again.Repeat {
				t.Errorf("the same transaction again: %+v, %v", again, err)
			}
			second := txOn(t, doc, tc.second.chainID, tc.second.token, other, 0)
			_, err = n.till.Pay(ctx, doc.ID, second)
			refused(t, err, check.CodeAlreadyPaid)
			got, err := n.till.Request(doc.ID)
			if err != nil || got.Status != string(store.RequestPaid) || got.PaidTx != rec.TxHash.Hex() {
				t.Errorf("request after: %+v, %v", got, err)
			}
			// The chain it was signed for is stored with it, once the store
			// keeps one (schema 13).
			if p, err := n.st.Payment(rec.TxHash); err != nil || (p.ChainID != 0 && p.ChainID != tc.first.chainID) {
				t.Errorf("stored on chain %d, %v; signed for %d", p.ChainID, err, tc.first.chainID)
			}
		})
	}
}

// A transaction for a chain the request is not offered on is refused
// wrong_chain, naming the networks it is offered on, and stores nothing;
// so is one on a configured network that does not take the request's
// asset. What cannot be decoded is refused as the check refuses it.
func TestATransactionOnAChainNotOfferedIsWrongChain(t *testing.T) {
	n := newTwoNetTill(t)
	ctx := context.Background()
	usdc := n.request(t, "1", "USDC")
	eth := n.request(t, "0.01", "ETH")
	payer, _ := crypto.GenerateKey()
	tests := []struct {
		name  string
		id    string
		raw   []byte
		code  check.Code
		words []string
	}{
		{"a chain no network has", usdc.ID, txOn(t, usdc, 1, baseUSDC, payer, 0), check.CodeWrongChain,
			[]string{"signed for chain 1;", "base (chain 1337) or arbitrum (chain 1338)"}},
		{"a network that does not take the asset", eth.ID, txOn(t, eth, 1338, common.Address{}, payer, 0), check.CodeWrongChain,
			[]string{"signed for chain 1338;", "ETH on base (chain 1337)"}},
		{"the other network's token on this one", usdc.ID, txOn(t, usdc, 1338, baseUSDC, payer, 0), check.CodeWrongRecipient,
			[]string{arbUSDC.Hex()}},
		{"not a transaction", usdc.ID, []byte{0xc0}, check.CodeInvalidTx, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.till.Pay(ctx, tc.id, tc.raw)
			refused(t, err, tc.code, tc.words...)
			if ps, err := n.st.Payments(store.PaymentFilter{}); err != nil || len(ps) != 0 {
				t.Errorf("a refused payment was stored: %d, %v", len(ps), err)
			}
		})
	}
}

// One sender's nonce is its own on each chain: the same sender and nonce
// pays one request on one network and another request on the other.
func TestTheSameSenderAndNonceOnTwoNetworksAreBothTaken(t *testing.T) {
	n := newTwoNetTill(t)
	ctx := context.Background()
	payer, _ := crypto.GenerateKey()
	a, b := n.request(t, "1", "USDC"), n.request(t, "1", "USDC")
	ra, err := n.till.Pay(ctx, a.ID, txOn(t, a, 1337, baseUSDC, payer, 0))
	if err != nil {
		t.Fatal(err)
	}
	perChainStore(t, n.st, ra.TxHash, 1337)
	if _, err := n.till.Pay(ctx, b.ID, txOn(t, b, 1338, arbUSDC, payer, 0)); err != nil {
		t.Fatalf("nonce 0 on arbitrum after nonce 0 on base: %v", err)
	}
	// On one chain it is still one payment per sender and nonce.
	c := n.request(t, "1", "USDC")
	_, err = n.till.Pay(ctx, c.ID, txOn(t, c, 1338, arbUSDC, payer, 0))
	refused(t, err, check.CodeNonceConflict, "on arbitrum")
}

// Each network's max_unsettled holds for the asset on that network, and
// the refusal names the network.
func TestExposureLimitPerNetwork(t *testing.T) {
	n := newTwoNetTill(t)
	ctx := context.Background()
	payer, _ := crypto.GenerateKey()
	pay := func(amount string, chainID uint64, token common.Address, nonce uint64) (checkout.Receipt, error) {
		doc := n.request(t, amount, "USDC")
		return n.till.Pay(ctx, doc.ID, txOn(t, doc, chainID, token, payer, nonce))
	}
	first, err := pay("4", 1338, arbUSDC, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pay("2", 1338, arbUSDC, 1)
	refused(t, err, check.CodeExposureLimit, "USDC on arbitrum", "limit 5 USDC")

	t.Run("the other network's limit is its own", func(t *testing.T) {
		perChainStore(t, n.st, first.TxHash, 1338)
		// 8 on base is within base's 10, though 12 USDC in all waits.
		if _, err := pay("8", 1337, baseUSDC, 0); err != nil {
			t.Fatalf("8 USDC on base with 4 on arbitrum unsettled: %v", err)
		}
		_, err := pay("3", 1337, baseUSDC, 1)
		refused(t, err, check.CodeExposureLimit, "USDC on base", "limit 10 USDC")
	})
}

// signOn is an x402 v2 payload of key's EIP-3009 authorization for offer
// o of doc, signed over the dev token's domain name and version on o's
// chain and token: what an x402 client signs for that network.
func signOn(t *testing.T, doc *request.Document, o request.Offer, key *ecdsa.PrivateKey, now time.Time) []byte {
	t.Helper()
	if o.X402 == nil {
		t.Fatalf("offer on %s advertises no x402 requirements", o.Network)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	a := devchain.Authorization{From: from, To: o.X402.PayTo, Value: new(big.Int).Set(o.X402.Amount), ValidAfter: big.NewInt(0),
		ValidBefore: big.NewInt(now.Unix() + int64(o.X402.MaxTimeoutSeconds))}
	copy(a.Nonce[:], crypto.Keccak256(from[:], []byte(doc.ID), []byte(o.Network)))
	td := devchain.AuthorizationTypedData(new(big.Int).SetUint64(o.ChainID), devchain.TransferWithAuthorization, a)
	td.Domain.VerifyingContract = o.Token.Hex()
	td.Domain.ChainId = (*math.HexOrDecimal256)(new(big.Int).SetUint64(o.ChainID))
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	payload, err := paytx.PaymentPayload(o.X402, paytx.Authorization{From: a.From, To: a.To, Value: a.Value,
		ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: sig})
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

// An authorization signed for the second network's token pays the request
// (the token's domain is that network's), and one on the first network
// afterwards finds it paid. A domain verdict against the token on one
// network withdraws authorizations there only.
func TestAnAuthorizationOnTheSecondNetwork(t *testing.T) {
	n := newTwoNetTill(t)
	ctx := context.Background()
	payer, _ := crypto.GenerateKey()
	doc := n.request(t, "3", "USDC")
	if len(doc.Offers) != 2 {
		t.Fatalf("offers %+v", doc.Offers)
	}
	rec, err := n.till.PayAuthorization(ctx, doc.ID, signOn(t, doc, doc.Offers[1], payer, n.clock.Now()))
	if err != nil || rec.Source != store.SourceAuthorization {
		t.Fatalf("authorization on arbitrum: %+v, %v", rec, err)
	}
	p, err := n.st.Payment(rec.TxHash)
	if err != nil || p.Authorization == nil || p.Authorization.Token != arbUSDC {
		t.Fatalf("stored %+v, %v; want arbitrum's token", p.Authorization, err)
	}
	other, _ := crypto.GenerateKey()
	_, err = n.till.PayAuthorization(ctx, doc.ID, signOn(t, doc, doc.Offers[0], other, n.clock.Now()))
	refused(t, err, check.CodeAlreadyPaid)

	// An authorization for the other network's offer, signed over this
	// network's token: the signature is over another domain.
	fresh := n.request(t, "3", "USDC")
	mixed := fresh.Offers[1]
	mixed.Token = baseUSDC
	_, err = n.till.PayAuthorization(ctx, fresh.ID, signOn(t, fresh, mixed, payer, n.clock.Now()))
	refused(t, err, check.CodeBadAuthorization)

	n.till.SetDomainVerdict(checkout.DomainVerdict{ChainID: 1338, Symbol: "USDC", Token: arbUSDC, Name: "Test USD", Version: "2", Match: false})
	after := n.request(t, "3", "USDC")
	if after.Offers[0].X402 == nil || after.Offers[1].X402 != nil || after.X402 == nil {
		t.Fatalf("x402 after a verdict against arbitrum's token: base %v arbitrum %v", after.Offers[0].X402 != nil, after.Offers[1].X402 != nil)
	}
	_, err = n.till.PayAuthorization(ctx, after.ID, signOn(t, after, fresh.Offers[1], payer, n.clock.Now()))
	refused(t, err, check.CodeWrongAsset, "USDC on arbitrum")
	if _, err := n.till.PayAuthorization(ctx, after.ID, signOn(t, after, after.Offers[0], payer, n.clock.Now())); err != nil {
		t.Fatalf("authorization on base, its domain not refused: %v", err)
	}
}

// Totals are per network and asset: USDC taken on two networks is two
// rows, each named by its network, in config order.
func TestTotalsPerNetwork(t *testing.T) {
	n := newTwoNetTill(t)
	ctx := context.Background()
	payer, _ := crypto.GenerateKey()
	pay := func(amount string, chainID uint64, token common.Address, nonce uint64) common.Hash {
		doc := n.request(t, amount, "USDC")
		rec, err := n.till.Pay(ctx, doc.ID, txOn(t, doc, chainID, token, payer, nonce))
		if err != nil {
			t.Fatal(err)
		}
		return rec.TxHash
	}
	h := pay("1.5", 1338, arbUSDC, 0)
	perChainStore(t, n.st, h, 1338)
	pay("2", 1337, baseUSDC, 0)
	pay("0.5", 1338, arbUSDC, 1)
	from, to := checkout.Day(n.clock.Now())
	got, err := n.till.Totals(from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		network string
		chainID uint64
		taken   checkout.Sum
	}{
		{"base", 1337, checkout.Sum{Count: 1, Amount: "2000000", AmountDisplay: "2"}},
		{"arbitrum", 1338, checkout.Sum{Count: 2, Amount: "2000000", AmountDisplay: "2"}},
	}
	if len(got.Assets) != len(want) {
		t.Fatalf("totals %+v", got.Assets)
	}
	for i, w := range want {
		a := got.Assets[i]
		if a.Asset != "USDC" || a.Network != w.network || a.ChainID != w.chainID || a.Taken != w.taken {
			t.Errorf("row %d: %s on %s (%d) taken %+v; want USDC on %s (%d) taken %+v", i, a.Asset, a.Network, a.ChainID, a.Taken, w.network, w.chainID, w.taken)
		}
	}
}

// A network dropped from the config takes no more payments for requests
// offered on it before (unknown_request, as for an asset dropped), and
// the request stays payable on the networks still configured.
func TestANetworkDroppedFromTheConfigTakesNoMorePayments(t *testing.T) {
	n := newTwoNetTill(t)
	ctx := context.Background()
	doc := n.request(t, "1", "USDC")
	baseOnly, err := config.Parse([]byte(twoNetworks[:strings.Index(twoNetworks, "[[networks]]\nname = \"arbitrum\"")]))
	if err != nil {
		t.Fatal(err)
	}
	n.till.Reconfigure(baseOnly)
	payer, _ := crypto.GenerateKey()
	_, err = n.till.Pay(ctx, doc.ID, txOn(t, doc, 1338, arbUSDC, payer, 0))
	refused(t, err, check.CodeUnknownRequest, "no longer takes")
	if _, err := n.till.Pay(ctx, doc.ID, txOn(t, doc, 1337, baseUSDC, payer, 0)); err != nil {
		t.Fatalf("on the network still configured: %v", err)
	}
}
