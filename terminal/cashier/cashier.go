// Package cashier is the terminal as a cashier uses it: a state machine
// driven by the keypad, the scanner, the NFC reader and the payments that
// arrive over the network, drawing each state on the display.
//
//	idle ──digit──▶ amount ──OK──▶ request (QR) ──payment──▶ result ──▶ idle
//	  ▲               │ Cancel       │ Cancel / expiry            (after a few seconds
//	  └───────────────┴──────────────┘                             or any key)
//
// The amount may be keyed in the shop's currency (F3 switches), and with
// tips on, OK goes to the payer's tip screen first (1-3 a percentage, 0 no
// tip, Cancel back to the amount); see price.go.
//
// A request payable on several networks (Document.Offers) shows its
// primary offer's QR code, named under the amount ("base 1/2"); F4 shows
// the next network's. The NFC tag holds the request's link, which opens
// the payer page, where the payer picks the network.
//
// Every payment, whichever way it arrives, is judged by the till's Pay;
// the cashier only shows the answer. A payer's wallet may also send the
// transfer itself: the chain watcher's Ledger tells the cashier (Accepted
// with source chain), which shows SEEN at once and PAID when confirmed;
// money received that paid no request is said under the request on
// screen ("RECEIVED 0.049 ETH, NOT 0.05"). A payment accepted while the chain is
// reachable shows PAID once it is confirmed (or ACCEPTED if that takes
// long); accepted offline it shows ACCEPTED — WILL SETTLE WHEN ONLINE.
// Failures found after acceptance (a conflict, a revert), and a payment
// shown PAID whose block the node then lost (it is being sent again),
// stay on the idle screen as a notice until the cashier acknowledges it
// with OK. Failures are also kept in the store until acknowledged: the
// idle screen counts them, and the menu's FAILURES page acknowledges each
// or asks the payer again; its REPORTS page reads the X and takes the Z
// report (books.go).
//
// Every word the cashier shows comes from the message catalog
// (terminal/locale) in Options.Locale, switched live by Reconfigure;
// refusal reasons by code are in words.go. A reason handed to the printer
// stays English: it is signed on the receipt (receipts.go).
package cashier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/device"
	"showpos/device/clock"
	"showpos/terminal/asset"
	"showpos/terminal/check"
	"showpos/terminal/checkout"
	"showpos/terminal/fiat"
	"showpos/terminal/locale"
	"showpos/terminal/nfcpay"
	"showpos/terminal/report"
	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/terminal/store"
)

// Till is what the cashier needs from the terminal's till.
type Till interface {
	Make(ctx context.Context, o checkout.Order) (*request.Document, error)
	Quote(fiatAmount, symbol string) (*big.Int, error)
	Request(id string) (*request.Document, error)
	Cancel(ctx context.Context, id string) (*request.Document, error)
	Pay(ctx context.Context, requestID string, raw []byte) (checkout.Receipt, error)
	PayHandover(ctx context.Context, h checkout.Handover) (checkout.Receipt, error)
	Payments(f store.PaymentFilter) ([]checkout.PaymentView, error)
	Totals(from, to time.Time) (checkout.Totals, error)
}

// Renderer draws the screens.
type Renderer interface {
	Idle(v screen.Idle) image.Image
	Amount(v screen.Amount) image.Image
	Request(v screen.Request) image.Image
	Result(v screen.Result) image.Image
	Menu(v screen.Menu) image.Image
	Tip(v screen.Tip) image.Image
}

