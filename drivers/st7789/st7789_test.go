package st7789

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"slices"
	"strings"
	"testing"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

// initScript is what New must send for a panel whose whole glass is RAM
// columns x0..x1 and rows y0..y1 at the chosen MADCTL, before any Draw.
func initScript(madctl, inv byte, x0, x1, y0, y1, chunk int) script {
	black := make([]byte, (x1-x0+1)*(y1-y0+1)*2)
	return script{}.
		cmd(0x01).         // SWRESET
		cmd(0x11).         // SLPOUT
		cmd(0x3A, 0x55).   // COLMOD: RGB565
		cmd(0x36, madctl). // MADCTL
		cmd(inv).          // INVON / INVOFF
		cmd(0x13).         // NORON
		window(x0, x1, y0, y1).
		data(black, chunk).
		cmd(0x29) // DISPON
}

// initEvents is the order of reset, sleeps and command bytes in New.
func initEvents(withRST bool, madctlEtc ...string) []string {
	var e []string
	if withRST {
		e = append(e, "RST Low", "sleep 10µs", "RST High", "sleep 120ms")
	}
	return append(e, "cmd 01", "sleep 120ms", "cmd 11", "sleep 120ms",
		"cmd 3A", "cmd 36", "cmd 21", "cmd 13", "cmd 2A", "cmd 2B", "cmd 2C", "cmd 29")
}

func newDev(t *testing.T, b *bench, withRST bool, o Opts) *Dev {
	t.Helper()
	o.Sleep = b.sleep
	var rst gpio.PinOut
	if withRST {
		rst = b.rstPin()
	}
	d, err := New(b.port(), b.dcPin(), rst, &o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNewInitSequence(t *testing.T) {
	b := newBench(0)
	d := newDev(t, b, true, DefaultOpts)
	xfers, events := b.take()
	checkXfers(t, xfers, initScript(0x00, 0x21, 0, 239, 0, 239, 4096))
	if want := initEvents(true); !slices.Equal(events, want) {
		t.Errorf("events:\n got %q\nwant %q", events, want)
	}
	if b.hz != 40*physic.MegaHertz || b.mode != spi.Mode0 {
		t.Errorf("Connect(%v, %v), want 40MHz, mode 0", b.hz, b.mode)
	}
	if got, want := d.String(), "st7789.Dev{fakespi, dc=DC, 240x240}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if d.Bounds() != image.Rect(0, 0, 240, 240) {
		t.Errorf("Bounds() = %v", d.Bounds())
	}
}

func TestNewWithoutResetPin(t *testing.T) {
	for _, rst := range []gpio.PinOut{nil, gpio.INVALID} {
		b := newBench(0)
		o := DefaultOpts
		o.Sleep = b.sleep
		if _, err := New(b.port(), b.dcPin(), rst, &o); err != nil {
			t.Fatal(err)
		}
		_, events := b.take()
		if want := initEvents(false); !slices.Equal(events, want) {
			t.Errorf("rst %v: events:\n got %q\nwant %q", rst, events, want)
		}
	}
}

func TestNewInvertOffAndSPIOptions(t *testing.T) {
	b := newBench(0)
	newDev(t, b, false, Opts{W: 240, H: 240, MaxHz: 62500 * physic.KiloHertz, Mode: spi.Mode3})
	xfers, _ := b.take()
	checkXfers(t, xfers, initScript(0x00, 0x20, 0, 239, 0, 239, 4096))
	if b.hz != 62500*physic.KiloHertz || b.mode != spi.Mode3 {
		t.Errorf("Connect(%v, %v), want 62.5MHz, mode 3", b.hz, b.mode)
	}
}

// rgbw is a 2×2 picture: red, green / blue, white.
func rgbw() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{0xFF, 0, 0, 0xFF})
	img.Set(1, 0, color.RGBA{0, 0xFF, 0, 0xFF})
	img.Set(0, 1, color.RGBA{0, 0, 0xFF, 0xFF})
	img.Set(1, 1, color.White)
	return img
}

// The same four pixels in RGB565, high byte first.
var rgbwBytes = []byte{0xF8, 0x00, 0x07, 0xE0, 0x00, 0x1F, 0xFF, 0xFF}

