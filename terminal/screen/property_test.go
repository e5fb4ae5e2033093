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

// The request screen's QR code decodes to the URI (or, where the URI
// cannot fit at one pixel a module, to ShortURI), with the largest whole
// module size that fits the square it was given, measured on the pixels.
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
				if !l.ok {
					// Only legitimate when nothing fits at one pixel a module.
					side := min(s.H, s.W)
					for _, c := range []string{v.URI, v.ShortURI} {
						if c != "" && modulesOf(t, c)+2*reducedQuietZone <= side {
							t.Fatalf("no QR code, but %q fits %d pixels with a reduced quiet zone", c, side)
						}
					}
					return
				}
				want := v.URI
				if l.plan.short {
					want = v.ShortURI
					if n := modulesOf(t, v.URI) + 2*reducedQuietZone; n <= min(s.H, s.W) && s.W >= 2*n {
						t.Errorf("short URI shown though the full one (%d px at 1 px/module) fits", n)
					}
				}
				if l.plan.quiet != quietZone && modulesOf(t, l.plan.content)+2*quietZone <= min(s.W, s.H) {
					t.Errorf("reduced quiet zone though the standard one fits")
				}
				got, err := decodeQR(t, img, l.qr.Inset(-4*l.plan.module).Intersect(img.Bounds()))
				if err != nil || got != want {
					t.Fatalf("QR decodes to %q, %v; want %q", got, err, want)
				}
				// Measure the module: the top-left finder pattern is 7 modules
				// of dark pixels, starting after the quiet zone.
				n := modulesOf(t, want) + 2*l.plan.quiet
				if l.qr.Dx() != l.qr.Dy() || l.qr.Dx()%n != 0 {
					t.Fatalf("QR area %v is not %d whole modules square", l.qr, n)
				}
				m := l.qr.Dx() / n
				x0, y0 := l.qr.Min.X+l.plan.quiet*m, l.qr.Min.Y+l.plan.quiet*m
				run := 0
				for x := x0; x < l.qr.Max.X && dark(img.At(x, y0)); x++ {
					run++
				}
				if dark(img.At(x0-1, y0)) || run != 7*m {
					t.Fatalf("finder pattern is %d pixels wide, want 7 modules of %d", run, m)
				}
				// The largest that fits: one more pixel a module would not fit
				// the square the layout offered (the whole height beside the
				// text, or the width above it).
				avail := min(s.H, s.W-s.W/4)
				if !l.beside {
					avail = min(s.W, s.H-l.text.Dy())
				}
				if n*(m+1) <= avail {
					t.Errorf("module %d px, but %d px fit in %d", m, m+1, avail)
				}
				if !l.qr.In(img.Bounds()) || l.qr.Overlaps(l.text) {
					t.Errorf("QR %v leaves the screen or overlaps the text %v", l.qr, l.text)
				}
			})
		}
	}
}

func dark(c color.Color) bool { return color.GrayModel.Convert(c).(color.Gray).Y < 0x80 }

// On the 128×64 OLED: the full native URI (53 modules) fits with the
// standard quiet zone; a 57-module URI only with the reduced one; the full
// ERC-20 URI (61 modules) not at all, so its short URI is shown; without a
// short URI the screen says so.
func TestRequestOLEDFallbacks(t *testing.T) {
	r := mustNew(t, Size{128, 64, true})
	mid := nativeRequest
	mid.URI = strings.Replace(nativeURI, "10.0.0.5", "pos17.cafe-lumiere.example", 1)
	if n := modulesOf(t, mid.URI); n != 57 {
		t.Fatalf("test URI has %d modules, want 57", n)
	}
	noShort := erc20Request
	noShort.ShortURI = ""
	for _, c := range []struct {
		name          string
		v             Request
		ok, short     bool
		quiet, decode int
	}{
		{"native", nativeRequest, true, false, quietZone, 0},
		{"57 modules", mid, true, false, reducedQuietZone, 0},
		{"erc20", erc20Request, true, true, quietZone, 0},
		{"erc20 without short", noShort, false, false, 0, 0},
	} {
		r.mu.Lock()
		l := r.layoutRequest(c.v)
		r.mu.Unlock()
		if l.ok != c.ok || l.plan.short != c.short || l.plan.quiet != c.quiet || (l.ok && l.plan.module != 1) {
			t.Errorf("%s: ok %v short %v quiet %d module %d; want ok %v short %v quiet %d module 1",
				c.name, l.ok, l.plan.short, l.plan.quiet, l.plan.module, c.ok, c.short, c.quiet)
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