// Options wire a cashier. Till and Screens are required; any device may be
// nil (a terminal without that device).
type Options struct {
	Till      Till
	Screens   Renderer
	Display   device.Display
	Keypad    device.Keypad
	Scanner   device.Scanner
	NFC       device.NFCReader
	Indicator device.Indicator
	// NFCTag, when set (the NFC reader can act as a tag, and the tag role
	// is on), alternates with NFC while a request is on screen, holding
	// the request's link for phones without the app, then for a request
	// on several networks each network's EIP-681 URI (nfcpay.Roles).
	NFCTag    device.NFCTag
	NFCTiming nfcpay.Timing

	Merchant string
	Welcome  string        // a line on the idle screen; may be empty
	Assets   []asset.Asset // in config order; the first is the default
	// Currency is the shop's currency (terminal.currency), in which the
	// cashier may key amounts (F3); zero: amounts in the asset only.
	Currency fiat.Currency
	// Tips are the tip percentages the payer is offered after the amount
	// ([tips], at most 3, keys 1 to 3); none: no tip screen.
	Tips []uint
	// Online and Queued feed the idle screen; SyncNow is the menu's
	// "sync now". Each may be nil.
	Online  func() bool
	Queued  func() int
	SyncNow func(ctx context.Context) error
	// Networks, when set, tells each network's state on a terminal on
	// several networks: the idle screen and the menu's queue page name
	// those offline while another is online ("OFFLINE: arbitrum"). Nil:
	// Online alone says online or offline, as with one network. Online
	// still decides whether an accepted payment waits on screen for its
	// confirmation.
	Networks func() []NetworkState
	// RelayerLow reports that the relayer's balance is low: the idle
	// screen says so. May be nil.
	RelayerLow func() bool
	// StoreDamaged reports that the store's scrub found damage in what
	// matters to money (the store refuses every sale): the idle screen
	// says so. May be nil.
	StoreDamaged func() bool
	// Books: failures kept until acknowledged, X and Z reports (books.go).
	// May be nil.
	Books Books
	// PrintReport, when set, prints an X report the menu shows (a Z is
	// printed by whoever the books tell of each Z taken). Must not block.
	PrintReport func(report.Report)

	Clock  clock.Clock // nil: clock.System
	Logger *slog.Logger
	// ResultFor is how long a result stays on screen. Default 4s.
	ResultFor time.Duration
	// SettleWait is how long an accepted payment waits on screen for its
	// confirmation before showing ACCEPTED (online only). Default 8s.
	SettleWait time.Duration
	// Receipts, when set, prints a receipt of each PAID or ACCEPTED
	// result once it is on screen, and the menu reprints the last one
	// (a REJECTED one only from there). Nil: no printer.
	Receipts Receipts
	// Locale is the language of every word the cashier shows
	// (terminal.locale); the zero value is English. A Screens that speaks
	// a locale too (screen.Renderer's SetLocale) is set to it.
	Locale locale.Locale
}

// NetworkState is one network's state as the idle screen says it: its
// name in the config ("base") and whether its chain is reachable.
type NetworkState struct {
	Name   string
	Online bool
}

// localeScreens is a Renderer whose own words (titles, hints) follow a
// locale: *screen.Renderer.
type localeScreens interface{ SetLocale(locale.Locale) }

type mode int

const (
	modeIdle mode = iota
	modeAmount
	modeRequest
	modeSettling // accepted online, waiting for the confirmation
	modeResult
	modeMenu
	modeTip      // the payer chooses a tip for the keyed amount
	modeReport   // an X or Z report on screen (books.go)
	modeConfirmZ // "close the day?" before a Z (books.go)
)

// Cashier runs the terminal's screen and keys. Run owns its goroutines.
type Cashier struct {
	o   Options
	log *slog.Logger
	ev  chan event

	// Loop state, touched only by Run's goroutine.
	mode     mode
	entry    entry
	inFiat   bool // the entry is in Options.Currency, not the asset
	assetIdx int
	doc      *request.Document
	docJSON  []byte
	offer    int         // the offer of doc whose URI the QR code shows (F4 switches)
	pending  common.Hash // accepted, waiting to settle
	onChain  bool        // pending was seen on chain (not handed over)
	note     string      // under the request on screen: money received that did not pay it
	result   screen.Result
	until    time.Time // result or settling deadline
	notice   notice
	menuPage int
	drawn    string // key of the last drawn screen, to skip identical redraws
	// Receipts (receipts.go).
	resultFor   string      // the request the next result is about
	toPrint     *printOrder // a result to print once drawn
	lastReceipt *printOrder // the last result, for the menu's reprint
	reprinted   bool        // reprint pressed on this visit of the menu

	failAfter uint64        // the FAILURES page shows the first open failure after this id (books.go)
	report    report.Report // the report on screen (books.go)

	onScreen atomic.Pointer[[]byte]            // the request's JSON for the NFC loop; nil when none
	tag      atomic.Pointer[nfcpay.TagContent] // what the NFC tag holds for the request; nil when none
	signals  chan device.Signal
}

