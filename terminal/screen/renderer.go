package screen

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sync"
	"sync/atomic"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"showpos/terminal/locale"
	"showpos/terminal/memo"
)

// Size is a display's size in pixels and whether it shows only black and
// white.
type Size struct {
	W, H int
	Mono bool
}

func (s Size) String() string {
	kind := "colour"
	if s.Mono {
		kind = "mono"
	}
	return fmt.Sprintf("%d×%d %s", s.W, s.H, kind)
}

// The sizes New accepts. Below MinW×MinH a payment screen cannot say
// anything legible; above MaxSide the images get silly for a terminal.
const (
	MinW    = 96
	MinH    = 48
	MaxSide = 4096
)

// ErrSize is returned by New for a size it cannot draw for.
var ErrSize = errors.New("screen: unsupported display size")

// Renderer draws the terminal's screens for one display size. Make one with
// New; it is safe for concurrent use.
type Renderer struct {
	size  Size
	theme theme

	// Pixel sizes of the text roles, chosen in New to fit the display.
	margin, small, body, title int

	mu         sync.Mutex
	fonts      [numStyles]*opentype.Font
	faces      map[faceKey]*faceInfo
	qrMemo     *memo.Cache[string, [][]bool] // QR modules by content
	resultMemo *memo.Cache[resultKey, image.Image]
	// cut is what the last screen drawn cut or left out (see Cut).
	cut []string

	loc atomic.Pointer[locale.Locale] // nil: English
}

// SetLocale makes every screen drawn from now on speak l (the words the
// screens choose themselves: result titles, idle lines, hints). The
// caller's words (reasons, menu lines, amounts) are its own to translate.
func (r *Renderer) SetLocale(l locale.Locale) { r.loc.Store(&l) }

// words is the locale screens speak.
func (r *Renderer) words() locale.Locale {
	if l := r.loc.Load(); l != nil {
		return *l
	}
	return locale.English
}

// Cut returns the texts the last screen drawn could not show whole: cut
// with "…" at the smallest size the renderer shrinks text to, or left out
// for want of room. Empty: everything fitted. A result served from the
// memo (Result) reports what the screen drawn before it cut. It lets a
// test fail when a translation does not fit its screen.
func (r *Renderer) Cut() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cut...)
}

// New returns a Renderer for size, or ErrSize if size is below MinW×MinH or
// above MaxSide on a side. It parses the Go fonts once and picks text sizes
// that fit the display.
func New(size Size) (*Renderer, error) {
	if size.W < MinW || size.H < MinH || size.W > MaxSide || size.H > MaxSide {
		return nil, fmt.Errorf("%w: %v, want %d×%d to %d×%d", ErrSize, size, MinW, MinH, MaxSide, MaxSide)
	}
	r := &Renderer{size: size, faces: make(map[faceKey]*faceInfo),
		qrMemo: memo.New[string, [][]bool](qrMemoSize), resultMemo: memo.New[resultKey, image.Image](resultMemoSize)}
	for i, ttf := range [numStyles][]byte{regular: goregular.TTF, bold: gobold.TTF, mono: gomono.TTF, monoBold: gomonobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, fmt.Errorf("screen: parse font: %w", err)
		}
		r.fonts[i] = f
	}
	if size.Mono {
		r.theme = monoTheme
	} else {
		r.theme = colourTheme
	}
	// Body text: about 11 characters of "0" across 128 pixels is what a
	// 0.96" OLED shows legibly; taller screens stop growing the face at a
	// ninth of their height so that a menu still holds six lines or so.
	r.body = clamp(min(size.W/11, max(11, size.H/9)), 10, 48)
	r.small = max(9, r.body*4/5)
	r.title = r.body * 6 / 5
	r.margin = max(2, min(size.W, size.H)/32)
	return r, nil
}

// Size is the size the Renderer draws for.
func (r *Renderer) Size() Size { return r.size }

// theme is the colours of a screen. On a mono panel every colour is black
// or white.
type theme struct {
	bg, fg, muted      color.Color
	bannerBg, bannerFg color.Color
	online, offline    color.Color // the status word on the idle screen
	noticeBg, noticeFg color.Color
	warn               color.Color // a countdown about to run out
	result             [numResults]struct{ bg, fg color.Color }
}