func TestDraw2x2AtOffsets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Opts
		madctl byte
		glass  [4]int // RAM x0, x1, y0, y1 of the whole glass
		at     [4]int // RAM x0, x1, y0, y1 of the 2×2 at (10,20)
	}{
		{"240x240", Opts{W: 240, H: 240}, 0x00, [4]int{0, 239, 0, 239}, [4]int{10, 11, 20, 21}},
		{"240x240 glass at rows 80..319", Opts{W: 240, H: 240, YOffset: 80}, 0x00, [4]int{0, 239, 80, 319}, [4]int{10, 11, 100, 101}},
		{"240x240 rotated 90", Opts{W: 240, H: 240, Rotation: 90}, 0x60, [4]int{0, 239, 0, 239}, [4]int{10, 11, 20, 21}},
		// Mirrored rows: the glass's rows 0..239 are addresses 80..319.
		{"240x240 rotated 180", Opts{W: 240, H: 240, Rotation: 180}, 0xC0, [4]int{0, 239, 80, 319}, [4]int{10, 11, 100, 101}},
		{"240x240 rotated 270", Opts{W: 240, H: 240, Rotation: 270}, 0xA0, [4]int{80, 319, 0, 239}, [4]int{90, 91, 20, 21}},
		{"135x240 at (52,40)", Opts{W: 135, H: 240, XOffset: 52, YOffset: 40}, 0x00, [4]int{52, 186, 40, 279}, [4]int{62, 63, 60, 61}},
		{"135x240 at (52,40) rotated 90", Opts{W: 240, H: 135, Rotation: 90, XOffset: 52, YOffset: 40}, 0x60, [4]int{40, 279, 53, 187}, [4]int{50, 51, 73, 74}},
		{"BGR panel", Opts{W: 240, H: 240, BGR: true}, 0x08, [4]int{0, 239, 0, 239}, [4]int{10, 11, 20, 21}},
		{"BGR panel rotated 90", Opts{W: 240, H: 240, BGR: true, Rotation: 90}, 0x68, [4]int{0, 239, 0, 239}, [4]int{10, 11, 20, 21}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(0)
			tc.opts.Invert = true
			d := newDev(t, b, false, tc.opts)
			g := tc.glass
			xfers, _ := b.take()
			checkXfers(t, xfers, initScript(tc.madctl, 0x21, g[0], g[1], g[2], g[3], 4096))

			if err := d.Draw(image.Rect(10, 20, 12, 22), rgbw(), image.Point{}); err != nil {
				t.Fatal(err)
			}
			a := tc.at
			xfers, _ = b.take()
			checkXfers(t, xfers, script{}.window(a[0], a[1], a[2], a[3]).data(rgbwBytes, 4096))
		})
	}
}

// A 320×240 module is portrait RAM turned 90°: CASET spans 0..319.
func TestDraw320x240(t *testing.T) {
	for _, tc := range []struct {
		rotation int
		madctl   byte
	}{{90, 0x60}, {270, 0xA0}} {
		b := newBench(0)
		d := newDev(t, b, false, Opts{W: 320, H: 240, Rotation: tc.rotation, Invert: true})
		xfers, _ := b.take()
		// 153600 bytes of black: 37 transfers of 4096 and one of 2048.
		want := initScript(tc.madctl, 0x21, 0, 319, 0, 239, 4096)
		checkXfers(t, xfers, want)
		if n := len(want); want[n-2].W == nil || len(want[n-2].W) != 2048 {
			t.Fatalf("script: last pixel transfer is %d bytes", len(want[n-2].W))
		}
		if d.Bounds() != image.Rect(0, 0, 320, 240) {
			t.Errorf("Bounds() = %v", d.Bounds())
		}
		if err := d.Draw(image.Rect(300, 200, 302, 202), rgbw(), image.Point{}); err != nil {
			t.Fatal(err)
		}
		xfers, _ = b.take()
		checkXfers(t, xfers, script{}.
			cmd(0x2A, 0x01, 0x2C, 0x01, 0x2D). // columns 300..301
			cmd(0x2B, 0x00, 0xC8, 0x00, 0xC9). // rows 200..201
			cmd(0x2C).
			data(rgbwBytes, 4096))
	}
}