type event struct {
	key     device.Key
	hasKey  bool
	scan    []byte
	scanErr error
	nfcTx   []byte
	nfcErr  error
	nfcFor  string // request id the tap was for
	hasNFC  bool
	paid    *checkout.Receipt
	final   *store.Payment
	stray   *checkout.Unmatched
	undone  *store.Payment
	hasScan bool
	shown   *request.Document
	setup   *Setup
}

// Setup is what a new config changes on the cashier's screens.
type Setup struct {
	Merchant string
	Welcome  string
	Assets   []asset.Asset
	Locale   locale.Locale // the zero value is English
	Currency fiat.Currency // the zero value: amounts in the asset only
}

// New returns a cashier; Run starts it.
func New(o Options) *Cashier {
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.ResultFor <= 0 {
		o.ResultFor = 4 * time.Second
	}
	if o.SettleWait <= 0 {
		o.SettleWait = 8 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cashier{o: o, log: log, ev: make(chan event, 16), signals: make(chan device.Signal, 4)}
	c.setLocale(o.Locale)
	if len(o.Assets) > 0 {
		c.entry.decimals = o.Assets[0].Decimals
	}
	return c
}

// Accepted tells the cashier a payment was accepted (from any channel; the
// till's OnAccept). A payment for the request on screen shows its result.
// It never blocks.
func (c *Cashier) Accepted(r checkout.Receipt) {
	select {
	case c.ev <- event{paid: &r}:
	default:
		c.log.Warn("cashier busy; accepted payment not shown", "tx", r.TxHash.Hex())
	}
}

// Settled tells the cashier of a broadcaster event: a payment confirmed,
// final, failed after acceptance, or back to broadcast because the block
// it was confirmed in was lost (it is being sent again).
func (c *Cashier) Settled(p store.Payment) {
	select {
	case c.ev <- event{final: &p}:
	default:
		c.log.Warn("cashier busy; settlement not shown", "tx", p.TxHash.Hex())
	}
}

// Unmatched tells the cashier of money that reached the merchant on chain
// and paid no request (a Ledger's OnUnmatched). While a sale is on screen
// in that asset, the request screen says "RECEIVED 0.049 ETH, NOT 0.05"
// under the amount, with the attention signal: the payer sent a wrong
// amount (or too late) and the sale is still open. It never blocks.
func (c *Cashier) Unmatched(u checkout.Unmatched) {
	select {
	case c.ev <- event{stray: &u}:
	default:
		c.log.Warn("cashier busy; unmatched receipt not shown", "tx", u.TxHash.Hex())
	}
}

// Undone tells the cashier a payment seen on chain was taken back because
// its block was reorganised away (a Ledger's OnRewind): its request is
// pending again. Said like a failure after acceptance, until OK. It never
// blocks.
func (c *Cashier) Undone(p store.Payment) {
	select {
	case c.ev <- event{undone: &p}:
	default:
		c.log.Warn("cashier busy; undone chain payment not shown", "tx", p.TxHash.Hex())
	}
}

// Shown tells the cashier a request was created or cancelled through the
// till (its OnRequest), e.g. by a cash register over the integrator API: a
// new pending request goes on screen at once, as if keyed, replacing
// whatever the cashier was doing; the request on screen, cancelled,
// leaves it. The cashier's own requests come back here too and change
// nothing. It never blocks.
func (c *Cashier) Shown(doc *request.Document) {
	select {
	case c.ev <- event{shown: doc}:
	default:
		c.log.Warn("cashier busy; request not shown", "request", doc.ID)
	}
}

// setLocale makes the cashier and its screens speak l.
func (c *Cashier) setLocale(l locale.Locale) {
	c.o.Locale = l
	if s, ok := c.o.Screens.(localeScreens); ok {
		s.SetLocale(l)
	}
	c.drawn = "" // the same screen, in other words
}

// Reconfigure changes the merchant name, the welcome line, the assets
// and the language the cashier offers (a new config, without a restart). It waits for the
// cashier's loop to take it, or for ctx.
func (c *Cashier) Reconfigure(ctx context.Context, s Setup) {
	select {
	case c.ev <- event{setup: &s}:
	case <-ctx.Done():
	}
}

// Run drives the terminal until ctx ends.
func (c *Cashier) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	if c.o.Keypad != nil {
		wg.Go(func() { c.readKeys(ctx) })
	}
	if c.o.Scanner != nil {
		wg.Go(func() { c.readScans(ctx) })
	}
	if c.o.NFC != nil {
		wg.Go(func() { c.readTaps(ctx) })
	}
	if c.o.Indicator != nil {
		wg.Go(func() { c.playSignals(ctx) })
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	c.draw()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-c.ev:
			c.handle(ctx, e)
		case <-tick.C:
			c.tick(ctx)
		}
		c.draw()
		c.printDrawn(ctx)
	}
}

