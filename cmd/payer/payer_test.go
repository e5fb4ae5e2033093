package main

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"showpos/drivers/virtual"
	"showpos/terminal/asset"
	"showpos/terminal/nfcpay"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// Offline, the payer signs with devchain.PayerKey(N), hands the payment to
// the terminal's broadcastTx and counts nonces itself in the state dir.
func TestPaysOverHTTPAndCountsNoncesOffline(t *testing.T) {
	f := newFakeTerminal(t, eth, 10_000_000_000_000_000)
	state := t.TempDir()
	for want := uint64(0); want < 2; want++ {
		code, out, _ := runPayer(t, "-terminal", f.srv.URL, "-payer", "3", "-rpc", unreachable, "-state", state,
			"-signer", f.signer(), "-json")
		if code != exitOK {
			t.Fatalf("exit %d", code)
		}
		var res result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if !res.OK || res.Nonce == nil || *res.Nonce != want || !strings.Contains(res.NonceSource, "local counter") || res.HTTPStatus != 202 {
			t.Fatalf("result %+v, want ok with counter nonce %d", res, want)
		}
	}
	txs := f.txs()
	if len(txs) != 2 {
		t.Fatalf("%d payments posted, want 2", len(txs))
	}
	payer := crypto.PubkeyToAddress(devchain.PayerKey(3).PublicKey)
	for i, p := range txs {
		from, err := types.Sender(types.LatestSignerForChainID(p.Tx.ChainId()), p.Tx)
		if err != nil || from != payer || p.Tx.Nonce() != uint64(i) || p.RequestID != f.doc.ID || !paysRequest(p.Tx, f.doc) ||
			p.Tx.Type() != types.DynamicFeeTxType || p.Tx.GasFeeCap().Uint64() != 50e9 {
			t.Errorf("payment %d: from %s nonce %d type %d fee cap %s for %s", i, from.Hex(), p.Tx.Nonce(), p.Tx.Type(), p.Tx.GasFeeCap(), p.RequestID)
		}
	}
	st, err := loadState(state, payer)
	if err != nil || st.NextNonce != 2 || st.Last == nil || st.Last.TxHash != txs[1].Tx.Hash().Hex() {
		t.Errorf("state %+v, %v", st, err)
	}
}

// A request signed by any key but the pinned terminal's is not paid.
func TestRefusesARequestSignedByAnotherTerminal(t *testing.T) {
	f := newFakeTerminal(t, eth, 1000)
	impostor, _ := crypto.GenerateKey()
	f.sign(t, impostor, eth, 1000) // a valid signature, by the wrong key
	code, _, stderr := runPayer(t, "-terminal", f.srv.URL, "-rpc", unreachable, "-state", t.TempDir(), "-signer", f.signer())
	if code != exitFail || !strings.Contains(stderr, "refusing to pay") || !strings.Contains(stderr, crypto.PubkeyToAddress(impostor.PublicKey).Hex()) {
		t.Errorf("exit %d, stderr %q; want exit 1 naming the impostor", code, stderr)
	}
	if n := len(f.txs()); n != 0 {
		t.Errorf("%d payments posted", n)
	}
}

// A document whose signature does not match its fields is not paid, pinned
// or not.
func TestRefusesATamperedRequest(t *testing.T) {
	f := newFakeTerminal(t, eth, 1000)
	f.docRaw = []byte(strings.Replace(string(f.docRaw), `"memo":"two coffees"`, `"memo":"one coffee"`, 1))
	code, _, stderr := runPayer(t, "-terminal", f.srv.URL, "-rpc", unreachable, "-state", t.TempDir())
	if code != exitFail || !strings.Contains(stderr, "refusing to pay") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if n := len(f.txs()); n != 0 {
		t.Errorf("%d payments posted", n)
	}
}

