package ssd1306

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/devices/v3/ssd1306/image1bit"
)

// initBytes is the init write as it must appear on the wire: control byte
// 0x00 (commands) and periph's sequence, with the four bytes that depend
// on Opts spelled out by the caller.
func initBytes(segRemap, comScan, comPins, multiplex, lastCol, lastPage byte) []byte {
	return []byte{
		0x00,       // control byte: commands follow
		0xAE,       // display off
		0xD3, 0x00, // display offset 0
		0x40,     // start line 0
		segRemap, // A1: column 127 is SEG0; A0: mirrored
		comScan,  // C8: scan COM[N-1]..COM0; C0: mirrored
		0xDA, comPins,
		0x81, 0xFF, // contrast
		0xA4,       // show GDDRAM
		0xA6,       // normal (not inverted)
		0xD5, 0xF0, // clock
		0x8D, 0x14, // charge pump on
		0xD9, 0xF1, // pre-charge
		0xDB, 0x40, // VCOMH
		0x2E,            // scroll off
		0xA8, multiplex, // H-1
		0x20, 0x00, // horizontal addressing
		0x21, 0x00, lastCol, // columns 0..W-1
		0x22, 0x00, lastPage, // pages 0..H/8-1
		0xAF, // display on
	}
}

var defaultInit = initBytes(0xA1, 0xC8, 0x12, 0x3F, 0x7F, 0x07)

// frameOps is what a full-frame Draw sends: for each page the command that
// points at its first column, then the page's bytes after the data control
// byte 0x40.
func frameOps(addr uint16, pix []byte, w int) []i2ctest.IO {
	var ops []i2ctest.IO
	for p := 0; p*w < len(pix); p++ {
		ops = append(ops,
			i2ctest.IO{Addr: addr, W: []byte{0x00, 0xB0 | byte(p), 0x00, 0x10}},
			i2ctest.IO{Addr: addr, W: append([]byte{0x40}, pix[p*w:(p+1)*w]...)})
	}
	return ops
}

func ops(groups ...[]i2ctest.IO) []i2ctest.IO {
	var all []i2ctest.IO
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

func closeBus(t *testing.T, bus *i2ctest.Playback) {
	t.Helper()
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewSendsInitSequence(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *Opts
		want []byte
	}{
		{"nil is DefaultOpts", nil, defaultInit},
		{"default", &DefaultOpts, defaultInit},
		{"zero address is 0x3C", &Opts{W: 128, H: 64}, defaultInit},
		{"zero size is 128x64", &Opts{}, defaultInit},
		{"rotated mirrors both axes", &Opts{W: 128, H: 64, Rotated: true}, initBytes(0xA0, 0xC0, 0x12, 0x3F, 0x7F, 0x07)},
		{"mirror vertical", &Opts{W: 128, H: 64, MirrorVertical: true}, initBytes(0xA1, 0xC0, 0x12, 0x3F, 0x7F, 0x07)},
		{"mirror horizontal", &Opts{W: 128, H: 64, MirrorHorizontal: true}, initBytes(0xA0, 0xC8, 0x12, 0x3F, 0x7F, 0x07)},
		{"sequential COM pins", &Opts{W: 128, H: 64, Sequential: true}, initBytes(0xA1, 0xC8, 0x02, 0x3F, 0x7F, 0x07)},
		{"swap top and bottom", &Opts{W: 128, H: 64, SwapTopBottom: true}, initBytes(0xA1, 0xC8, 0x32, 0x3F, 0x7F, 0x07)},
		{"128x32 module", &Opts{W: 128, H: 32, Sequential: true}, initBytes(0xA1, 0xC8, 0x02, 0x1F, 0x7F, 0x03)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x3C, W: tc.want}}, DontPanic: true}
			d, err := New(bus, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			closeBus(t, bus)
			if got := d.ColorModel(); got != image1bit.BitModel {
				t.Errorf("ColorModel() = %v, want image1bit.BitModel", got)
			}
		})
	}
}