func (c *Cashier) readKeys(ctx context.Context) {
	for {
		k, err := c.o.Keypad.ReadKey(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, device.ErrHalted) {
				c.log.Error("keypad", "err", err)
			}
			return
		}
		c.send(ctx, event{key: k, hasKey: true})
	}
}

func (c *Cashier) readScans(ctx context.Context) {
	for {
		p, err := c.o.Scanner.ReadPayload(ctx)
		if err != nil && !errors.Is(err, device.ErrTooLarge) {
			if ctx.Err() == nil && !errors.Is(err, device.ErrHalted) {
				c.log.Error("scanner", "err", err)
			}
			return
		}
		c.send(ctx, event{scan: p, scanErr: err, hasScan: true})
	}
}

// readTaps serves phones held to the reader while a request is on screen:
// phones with the app through the tap protocol, and, when the reader can
// be a tag, phones without it through the request's link (nfcpay.Roles).
func (c *Cashier) readTaps(ctx context.Context) {
	roles := &nfcpay.Roles{Reader: c.o.NFC, Tag: c.o.NFCTag, Timing: c.o.NFCTiming, Clock: c.o.Clock,
		OnRead: func(link string) { c.log.Info("nfc tag read", "link", link) }}
	content := func() nfcpay.TagContent {
		if t := c.tag.Load(); t != nil {
			return *t
		}
		return nfcpay.TagContent{}
	}
	for {
		tap, err := roles.WaitTap(ctx, content)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, device.ErrHalted) {
				return
			}
			c.log.Warn("nfc", "err", err)
			continue
		}
		docp := c.onScreen.Load()
		if docp == nil {
			tap.Release()
			continue
		}
		var id struct {
			ID string `json:"id"`
		}
		json.Unmarshal(*docp, &id)
		tctx, cancel := context.WithTimeout(ctx, device.DefaultTapTimeout)
		raw, err := nfcpay.Pay(tctx, tap, *docp)
		cancel()
		c.send(ctx, event{nfcTx: raw, nfcErr: err, nfcFor: id.ID, hasNFC: true})
	}
}

func (c *Cashier) send(ctx context.Context, e event) {
	select {
	case c.ev <- e:
	case <-ctx.Done():
	}
}

func (c *Cashier) playSignals(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-c.signals:
			if err := c.o.Indicator.Signal(ctx, s); err != nil && ctx.Err() == nil {
				c.log.Warn("indicator", "err", err)
			}
		}
	}
}

func (c *Cashier) signal(s device.Signal) {
	select {
	case c.signals <- s:
	default: // a signal is already playing; this one is dropped
	}
}

func (c *Cashier) asset() asset.Asset {
	if len(c.o.Assets) == 0 {
		return asset.Asset{Symbol: "?", Decimals: 18}
	}
	return c.o.Assets[c.assetIdx]
}

func (c *Cashier) handle(ctx context.Context, e event) {
	switch {
	case e.hasKey:
		c.key(ctx, e.key)
	case e.hasScan:
		if e.scanErr != nil {
			c.reject(c.o.Locale.T(locale.ReasonCodeTooLong))
			return
		}
		c.payRaw(ctx, "scanner", func() ([]byte, error) {
			if isHandoverJSON(e.scan) {
				return e.scan, nil
			}
			return check.DecodeHex(string(e.scan))
		})
	case e.hasNFC:
		if c.doc == nil || c.doc.ID != e.nfcFor {
			return // the tap was for a request no longer on screen
		}
		if e.nfcErr != nil {
			c.log.Info("tap failed", "err", e.nfcErr)
			c.signal(device.SignalAttention)
			return // stay on the QR: the payer taps again
		}
		c.payRaw(ctx, "nfc", func() ([]byte, error) { return e.nfcTx, nil })
	case e.paid != nil:
		if c.doc != nil && e.paid.RequestID == c.doc.ID && c.mode == modeRequest {
			c.accepted(*e.paid)
		}
	case e.final != nil:
		c.settled(*e.final)
	case e.stray != nil:
		c.unmatched(*e.stray)
	case e.undone != nil:
		c.undone(*e.undone)
	case e.shown != nil:
		c.show(e.shown)
	case e.setup != nil:
		c.setup(*e.setup)
	}
}

