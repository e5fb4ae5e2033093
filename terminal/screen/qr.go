package screen

import (
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// Quiet zones, in modules: the standard one, and the least one drawn when
// the standard one does not fit at MinModule pixels a module. The quiet
// zone is drawn inside the panel, as wide as the panel leaves, up to the
// standard: past the panel's edge is its dark bezel, which a decoder takes
// for modules. Measured on the 128×64 OLED's photo (qr_camera_test.go):
// gozxing reads the short link with the 3.5 modules it gets there, not
// with 2.
const (
	quietZone        = 4
	reducedQuietZone = 2
)

// MinModule is the fewest pixels a module the request screen draws when
// any plan allows it, and FullMinModule the fewest it draws the full URI
// with when a short URI fits instead. Measured (qr_camera_test.go, a
// phone's camera at 20 cm): a module must span about 2.3 camera pixels,
// 0.33 mm, to decode once blurred. At one pixel a 0.96" OLED's modules
// are 0.17 mm and do not decode; at two (0.34 mm) they do. A 1.3" 240×240
// TFT's pixels are 0.0975 mm: the full URI at two pixels a module (0.195
// mm) does not decode even unblurred, at three it would not fit; a 2.0"
// 320×240's 0.127 mm pixels make three pixels a module 0.38 mm, which
// does.
const (
	MinModule     = 2
	FullMinModule = 3
)

// qrMemoSize is how many QR codes' modules are kept for the next frame:
// the request screen is redrawn every second for its countdown, with the
// same URIs, and a frame may encode the full URI and the short one at two
// levels.
const qrMemoSize = 8

// qrBits returns content's modules at error correction level lvl, without
// quiet zone, or nil if content is too long for a QR code.
func (r *Renderer) qrBits(content string, lvl qrcode.RecoveryLevel) [][]bool {
	key := string(rune('0'+lvl)) + content
	if bits, ok := r.qrMemo.Get(key); ok {
		return bits
	}
	var bits [][]bool
	if q, err := qrcode.New(content, lvl); err == nil {
		q.DisableBorder = true
		bits = q.Bitmap()
	}
	r.qrMemo.Put(key, bits)
	return bits
}

// qrPlan is how a QR code is drawn: which content at which error
// correction level, the module size, and the quiet zone around it.
type qrPlan struct {
	content string
	short   bool // content is the ShortURI
	level   qrcode.RecoveryLevel
	bits    [][]bool
	module  int // pixels per module
	quiet   int // pixels of quiet zone on each side: at least reducedQuietZone modules, at most quietZone
}

// side is the plan's size in pixels, quiet zone included.
func (p qrPlan) side() int { return len(p.bits)*p.module + 2*p.quiet }

// quietModules is the quiet zone in whole modules.
func (p qrPlan) quietModules() int { return p.quiet / p.module }

// tier ranks what a plan shows, best first:
//
//	0  the full URI, FullMinModule pixels a module or more, standard quiet zone
//	1  the short URI, MinModule or more, standard quiet zone
//	2  the short URI, MinModule or more, reduced quiet zone
//	3  the full URI, MinModule or more, standard quiet zone
//	4  the full URI, MinModule or more, reduced quiet zone
//	5… one pixel a module: the short URI (the smaller code) before the
//	   full one, standard quiet zone before reduced
//
// A 320×240 screen or larger shows tier 0, a 240×240 tier 1, a 128×64
// OLED tier 2; 3 and 4 are for a screen given no short URI.
func (p qrPlan) tier() int {
	standard := p.quietModules() >= quietZone
	reduced := 0
	if !standard {
		reduced = 1
	}
	switch {
	case !p.short && standard && p.module >= FullMinModule:
		return 0
	case p.short && p.module >= MinModule:
		return 1 + reduced
	case !p.short && p.module >= MinModule:
		return 3 + reduced
	case p.short:
		return 5 + reduced
	}
	return 7 + reduced
}

// better reports whether p is a better choice than q: by tier, then the
// higher error correction level, then bigger modules, then a wider quiet
// zone.
func (p qrPlan) better(q qrPlan) bool {
	if p.tier() != q.tier() {
		return p.tier() < q.tier()
	}
	if p.level != q.level {
		return p.level > q.level
	}
	if p.module != q.module {
		return p.module > q.module
	}
	return p.quiet > q.quiet
}

// planQR picks how to draw v's QR code in a square avail pixels on a side:
// the best (qrPlan.better) of URI at level Medium and ShortURI at Medium
// or Low, each with the largest module that fits with the standard quiet
// zone or, failing that, the reduced one, and as much quiet zone as the
// square leaves, up to the standard. Low is for the short URI only: its
// version is what decides whether it fits a 64-pixel OLED at two pixels a
// module. ok is false when nothing fits even at one pixel a module.
func (r *Renderer) planQR(v Request, avail int) (best qrPlan, ok bool) {
	for _, c := range []struct {
		content string
		short   bool
		level   qrcode.RecoveryLevel
	}{{v.URI, false, qrcode.Medium}, {v.ShortURI, true, qrcode.Medium}, {v.ShortURI, true, qrcode.Low}} {
		if c.content == "" {
			continue
		}
		bits := r.qrBits(c.content, c.level)
		if bits == nil {
			continue
		}
		n := len(bits)
		for _, q := range []int{quietZone, reducedQuietZone} {
			m := avail / (n + 2*q)
			if m < 1 {
				continue
			}
			p := qrPlan{content: c.content, short: c.short, level: c.level, bits: bits, module: m,
				quiet: min(quietZone*m, (avail-n*m)/2)}
			if !ok || p.better(best) {
				best, ok = p, true
			}
		}
	}
	return best, ok
}

// drawQR draws p with its top-left corner at at: dark modules black, the
// quiet zone and light modules white, whatever the screen's theme.
func drawQR(c *canvas, p qrPlan, at image.Point) {
	c.fill(image.Rectangle{Min: at, Max: at.Add(image.Pt(p.side(), p.side()))}, white)
	m := p.module
	o := at.Add(image.Pt(p.quiet, p.quiet))
	for y, row := range p.bits {
		for x, dark := range row {
			if dark {
				c.fill(image.Rect(o.X+x*m, o.Y+y*m, o.X+(x+1)*m, o.Y+(y+1)*m), black)
			}
		}
	}
}

// RequestQR says how Request draws v's QR code: the pixels a module and
// whether it is the ShortURI's; module 0 when no QR code fits. It is the
// same plan Request draws, so a config check can say ahead of the first
// request what the screen will show (posd warns when a public_url makes
// the short link's code too dense: under MinModule pixels a module).
func (r *Renderer) RequestQR(v Request) (module int, short bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.layoutRequest(v)
	if !l.ok {
		return 0, false
	}
	return l.plan.module, l.plan.short
}