func TestNewAtAddress0x3DSendsEverythingThere(t *testing.T) {
	frame := make([]byte, 128*8)
	bus := &i2ctest.Playback{
		Ops:       ops([]i2ctest.IO{{Addr: 0x3D, W: defaultInit}}, frameOps(0x3D, frame, 128), []i2ctest.IO{{Addr: 0x3D, W: []byte{0x00, 0xAE}}}),
		DontPanic: true,
	}
	d, err := New(bus, &Opts{Addr: 0x3D, W: 128, H: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Draw(d.Bounds(), image.Black, image.Point{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	closeBus(t, bus)
	if got, want := d.String(), "ssd1306.Dev{playback(0x3d), 128x64}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Opts
		want string
	}{
		{"8-bit address", Opts{Addr: 0x78, W: 128, H: 64}, "8-bit form of 0x3c"},
		{"foreign address", Opts{Addr: 0x27, W: 128, H: 64}, "only at 0x3c or 0x3d"},
		{"width not a multiple of 8", Opts{W: 100, H: 64}, "invalid width 100"},
		{"too tall", Opts{W: 128, H: 128}, "invalid height 128"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := &i2ctest.Playback{DontPanic: true}
			d, err := New(bus, &tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New() = %v, %v; want an error containing %q", d, err, tc.want)
			}
			if bus.Count != 0 {
				t.Errorf("%d writes on the bus before refusing", bus.Count)
			}
		})
	}
}

func TestNewFailsWhenNoPanelAnswers(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true} // every Tx fails, like a NAK
	if d, err := New(bus, nil); err == nil || !strings.Contains(err.Error(), "playback(0x3c)") {
		t.Fatalf("New() = %v, %v; want an init error naming the bus and address", d, err)
	}
}

// A one-pixel checkerboard, (x+y) even lit: every even column of every
// page is 0x55 (rows 0, 2, 4, 6), every odd column 0xAA.
func TestDrawCheckerboardFullFrame(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 128, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 128; x++ {
			if (x+y)%2 == 0 {
				img.SetGray(x, y, color.Gray{Y: 0xFF})
			}
		}
	}
	want := make([]byte, 128*8)
	for i := range want {
		want[i] = 0x55
		if i%2 == 1 {
			want[i] = 0xAA
		}
	}
	bus := &i2ctest.Playback{Ops: ops([]i2ctest.IO{{Addr: 0x3C, W: defaultInit}}, frameOps(0x3C, want, 128)), DontPanic: true}
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Draw(d.Bounds(), img, image.Point{}); err != nil {
		t.Fatal(err)
	}
	closeBus(t, bus)
}

// paid is "PAID" in the classic 5×7 font, one byte per column, bit 0 at
// the top, a blank column between letters: the very layout of a GDDRAM page.
var paid = []byte{
	0x7F, 0x09, 0x09, 0x09, 0x06, 0x00, // P
	0x7E, 0x11, 0x11, 0x11, 0x7E, 0x00, // A
	0x00, 0x41, 0x7F, 0x41, 0x00, 0x00, // I
	0x7F, 0x41, 0x41, 0x22, 0x1C, // D
}

// render draws column bytes as white-on-black RGBA pixels, as the terminal
// would render text.
func render(cols []byte) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, len(cols), 8))
	draw.Draw(img, img.Rect, image.Black, image.Point{}, draw.Src)
	for x, c := range cols {
		for y := 0; y < 8; y++ {
			if c>>y&1 == 1 {
				img.Set(x, y, color.White)
			}
		}
	}
	return img
}

// After a first full frame only the changed page and columns go out: the
// word at (8,8) is page 1, columns 8..30 (the I's blank edges included,
// they are inside the changed span).
func TestDrawGlyphSendsOnlyChangedColumns(t *testing.T) {
	blank := make([]byte, 128*8)
	bus := &i2ctest.Playback{
		Ops: ops(
			[]i2ctest.IO{{Addr: 0x3C, W: defaultInit}},
			frameOps(0x3C, blank, 128),
			[]i2ctest.IO{
				{Addr: 0x3C, W: []byte{0x00, 0xB1, 0x08, 0x10}}, // page 1, column 8
				{Addr: 0x3C, W: append([]byte{0x40}, paid...)},
				// Same picture again: nothing on the wire.
				// A lit pixel at (127, 63): page 7, column 127 = 0x7F → 0x0F, 0x17.
				{Addr: 0x3C, W: []byte{0x00, 0xB7, 0x0F, 0x17}},
				{Addr: 0x3C, W: []byte{0x40, 0x80}},
			}),
		DontPanic: true,
	}
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Draw(d.Bounds(), image.Black, image.Point{}); err != nil {
		t.Fatal(err)
	}
	word := render(paid)
	r := word.Rect.Add(image.Pt(8, 8))
	if err := d.Draw(r, word, image.Point{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Draw(r, word, image.Point{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Draw(image.Rect(127, 63, 128, 64), image.White, image.Point{}); err != nil {
		t.Fatal(err)
	}
	closeBus(t, bus)
}

func TestHaltTurnsDisplayOffAndDrawTurnsItBackOn(t *testing.T) {
	frame := bytes.Repeat([]byte{0xFF}, 128*8)
	fr := frameOps(0x3C, frame, 128)
	// The first command after Halt carries display-on (0xAF) in front.
	fr[0].W = []byte{0x00, 0xAF, 0xB0, 0x00, 0x10}
	bus := &i2ctest.Playback{
		Ops:       ops([]i2ctest.IO{{Addr: 0x3C, W: defaultInit}, {Addr: 0x3C, W: []byte{0x00, 0xAE}}}, fr),
		DontPanic: true,
	}
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.Draw(d.Bounds(), image.White, image.Point{}); err != nil {
		t.Fatal(err)
	}
	closeBus(t, bus)
}
