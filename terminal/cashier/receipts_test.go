package cashier_test

import (
	"context"
	"image"
	"math/big"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"showpos/device"
	"showpos/terminal/cashier"
	"showpos/terminal/receipt"
	"showpos/terminal/screen"
	"showpos/tools/paytx"
)

// printed is one Print call, with the picture on the display when it came.
type printed struct {
	requestID string
	kind      screen.ResultKind
	reason    string
	onScreen  image.Image
}

// recordingReceipts is a printer queue that keeps what it was asked to
// print, and what the screen showed then.
type recordingReceipts struct {
	shop  func() *shop
	calls chan printed
}

func (r *recordingReceipts) Print(_ context.Context, requestID string, kind screen.ResultKind, reason string) {
	r.calls <- printed{requestID, kind, reason, r.shop().board.Screen()}
}

func openPrintingShop(t *testing.T) (*shop, *recordingReceipts) {
	t.Helper()
	var s *shop
	rec := &recordingReceipts{shop: func() *shop { return s }, calls: make(chan printed, 16)}
	s = openShopWith(t, func(o *cashier.Options) { o.Receipts = rec })
	return s, rec
}

func (r *recordingReceipts) next(t *testing.T) printed {
	t.Helper()
	select {
	case p := <-r.calls:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("nothing was printed")
	}
	return printed{}
}

func (r *recordingReceipts) none(t *testing.T) {
	t.Helper()
	select {
	case p := <-r.calls:
		t.Fatalf("printed %s %s %q", p.requestID, p.kind, p.reason)
	case <-time.After(100 * time.Millisecond):
	}
}

// An accepted sale prints its receipt once the result is on screen,
// never before.
func TestAnAcceptedSalePrintsItsReceiptAfterTheResultIsShown(t *testing.T) {
	s, rec := openPrintingShop(t)
	doc := s.charge("2")
	s.scan(s.sign(doc, paytx.Options{Type: types.DynamicFeeTxType}))
	want := s.screens.Result(screen.Result{Kind: screen.ResultAccepted})
	p := rec.next(t)
	if p.requestID != doc.ID || p.kind != screen.ResultAccepted || p.reason != "" {
		t.Errorf("printed %s %s %q, want %s accepted", p.requestID, p.kind, p.reason, doc.ID)
	}
	if !screen.SamePicture(p.onScreen, want) {
		t.Error("the receipt was printed before the result was on screen")
	}
	rec.none(t) // once
}

// A refusal prints nothing by itself; the menu's receipt page prints it
// when the cashier asks, and reprints the last sale's as often as asked.
func TestARefusalPrintsOnlyFromTheMenu(t *testing.T) {
	s, rec := openPrintingShop(t)
	doc := s.charge("5")
	s.scan(s.sign(doc, paytx.Options{Value: big.NewInt(1)}))
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultRejected, Reason: "underpaid"}))
	rec.none(t)
	s.press("enter")                            // back to idle
	s.press("F2", "F2", "F2", "F2", "F2", "F2") // the menu, then past the books' pages to the receipt
	page := screen.Menu{Title: "RECEIPT", Hint: "F3 reprint  CANCEL back", Lines: []string{"last: REJECTED, underpaid", "request " + "…" + doc.ID[len(doc.ID)-8:]}}
	s.waitScreen(s.screens.Menu(page))
	s.press("F3")
	if p := rec.next(t); p.requestID != doc.ID || p.kind != screen.ResultRejected || p.reason != "underpaid" {
		t.Errorf("printed %s %s %q, want %s rejected underpaid", p.requestID, p.kind, p.reason, doc.ID)
	}
	page.Lines = append(page.Lines, "sent to the printer")
	s.waitScreen(s.screens.Menu(page))
	s.press("F3")
	if p := rec.next(t); p.requestID != doc.ID {
		t.Errorf("reprint of %s, want %s", p.requestID, doc.ID)
	}
}

// A refused amount (no request made) is no receipt: the menu still
// reprints the last sale.
func TestAReprintIsOfTheLastSaleNotOfARefusedAmount(t *testing.T) {
	rec := &recordingReceipts{calls: make(chan printed, 16)}
	s := openShopText(t, cfgText+`
[[assets]]
symbol = "ETH"
max_payment = "10"
`, func(o *cashier.Options) { o.Receipts = rec })
	rec.shop = func() *shop { return s }
	doc := s.charge("3")
	s.scan(s.sign(doc, paytx.Options{}))
	if p := rec.next(t); p.requestID != doc.ID {
		t.Fatalf("printed %s", p.requestID)
	}
	s.press("enter")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	s.press("5", "0", "enter")
	s.waitScreen(s.screens.Result(screen.Result{Kind: screen.ResultRejected, Reason: "over payment limit"}))
	s.press("enter")
	s.waitScreen(s.screens.Idle(screen.Idle{Merchant: "Test Shop"}))
	s.press("F2", "F2", "F2", "F2", "F2", "F2", "F3")
	if p := rec.next(t); p.requestID != doc.ID || p.kind != screen.ResultAccepted {
		t.Errorf("reprinted %s %s, want %s accepted", p.requestID, p.kind, doc.ID)
	}
	rec.none(t)
}

// laterReceipts is Receipts set once the shop is open (the issuer needs
// its store and key).
type laterReceipts struct {
	r atomic.Pointer[receipt.Printing]
}

func (l *laterReceipts) Print(ctx context.Context, requestID string, kind screen.ResultKind, reason string) {
	l.r.Load().Print(ctx, requestID, kind, reason)
}

// The whole way: a sale paid by the scanner queues the signed receipt of
// what the store holds, its QR the digital receipt's link.
func TestASalePrintsItsSignedReceipt(t *testing.T) {
	later := &laterReceipts{}
	s := openShopWith(t, func(o *cashier.Options) { o.Receipts = later })
	iss, err := receipt.NewIssuer(receipt.Options{Store: s.store, Key: s.key,
		Shop: func() receipt.Shop { return receipt.Shop{MerchantName: "Test Shop", PublicURL: "https://pos.test"} }})
	if err != nil {
		t.Fatal(err)
	}
	jobs := make(chan device.PrintJob, 4)
	later.r.Store(&receipt.Printing{Issuer: iss, Columns: func() int { return 32 }, Enqueue: func(j device.PrintJob) { jobs <- j }})
	doc := s.charge("4")
	s.scan(s.sign(doc, paytx.Options{}))
	var job device.PrintJob
	select {
	case job = <-jobs:
	case <-time.After(5 * time.Second):
		t.Fatal("no receipt queued")
	}
	want, err := iss.ForResult(doc.ID, receipt.StateAccepted, "")
	if err != nil {
		t.Fatal(err)
	}
	if want.State != receipt.StateAccepted || want.Link != "https://pos.test/receipt/"+doc.ID {
		t.Fatalf("receipt %+v", want.Receipt)
	}
	if !reflect.DeepEqual(job, receipt.Job(want, 32)) {
		t.Errorf("queued %+v", job)
	}
}
