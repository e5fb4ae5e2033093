package screen

import (
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// Quiet zones, in modules: the standard one, and the reduced one used only
// when the standard one cannot fit at one pixel a module.
const (
	quietZone        = 4
	reducedQuietZone = 2
)

// qrMemoSize is how many QR codes' modules are kept for the next frame:
// the request screen is redrawn every second for its countdown, with the
// same URI.
const qrMemoSize = 4

// qrBits returns content's modules at error correction level Medium (as
// request.QR draws them), without quiet zone, or nil if content is too long
// for a QR code.
func (r *Renderer) qrBits(content string) [][]bool {
	if bits, ok := r.qrMemo.Get(content); ok {
		return bits
	}
	var bits [][]bool
	if q, err := qrcode.New(content, qrcode.Medium); err == nil {
		q.DisableBorder = true
		bits = q.Bitmap()
	}
	r.qrMemo.Put(content, bits)
	return bits
}

// qrPlan is how a QR code is drawn: which content, quiet zone and module
// size, and so how many pixels square.
type qrPlan struct {
	content string
	short   bool // content is the ShortURI
	bits    [][]bool
	quiet   int // modules of quiet zone on each side
	module  int // pixels per module
}

// side is the plan's size in pixels, quiet zone included.
func (p qrPlan) side() int { return (len(p.bits) + 2*p.quiet) * p.module }

// better reports whether p is a better choice than q: the full URI over
// the short one, then the standard quiet zone, then bigger modules.
func (p qrPlan) better(q qrPlan) bool {
	if p.short != q.short {
		return !p.short
	}
	if p.quiet != q.quiet {
		return p.quiet > q.quiet
	}
	return p.module > q.module
}

// planQR picks how to draw v's QR code in a square avail pixels on a side:
// the first of URI with a 4-module quiet zone, URI with 2, ShortURI with 4,
// ShortURI with 2 that fits at one pixel a module or more, with the largest
// whole module size that fits. ok is false when none fits.
func (r *Renderer) planQR(v Request, avail int) (qrPlan, bool) {
	for _, c := range []struct {
		content string
		short   bool
	}{{v.URI, false}, {v.ShortURI, true}} {
		if c.content == "" {
			continue
		}
		bits := r.qrBits(c.content)
		if bits == nil {
			continue
		}
		for _, quiet := range []int{quietZone, reducedQuietZone} {
			if m := avail / (len(bits) + 2*quiet); m >= 1 {
				return qrPlan{content: c.content, short: c.short, bits: bits, quiet: quiet, module: m}, true
			}
		}
	}
	return qrPlan{}, false
}

// drawQR draws p with its top-left corner at at: dark modules black, the
// quiet zone and light modules white, whatever the screen's theme.
func drawQR(c *canvas, p qrPlan, at image.Point) {
	c.fill(image.Rectangle{Min: at, Max: at.Add(image.Pt(p.side(), p.side()))}, white)
	m := p.module
	o := at.Add(image.Pt(p.quiet*m, p.quiet*m))
	for y, row := range p.bits {
		for x, dark := range row {
			if dark {
				c.fill(image.Rect(o.X+x*m, o.Y+y*m, o.X+(x+1)*m, o.Y+(y+1)*m), black)
			}
		}
	}
}
