package cashier

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/big"
	"testing"
	"time"

	"showpos/device/clock/clocktest"
	"showpos/terminal/asset"
	"showpos/terminal/checkout"
	"showpos/terminal/fiat"
	"showpos/terminal/locale"
	"showpos/terminal/report"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

// The display sizes the terminal ships with (screen's golden sizes).
var fitSizes = []screen.Size{{W: 128, H: 64, Mono: true}, {W: 240, H: 240}, {W: 320, H: 240}}

// Every text the cashier's screens show fits its screen in every
// language wherever it fits in English: each screen is drawn with each of
// its real texts (every refusal and failure reason, every result, the idle
// lines and notices, the amount and tip screens, every menu page), and the
// renderer says what it had to cut with "…" or leave out. A translation
// too long for a 128×64 OLED fails here, naming the text. Where English is
// cut too (a long hint on the OLED), the translation may cut no more texts
// than English does.
func TestEveryTextFitsItsScreen(t *testing.T) {
	for _, size := range fitSizes {
		english := map[string][]string{}
		for _, l := range locale.All() { // English first
			r, err := screen.New(size)
			if err != nil {
				t.Fatal(err)
			}
			r.SetLocale(l)
			for _, s := range fitScreens(t, l) {
				s.draw(r)
				cut := r.Cut()
				if l == locale.English {
					english[s.name] = cut
					continue
				}
				if len(cut) > len(english[s.name]) {
					t.Errorf("%v %s: %s cuts %q (English %q)", size, l, s.name, cut, english[s.name])
				}
			}
		}
	}
}

type fitScreen struct {
	name string
	draw func(r *screen.Renderer) image.Image
}

