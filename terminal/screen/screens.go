package screen

import (
	"fmt"
	"image"
	"strconv"
	"strings"
	"time"

	"showpos/terminal/locale"
)

// Idle is the screen between payments.
type Idle struct {
	Merchant string
	// Welcome is a line under the state, e.g. "Scan or tap to pay"; empty:
	// none.
	Welcome string
	Online  bool
	// Offline names the networks that are offline while another is
	// online (a terminal on several networks): the state says which,
	// "OFFLINE: arbitrum", instead of ONLINE. Empty: Online says it all.
	Offline []string
	Queued  int // payments accepted offline, waiting to settle
	// RelayerLow: the relayer's balance covers few settlements; the
	// queued line says "relayer low" (authorizations wait when it is
	// empty).
	RelayerLow bool
	// Notice is shown until the cashier acknowledges it, e.g.
	// "PAYMENT FAILED: conflict — press OK". Empty: none.
	Notice string
	// Failures counts the failures after acceptance nobody acknowledged
	// yet (the menu's FAILURES page lists them): said in the notice box
	// while there are any.
	Failures int
	// StoreDamaged: the store's scrub found damage in what matters to
	// money and the terminal takes no sale; said first in the notice box.
	StoreDamaged bool
}

// Amount is the screen where the cashier keys an amount.
type Amount struct {
	// Entry is what was keyed so far, e.g. "12.5"; the screen shows it
	// followed by a cursor, "12.5_". Empty shows only the cursor.
	Entry string
	Asset string // symbol, e.g. "USDC", or the shop's currency, e.g. "EUR"
	Hint  string // e.g. "OK to charge, F1 asset"
	// Quote is a line under the unit: what an amount keyed in the shop's
	// currency comes to ("≈ 0.0013 ETH"), or why it cannot be keyed there
	// ("no rate: key ETH"). Empty: none.
	Quote string
}

// Tip is the payer-facing screen that offers a tip on the amount keyed:
// each option on its key, 0 for no tip.
type Tip struct {
	Amount  string      // the amount keyed, with its unit, e.g. "EUR 4.50"
	Options []TipOption // at most 3, on keys 1 to 3
	Hint    string      // e.g. "0 no tip  Cancel back"
}

// TipOption is one tip the payer may choose.
type TipOption struct {
	Percent uint   // e.g. 15
	Tip     string // the tip it comes to, e.g. "0.68"
}

// Request is the screen showing a payment request as a QR code.
type Request struct {
	URI string // what the QR code carries, e.g. an EIP-681 URI with req
	// ShortURI is shown instead of URI when URI's QR code does not fit
	// the screen at MinModule pixels a module with the standard quiet
	// zone: the request's short link (checkout.ShortLink), which a
	// phone's camera opens as the payer page and which sends an app to
	// the EIP-681 URI. Empty: none.
	ShortURI  string
	Amount    string // in words, e.g. "0.01"
	Asset     string // e.g. "ETH"
	Remaining time.Duration
	// Note is a warning under the amount while the request stays on
	// screen, e.g. "RECEIVED 0.049 ETH, NOT 0.05" for a transfer on chain
	// that did not pay it. Empty: none.
	Note string
	// Network is the name of the network whose URI is shown (the offer
	// Offer of Offers, from 1), for a request payable on several: the
	// screen says "base 1/2" under the amount and that F4 shows the
	// next. With Offers under 2 nothing is said, as for one network.
	Network       string
	Offer, Offers int
}

// ResultKind is how a payment ended.
type ResultKind int

const (
	ResultPaid     ResultKind = iota // settled on chain
	ResultAccepted                   // accepted offline: will settle when online
	ResultRejected                   // refused
	ResultSeen                       // a transfer paying it is on chain, not yet at the configured depth
	numResults
)