func (c *Cashier) show(doc *request.Document) {
	onScreen := c.doc != nil && c.doc.ID == doc.ID
	switch store.RequestStatus(doc.Status) {
	case store.RequestPending:
		if onScreen {
			return
		}
		// The news may be stale: keys queued behind it may have cancelled
		// this request already (the cashier's own, keyed and cancelled
		// quickly). Only a request still pending goes on screen.
		if now, err := c.o.Till.Request(doc.ID); err != nil || now.Status != string(store.RequestPending) {
			return
		}
		c.log.Info("request from the till shown", "request", doc.ID)
		c.setRequest(doc)
		c.mode, c.pending = modeRequest, common.Hash{}
	case store.RequestCancelled:
		if onScreen && c.mode == modeRequest {
			c.setRequest(nil)
			c.showResult(screen.Result{Kind: screen.ResultRejected, Reason: c.o.Locale.T(locale.ReasonCancelled)})
		}
	}
}

func (c *Cashier) setup(s Setup) {
	c.o.Merchant, c.o.Welcome = s.Merchant, s.Welcome
	if s.Locale != c.o.Locale {
		c.setLocale(s.Locale)
	}
	symbol := c.asset().Symbol
	c.o.Assets, c.assetIdx = s.Assets, 0
	for i, a := range s.Assets {
		if a.Symbol == symbol {
			c.assetIdx = i
		}
	}
	if (c.mode == modeAmount || c.mode == modeTip) && c.asset().Symbol != symbol {
		// The asset being keyed is gone: start the amount again.
		c.mode = modeIdle
	}
	if s.Currency != c.o.Currency {
		c.o.Currency = s.Currency
		if c.mode == modeAmount || c.mode == modeTip {
			// The amount was keyed in a currency the shop no longer
			// prices in: start it again.
			c.mode = modeIdle
		}
	}
}

// payRaw runs a payment for the request on screen through the till.
func (c *Cashier) payRaw(ctx context.Context, via string, raw func() ([]byte, error)) {
	if c.mode != modeRequest || c.doc == nil {
		// Nothing to pay: the payer is early, or the sale was cancelled.
		// Nothing is stored; the cashier hears it.
		c.log.Info("payment with no request on screen ignored", "via", via)
		c.signal(device.SignalAttention)
		return
	}
	b, err := raw()
	if err == nil {
		var rec checkout.Receipt
		rec, err = c.pay(ctx, b)
		if err == nil {
			c.log.Info("payment accepted", "via", via, "request", c.doc.ID, "tx", rec.TxHash.Hex())
			c.accepted(rec)
			return
		}
	}
	c.log.Info("payment refused", "via", via, "request", c.doc.ID, "err", err)
	c.reject(shortReason(c.o.Locale, err))
}

// isHandoverJSON reports whether a scanned line or an NFC payload is the
// payer API's handover JSON ({"requestId", "payment"} or {"requestId",
// "rawTx"}) rather than a transaction: it starts with '{', which neither a
// transaction's hex nor its binary encoding does (0x7b is no transaction
// type).
func isHandoverJSON(b []byte) bool { return len(b) > 0 && b[0] == '{' }

// pay pays the request on screen by b: a raw transaction, or handover JSON
// naming that request (an EIP-3009 authorization, or a transaction), read
// as the payer API reads it. JSON naming another request is refused
// unknown_request: the payer meant another sale.
func (c *Cashier) pay(ctx context.Context, b []byte) (checkout.Receipt, error) {
	if !isHandoverJSON(b) {
		return c.o.Till.Pay(ctx, c.doc.ID, b)
	}
	h, err := checkout.ParseHandover(b)
	if errors.Is(err, checkout.ErrBadHandover) {
		return checkout.Receipt{}, check.Refuse(check.CodeInvalidPayload, "%v", err)
	}
	if err != nil {
		return checkout.Receipt{}, err
	}
	if h.RequestID != c.doc.ID {
		return checkout.Receipt{}, check.Refuse(check.CodeUnknownRequest, "handed over for request %s, the request on screen is %s", h.RequestID, c.doc.ID)
	}
	return c.o.Till.PayHandover(ctx, h)
}