// Colours are exactly representable in RGB565, what the TFT drivers send,
// so flat areas show as drawn.
var (
	black = color.RGBA{0x00, 0x00, 0x00, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
	navy  = color.RGBA{0x20, 0x30, 0x58, 0xff}
	green = color.RGBA{0x18, 0x88, 0x30, 0xff}
	amber = color.RGBA{0xf8, 0xa8, 0x00, 0xff}
	red   = color.RGBA{0xc8, 0x20, 0x20, 0xff}
	grey  = color.RGBA{0x58, 0x58, 0x58, 0xff}
	// darker amber for text on white: amber itself is too light to read.
	ochre = color.RGBA{0xb0, 0x68, 0x00, 0xff}
)

var colourTheme = theme{
	bg: white, fg: black, muted: grey,
	bannerBg: navy, bannerFg: white,
	online: green, offline: ochre,
	noticeBg: red, noticeFg: white,
	warn: red,
	result: [numResults]struct{ bg, fg color.Color }{
		ResultPaid:     {green, white},
		ResultAccepted: {amber, black},
		ResultRejected: {red, white},
		ResultSeen:     {amber, black},
	},
}

var monoTheme = theme{
	bg: white, fg: black, muted: black,
	bannerBg: black, bannerFg: white,
	online: black, offline: black,
	noticeBg: black, noticeFg: white,
	warn: black,
	result: [numResults]struct{ bg, fg color.Color }{
		ResultPaid:     {white, black},
		ResultAccepted: {white, black},
		ResultRejected: {black, white}, // inverted: unmistakable at a glance
		ResultSeen:     {white, black},
	},
}

// monoPalette is what a mono screen's *image.Paletted holds: index 0 is
// black (an unlit OLED pixel), 1 white.
var monoPalette = color.Palette{color.Gray{0x00}, color.Gray{0xff}}

// canvas is a screen being drawn: gray for a mono panel (thresholded when
// done), RGBA for colour.
type canvas struct {
	draw.Image
	mono bool
}

func (r *Renderer) newCanvas() *canvas {
	r.cut = r.cut[:0]
	rect := image.Rect(0, 0, r.size.W, r.size.H)
	c := &canvas{mono: r.size.Mono}
	if c.mono {
		c.Image = image.NewGray(rect)
	} else {
		c.Image = image.NewRGBA(rect)
	}
	c.fill(rect, r.theme.bg)
	return c
}

func (c *canvas) fill(rect image.Rectangle, col color.Color) {
	draw.Draw(c.Image, rect, image.NewUniform(col), image.Point{}, draw.Src)
}

// frame draws a rectangle's outline, t pixels thick, inside rect.
func (c *canvas) frame(rect image.Rectangle, t int, col color.Color) {
	c.fill(image.Rect(rect.Min.X, rect.Min.Y, rect.Max.X, rect.Min.Y+t), col)
	c.fill(image.Rect(rect.Min.X, rect.Max.Y-t, rect.Max.X, rect.Max.Y), col)
	c.fill(image.Rect(rect.Min.X, rect.Min.Y, rect.Min.X+t, rect.Max.Y), col)
	c.fill(image.Rect(rect.Max.X-t, rect.Min.Y, rect.Max.X, rect.Max.Y), col)
}

// done returns the finished image: a mono canvas thresholded at 50% into
// black and white.
func (c *canvas) done() image.Image {
	if !c.mono {
		return c.Image
	}
	g := c.Image.(*image.Gray)
	p := image.NewPaletted(g.Rect, monoPalette)
	for i, y := range g.Pix {
		if y >= 0x80 {
			p.Pix[i] = 1
		}
	}
	return p
}

type style int

const (
	regular style = iota
	bold
	mono
	monoBold
	numStyles
)

// boldBelow is the face size under which a mono screen draws regular text
// in bold: thresholded at 50%, a regular stroke thinner than a pixel
// vanishes where it falls between two.
const boldBelow = 13

type faceKey struct {
	style style
	px    int
}

// faceInfo is a face with its whole-pixel line metrics.
type faceInfo struct {
	font.Face
	px          int
	ascent, adv int // ascent and line advance in pixels
}

// face returns the style's face px pixels to the em, hinted to whole
// pixels (bold instead of regular for small text on a mono screen). r.mu
// is held.
func (r *Renderer) face(s style, px int) *faceInfo {
	if r.size.Mono && px < boldBelow {
		switch s {
		case regular:
			s = bold
		case mono:
			s = monoBold
		}
	}
	k := faceKey{s, px}
	if f, ok := r.faces[k]; ok {
		return f
	}
	f, err := opentype.NewFace(r.fonts[s], &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		// Only a nil font or a bad size fail, and neither happens here.
		panic(fmt.Sprintf("screen: face %v %dpx: %v", s, px, err))
	}
	m := f.Metrics()
	fi := &faceInfo{Face: f, px: px, ascent: m.Ascent.Ceil(), adv: m.Ascent.Ceil() + m.Descent.Ceil()}
	r.faces[k] = fi
	return fi
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }
