package cashier_test

import (
	"context"

	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"go.bug.st/serial"

	"showpos/terminal/nfcpay"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/store"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
)

// authText makes TUSD, the dev chain's token, take EIP-3009 authorizations.
const authText = cfgText + `
[[assets]]
symbol = "TUSD"
authorization = "eip3009"
domain_name = "Test USD"
domain_version = "2"
`

// handover is the payer API's JSON for an authorization of doc, signed by
// the shop's payer as an x402 client would at now.
func (s *shop) handover(doc *request.Document, id string) []byte {
	s.t.Helper()
	if doc.X402 == nil {
		s.t.Fatal("the request advertises no x402 requirements")
	}
	a := devchain.Authorization{
		From: crypto.PubkeyToAddress(s.payer.PublicKey), To: doc.X402.PayTo, Value: doc.X402.Amount,
		ValidAfter: big.NewInt(0), ValidBefore: big.NewInt(time.Now().Unix() + int64(doc.X402.MaxTimeoutSeconds)),
	}
	copy(a.Nonce[:], crypto.Keccak256([]byte(doc.ID)))
	sig, err := devchain.SignAuthorization(s.payer, big.NewInt(1337), a)
	if err != nil {
		s.t.Fatal(err)
	}
	payload, err := paytx.PaymentPayload(doc.X402, paytx.Authorization{
		From: a.From, To: a.To, Value: a.Value, ValidAfter: a.ValidAfter, ValidBefore: a.ValidBefore, Nonce: a.Nonce, Signature: sig,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return paytx.HandoverJSON(id, payload)
}

func (s *shop) scanLine(line []byte) {
	s.t.Helper()
	port, err := serial.Open(s.board.ScannerPath(), &serial.Mode{BaudRate: 9600})
	if err != nil {
		s.t.Fatal(err)
	}
	defer port.Close()
	if _, err := port.Write(append(line, '\r', '\n')); err != nil {
		s.t.Fatal(err)
	}
}

func (s *shop) chargeTUSD() *request.Document {
	s.t.Helper()
	s.press("2", "F1")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "2", Asset: "TUSD", Hint: "OK to charge, F1 asset"}))
	return s.charge()
}

func (s *shop) wantAuthorization(doc *request.Document) {
	s.t.Helper()
	ps, _ := s.store.Payments(store.PaymentFilter{})
	if len(ps) != 1 || ps[0].RequestID != doc.ID || ps[0].Source != store.SourceAuthorization || ps[0].State != store.PaymentQueued {
		s.t.Fatalf("stored payments: %+v", ps)
	}
}

func TestAuthorizationThroughTheScanner(t *testing.T) {
	s := openShopText(t, authText, nil)
	doc := s.chargeTUSD()
	// For another request: refused, the QR stays.
	s.scanLine(s.handover(doc, "00000000000000000000000000000000"))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultRejected, Reason: "unknown request"}))
	if ps, _ := s.store.Payments(store.PaymentFilter{}); len(ps) != 0 {
		t.Fatalf("stored %+v", ps)
	}
	// The next sale (TUSD stays the asset), paid by the right handover.
	s.press("enter", "3")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "3", Asset: "TUSD", Hint: "OK to charge, F1 asset"}))
	doc = s.charge()
	s.scanLine(s.handover(doc, doc.ID))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted}))
	s.wantAuthorization(doc)
}

func TestAuthorizationByNFCTap(t *testing.T) {
	s := openShopText(t, authText, nil)
	doc := s.chargeTUSD()
	phone := &nfcpay.Phone{Sign: func(reqDoc []byte) ([]byte, error) {
		d, err := request.ParseDocument(reqDoc)
		if err != nil {
			return nil, err
		}
		if _, err := d.Verify(); err != nil {
			return nil, err
		}
		return s.handover(d, d.ID), nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.board.Tap(ctx, func(_ context.Context, apdu []byte) ([]byte, error) { return phone.Respond(apdu), nil }); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted}))
	s.wantAuthorization(doc)
}