func (k ResultKind) String() string {
	switch k {
	case ResultPaid:
		return "paid"
	case ResultAccepted:
		return "accepted"
	case ResultRejected:
		return "rejected"
	case ResultSeen:
		return "seen"
	}
	return "result(" + strconv.Itoa(int(k)) + ")"
}

// Result is the screen after a payment.
type Result struct {
	Kind   ResultKind
	Reason string // a few words, e.g. "underpaid"; may be empty
}

// Menu is a titled list: last payments, today's totals, queue and sync
// state. Lines longer than the screen are cut with "…"; lines beyond
// MenuRows are replaced by a "+N more" line.
type Menu struct {
	Title string
	Lines []string
	Hint  string // e.g. "F1 back  F2 next"
}

// Idle draws the idle screen: merchant, ONLINE or OFFLINE, queued
// payments, and the notice if any.
func (r *Renderer) Idle(v Idle) image.Image {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, t, m, w := r.newCanvas(), r.theme, r.margin, r.words()
	W, H := r.size.W, r.size.H
	merchant := v.Merchant
	if merchant == "" {
		merchant = "showpos"
	}
	top := r.banner(c, merchant)
	status, col := w.T(locale.Offline), t.offline
	statusPx := r.title * 2
	switch {
	case len(v.Offline) > 0:
		// Longer than ONLINE: the names must fit, so the state is
		// smaller (and may take two lines), in the offline colour.
		status, statusPx = w.T(locale.OfflineSome, strings.Join(v.Offline, ", ")), r.title
	case v.Online:
		status, col = w.T(locale.Online), t.online
	}
	queued := ""
	switch {
	case v.Queued == 1:
		queued = w.T(locale.OneQueued)
	case v.Queued > 1:
		queued = w.T(locale.ManyQueued, v.Queued)
	case !v.Online:
		queued = w.T(locale.NothingQueued)
	}
	if v.RelayerLow {
		if queued != "" {
			queued += " · "
		}
		queued += w.T(locale.RelayerLow)
	}
	notice := v.Notice
	if v.Failures > 0 {
		f := w.T(locale.OneFailed)
		if v.Failures > 1 {
			f = w.T(locale.ManyFailed, v.Failures)
		}
		if notice != "" {
			f = notice + " · " + f
		}
		notice = f
	}
	if v.StoreDamaged {
		d := w.T(locale.StoreDamaged)
		if notice != "" {
			d += " · " + notice
		}
		notice = d
	}
	if notice == "" {
		ps := []para{{text: status, style: bold, px: statusPx, align: alignCenter, fg: col, maxLines: 1 + min(1, len(v.Offline))}}
		if queued != "" {
			ps = append(ps, para{text: queued, style: regular, px: r.body, align: alignCenter, fg: t.fg})
		}
		if v.Welcome != "" {
			ps = append(ps, para{text: v.Welcome, style: bold, px: r.body, align: alignCenter, fg: t.fg, maxLines: 2})
		}
		r.drawBlock(c, ps, image.Rect(m, top+m, W-m, H-m), vCenter)
		return c.done()
	}
	if queued != "" {
		status += " · " + queued
	}
	used := r.drawBlock(c, []para{{text: status, style: bold, px: r.body, align: alignCenter, fg: col, maxLines: 1}},
		image.Rect(m, top+max(1, m/2), W-m, H/2), vTop)
	box := image.Rect(0, used.Max.Y+max(1, m/2), W, H)
	c.fill(box, t.noticeBg)
	r.drawBlock(c, []para{{text: notice, style: bold, px: r.body, align: alignCenter, fg: t.noticeFg}},
		box.Inset(m), vCenter)
	return c.done()
}

