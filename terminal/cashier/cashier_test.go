package cashier_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"github.com/ethereum/go-ethereum/common"
	"image"
	"image/png"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"go.bug.st/serial"

	"showpos/device"
	"showpos/drivers/virtual"
	"showpos/terminal/asset"
	"showpos/terminal/cashier"
	"showpos/terminal/checkout"
	"showpos/terminal/config/configtest"
	"showpos/terminal/nfcpay"
	"showpos/terminal/report"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/store"
	"showpos/tools/paytx"
	"showpos/tools/qrread"
)

// cfgText is laid over the fixture (configtest: ETH and TUSD).
const cfgText = `
[terminal]
id = "cashier-test"
merchant_name = "Test Shop"
`

// shop is a whole terminal with simulated hardware: a real store, the
// real till, the real screens, the simulator's devices, and the cashier.
type shop struct {
	t       *testing.T
	board   *virtual.Board
	store   *store.Store
	till    *checkout.Service
	screens *screen.Renderer
	c       *cashier.Cashier
	online  atomic.Bool
	payer   *ecdsa.PrivateKey
	nonce   uint64
	key     *ecdsa.PrivateKey // the terminal key
}

func openShop(t *testing.T) *shop {
	t.Helper()
	return openShopWith(t, nil)
}

// openShopWith is openShop with the cashier's options changed by set.
func openShopWith(t *testing.T, set func(*cashier.Options)) *shop {
	t.Helper()
	return openShopText(t, cfgText, set)
}

// openShopText is openShopWith with its config laid over the fixture.
func openShopText(t *testing.T, text string, set func(*cashier.Options)) *shop {
	t.Helper()
	return openShopRates(t, text, nil, set)
}

// openShopRates is openShopText with a rate source for the till.
func openShopRates(t *testing.T, text string, rates checkout.Rates, set func(*cashier.Options)) *shop {
	t.Helper()
	cfg := configtest.New(t, text)
	s := &shop{t: t}
	var err error
	s.store, err = store.Open(filepath.Join(t.TempDir(), "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.board, err = virtual.New(&virtual.Opts{Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	s.screens, err = screen.New(screen.Size{W: 320, H: 240})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	s.key = key
	s.payer, _ = crypto.GenerateKey()
	var c *cashier.Cashier
	s.till = checkout.New(checkout.Options{Config: cfg, Key: key, Store: s.store,
		OnAccept:  func(r checkout.Receipt) { c.Accepted(r) },
		OnRequest: func(d *request.Document) { c.Shown(d) }, Rates: rates})
	var assets []asset.Asset
	for _, a := range cfg.Assets {
		assets = append(assets, a.Asset)
	}
	o := cashier.Options{
		Till: s.till, Screens: s.screens,
		Display: s.board.Display(), Keypad: s.board.Keypad(), Scanner: s.board.Scanner(),
		NFC: s.board.NFC(), Indicator: s.board.Indicator(),
		Merchant: cfg.Terminal.MerchantName, Assets: assets,
		Online: s.online.Load, Queued: func() int { return 0 },
		ResultFor: time.Hour, SettleWait: time.Hour,
		Books: report.New(report.Options{Store: s.store, Till: s.till}),
	}
	if set != nil {
		set(&o)
	}
	c = cashier.New(o)
	s.c = c
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		s.board.Close()
		s.store.Close()
	})
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	return s
}

func (s *shop) press(names ...string) {
	s.t.Helper()
	for _, n := range names {
		k, ok := device.ParseKey(n)
		if !ok {
			s.t.Fatalf("no key %q", n)
		}
		if err := s.board.Press(k); err != nil {
			s.t.Fatal(err)
		}
	}
}