func TestNewRefusesBadOpts(t *testing.T) {
	for _, tc := range []struct {
		name string
		dc   bool
		opts Opts
		want string
	}{
		{"no D/C pin", false, DefaultOpts, "D/C pin is required"},
		{"landscape without rotation", true, Opts{W: 320, H: 240}, "needs rotation 90 or 270"},
		{"offset past RAM", true, Opts{W: 240, H: 240, YOffset: 81}, "does not fit"},
		{"odd rotation", true, Opts{W: 240, H: 240, Rotation: 45}, "invalid rotation 45"},
		{"no size", true, Opts{}, "invalid size 0x0"},
		{"negative offset", true, Opts{W: 240, H: 240, XOffset: -1}, "invalid offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(0)
			var dc gpio.PinOut
			if tc.dc {
				dc = b.dcPin()
			}
			tc.opts.Sleep = b.sleep
			_, err := New(b.port(), dc, nil, &tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New() error = %v, want one containing %q", err, tc.want)
			}
			if xfers, _ := b.take(); len(xfers) != 0 {
				t.Errorf("%d transfers before refusing", len(xfers))
			}
		})
	}
	b := newBench(0)
	if _, err := New(b.port(), gpio.INVALID, nil, nil); err == nil {
		t.Error("New with gpio.INVALID as D/C succeeded")
	}
}

// Pixel data is split at the port's MaxTxSize, rounded down to whole
// pixels, and never crosses a command.
func TestDrawChunksAtMaxTxSize(t *testing.T) {
	for _, tc := range []struct {
		maxTx int
		sizes []int
	}{
		{6, []int{6, 2}},
		{7, []int{6, 2}},
		{8, []int{8}},
		{4, []int{4, 4}},
		{0, []int{8}}, // undefined: 4096
	} {
		b := newBench(tc.maxTx)
		d := newDev(t, b, false, Opts{W: 240, H: 240})
		b.take()
		if err := d.Draw(image.Rect(10, 20, 12, 22), rgbw(), image.Point{}); err != nil {
			t.Fatal(err)
		}
		xfers, _ := b.take()
		var sizes []int
		var pix []byte
		for _, x := range xfers[5:] { // after CASET and RASET (each with data) and RAMWR
			sizes = append(sizes, len(x.W))
			pix = append(pix, x.W...)
		}
		if !slices.Equal(sizes, tc.sizes) || !bytes.Equal(pix, rgbwBytes) {
			t.Errorf("MaxTxSize %d: transfers %v of % X, want %v of % X", tc.maxTx, sizes, pix, tc.sizes, rgbwBytes)
		}
	}
}

func TestDrawClipsAndConverts(t *testing.T) {
	b := newBench(0)
	d := newDev(t, b, false, Opts{W: 240, H: 240})
	b.take()

	// Half outside on the right and bottom: only (239,239) goes out, from
	// the picture's top-left (red).
	if err := d.Draw(image.Rect(239, 239, 241, 241), rgbw(), image.Point{}); err != nil {
		t.Fatal(err)
	}
	xfers, _ := b.take()
	checkXfers(t, xfers, script{}.window(239, 239, 239, 239).data([]byte{0xF8, 0x00}, 4096))

	// Half outside on the left and top: only the picture's bottom-right
	// (white) lands at (0,0).
	if err := d.Draw(image.Rect(-1, -1, 1, 1), rgbw(), image.Point{}); err != nil {
		t.Fatal(err)
	}
	xfers, _ = b.take()
	checkXfers(t, xfers, script{}.window(0, 0, 0, 0).data([]byte{0xFF, 0xFF}, 4096))

	// Outside the screen, or an empty rectangle: nothing on the wire.
	for _, r := range []image.Rectangle{image.Rect(240, 0, 250, 10), {}} {
		if err := d.Draw(r, rgbw(), image.Point{}); err != nil {
			t.Fatal(err)
		}
	}
	// A source smaller than r: only what it covers.
	if err := d.Draw(image.Rect(0, 0, 10, 10), rgbw(), image.Pt(1, 1)); err != nil {
		t.Fatal(err)
	}
	xfers, _ = b.take()
	checkXfers(t, xfers, script{}.window(0, 0, 0, 0).data([]byte{0xFF, 0xFF}, 4096))

	// Any image type gives the same bytes: NRGBA and paletted take the
	// generic path, a Uniform its own.
	nrgba := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	draw.Draw(nrgba, nrgba.Rect, rgbw(), image.Point{}, draw.Src)
	pal := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.RGBA{0xFF, 0, 0, 0xFF}, color.RGBA{0, 0xFF, 0, 0xFF}, color.RGBA{0, 0, 0xFF, 0xFF}, color.White})
	pal.Pix = []uint8{0, 1, 2, 3}
	for _, src := range []image.Image{nrgba, pal} {
		if err := d.Draw(image.Rect(10, 20, 12, 22), src, image.Point{}); err != nil {
			t.Fatal(err)
		}
		xfers, _ = b.take()
		checkXfers(t, xfers, script{}.window(10, 11, 20, 21).data(rgbwBytes, 4096))
	}
	if err := d.Draw(image.Rect(0, 0, 1, 2), image.NewUniform(RGB565(0x1234)), image.Point{}); err != nil {
		t.Fatal(err)
	}
	xfers, _ = b.take()
	checkXfers(t, xfers, script{}.window(0, 0, 0, 1).data([]byte{0x12, 0x34, 0x12, 0x34}, 4096))
}