// Amount draws the amount entry screen: the amount keyed so far, big, its
// asset, and the hint.
func (r *Renderer) Amount(v Amount) image.Image {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, t, m := r.newCanvas(), r.theme, r.margin
	W, H := r.size.W, r.size.H
	bottom := r.hint(c, v.Hint)
	ps := []para{{text: v.Entry + "_", style: bold, px: H / 3, align: alignCenter, fg: t.fg, maxLines: 1}}
	if v.Asset != "" {
		ps = append(ps, para{text: v.Asset, style: bold, px: r.title, align: alignCenter, fg: t.muted, maxLines: 1})
	}
	if v.Quote != "" {
		ps = append(ps, para{text: v.Quote, style: regular, px: r.body, align: alignCenter, fg: t.fg, maxLines: 1})
	}
	r.drawBlock(c, ps, image.Rect(m, m, W-m, bottom), vCenter)
	return c.done()
}

// requestLayout is where the request screen puts the QR code and its text.
type requestLayout struct {
	plan   qrPlan
	ok     bool            // plan fits; else the screen says so in words
	qr     image.Rectangle // the QR code, quiet zone included
	text   image.Rectangle
	beside bool // text beside the QR code rather than below it
}

// requestText is the request screen's text, most important first.
func (r *Renderer) requestText(v Request) []para {
	t, w := r.theme, r.words()
	amount := v.Amount
	if v.Asset != "" {
		amount += " " + v.Asset
	}
	cd := t.fg
	if v.Remaining <= 30*time.Second {
		cd = t.warn
	}
	ps := []para{{text: amount, style: bold, px: r.title, align: alignCenter, fg: t.fg}}
	hint := w.T(locale.HintStop)
	if v.Offers > 1 {
		ps = append(ps, para{text: w.T(locale.OnNetwork, v.Network, v.Offer, v.Offers), style: bold, px: r.small, align: alignCenter, fg: t.fg, maxLines: 1})
		hint += w.T(locale.HintNetwork)
	}
	if v.Note != "" {
		ps = append(ps, para{text: v.Note, style: bold, px: r.small, align: alignCenter, fg: t.warn, maxLines: 2})
	}
	return append(ps,
		para{text: countdown(v.Remaining), style: bold, px: r.body, align: alignCenter, fg: cd, maxLines: 1},
		para{text: hint, style: regular, px: r.small, align: alignCenter, fg: t.muted},
	)
}

// layoutRequest places the QR code either beside the text (the whole
// height, the text in the column left over) or above it (the width, the
// text below), whichever shows the better plan: the full URI, then the
// standard quiet zone, then bigger modules; on a tie, whichever leaves the
// text wider lines. r.mu is held.
func (r *Renderer) layoutRequest(v Request) requestLayout {
	W, H, m := r.size.W, r.size.H, r.margin
	var best requestLayout
	// Beside: the text keeps a column at least a quarter of the width.
	if p, ok := r.planQR(v, min(H, W-W/4)); ok {
		s := p.side()
		qr := image.Rect(0, (H-s)/2, s, (H-s)/2+s)
		best = requestLayout{plan: p, ok: true, qr: qr, beside: true,
			text: image.Rect(s+max(1, m/2), m, W-m, H-m)}
	}
	// Below: the text keeps the height it takes at its full size.
	reserve := blockHeight(r.layout(r.requestText(v), W-2*m, H)) + m
	if p, ok := r.planQR(v, min(W, H-reserve)); ok {
		s := p.side()
		qr := image.Rect((W-s)/2, 0, (W-s)/2+s, s)
		l := requestLayout{plan: p, ok: true, qr: qr, text: image.Rect(m, s, W-m, H-max(1, m/2))}
		if !best.ok || p.better(best.plan) || (!best.plan.better(p) && l.text.Dx() > best.text.Dx()) {
			best = l
		}
	}
	if !best.ok {
		best.text = image.Rect(m, m, W-m, H-m)
	}
	return best
}

