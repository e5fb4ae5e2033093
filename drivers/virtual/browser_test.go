package virtual

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"showpos/device"
	"showpos/tools/browser"
)

// selftestResult is what the page's ?selftest=1 reports (web/page.js).
type selftestResult struct {
	Error   string `json:"error"`
	Origin  string `json:"origin"`
	Buttons []struct {
		Key, ID, Text string
	} `json:"buttons"`
	Screen struct {
		Width, Height           int
		ShownWidth, ShownHeight int
		Rendering               string
	} `json:"screen"`
	Before, After struct {
		Version uint64    `json:"version"`
		Pixels  [][]uint8 `json:"pixels"`
	}
	Posts     []int    `json:"posts"`
	Conn      string   `json:"conn"`
	Resources []string `json:"resources"`
}

var (
	red   = color.RGBA{0xFF, 0, 0, 0xFF}
	blue  = color.RGBA{0, 0, 0xFF, 0xFF}
	green = color.RGBA{0, 0xFF, 0, 0xFF}
	white = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
)

func rgba(c color.RGBA) []uint8 { return []uint8{c.R, c.G, c.B, c.A} }

// TestPageInRealBrowser loads the page in headless Chromium with every
// host but 127.0.0.1 unresolvable, and checks through the browser that it
// is complete offline, shows what was drawn, follows a new Draw live, and
// that its buttons and the keyboard reach ReadKey in order.
func TestPageInRealBrowser(t *testing.T) {
	tab := browser.New(t)
	b := newBoard(t, &Opts{Width: 320, Height: 240})
	d := b.Display()
	// Before: red left half, blue right half.
	d.Draw(d.Bounds(), image.NewUniform(red), image.Point{})
	d.Draw(image.Rect(160, 0, 320, 240), image.NewUniform(blue), image.Point{})

	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()

	// The terminal: three keys, then a new screen (green, one white pixel
	// at (5,5)) that the page must pick up by itself.
	terminal := make(chan []device.Key, 1)
	go func() {
		var keys []device.Key
		for range 3 {
			k, err := b.Keypad().ReadKey(ctx)
			if err != nil {
				break
			}
			keys = append(keys, k)
		}
		d.Draw(d.Bounds(), image.NewUniform(green), image.Point{})
		d.Draw(image.Rect(5, 5, 6, 6), image.NewUniform(white), image.Point{})
		terminal <- keys
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate(b.URL()+"?selftest=1&probe=10,10;300,200;5,5&click=1,2,enter&wait=1")); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[selftestResult]("window.selftest", chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != "" {
		t.Fatalf("page self-test: %s", res.Error)
	}
	t.Logf("self-test: %+v", res)

	// Offline: everything the page loaded came from the board.
	origin := strings.TrimSuffix(b.URL(), "/")
	if res.Origin != origin {
		t.Errorf("page origin %s, want %s", res.Origin, origin)
	}
	for _, u := range res.Resources {
		if !strings.HasPrefix(u, origin+"/") {
			t.Errorf("page loaded %s from elsewhere", u)
		}
	}

	// Every key has its button, named by device.Key.String.
	var keys []string
	for _, btn := range res.Buttons {
		keys = append(keys, btn.Key)
		if btn.ID != "key-"+btn.Key {
			t.Errorf("button %q has id %q", btn.Key, btn.ID)
		}
	}
	for _, k := range allKeys() {
		if !slices.Contains(keys, k.String()) {
			t.Errorf("no button for key %q", k)
		}
	}
	if len(keys) != len(allKeys()) {
		t.Errorf("buttons %q, want one for each of %d keys", keys, len(allKeys()))
	}

	// Clicking 1, 2, Enter reached the terminal in order.
	select {
	case got := <-terminal:
		if want := []device.Key{device.Key1, device.Key2, device.KeyEnter}; !slices.Equal(got, want) {
			t.Errorf("ReadKey got %v, want %v", got, want)
		}
	case <-ctx.Done():
		t.Fatal("the terminal read no keys")
	}
	if !slices.Equal(res.Posts, []int{204, 204, 204}) {
		t.Errorf("key POSTs answered %v", res.Posts)
	}

	// The screen the page showed, read back through a canvas: first what
	// was drawn before it loaded, then the new screen pushed by SSE.
	if want := [][]uint8{rgba(red), rgba(blue), rgba(red)}; !slices.EqualFunc(res.Before.Pixels, want, slices.Equal) {
		t.Errorf("page showed %v at (10,10) (300,200) (5,5), want %v", res.Before.Pixels, want)
	}
	if want := [][]uint8{rgba(green), rgba(green), rgba(white)}; !slices.EqualFunc(res.After.Pixels, want, slices.Equal) {
		t.Errorf("after the new Draw the page showed %v, want %v", res.After.Pixels, want)
	}
	if res.Conn != "live" {
		t.Errorf("page updates by %q, want live (SSE)", res.Conn)
	}
	if s := res.Screen; s.Width != 320 || s.Height != 240 || s.ShownWidth != 640 || s.ShownHeight != 480 || s.Rendering != "pixelated" {
		t.Errorf("screen shown as %+v, want 320×240 at 2× pixelated", s)
	}

	// What a person sees: in a screenshot, the screen is all green but for
	// the drawn pixel (5,5), now a crisp 2×2 white block: no blur, no other
	// colour anywhere (the rim is skipped: the box may sit at a fraction of
	// a pixel).
	rect, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ X, Y, Width, Height float64 }](
		`(() => { const r = document.getElementById("screen").getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SHOWPOS_SCREENSHOT_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "virtual-page.png"), shot, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	x0, y0 := int(math.Round(rect.X)), int(math.Round(rect.Y))
	inner := image.Rect(x0+2, y0+2, x0+int(rect.Width)-2, y0+int(rect.Height)-2).Intersect(img.Bounds())
	if inner.Dx() < 600 || inner.Dy() < 400 {
		t.Fatalf("screen at %+v is not in the %v screenshot", rect, img.Bounds())
	}
	var whites []image.Point
	others := 0
	for y := inner.Min.Y; y < inner.Max.Y; y++ {
		for x := inner.Min.X; x < inner.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch c := (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xFF}); c {
			case green:
			case white:
				whites = append(whites, image.Pt(x-x0, y-y0))
			default:
				if others++; others <= 5 {
					t.Errorf("screenshot: %v at screen+(%d,%d)", c, x-x0, y-y0)
				}
			}
		}
	}
	if len(whites) != 4 || whites[3].Sub(whites[0]) != image.Pt(1, 1) ||
		whites[0].X < 9 || whites[0].X > 11 || whites[0].Y < 9 || whites[0].Y > 11 {
		t.Errorf("screenshot: white pixels at %v, want a 2×2 block near (10,10)", whites)
	}

	// The computer's keyboard works too (kb sends each key's DOM key and
	// code, and its Windows key code: 7 is "7", "Digit7", 0x37).
	for _, k := range []struct {
		key, keys string
		want      device.Key
	}{
		{"7", "7", device.Key7},
		{".", ".", device.KeyDot},
		{"Enter", kb.Enter, device.KeyEnter},
		{"Escape", kb.Escape, device.KeyCancel},
		{"Backspace", kb.Backspace, device.KeyBackspace},
		{"Delete", kb.Delete, device.KeyClear},
		{"F1", kb.F1, device.KeyF1},
		{"F4", kb.F4, device.KeyF4},
	} {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k.keys)); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Keypad().ReadKey(ctx); err != nil || got != k.want {
			t.Errorf("keyboard %s: ReadKey = %v, %v; want %v", k.key, got, err, k.want)
		}
	}

	// Without SSE the page polls, and still follows the screen.
	go func() {
		if k, err := b.Keypad().ReadKey(ctx); err == nil && k == device.Key3 {
			d.Draw(d.Bounds(), image.NewUniform(blue), image.Point{})
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.URL()+"?selftest=1&sse=0&probe=5,5&click=3&wait=1")); err != nil {
		t.Fatal(err)
	}
	polled, err := chromedp.Run(ctx, chromedp.Evaluate[selftestResult]("window.selftest", chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if polled.Error != "" || polled.Conn != "polling" || len(polled.After.Pixels) != 1 || !slices.Equal(polled.After.Pixels[0], rgba(blue)) {
		t.Errorf("polling page: %+v, want mode polling and a blue screen after the Draw", polled)
	}

	// A signal lights the LED and shows the beep.
	b.Indicator().Signal(ctx, device.SignalAccepted)
	var led string
	for led != "accepted" && ctx.Err() == nil {
		led, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("led").dataset.signal + " " + document.getElementById("beep").textContent`))
		if strings.HasPrefix(led, "accepted beep") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(led, "accepted beep") {
		t.Errorf("LED and beep show %q after SignalAccepted", led)
	}
}