// waitScreen waits until the simulator's screen is exactly want.
func (s *shop) waitScreen(want image.Image) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if screen.SamePicture(s.board.Screen(), want) {
			return
		}
		if time.Now().After(deadline) {
			if dir := os.Getenv("CASHIER_SCREEN_DUMP"); dir != "" {
				// Debugging: what was on screen and what was wanted.
				var got, exp bytes.Buffer
				png.Encode(&got, s.board.Screen())
				png.Encode(&exp, want)
				os.WriteFile(filepath.Join(dir, "got.png"), got.Bytes(), 0o644)
				os.WriteFile(filepath.Join(dir, "want.png"), exp.Bytes(), 0o644)
			}
			s.t.Fatal("the screen never showed the expected picture")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// charge keys an amount and OK, and returns the request the QR on screen
// shows (read back from the screen by a QR decoder).
func (s *shop) charge(keys ...string) *request.Document {
	s.t.Helper()
	s.press(append(keys, "enter")...)
	deadline := time.Now().Add(5 * time.Second)
	for {
		doc, err := s.till.Request("")
		if err == nil {
			if uri, err := qrread.Read(s.board.Screen()); err == nil && uri == doc.URI {
				return doc
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no readable QR of the request on screen (%v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *shop) sign(doc *request.Document, o paytx.Options) []byte {
	s.t.Helper()
	o.Nonce = s.nonce
	s.nonce++
	tx, err := paytx.Build(doc.Request(), s.payer, o)
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := tx.MarshalBinary()
	return raw
}

func (s *shop) scan(raw []byte) {
	s.t.Helper()
	port, err := serial.Open(s.board.ScannerPath(), &serial.Mode{BaudRate: 9600})
	if err != nil {
		s.t.Fatal(err)
	}
	defer port.Close()
	if _, err := port.Write([]byte(hexutil.Encode(raw) + "\r\n")); err != nil {
		s.t.Fatal(err)
	}
}

func TestSaleThroughTheScannerOffline(t *testing.T) {
	s := openShop(t)
	s.press("1")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "1", Asset: "ETH", Hint: "OK to charge, F1 asset"}))
	doc := s.charge(".", "5")
	if doc.AmountDisplay != "1.5" || doc.Asset.Symbol != "ETH" {
		t.Fatalf("request for %s %s", doc.AmountDisplay, doc.Asset.Symbol)
	}
	s.scan(s.sign(doc, paytx.Options{Type: types.DynamicFeeTxType}))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted}))
	ps, _ := s.store.Payments(store.PaymentFilter{})
	if len(ps) != 1 || ps[0].RequestID != doc.ID {
		t.Fatalf("stored payments: %+v", ps)
	}
	waitSignal(t, s.board, device.SignalAccepted)
	s.press("enter")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
}

func TestSaleByNFCTapInTUSD(t *testing.T) {
	s := openShop(t)
	s.press("F1") // nothing keyed yet: stays idle
	s.press("2", "F1")
	s.waitScreen(s.screens.Amount(screen.Amount{Entry: "2", Asset: "TUSD", Hint: "OK to charge, F1 asset"}))
	doc := s.charge()
	phone := &nfcpay.Phone{Sign: func(reqDoc []byte) ([]byte, error) {
		d, err := request.ParseDocument(reqDoc)
		if err != nil {
			return nil, err
		}
		if _, err := d.Verify(); err != nil {
			return nil, err
		}
		return s.sign(d, paytx.Options{}), nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.board.Tap(ctx, func(_ context.Context, apdu []byte) ([]byte, error) { return phone.Respond(apdu), nil })
	if err != nil {
		t.Fatal(err)
	}
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted}))
	if ps, _ := s.store.Payments(store.PaymentFilter{}); len(ps) != 1 || ps[0].RequestID != doc.ID || ps[0].Asset != "TUSD" {
		t.Fatalf("stored payments: %+v", ps)
	}
}

// recordingTag is the NFC chip's tag role: it keeps what it was asked to
// hold, and no phone reads it.
type recordingTag struct{ msgs chan []byte }

func (r *recordingTag) PresentTag(ctx context.Context, ndef []byte, wait time.Duration) (bool, error) {
	select {
	case r.msgs <- ndef:
	default:
	}
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-time.After(wait):
		return false, nil
	}
}

func TestTheTagHoldsTheLinkOfTheRequestOnScreen(t *testing.T) {
	tag := &recordingTag{msgs: make(chan []byte, 64)}
	s := openShopWith(t, func(o *cashier.Options) {
		o.NFCTag = tag
		o.NFCTiming = nfcpay.Timing{Reader: 20 * time.Millisecond, Tag: 20 * time.Millisecond}
	})
	if len(tag.msgs) != 0 {
		t.Fatal("the tag was presented with no request on screen")
	}
	doc := s.charge("6")
	want, err := nfcpay.URIMessage(doc.RequestURL)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-tag.msgs:
		if !bytes.Equal(got, want) {
			t.Errorf("the tag holds % X, want the request's link %s", got, doc.RequestURL)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the tag never held the request's link")
	}
}

