package screen

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

// allSizes adds the smallest size New takes and a large simulator.
var allSizes = append(append([]Size{}, sizes...), Size{96, 48, true}, Size{96, 48, false}, Size{480, 320, false}, Size{240, 320, false})

func TestNewRefusesSizes(t *testing.T) {
	for _, s := range []Size{{95, 64, true}, {128, 47, true}, {0, 0, false}, {5000, 240, false}} {
		if _, err := New(s); !errors.Is(err, ErrSize) {
			t.Errorf("New(%v) = %v, want ErrSize", s, err)
		}
	}
}

// Every screen is exactly the display's size; a mono one is a
// black-and-white *image.Paletted, a colour one an *image.RGBA.
func TestScreensAreDisplaySizedAndMonoIsBlackAndWhite(t *testing.T) {
	for _, s := range allSizes {
		r := mustNew(t, s)
		for _, sc := range screens {
			img := sc.draw(r)
			if got, want := img.Bounds(), image.Rect(0, 0, s.W, s.H); got != want {
				t.Errorf("%s %v: bounds %v, want %v", sc.name, s, got, want)
			}
			if !s.Mono {
				if _, ok := img.(*image.RGBA); !ok {
					t.Errorf("%s %v: %T, want *image.RGBA", sc.name, s, img)
				}
				continue
			}
			p, ok := img.(*image.Paletted)
			if !ok {
				t.Errorf("%s %v: %T, want *image.Paletted", sc.name, s, img)
				continue
			}
			for y := 0; y < s.H; y++ {
				for x := 0; x < s.W; x++ {
					if g := color.GrayModel.Convert(p.At(x, y)).(color.Gray).Y; g != 0 && g != 0xff {
						t.Fatalf("%s %v: pixel (%d,%d) is gray %d", sc.name, s, x, y, g)
					}
				}
			}
		}
	}
}

// modulesOf is content's QR code side in modules, without quiet zone,
// as skip2/go-qrcode encodes it at level Medium.
func modulesOf(t *testing.T, content string) int {
	t.Helper()
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	return 17 + 4*q.VersionNumber
}