// The QR path: decode the PNG, parse the URI, fetch the document from req,
// check both agree, pay a token transfer with the asked nonce.
func TestPaysFromAQRCode(t *testing.T) {
	tusd := asset.Asset{Symbol: "TUSD", Decimals: 6, Token: devchain.TokenAddr}
	f := newFakeTerminal(t, tusd, 2_500_000)
	code, out, _ := runPayer(t, "-qr", qrFile(t, f.doc.URI), "-nonce", "7", "-state", t.TempDir(), "-signer", f.signer())
	if code != exitOK || !strings.Contains(out, "from qr-file") {
		t.Fatalf("exit %d", code)
	}
	txs := f.txs()
	if len(txs) != 1 || txs[0].Tx.Nonce() != 7 || !paysRequest(txs[0].Tx, f.doc) {
		t.Fatalf("posted %+v", txs)
	}
}

// A QR code that asks for something the signed document does not say is
// not paid.
func TestRefusesAQRCodeThatDisagreesWithTheDocument(t *testing.T) {
	f := newFakeTerminal(t, eth, 1000)
	u, err := parseURI(f.doc.URI)
	if err != nil {
		t.Fatal(err)
	}
	u.Merchant = common.HexToAddress("0x000000000000000000000000000000000000bEEF")
	code, _, stderr := runPayer(t, "-qr", qrFile(t, u.String()), "-nonce", "0", "-state", t.TempDir())
	if code != exitFail || !strings.Contains(stderr, "recipient") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A small screen's QR code is the request's short link: the payer asks
// it for the EIP-681 URI (303 Location) and pays that as any QR code.
func TestPaysFromAShortLinkQRCode(t *testing.T) {
	f := newFakeTerminal(t, eth, 1000)
	link := strings.ToUpper(f.srv.URL) + "/R/008J4CT4"
	code, out, stderr := runPayer(t, "-qr", qrFile(t, link), "-nonce", "3", "-state", t.TempDir(), "-signer", f.signer())
	if code != exitOK || !strings.Contains(out, "from qr-file") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if txs := f.txs(); len(txs) != 1 || !paysRequest(txs[0].Tx, f.doc) {
		t.Fatalf("posted %+v", txs)
	}
	code, _, stderr = runPayer(t, "-qr", qrFile(t, f.srv.URL+"/nowhere"), "-nonce", "4", "-state", t.TempDir())
	if code != exitFail || !strings.Contains(stderr, "short link") {
		t.Errorf("a link that is not a short link: exit %d, stderr %q", code, stderr)
	}
}

func TestDecodeQRReadsTheTerminalsCode(t *testing.T) {
	f := newFakeTerminal(t, eth, 1000)
	img, err := readFileT(t, qrFile(t, f.doc.URI))
	if err != nil {
		t.Fatal(err)
	}
	text, err := decodeQR(img)
	if err != nil || text != f.doc.URI {
		t.Fatalf("decodeQR = %q, %v; want %q", text, err, f.doc.URI)
	}
	if _, err := decodeQR([]byte("not an image")); err == nil {
		t.Error("decodeQR of garbage: no error")
	}
}

// The scanner path: the payer opens the simulator's pty like a serial tool
// and writes "0x<hex>\r"; the board reads exactly the payment as one payload.
func TestWritesThePaymentToTheScannerPort(t *testing.T) {
	board, err := virtual.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()
	f := newFakeTerminal(t, eth, 1000)
	code, _, _ := runPayer(t, "-terminal", f.srv.URL, "-via", "scanner", "-scanner", board.ScannerPath(), "-nonce", "5", "-state", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	payload, err := board.Scanner().ReadPayload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hexutil.Decode(string(payload))
	if err != nil {
		t.Fatalf("payload %q: %v", payload, err)
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil || tx.Nonce() != 5 || !paysRequest(&tx, f.doc) {
		t.Fatalf("scanned tx nonce %d pays %v (%v)", tx.Nonce(), paysRequest(&tx, f.doc), err)
	}
	if n := len(f.txs()); n != 0 {
		t.Errorf("%d payments went over HTTP too", n)
	}
}

// The NFC path, in-process: the terminal side (nfcpay.Pay) sends the
// request over the simulated reader; nfcPhone checks it and answers the tx.
func TestNFCPhoneAnswersATap(t *testing.T) {
	board, err := virtual.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()
	f := newFakeTerminal(t, eth, 1000)
	tx, err := paytx.Build(f.doc.Request(), devchain.PayerKey(0), paytx.Options{Type: types.DynamicFeeTxType})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()

	for _, c := range []struct {
		name   string
		doc    []byte
		wantTx bool
	}{
		{"signed request", f.docRaw, true},
		{"tampered request", []byte(strings.Replace(string(f.docRaw), "two coffees", "one coffee", 1)), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			type paid struct {
				tx  []byte
				err error
			}
			got := make(chan paid, 1)
			go func() {
				tap, err := board.NFC().WaitTap(ctx)
				if err != nil {
					got <- paid{nil, err}
					return
				}
				defer tap.Release()
				b, err := nfcpay.Pay(ctx, tap, c.doc)
				got <- paid{b, err}
			}()
			if err := board.Tap(ctx, nfcPhone(raw)); err != nil {
				t.Fatal(err)
			}
			p := <-got
			if c.wantTx {
				if p.err != nil || string(p.tx) != string(raw) {
					t.Fatalf("terminal got %x, %v; want the payment", p.tx, p.err)
				}
				return
			}
			if !errors.Is(p.err, nfcpay.ErrDeclined) {
				t.Fatalf("terminal got %x, %v; want the phone to decline", p.tx, p.err)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-via", "nfc", "-sim", ""},
		{"-via", "scanner"},
		{"-via", "chain", "-rpc", ""},
		{"-via", "carrier-pigeon"},
		{"-wrong", "sideways"},
		{"-wrong", "underpaid", "-via", "scanner", "-scanner", "/dev/null"},
		{"-payer", "1", "-key", "0x01"},
		{"-nonce", "soon"},
		{"-qr", "a.png", "-from-screen", "http://127.0.0.1:8081/sim/screen.png"},
		{"-type", "4844"},
		{"extra"},
	} {
		if code, _, _ := runPayer(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// -via chain pays as a wallet that scanned the QR does: the transfer goes
// straight to the chain and is mined there; the terminal is handed nothing.
func TestViaChainSendsThePaymentToTheChainAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a dev chain")
	}
	node, err := devchain.Start(t.Context(), devchain.Options{Payers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	c, err := ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	merchant := common.HexToAddress(merchantHex)
	before, err := c.BalanceAt(t.Context(), merchant, nil)
	if err != nil {
		t.Fatal(err)
	}

	const amount = 10_000_000_000_000_000
	f := newFakeTerminal(t, eth, amount)
	code, out, stderr := runPayer(t, "-terminal", f.srv.URL, "-payer", "1", "-rpc", node.Endpoint(), "-via", "chain",
		"-state", t.TempDir(), "-signer", f.signer(), "-json")
	var res result
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || !res.OK || res.Block == nil || res.Via != "chain" {
		t.Fatalf("exit %d, %s %s", code, out, stderr)
	}
	if n := len(f.txs()); n != 0 {
		t.Errorf("the terminal was handed %d payments, want none", n)
	}
	r, err := c.TransactionReceipt(t.Context(), common.HexToHash(res.TxHash))
	if err != nil || r.Status != types.ReceiptStatusSuccessful || r.BlockNumber.Uint64() != *res.Block {
		t.Fatalf("receipt %+v, %v; payer said block %d", r, err, *res.Block)
	}
	after, err := c.BalanceAt(t.Context(), merchant, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := new(big.Int).Sub(after, before); got.Cmp(big.NewInt(amount)) != 0 {
		t.Errorf("the merchant received %s wei, want %d", got, int64(amount))
	}
}