func (c *Cashier) accepted(rec checkout.Receipt) {
	c.signal(device.SignalAccepted)
	c.setRequest(nil)
	c.onChain = rec.Source == store.SourceChain
	if c.onChain {
		// The payer's wallet sent it and it is in a block: SEEN at once,
		// PAID when Settled says confirmed.
		c.mode, c.pending, c.until = modeSettling, rec.TxHash, c.o.Clock.Now().Add(c.o.SettleWait)
		c.result = screen.Result{Kind: screen.ResultSeen, Reason: c.o.Locale.T(locale.Confirming)}
		return
	}
	if c.o.Online != nil && c.o.Online() {
		c.mode, c.pending, c.until = modeSettling, rec.TxHash, c.o.Clock.Now().Add(c.o.SettleWait)
		c.result = screen.Result{Kind: screen.ResultAccepted, Reason: c.o.Locale.T(locale.Confirming)}
		return
	}
	c.showResult(screen.Result{Kind: screen.ResultAccepted})
}

func (c *Cashier) settled(p store.Payment) {
	if p.State == store.PaymentFailed {
		c.notice = notice{locale.PaymentFailed, p.Reason}
		c.signal(device.SignalAttention)
	}
	if p.State == store.PaymentBroadcast && p.Delivery.Reorgs > 0 {
		// It was shown PAID; its money is not on the chain any more
		// until it is mined again. Said like a failure, until OK.
		c.notice = notice{locale.UndoneResending, shortHash(p.TxHash)}
		c.signal(device.SignalAttention)
		return
	}
	if c.mode != modeSettling || p.TxHash != c.pending {
		return
	}
	c.pending = common.Hash{}
	if p.State.Settled() {
		c.showResult(screen.Result{Kind: screen.ResultPaid})
		return
	}
	c.showResult(screen.Result{Kind: screen.ResultRejected, Reason: shortFailure(c.o.Locale, p.Reason)})
}

// unmatched shows money received that paid no request under the request
// on screen, if it is in the request's asset.
func (c *Cashier) unmatched(u checkout.Unmatched) {
	if c.mode != modeRequest || c.doc == nil || c.doc.Asset.Symbol != u.Asset {
		return
	}
	w := c.o.Locale
	c.note = w.T(locale.ReceivedNot, w.Amount(u.AmountDisplay), u.Asset, w.Amount(c.shownAmount()))
	c.signal(device.SignalAttention)
}

func (c *Cashier) undone(p store.Payment) {
	c.notice = notice{locale.Undone, shortHash(p.TxHash)}
	c.signal(device.SignalAttention)
	if c.mode == modeSettling && p.TxHash == c.pending {
		c.pending = common.Hash{}
		c.showResult(screen.Result{Kind: screen.ResultRejected, Reason: c.o.Locale.T(locale.ReasonBlockLost)})
	}
}

// shownAmount is the amount of the request on screen as the screen shows
// it: without the tail that makes it unique (checkout.ShownAmount).
func (c *Cashier) shownAmount() string {
	if c.doc == nil {
		return ""
	}
	return checkout.ShownAmount(c.doc.Amount, c.doc.Asset.Decimals)
}

func (c *Cashier) reject(reason string) {
	c.signal(device.SignalRejected)
	c.showResult(screen.Result{Kind: screen.ResultRejected, Reason: reason})
}

// notice is what the idle screen says until OK (a failure after
// acceptance, a block lost): kept as the catalog's key and its argument,
// so that it is said in the language of the moment.
type notice struct {
	key locale.Key
	arg string
}

// noticeText is the notice in the cashier's language; "" for none.
func (c *Cashier) noticeText() string {
	if c.notice == (notice{}) {
		return ""
	}
	return c.o.Locale.T(c.notice.key, c.notice.arg)
}

func (c *Cashier) showResult(r screen.Result) {
	c.result, c.mode, c.until = r, modeResult, c.o.Clock.Now().Add(c.o.ResultFor)
	c.resultShown(r)
}