func TestHaltSleepsAndDrawWakes(t *testing.T) {
	b := newBench(0)
	d := newDev(t, b, false, Opts{W: 240, H: 240})
	b.take()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil { // already asleep: nothing more
		t.Fatal(err)
	}
	xfers, _ := b.take()
	checkXfers(t, xfers, script{}.cmd(0x28).cmd(0x10)) // DISPOFF, SLPIN

	if err := d.Draw(image.Rect(10, 20, 12, 22), rgbw(), image.Point{}); err != nil {
		t.Fatal(err)
	}
	xfers, events := b.take()
	checkXfers(t, xfers, script{}.cmd(0x11).cmd(0x29).window(10, 11, 20, 21).data(rgbwBytes, 4096))
	want := []string{"sleep 120ms", "cmd 11", "sleep 120ms", "cmd 29", "cmd 2A", "cmd 2B", "cmd 2C"}
	if !slices.Equal(events, want) {
		t.Errorf("events:\n got %q\nwant %q", events, want)
	}
}

func TestRGB565Model(t *testing.T) {
	m := (&Dev{}).ColorModel()
	for _, tc := range []struct {
		in   color.Color
		want RGB565
	}{
		{color.RGBA{0xFF, 0, 0, 0xFF}, 0xF800},
		{color.RGBA{0, 0xFF, 0, 0xFF}, 0x07E0},
		{color.RGBA{0, 0, 0xFF, 0xFF}, 0x001F},
		{color.White, 0xFFFF},
		{color.Black, 0x0000},
		{color.RGBA{0x08, 0x04, 0x08, 0xFF}, 0x0821}, // the smallest step of each channel
		{color.RGBA{0x07, 0x03, 0x07, 0xFF}, 0x0000}, // truncated, not rounded
		{color.NRGBA{0xFF, 0xFF, 0xFF, 0}, 0x0000},   // transparent is black
		{RGB565(0xABCD), 0xABCD},
	} {
		if got := m.Convert(tc.in); got != tc.want {
			t.Errorf("Convert(%v) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
	// Every RGB565 value survives RGBA and back, and full channels widen
	// to 0xFFFF.
	for v := 0; v <= 0xFFFF; v++ {
		c := RGB565(v)
		if got := toRGB565(color.RGBA64Model.Convert(c)); got != c {
			t.Fatalf("%#04x → RGBA64 → %#04x", v, got)
		}
	}
	if r, g, b, a := RGB565(0xFFFF).RGBA(); r != 0xFFFF || g != 0xFFFF || b != 0xFFFF || a != 0xFFFF {
		t.Errorf("white RGBA() = %x %x %x %x", r, g, b, a)
	}
}

// The driver also runs against periph's own fake: spitest.Playback has no
// MaxTxSize, so pixels go in 4096-byte transfers, and Close proves every
// expected transfer happened.
func TestWithSpitestPlayback(t *testing.T) {
	want := initScript(0x00, 0x21, 0, 239, 0, 239, 4096).window(10, 11, 20, 21).data(rgbwBytes, 4096).cmd(0x28).cmd(0x10)
	var ops []conntest.IO
	for _, x := range want {
		ops = append(ops, conntest.IO{W: x.W})
	}
	p := &spitest.Playback{Playback: conntest.Playback{Ops: ops, DontPanic: true}}
	b := newBench(0)
	o := DefaultOpts
	o.Sleep = b.sleep
	d, err := New(p, b.dcPin(), nil, &o)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Draw(image.Rect(10, 20, 12, 22), rgbw(), image.Point{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTransferErrorsAreReturned(t *testing.T) {
	p := &spitest.Playback{Playback: conntest.Playback{DontPanic: true}}
	b := newBench(0)
	o := DefaultOpts
	o.Sleep = b.sleep
	_, err := New(p, b.dcPin(), nil, &o)
	if err == nil || !conntest.IsErr(errors.Unwrap(err)) {
		t.Fatalf("New() error = %v, want the port's error wrapped", err)
	}
}