// decodeQR reads the QR code in img within rect (the code and what
// surrounds it on screen), scaled up so that the decoder's binarizer sees
// whole modules, with a white border where rect meets the screen's edge.
func decodeQR(t *testing.T, img image.Image, rect image.Rectangle) (string, error) {
	t.Helper()
	const k = 4
	big := image.NewGray(image.Rect(0, 0, rect.Dx()*k+16*k, rect.Dy()*k+16*k))
	for i := range big.Pix {
		big.Pix[i] = 0xff
	}
	for y := 0; y < rect.Dy()*k; y++ {
		for x := 0; x < rect.Dx()*k; x++ {
			big.Set(8*k+x, 8*k+y, img.At(rect.Min.X+x/k, rect.Min.Y+y/k))
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(big)
	if err != nil {
		return "", err
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// The request screen's QR code decodes to what its plan shows: the full
// URI wherever it fits beside the text at FullMinModule pixels a module
// with the standard quiet zone, else ShortURI; at MinModule pixels a module or
// more wherever the short URI fits so; with the largest whole module and
// as much quiet zone (all white, inside the screen) as fit the square the
// layout gave it, measured on the pixels.
func TestRequestQR(t *testing.T) {
	reqs := map[string]Request{"native": nativeRequest, "erc20": erc20Request,
		"no-short": {URI: nativeURI, Amount: "0.01", Asset: "ETH", Remaining: time.Minute},
		"tiny":     {URI: "ethereum:0x70997970C51812dc3A010C7d01b50e0d17dc79C8@1?value=1", Amount: "1", Asset: "wei"},
	}
	for _, s := range allSizes {
		r := mustNew(t, s)
		for name, v := range reqs {
			t.Run(fmt.Sprintf("%s_%dx%d", name, s.W, s.H), func(t *testing.T) {
				img := r.Request(v)
				r.mu.Lock()
				l := r.layoutRequest(v)
				r.mu.Unlock()
				beside := min(s.H, s.W-s.W/4) // the square the layout offers beside the text
				if !l.ok {
					// Only legitimate when nothing fits at one pixel a module.
					side := min(s.H, s.W)
					for _, c := range []string{v.URI, v.ShortURI} {
						if c != "" && modulesAt(t, c, qrcode.Low)+2*reducedQuietZone <= side {
							t.Fatalf("no QR code, but %q fits %d pixels with a reduced quiet zone", c, side)
						}
					}
					return
				}
				p := l.plan
				want := v.URI
				if p.short {
					want = v.ShortURI
					if (modulesOf(t, v.URI)+2*quietZone)*FullMinModule <= beside {
						t.Errorf("short URI shown though the full one fits at %d px/module", FullMinModule)
					}
				} else if v.ShortURI != "" && p.module < FullMinModule && (modulesAt(t, v.ShortURI, qrcode.Low)+2*reducedQuietZone)*MinModule <= beside {
					t.Errorf("full URI shown at %d px/module, though the short one fits at %d", p.module, MinModule)
				}
				if v.ShortURI != "" && (modulesAt(t, v.ShortURI, qrcode.Low)+2*reducedQuietZone)*MinModule <= beside && p.module < MinModule {
					t.Errorf("%d px/module, though the short URI fits at %d", p.module, MinModule)
				}
				got, err := decodeQR(t, img, l.qr.Inset(-4*p.module).Intersect(img.Bounds()))
				if err != nil || got != want {
					t.Fatalf("QR decodes to %q, %v; want %q", got, err, want)
				}
				// Measure: the QR area is white but for the code, which
				// starts with the top-left finder pattern (7 modules of dark
				// pixels) after the quiet zone, the same on every side.
				n := modulesAt(t, want, p.level)
				if l.qr.Dx() != l.qr.Dy() || l.qr.Dx() != n*p.module+2*p.quiet {
					t.Fatalf("QR area %v is not %d modules of %d px and 2×%d px of quiet zone", l.qr, n, p.module, p.quiet)
				}
				code := image.Rect(0, 0, n*p.module, n*p.module).Add(l.qr.Min).Add(image.Pt(p.quiet, p.quiet))
				for y := l.qr.Min.Y; y < l.qr.Max.Y; y++ {
					for x := l.qr.Min.X; x < l.qr.Max.X; x++ {
						if !image.Pt(x, y).In(code) && dark(img.At(x, y)) {
							t.Fatalf("dark pixel (%d,%d) in the quiet zone", x, y)
						}
					}
				}
				m, run := p.module, 0
				for x := code.Min.X; x < code.Max.X && dark(img.At(x, code.Min.Y)); x++ {
					run++
				}
				if run != 7*m {
					t.Fatalf("finder pattern is %d pixels wide, want 7 modules of %d", run, m)
				}
				if p.quiet < reducedQuietZone*m || p.quiet > quietZone*m {
					t.Errorf("quiet zone %d px at %d px/module", p.quiet, m)
				}
				// The largest that fits: one more pixel a module would not fit
				// the square the layout offered (the whole height beside the
				// text, or the width above it), with the quiet zone chosen.
				avail := beside
				if !l.beside {
					avail = min(s.W, s.H-l.text.Dy())
				}
				q := quietZone
				if p.quietModules() < quietZone {
					q = reducedQuietZone
					if (n+2*quietZone)*m <= avail && m >= MinModule {
						t.Errorf("reduced quiet zone though the standard one fits at %d px/module", m)
					}
				}
				if (n+2*q)*(m+1) <= avail {
					t.Errorf("module %d px, but %d px fit in %d", m, m+1, avail)
				}
				if !l.qr.In(img.Bounds()) || l.qr.Overlaps(l.text) {
					t.Errorf("QR %v leaves the screen or overlaps the text %v", l.qr, l.text)
				}
			})
		}
	}
}

// modulesAt is content's QR code side in modules, without quiet zone, as
// skip2/go-qrcode encodes it at lvl.
func modulesAt(t *testing.T, content string, lvl qrcode.RecoveryLevel) int {
	t.Helper()
	q, err := qrcode.New(content, lvl)
	if err != nil {
		t.Fatal(err)
	}
	return 17 + 4*q.VersionNumber
}

func dark(c color.Color) bool { return color.GrayModel.Convert(c).(color.Gray).Y < 0x80 }

// On the 128×64 OLED the short link (25 modules at level M, or at L for a
// longer public_url) is drawn at two pixels a module with 7 pixels (3.5
// modules) of quiet zone; a short link too long for that at any level
// falls back to one pixel a module (still the short link: the smaller
// code); without a short link the full native
// URI (53 modules) is drawn at one pixel a module, and the full ERC-20
// URI (61 modules) not at all: the screen says so.
func TestRequestOLEDShowsTheShortLinkAtTwoPixelsAModule(t *testing.T) {
	r := mustNew(t, Size{128, 64, true})
	long := nativeRequest
	long.ShortURI = "HTTPS://POS17.CAFE-LUMIERE.EXAMPLE/R/008J4CT4"
	tooLong := nativeRequest
	tooLong.ShortURI = "https://shop.example/terminals/pos17/R/008J4CT4"
	noShort := nativeRequest
	noShort.ShortURI = ""
	erc20NoShort := erc20Request
	erc20NoShort.ShortURI = ""
	for _, c := range []struct {
		name          string
		v             Request
		ok, short     bool
		level         qrcode.RecoveryLevel
		module, quiet int
	}{
		{"native", nativeRequest, true, true, qrcode.Medium, 2, 7},
		{"erc20", erc20Request, true, true, qrcode.Medium, 2, 7},
		{"long public_url", long, true, true, qrcode.Low, 2, 7},
		{"public_url with a path", tooLong, true, true, qrcode.Medium, 1, 4},
		{"native without short", noShort, true, false, qrcode.Medium, 1, 4},
		{"erc20 without short", erc20NoShort, false, false, 0, 0, 0},
	} {
		r.mu.Lock()
		l := r.layoutRequest(c.v)
		r.mu.Unlock()
		p := l.plan
		if l.ok != c.ok || (l.ok && (p.short != c.short || p.level != c.level || p.module != c.module || p.quiet != c.quiet)) {
			t.Errorf("%s: ok %v short %v level %d module %d quiet %d px; want ok %v short %v level %d module %d quiet %d px",
				c.name, l.ok, p.short, p.level, p.module, p.quiet, c.ok, c.short, c.level, c.module, c.quiet)
		}
		if !l.ok {
			continue
		}
		want := c.v.URI
		if c.short {
			want = c.v.ShortURI
		}
		img := r.Request(c.v)
		if got, err := decodeQR(t, img, l.qr.Inset(-4).Intersect(img.Bounds())); got != want {
			t.Errorf("%s: decodes to %q, %v; want %q", c.name, got, err, want)
		}
	}
}

// A word far wider than the screen is cut, never drawn off the edge: in
// every row, the margin strips along the left and right edges hold one
// colour only (the background or a banner's), so no ink reached them.
func TestLongWordsStayOnScreen(t *testing.T) {
	word := strings.Repeat("W", 60)
	for _, s := range allSizes {
		r := mustNew(t, s)
		m := r.margin
		for name, img := range map[string]image.Image{
			"idle":     r.Idle(Idle{Merchant: word, Online: true}),
			"notice":   r.Idle(Idle{Merchant: word, Notice: word + " " + word}),
			"amount":   r.Amount(Amount{Entry: word, Asset: word, Hint: word}),
			"request":  r.Request(Request{URI: nativeURI, ShortURI: nativeShort, Amount: word, Asset: word}),
			"paid":     r.Result(Result{Kind: ResultPaid, Reason: word}),
			"accepted": r.Result(Result{Kind: ResultAccepted, Reason: word}),
			"rejected": r.Result(Result{Kind: ResultRejected, Reason: word + " " + word}),
			"menu":     r.Menu(Menu{Title: word, Lines: []string{word, word}, Hint: word}),
		} {
			for y := 0; y < s.H; y++ {
				for _, strip := range [][2]int{{0, m}, {s.W - m, s.W}} {
					for x := strip[0] + 1; x < strip[1]; x++ {
						if !sameColour(img.At(x, y), img.At(strip[0], y)) {
							t.Errorf("%s %v: ink in the edge strip at (%d,%d)", name, s, x, y)
							goto next
						}
					}
				}
			}
		next:
		}
	}
}

func sameColour(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2
}

func TestCountdown(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{5 * time.Minute, "5:00"}, {4*time.Minute + 59*time.Second, "4:59"}, {4*time.Minute + 58*time.Second + time.Millisecond, "4:59"},
		{time.Millisecond, "0:01"}, {0, "0:00"}, {-time.Second, "0:00"}, {time.Hour + 2*time.Second, "1:00:02"}} {
		if got := countdown(c.d); got != c.want {
			t.Errorf("countdown(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