// fitScreens are the screens a cashier speaking l shows, each with its
// longest real texts.
func fitScreens(t *testing.T, l locale.Locale) []fitScreen {
	var out []fitScreen
	add := func(name string, draw func(r *screen.Renderer) image.Image) {
		out = append(out, fitScreen{name, draw})
	}
	result := func(name string, v screen.Result) {
		add(name, func(r *screen.Renderer) image.Image { return r.Result(v) })
	}
	for _, k := range []screen.ResultKind{screen.ResultPaid, screen.ResultAccepted, screen.ResultRejected, screen.ResultSeen} {
		result("result "+k.String(), screen.Result{Kind: k})
	}
	result("result seen confirming", screen.Result{Kind: screen.ResultSeen, Reason: l.T(locale.Confirming)})
	result("result accepted confirming", screen.Result{Kind: screen.ResultAccepted, Reason: l.T(locale.Confirming)})
	for k := locale.ReasonCodeTooLong; k <= locale.FailFailed; k++ {
		reason := l.T(k)
		if k == locale.ReasonNoZ {
			for _, why := range []locale.Key{locale.ReasonBusy, locale.ReasonClockBehind, locale.ReasonTerminalError} {
				result("rejected no Z: "+locale.English.Text(why), screen.Result{Kind: screen.ResultRejected, Reason: l.T(k, l.T(why))})
			}
			continue
		}
		result(fmt.Sprintf("rejected %q", locale.English.Text(k)), screen.Result{Kind: screen.ResultRejected, Reason: reason})
	}

	idle := func(name string, v screen.Idle) {
		add(name, func(r *screen.Renderer) image.Image { return r.Idle(v) })
	}
	idle("idle online", screen.Idle{Merchant: "Café", Online: true})
	idle("idle offline", screen.Idle{Merchant: "Café"})
	idle("idle queued", screen.Idle{Merchant: "Café", Queued: 12, RelayerLow: true})
	idle("idle one queued", screen.Idle{Merchant: "Café", Queued: 1})
	idle("idle failures", screen.Idle{Merchant: "Café", Online: true, Failures: 3})
	idle("idle failure", screen.Idle{Merchant: "Café", Online: true, Failures: 1})
	idle("idle offline queued failure", screen.Idle{Merchant: "Café", Queued: 2, Failures: 1})
	idle("idle offline one queued failure", screen.Idle{Merchant: "Café", Queued: 1, Failures: 1})
	idle("idle offline nothing queued failure", screen.Idle{Merchant: "Café", Failures: 1})
	idle("idle online relayer low failure", screen.Idle{Merchant: "Café", Online: true, RelayerLow: true, Failures: 1})
	idle("idle notice failed", screen.Idle{Merchant: "Café", Online: true, Notice: l.T(locale.PaymentFailed, "conflict")})
	idle("idle notice undone", screen.Idle{Merchant: "Café", Online: true, Notice: l.T(locale.UndoneResending, "0x1234…abcd")})
	idle("idle one network offline", screen.Idle{Merchant: "Café", Online: true, Offline: []string{"arbitrum"}, Queued: 12})
	idle("idle two networks offline", screen.Idle{Merchant: "Café", Online: true, Offline: []string{"arbitrum", "optimism"}})
	idle("idle network offline failure", screen.Idle{Merchant: "Café", Online: true, Offline: []string{"arbitrum"}, Failures: 1})
	idle("idle notice undone lost", screen.Idle{Merchant: "Café", Online: true, Notice: l.T(locale.Undone, "0x1234…abcd")})

	req := func(name string, v screen.Request) {
		add(name, func(r *screen.Renderer) image.Image { return r.Request(v) })
	}
	uri := "ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@1337/transfer?address=0x70997970C51812dc3A010C7d01b50e0d17dc79C8&uint256=12345678" +
		"&req=http%3A%2F%2F10.0.0.5%3A8080%2Fapi%2Fshowpos%2FgetPaymentRequest%3Fid%3D00112233445566778899aabbccddeeff"
	const short = "HTTP://10.0.0.5:8080/R/008J4CT4" // checkout.ShortLink's
	req("request", screen.Request{URI: uri, ShortURI: short, Amount: l.Amount("1234.56"), Asset: "USDC", Remaining: 90 * time.Second})
	req("request note", screen.Request{URI: uri, ShortURI: short, Amount: l.Amount("12.5"), Asset: "USDC", Remaining: 90 * time.Second,
		Note: l.T(locale.ReceivedNot, l.Amount("12.49"), "USDC", l.Amount("12.5"))})
	req("request two networks", screen.Request{URI: uri, ShortURI: short, Amount: l.Amount("1234.56"), Asset: "USDC", Remaining: 90 * time.Second,
		Network: "arbitrum", Offer: 2, Offers: 2})
	req("request two networks note", screen.Request{URI: uri, ShortURI: short, Amount: l.Amount("12.5"), Asset: "USDC", Remaining: 90 * time.Second,
		Note: l.T(locale.ReceivedNot, l.Amount("12.49"), "USDC", l.Amount("12.5")), Network: "optimism", Offer: 3, Offers: 3})

	c := fitCashier(t, l)
	c.startAmount()
	for _, keyed := range []string{"", "1234.5", "1234567.89"} {
		c.entry.text = keyed
		v := c.amountView()
		add("amount "+keyed, func(r *screen.Renderer) image.Image { return r.Amount(v) })
	}
	c.inFiat = false
	vAsset := c.amountView()
	add("amount in the asset", func(r *screen.Renderer) image.Image { return r.Amount(vAsset) })
	noRate := c.amountView()
	noRate.Quote = l.T(locale.NoRate, "USDC")
	add("amount no rate", func(r *screen.Renderer) image.Image { return r.Amount(noRate) })
	c.inFiat, c.entry.text = true, "1234.5"
	tip := c.tipView()
	add("tip", func(r *screen.Renderer) image.Image { return r.Tip(tip) })

	menu := func(name string, v screen.Menu) {
		add(name, func(r *screen.Renderer) image.Image { return r.Menu(v) })
	}
	for _, p := range []int{0, 1, 2, pageFailures, pageReports, pageReceipt} {
		c.menuPage = p
		menu(fmt.Sprintf("menu page %d", p), c.menu())
	}
	c.lastReceipt = &printOrder{requestID: "0123456789abcdef", kind: screen.ResultRejected, reason: "payment expires too soon"}
	c.reprinted = true
	menu("menu receipt", c.receiptMenu())
	c.o.Networks = func() []NetworkState { return []NetworkState{{"base", true}, {"arbitrum", false}, {"optimism", false}} }
	c.menuPage = 2
	menu("menu queue networks offline", c.menu())
	c.o.Networks = nil
	c.notice = notice{locale.PaymentFailed, "conflict"}
	menu("menu queue notice", c.menu())

	c.mode = modeConfirmZ
	menu("confirm Z", c.booksScreen())
	c.mode, c.report = modeReport, fitReport()
	menu("Z report", c.booksScreen())
	c.report.Kind = report.KindX
	menu("X report", c.booksScreen())
	c.o.Books = noBooks{}
	c.menuPage = pageFailures
	menu("no failures", c.menu())
	return out
}

// fitCashier is a cashier with a shop currency, two assets, tips and books,
// whose till and books answer with long real values.
func fitCashier(t *testing.T, l locale.Locale) *Cashier {
	eur, err := fiat.Lookup("EUR")
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{
		Till:     fitTill{},
		Assets:   []asset.Asset{{Symbol: "USDC", Decimals: 6}, {Symbol: "ETH", Decimals: 18}},
		Currency: eur,
		Tips:     []uint{10, 15, 20},
		Books:    fitBooks{},
		Receipts: fitReceipts{},
		Online:   func() bool { return false },
		Queued:   func() int { return 12 },
		Clock:    clocktest.NewFake(time.Date(2026, 12, 7, 14, 5, 0, 0, time.UTC)),
		Locale:   l,
	})
}

func fitReport() report.Report {
	s := checkout.Sum{Count: 12, Amount: "1234560000", AmountDisplay: "1234.56"}
	return report.Report{Kind: report.KindZ, Number: 123, Totals: checkout.Totals{Assets: []checkout.AssetTotal{
		{Asset: "USDC", Taken: s, Failed: s, Unmatched: s}}}, Failures: make([]report.Failure, 3)}
}

var errFit = errors.New("not in this test")

// fitTill answers the menu's and the amount screen's questions.
type fitTill struct{}

func (fitTill) Make(context.Context, checkout.Order) (*request.Document, error) { return nil, errFit }
func (fitTill) Quote(string, string) (*big.Int, error) {
	return big.NewInt(1_234_567_890), nil
}
func (fitTill) Request(string) (*request.Document, error) { return nil, errFit }
func (fitTill) Cancel(context.Context, string) (*request.Document, error) {
	return nil, errFit
}
func (fitTill) Pay(context.Context, string, []byte) (checkout.Receipt, error) {
	return checkout.Receipt{}, errFit
}
func (fitTill) PayHandover(context.Context, checkout.Handover) (checkout.Receipt, error) {
	return checkout.Receipt{}, errFit
}
func (fitTill) Payments(store.PaymentFilter) ([]checkout.PaymentView, error) {
	var ps []checkout.PaymentView
	for _, st := range []store.PaymentState{store.PaymentQueued, store.PaymentBroadcast, store.PaymentConfirmed,
		store.PaymentFinal, store.PaymentFailed, store.PaymentSeen, store.PaymentUnmatched} {
		ps = append(ps, checkout.PaymentView{Asset: "USDC", AmountDisplay: "12.5", State: st})
	}
	return ps, nil
}
func (fitTill) Totals(time.Time, time.Time) (checkout.Totals, error) {
	return checkout.Totals{Assets: []checkout.AssetTotal{{Asset: "USDC", Taken: checkout.Sum{Count: 12, AmountDisplay: "1234.56"}}}}, nil
}

// fitBooks has two open failures.
type fitBooks struct{}

func (fitBooks) OpenFailures() (int, error) { return 2, nil }
func (fitBooks) Failures(store.FailureFilter) ([]report.Failure, error) {
	return []report.Failure{{ID: 12, FailedAt: time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC),
		PaymentView: checkout.PaymentView{Asset: "USDC", AmountDisplay: "1234.56", Reason: "conflict"}}}, nil
}
func (fitBooks) Ack(context.Context, uint64) (report.Failure, error) { return report.Failure{}, errFit }
func (fitBooks) X() (report.Report, error)                           { return report.Report{}, errFit }
func (fitBooks) TakeZ(context.Context, string) (report.Report, bool, error) {
	return report.Report{}, false, errFit
}

// noBooks has no failures.
type noBooks struct{ fitBooks }

func (noBooks) OpenFailures() (int, error) { return 0, nil }

type fitReceipts struct{}

func (fitReceipts) Print(context.Context, string, screen.ResultKind, string) {}