func TestPaymentOverHTTPMovesTheScreenAndSettles(t *testing.T) {
	s := openShop(t)
	s.online.Store(true)
	doc := s.charge("3")
	raw := s.sign(doc, paytx.Options{})
	// As the payer API does: the till's Pay, outside the cashier.
	rec, err := s.till.Pay(context.Background(), doc.ID, raw)
	if err != nil {
		t.Fatal(err)
	}
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultAccepted, Reason: "confirming…"}))
	p, _ := s.store.Payment(rec.TxHash)
	p.State = store.PaymentConfirmed
	s.c.Settled(p)
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultPaid}))
}

func TestRefusedPaymentShowsTheReason(t *testing.T) {
	s := openShop(t)
	doc := s.charge("5")
	s.scan(s.sign(doc, paytx.Options{Value: big.NewInt(1)}))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultRejected, Reason: "underpaid"}))
	if ps, _ := s.store.Payments(store.PaymentFilter{}); len(ps) != 0 {
		t.Errorf("a refused payment was stored")
	}
	waitSignal(t, s.board, device.SignalRejected)
}

func TestCancelTakesTheRequestOffScreen(t *testing.T) {
	s := openShop(t)
	doc := s.charge("4")
	s.press("cancel")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	d, err := s.till.Request(doc.ID)
	if err != nil || d.Status != "cancelled" {
		t.Fatalf("request after cancel: %v, %v", d, err)
	}
	// A payment for it now is refused by the till, and the screen stays.
	if _, err := s.till.Pay(context.Background(), doc.ID, s.sign(doc, paytx.Options{})); err == nil {
		t.Error("a cancelled request was paid")
	}
}

func TestFailureAfterAcceptanceStaysUntilAcknowledged(t *testing.T) {
	s := openShop(t)
	s.c.Settled(store.Payment{State: store.PaymentFailed, Reason: "conflict: nonce 0 used"})
	notice := s.screens.Idle(screen.Idle{Merchant: "Test Shop", Notice: "PAYMENT FAILED: conflict: nonce 0 used"})
	s.waitScreen(notice)
	s.press("cancel") // not an acknowledgement
	time.Sleep(50 * time.Millisecond)
	s.waitScreen(notice)
	s.press("enter")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
}

// A payment shown PAID whose block the node then loses is told like a
// failure after acceptance: a notice until OK, and the attention signal.
func TestAPaidPaymentWhoseBlockIsLostIsShown(t *testing.T) {
	s := openShop(t)
	var h common.Hash
	h[0], h[1], h[30], h[31] = 0x12, 0x34, 0xab, 0xcd
	p := store.Payment{TxHash: h,
		State: store.PaymentBroadcast, Delivery: store.Delivery{Reorgs: 1, ReorgNote: "block 9 was replaced"}}
	s.c.Settled(p)
	notice := s.screens.Idle(screen.Idle{Merchant: "Test Shop", Notice: "PAID PAYMENT UNDONE: block lost, sending again 0x1234…abcd"})
	s.waitScreen(notice)
	waitSignal(t, s.board, device.SignalAttention)
	s.press("enter")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
}

func waitSignal(t *testing.T, b *virtual.Board, want device.Signal) {
	t.Helper()
	for range 200 {
		for _, s := range b.Signals() {
			if s == want {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("signal %v never played (got %v)", want, b.Signals())
}

// A payment scanned with no sale open changes nothing and is heard.
func TestScanWithNoSaleOpenChangesNothing(t *testing.T) {
	s := openShop(t)
	doc := s.charge("6")
	s.press("cancel")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	s.scan(s.sign(doc, paytx.Options{}))
	waitSignal(t, s.board, device.SignalAttention)
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	if ps, _ := s.store.Payments(store.PaymentFilter{}); len(ps) != 0 {
		t.Errorf("a payment scanned on the idle screen was stored: %+v", ps)
	}
}
