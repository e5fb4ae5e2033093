package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/asset"
	"showpos/terminal/request"
	"showpos/tools/paytx"
)

var (
	devToken = common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
	arbToken = common.HexToAddress("0xaf88d065e77c8cC2239327C5EDb3A432268e5831")
)

// twoNetworkTerminal serves a TUSD request signed for chain 1337 ("dev")
// and chain 42161 ("arbitrum", another token contract).
func twoNetworkTerminal(t *testing.T) *fakeTerminal {
	t.Helper()
	f := newFakeTerminal(t, asset.Asset{Symbol: "TUSD", Decimals: 6, Token: devToken}, 2_500_000)
	f.network, f.also = "dev", []request.Option{{Network: "arbitrum", ChainID: 42161, Token: arbToken}}
	f.sign(t, f.key, asset.Asset{Symbol: "TUSD", Decimals: 6, Token: devToken}, 2_500_000)
	if len(f.doc.Offers) != 2 {
		t.Fatalf("the fake's document has %d offers, want 2", len(f.doc.Offers))
	}
	return f
}

// The payer pays a request on several networks on the one -network names
// (by name or chain id), or the one of the QR code it read, else the
// request's own: the transaction is signed for that chain and pays that
// network's token contract the signed amount and merchant.
func TestPaysOnTheNetworkChosen(t *testing.T) {
	for _, tc := range []struct {
		name        string
		args        func(f *fakeTerminal) []string
		wantChain   uint64
		wantToken   common.Address
		wantNetwork string
	}{
		{"no -network: the request's own", func(*fakeTerminal) []string { return nil }, 1337, devToken, "dev"},
		{"-network by name", func(*fakeTerminal) []string { return []string{"-network", "arbitrum"} }, 42161, arbToken, "arbitrum"},
		{"-network by chain id", func(*fakeTerminal) []string { return []string{"-network", "42161"} }, 42161, arbToken, "arbitrum"},
		{"-network the primary by name", func(*fakeTerminal) []string { return []string{"-network", "dev"} }, 1337, devToken, "dev"},
		{"the QR code of the second network", func(f *fakeTerminal) []string { return []string{"-qr", qrFile(t, f.doc.Offers[1].URI)} },
			42161, arbToken, "arbitrum"},
		{"the QR code of the second network, -network agreeing", func(f *fakeTerminal) []string {
			return []string{"-qr", qrFile(t, f.doc.Offers[1].URI), "-network", "arbitrum"}
		}, 42161, arbToken, "arbitrum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := twoNetworkTerminal(t)
			args := append([]string{"-terminal", f.srv.URL, "-payer", "2", "-rpc", unreachable, "-state", t.TempDir(),
				"-signer", f.signer(), "-json"}, tc.args(f)...)
			code, out, _ := runPayer(t, args...)
			var res result
			if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || !res.OK {
				t.Fatalf("exit %d, %+v", code, res)
			}
			if res.ChainID != tc.wantChain || res.Network != tc.wantNetwork || res.Offered != 2 {
				t.Errorf("result chain %d network %q offered %d, want %d %q of 2", res.ChainID, res.Network, res.Offered, tc.wantChain, tc.wantNetwork)
			}
			txs := f.txs()
			if len(txs) != 1 {
				t.Fatalf("%d payments posted, want 1", len(txs))
			}
			tx := txs[0].Tx
			if tx.ChainId().Uint64() != tc.wantChain || tx.To() == nil || *tx.To() != tc.wantToken || tx.Value().Sign() != 0 ||
				!bytes.Equal(tx.Data(), paytx.TransferData(f.doc.Merchant, f.doc.Amount)) || txs[0].RequestID != f.doc.ID {
				t.Errorf("tx chain %s to %v data %x for %s; want chain %d, %s.transfer(merchant, %s)", tx.ChainId(), tx.To(), tx.Data(),
					txs[0].RequestID, tc.wantChain, tc.wantToken.Hex(), f.doc.Amount)
			}
		})
	}
}

// A network the request is not signed for is refused before anything is
// signed or sent, naming the networks it offers; so is a -network that
// contradicts the QR code read.
func TestRefusesANetworkTheRequestDoesNotOffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(f *fakeTerminal) []string
		want string
	}{
		{"an unknown name", func(*fakeTerminal) []string { return []string{"-network", "optimism"} },
			`not offered on network "optimism": it offers dev (1337), arbitrum (42161)`},
		{"an unknown chain id", func(*fakeTerminal) []string { return []string{"-network", "10"} }, `not offered on network "10"`},
		{"-network against the QR code", func(f *fakeTerminal) []string {
			return []string{"-qr", qrFile(t, f.doc.Offers[1].URI), "-network", "dev"}
		}, "the QR code is for chain 42161, -network \"dev\" is chain 1337"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := twoNetworkTerminal(t)
			args := append([]string{"-terminal", f.srv.URL, "-payer", "2", "-rpc", unreachable, "-state", t.TempDir()}, tc.args(f)...)
			code, _, stderr := runPayer(t, args...)
			if code != exitFail || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
			if n := len(f.txs()); n != 0 {
				t.Errorf("%d payments posted, want none", n)
			}
		})
	}
}

// onNetwork rebuilds the chosen option from the signed options alone: a
// served offer whose URI is not what the signed terms make is refused.
func TestOnNetworkRebuildsTheOfferFromTheSignedOptions(t *testing.T) {
	f := twoNetworkTerminal(t)
	doc := *f.doc
	pd, o, err := onNetwork(&doc, "arbitrum")
	if err != nil || o.ChainID != 42161 || pd.ChainID != 42161 || pd.Asset.Token != arbToken || pd.URI != f.doc.Offers[1].URI ||
		pd.Amount.Cmp(f.doc.Amount) != 0 || pd.Merchant != f.doc.Merchant || pd.ID != f.doc.ID {
		t.Fatalf("onNetwork = %+v, %+v, %v", pd, o, err)
	}
	if f.doc.ChainID != 1337 || f.doc.Asset.Token != devToken {
		t.Fatalf("the document changed: chain %d token %s", f.doc.ChainID, f.doc.Asset.Token.Hex())
	}
	doc.Offers = append([]request.Offer(nil), f.doc.Offers...)
	doc.Offers[1].URI = strings.Replace(doc.Offers[1].URI, "uint256=2500000", "uint256=2400000", 1)
	if _, _, err := onNetwork(&doc, "42161"); err == nil || !strings.Contains(err.Error(), "signed terms make") {
		t.Fatalf("a served URI other than the signed terms': %v", err)
	}
	// One network: chosen by its chain id, or not at all.
	one := newFakeTerminal(t, eth, 1000)
	if _, o, err := onNetwork(one.doc, "1337"); err != nil || o.ChainID != 1337 {
		t.Fatalf("a one-network request by its chain id: %+v %v", o, err)
	}
	if _, _, err := onNetwork(one.doc, "42161"); err == nil || !strings.Contains(err.Error(), "it offers chain 1337") {
		t.Fatalf("a one-network request on another chain: %v", err)
	}
}
