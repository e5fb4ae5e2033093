package screen

import (
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// Quiet zones, in modules: the standard one, and the least one drawn when
// the standard one does not fit at MinModule pixels a module. The quiet
// zone is drawn inside the panel: past the panel's edge is its dark bezel,
// which a decoder takes for modules.
const (
	quietZone        = 4
	reducedQuietZone = 2
)

// MinModule is the fewest pixels a module the request screen draws when
// any plan allows it. At one pixel a module a 0.96" OLED's modules are
// 0.17 mm, about one camera pixel of a phone's preview at 20 cm, and they
// do not decode once blurred (measured: qr_camera_test.go); at two they
// do.
const MinModule = 2

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

// tier ranks what a plan shows, best first: the full URI with its
// standard quiet zone at MinModule pixels or more (what every screen
// shows when it fits); then the short URI, standard, then reduced quiet
// zone; then the full URI with a reduced one (a screen without a short
// URI); then, where nothing fits at MinModule, one pixel a module: the
// short URI before the full one (fewer modules, so the smaller code of
// the two, which a camera resolves more easily), standard quiet zone
// before reduced.
func (p qrPlan) tier() int {
	standard := p.quietModules() >= quietZone
	if p.module >= MinModule {
		switch {
		case !p.short && standard:
			return 0
		case p.short && standard:
			return 1
		case p.short:
			return 2
		default:
			return 3
		}
	}
	t := 4
	if !p.short {
		t += 2
	}
	if !standard {
		t++
	}
	return t
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