// Request draws a payment request: its QR code as large as the screen
// allows at a whole number of pixels a module (at least MinModule where
// any plan allows it), the amount and asset, the time left, and how to
// stop. See the package doc for when ShortURI is shown instead of URI.
func (r *Renderer) Request(v Request) image.Image {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.newCanvas()
	l := r.layoutRequest(v)
	ps := r.requestText(v)
	if l.ok {
		drawQR(c, l.plan, l.qr.Min)
	} else {
		ps = append(ps, para{text: r.words().T(locale.QRTooLarge), style: regular, px: r.small, align: alignCenter, fg: r.theme.fg})
	}
	r.drawBlock(c, ps, l.text, vCenter)
	return c.done()
}

// countdown formats d as m:ss (h:mm:ss from an hour), rounding up so that
// 0:00 shows only once the time is up.
func countdown(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if d <= 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Result draws how a payment ended, big, and why in a few words: PAID
// (green), ACCEPTED — WILL SETTLE WHEN ONLINE (amber), REJECTED (red),
// SEEN (amber: a transfer paying it is on chain, waiting for its
// confirmations). On a mono screen REJECTED is white on black, ACCEPTED
// and SEEN framed.
//
// The last few results drawn are kept: a till shows the same few results
// over and over, and the drawing (0.8–1.2 ms on a 320×240 or 240×240
// screen, measured) sat between a payment's commit and what the payer
// sees. So the same Result gives the same image; callers must not draw on
// it.
func (r *Renderer) Result(v Result) image.Image {
	k := resultKey{v, r.words()}
	if img, ok := r.resultMemo.Get(k); ok {
		return img
	}
	r.mu.Lock()
	img := r.result(v)
	r.mu.Unlock()
	r.resultMemo.Put(k, img)
	return img
}

// resultKey is a memoised result: the same result in another language is
// another image.
type resultKey struct {
	v   Result
	loc locale.Locale
}

// resultMemoSize is how many result screens are kept.
const resultMemoSize = 4

// result draws v. r.mu is held.
func (r *Renderer) result(v Result) image.Image {
	c, m := r.newCanvas(), r.margin
	W, H := r.size.W, r.size.H
	k := v.Kind
	if k < 0 || k >= numResults {
		k = ResultRejected
	}
	col := r.theme.result[k]
	box := image.Rect(0, 0, W, H)
	c.fill(box, col.bg)
	if r.size.Mono && (k == ResultAccepted || k == ResultSeen) {
		t := max(2, m/2)
		c.frame(box, t, col.fg)
		box = box.Inset(t)
	}
	w := r.words()
	word := w.T([numResults]locale.Key{locale.Paid, locale.Accepted, locale.Rejected, locale.Seen}[k])
	ps := []para{{text: word, style: bold, px: H / 3, align: alignCenter, fg: col.fg, maxLines: 1}}
	if k == ResultAccepted {
		ps = append(ps, para{text: w.T(locale.WillSettle), style: bold, px: r.body, align: alignCenter, fg: col.fg})
	}
	if v.Reason != "" {
		ps = append(ps, para{text: v.Reason, style: regular, px: r.title, align: alignCenter, fg: col.fg})
	}
	r.drawBlock(c, ps, box.Inset(m), vCenter)
	return c.done()
}

// menuRows is how many text rows fit between a menu's banner and hint.
// r.mu is held.
func (r *Renderer) menuRows(v Menu) (rows int, area image.Rectangle) {
	m := r.margin
	top := r.bannerHeight(v.Title)
	bottom := r.hintTop(v.Hint)
	area = image.Rect(m, top+max(1, m/2), r.size.W-m, bottom-max(1, m/2))
	return max(0, area.Dy()/r.face(mono, r.menuPx()).adv), area
}

func (r *Renderer) menuPx() int { return r.small }

// MenuRows reports how many of v's lines fit on the screen, so that a
// caller can page through a longer list.
func (r *Renderer) MenuRows(v Menu) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, _ := r.menuRows(v)
	return n
}