func (c *Cashier) setRequest(doc *request.Document) {
	c.doc, c.note, c.offer = doc, "", 0
	if doc == nil {
		c.docJSON = nil
		c.onScreen.Store(nil)
		c.tag.Store(nil)
		return
	}
	b, err := json.Marshal(doc)
	if err != nil {
		c.log.Error("encode request", "err", err)
	}
	c.docJSON, c.resultFor = b, doc.ID
	c.onScreen.Store(&b)
	// The tag holds the request's link first: a phone opens the first
	// record (Android's tag dispatch looks at nothing else), the payer
	// page, where the payer picks the network. A request on several
	// networks offers each after it, its EIP-681 URI in Offers' order
	// (the primary first, whichever the QR code shows), as many as the
	// tag holds (nfcpay.TagMessage). One on one network keeps the link
	// alone, byte for byte as before (README, "What the tag holds").
	tag := nfcpay.TagContent{Link: doc.RequestURL}
	if len(doc.Offers) > 1 {
		for _, o := range doc.Offers {
			tag.URIs = append(tag.URIs, o.URI)
		}
	}
	c.tag.Store(&tag)
}

// shownOffer is the offer whose URI the QR code shows, its number from
// 1 and how many there are; ok false for a request on one network (no
// Offers, or one), whose QR code is its URI as always.
func (c *Cashier) shownOffer() (o request.Offer, n, of int, ok bool) {
	if c.doc == nil || len(c.doc.Offers) < 2 {
		return request.Offer{}, 0, 0, false
	}
	i := c.offer % len(c.doc.Offers)
	return c.doc.Offers[i], i + 1, len(c.doc.Offers), true
}

// networks says which networks are offline while another is online
// (Options.Networks), and whether the terminal is online: any network
// is, or Options.Online without Networks.
func (c *Cashier) networks() (online bool, offline []string) {
	if c.o.Networks != nil {
		if ns := c.o.Networks(); len(ns) > 0 {
			for _, n := range ns {
				if n.Online {
					online = true
				} else {
					offline = append(offline, n.Name)
				}
			}
			if !online || len(ns) == 1 {
				offline = nil // OFFLINE says it all
			}
			return online, offline
		}
	}
	return c.o.Online != nil && c.o.Online(), nil
}

func (c *Cashier) key(ctx context.Context, k device.Key) {
	switch c.mode {
	case modeIdle:
		switch {
		case k == device.KeyEnter && c.notice != (notice{}):
			c.notice = notice{} // acknowledged
		case k == device.KeyF2:
			c.mode, c.menuPage, c.reprinted = modeMenu, 0, false
		case k == device.KeyDot || isDigit(k):
			c.startAmount()
			c.entry.press(k)
		}
	case modeAmount:
		switch k {
		case device.KeyCancel:
			c.mode = modeIdle
		case device.KeyF1:
			if len(c.o.Assets) > 1 {
				c.assetIdx = (c.assetIdx + 1) % len(c.o.Assets)
				if c.inFiat && !c.hasRate() {
					c.inFiat = false // no rate for this one: key it in the asset
				}
				c.rekey() // keep what fits the new unit's decimals
			}
		case device.KeyF3:
			c.toggleFiat()
		case device.KeyEnter:
			c.charge(ctx)
		default:
			if !c.entry.press(k) {
				c.signal(device.SignalAttention)
			}
		}
	case modeRequest:
		if k == device.KeyF4 && c.doc != nil && len(c.doc.Offers) > 1 {
			// The payer's wallet is on another network: show that
			// network's QR code (the short link, where the screen shows
			// it, leads to the payer page, which offers them all).
			c.offer = (c.offer + 1) % len(c.doc.Offers)
			return
		}
		if k == device.KeyCancel && c.doc != nil {
			if _, err := c.o.Till.Cancel(ctx, c.doc.ID); err != nil {
				c.log.Warn("cancel request", "request", c.doc.ID, "err", err)
			}
			c.setRequest(nil)
			c.mode = modeIdle
		}
	case modeTip:
		c.tipKey(ctx, k)
	case modeResult:
		c.mode = modeIdle
	case modeReport, modeConfirmZ:
		c.booksModeKey(ctx, k)
	case modeMenu:
		if (c.menuPage == pageFailures || c.menuPage == pageReports) && c.booksKey(ctx, k) {
			return
		}
		switch k {
		case device.KeyF2:
			c.menuPage = c.nextMenuPage()
		case device.KeyF3:
			if c.menuPage == pageReceipt {
				c.reprint(ctx)
			}
		case device.KeyF4:
			if c.menuPage == 2 && c.o.SyncNow != nil {
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				if err := c.o.SyncNow(sctx); err != nil {
					c.log.Warn("sync now", "err", err)
				}
				cancel()
			}
		case device.KeyCancel, device.KeyEnter:
			c.mode = modeIdle
		}
	}
}

func (c *Cashier) tick(ctx context.Context) {
	now := c.o.Clock.Now()
	switch c.mode {
	case modeRequest:
		if c.doc != nil && !now.Before(c.doc.ExpiresAt) {
			c.setRequest(nil)
			c.showResult(screen.Result{Kind: screen.ResultRejected, Reason: c.o.Locale.T(locale.ReasonExpired)})
		}
	case modeSettling:
		if !now.Before(c.until) {
			if c.onChain {
				c.showResult(screen.Result{Kind: screen.ResultSeen}) // on chain; confirms later
			} else {
				c.showResult(screen.Result{Kind: screen.ResultAccepted}) // settles later
			}
		}
	case modeResult:
		if !now.Before(c.until) {
			c.mode = modeIdle
		}
	}
}

// draw renders the current state and sends it to the display if it changed.
func (c *Cashier) draw() {
	if c.o.Display == nil || c.o.Screens == nil {
		return
	}
	var img image.Image
	var key string
	switch c.mode {
	case modeIdle:
		v := screen.Idle{Merchant: c.o.Merchant, Welcome: c.o.Welcome, Notice: c.noticeText()}
		v.Online, v.Offline = c.networks()
		if c.o.Queued != nil {
			v.Queued = c.o.Queued()
		}
		if c.o.RelayerLow != nil {
			v.RelayerLow = c.o.RelayerLow()
		}
		if c.o.StoreDamaged != nil {
			v.StoreDamaged = c.o.StoreDamaged()
		}
		v.Failures = c.openFailures()
		key = fmt.Sprintf("idle %+v", v)
		if key != c.drawn {
			img = c.o.Screens.Idle(v)
		}
	case modeAmount:
		v := c.amountView()
		key = fmt.Sprintf("amount %+v", v)
		if key != c.drawn {
			img = c.o.Screens.Amount(v)
		}
	case modeTip:
		v := c.tipView()
		key = fmt.Sprintf("tip %+v", v)
		if key != c.drawn {
			img = c.o.Screens.Tip(v)
		}
	case modeRequest:
		if c.doc == nil {
			return
		}
		left := c.doc.ExpiresAt.Sub(c.o.Clock.Now()).Truncate(time.Second)
		v := screen.Request{URI: c.doc.URI, ShortURI: checkout.ShortLink(c.doc), Amount: c.o.Locale.Amount(c.shownAmount()), Asset: c.doc.Asset.Symbol,
			Remaining: max(left, 0), Note: c.note}
		if o, n, of, ok := c.shownOffer(); ok {
			v.URI, v.Network, v.Offer, v.Offers = o.URI, o.Network, n, of
		}
		key = fmt.Sprintf("request %s %s %s %d", c.doc.ID, v.Remaining, v.Note, v.Offer)
		if key != c.drawn {
			img = c.o.Screens.Request(v)
		}
	case modeSettling, modeResult:
		key = fmt.Sprintf("result %+v", c.result)
		if key != c.drawn {
			img = c.o.Screens.Result(c.result)
		}
	case modeMenu, modeReport, modeConfirmZ:
		v := c.menu()
		if c.mode != modeMenu {
			v = c.booksScreen()
		}
		key = fmt.Sprintf("menu %+v", v)
		if key != c.drawn {
			img = c.o.Screens.Menu(v)
		}
	}
	if img == nil {
		return
	}
	if err := c.o.Display.Draw(c.o.Display.Bounds(), img, image.Point{}); err != nil {
		c.log.Warn("draw", "err", err)
		return
	}
	c.drawn = key
}

func isDigit(k device.Key) bool { _, ok := k.Digit(); return ok }

func keyOf(r rune) device.Key {
	if r == '.' {
		return device.KeyDot
	}
	return device.Key0 + device.Key(r-'0')
}

// shortHash is a transaction hash cut for a small screen: 0x1234…abcd.
func shortHash(h common.Hash) string {
	s := h.Hex()
	return s[:6] + "…" + s[len(s)-4:]
}