// Menu draws a title, v's lines (in a fixed-width face, so that columns
// padded with spaces line up) and the hint. Lines beyond MenuRows give
// way to a "+N more" line.
func (r *Renderer) Menu(v Menu) image.Image {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, t := r.newCanvas(), r.theme
	r.banner(c, v.Title)
	r.hint(c, v.Hint)
	rows, area := r.menuRows(v)
	lines := v.Lines
	if len(lines) > rows && rows > 0 {
		lines = append(lines[:rows-1:rows-1], r.words().T(locale.MoreLines, len(v.Lines)-(rows-1)))
	}
	f := r.face(mono, r.menuPx())
	for i, s := range lines[:min(rows, len(lines))] {
		row := image.Rect(area.Min.X, area.Min.Y+i*f.adv, area.Max.X, area.Min.Y+(i+1)*f.adv)
		r.drawBlock(c, []para{{text: s, style: mono, px: f.px, minPx: f.px, align: alignLeft, fg: t.fg, maxLines: 1}}, row, vTop)
	}
	return c.done()
}

// Tip draws the tip offer: the amount in the banner ("Tip on EUR 4.50?"),
// one line per option with its key ("1  10%  0.45") and "0  no tip", in
// the menu's fixed-width face so the columns line up, and the hint.
func (r *Renderer) Tip(v Tip) image.Image {
	w := r.words()
	lines := make([]string, 0, len(v.Options)+1)
	for i, o := range v.Options {
		lines = append(lines, fmt.Sprintf("%d  %3d%%  %s", i+1, o.Percent, o.Tip))
	}
	lines = append(lines, "0  "+w.T(locale.NoTip))
	hint := v.Hint
	if r.size.Mono {
		hint = "" // a 64-pixel OLED has rows for the options only
	}
	return r.Menu(Menu{Title: w.T(locale.TipTitle, v.Amount), Lines: lines, Hint: hint})
}

// bannerParas is a screen's title banner text.
func (r *Renderer) bannerParas(title string) []para {
	px := r.title
	if r.size.Mono {
		px = r.body // every row counts on a 64-pixel OLED
	}
	return []para{{text: title, style: bold, px: px, align: alignCenter, fg: r.theme.bannerFg, maxLines: 1}}
}

func (r *Renderer) bannerPad() int { return max(1, r.margin/2) }

// bannerHeight is the height of title's banner; 0 for no title.
func (r *Renderer) bannerHeight(title string) int {
	if title == "" {
		return 0
	}
	return blockHeight(r.layout(r.bannerParas(title), r.size.W-2*r.margin, r.size.H/3)) + 2*r.bannerPad()
}

// banner draws title in a band across the top and returns its height.
func (r *Renderer) banner(c *canvas, title string) int {
	h := r.bannerHeight(title)
	if h == 0 {
		return 0
	}
	c.fill(image.Rect(0, 0, r.size.W, h), r.theme.bannerBg)
	r.drawBlock(c, r.bannerParas(title), image.Rect(r.margin, r.bannerPad(), r.size.W-r.margin, h-r.bannerPad()), vCenter)
	return h
}

func (r *Renderer) hintParas(hint string) []para {
	return []para{{text: hint, style: regular, px: r.small, align: alignCenter, fg: r.theme.muted, maxLines: 2}}
}

// hintTop is the top of hint's lines at the bottom of the screen.
func (r *Renderer) hintTop(hint string) int {
	if hint == "" {
		return r.size.H
	}
	h := blockHeight(r.layout(r.hintParas(hint), r.size.W-2*r.margin, r.size.H/4))
	return r.size.H - max(1, r.margin/2) - h
}

// hint draws hint at the bottom of the screen and returns its top.
func (r *Renderer) hint(c *canvas, hint string) int {
	top := r.hintTop(hint)
	if hint != "" {
		h := blockHeight(r.layout(r.hintParas(hint), r.size.W-2*r.margin, r.size.H/4))
		r.drawBlock(c, r.hintParas(hint), image.Rect(r.margin, top, r.size.W-r.margin, top+h), vTop)
	}
	return top
}
