package fbdev

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"showpos/device"
)

const untouched = 0xEE // what the buffer holds before a Draw

// screen is a 4×3 visible page at (xoff, yoff) in its buffer, each row 6
// bytes longer than the virtual width needs (stride padding).
func screen(bpp uint32, r, g, b, a Bitfield, xoff, yoff uint32) ScreenInfo {
	stride := (4+xoff)*bpp/8 + 6
	return ScreenInfo{
		Var: VarScreenInfo{
			XRes: 4, YRes: 3, XResVirtual: 4 + xoff, YResVirtual: 3 + yoff, XOffset: xoff, YOffset: yoff,
			BitsPerPixel: bpp, Red: r, Green: g, Blue: b, Transp: a,
		},
		Fix: FixScreenInfo{ID: "test", SmemLen: stride * (3 + yoff), Visual: VisualTrueColor, LineLength: stride},
	}
}

func rgb565() ScreenInfo {
	return screen(16, Bitfield{11, 5, false}, Bitfield{5, 6, false}, Bitfield{0, 5, false}, Bitfield{}, 0, 0)
}

func filled(n int) []byte { return bytes.Repeat([]byte{untouched}, n) }

// rgbw is a 2×2 picture: red, green / blue, white.
func rgbw() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{0xFF, 0, 0, 0xFF})
	img.Set(1, 0, color.RGBA{0, 0xFF, 0, 0xFF})
	img.Set(0, 1, color.RGBA{0, 0, 0xFF, 0xFF})
	img.Set(1, 1, color.White)
	return img
}

// target is a way of handing the driver its buffer; each gives back the
// buffer's bytes after drawing.
type target struct {
	name string
	open func(t *testing.T, info ScreenInfo) (*Dev, func() []byte)
}

func targets() []target {
	return []target{
		{"memory", func(t *testing.T, info ScreenInfo) (*Dev, func() []byte) {
			mem := filled(int(info.Fix.SmemLen))
			d, err := NewFromMemory(mem, info)
			if err != nil {
				t.Fatal(err)
			}
			return d, func() []byte { return mem }
		}},
		{"file via WriterAt", func(t *testing.T, info ScreenInfo) (*Dev, func() []byte) {
			f := tempScreen(t, info)
			d, err := NewFromWriterAt(f, info)
			if err != nil {
				t.Fatal(err)
			}
			return d, func() []byte { return readAll(t, f.Name()) }
		}},
		{"file mapped", func(t *testing.T, info ScreenInfo) (*Dev, func() []byte) {
			f := tempScreen(t, info)
			d, err := newFromFile(f, f.Name(), info, false)
			if err != nil {
				t.Fatal(err)
			}
			if d.via != "mmap" {
				t.Fatalf("via %s, want mmap", d.via)
			}
			return d, func() []byte { halt(t, d); return readAll(t, f.Name()) }
		}},
		{"file with pwrite", func(t *testing.T, info ScreenInfo) (*Dev, func() []byte) {
			f := tempScreen(t, info)
			d, err := newFromFile(f, f.Name(), info, true)
			if err != nil {
				t.Fatal(err)
			}
			return d, func() []byte { halt(t, d); return readAll(t, f.Name()) }
		}},
	}
}

// tempScreen is a file the size of the framebuffer, every byte untouched.
func tempScreen(t *testing.T, info ScreenInfo) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fb")
	if err := os.WriteFile(p, filled(int(info.Fix.SmemLen)), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readAll(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func halt(t *testing.T, d *Dev) {
	t.Helper()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
}

// checkBytes compares every byte of the buffer, so bytes outside the
// rectangle and in the stride padding are proven untouched.
func checkBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("buffer is %d bytes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("byte %d = %#02x, want %#02x\n got % X\nwant % X", i, got[i], want[i], got, want)
			return
		}
	}
}

// The RGB565 case spelled out: stride 14 (8 bytes of pixels, 6 of
// padding); the 2×2 at (1,1) is bytes 16..19 and 30..33, little-endian.
func TestDrawRGB565ExactBytes(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			d, bytesNow := tg.open(t, rgb565())
			if err := d.Draw(image.Rect(1, 1, 3, 3), rgbw(), image.Point{}); err != nil {
				t.Fatal(err)
			}
			want := filled(42)
			copy(want[16:], []byte{0x00, 0xF8, 0xE0, 0x07}) // red 0xF800, green 0x07E0
			copy(want[30:], []byte{0x1F, 0x00, 0xFF, 0xFF}) // blue 0x001F, white
			checkBytes(t, bytesNow(), want)
		})
	}
}

func TestDrawFormats(t *testing.T) {
	bf := func(off, n uint32) Bitfield { return Bitfield{Offset: off, Length: n} }
	for _, tc := range []struct {
		name                  string
		bpp                   uint32
		r, g, b, a            Bitfield
		red, green, blue, wht []byte
	}{
		{"RGB565", 16, bf(11, 5), bf(5, 6), bf(0, 5), Bitfield{},
			[]byte{0x00, 0xF8}, []byte{0xE0, 0x07}, []byte{0x1F, 0x00}, []byte{0xFF, 0xFF}},
		{"BGR565", 16, bf(0, 5), bf(5, 6), bf(11, 5), Bitfield{},
			[]byte{0x1F, 0x00}, []byte{0xE0, 0x07}, []byte{0x00, 0xF8}, []byte{0xFF, 0xFF}},
		{"RGB555", 16, bf(10, 5), bf(5, 5), bf(0, 5), Bitfield{},
			[]byte{0x00, 0x7C}, []byte{0xE0, 0x03}, []byte{0x1F, 0x00}, []byte{0xFF, 0x7F}},
		{"XRGB8888", 32, bf(16, 8), bf(8, 8), bf(0, 8), Bitfield{},
			[]byte{0x00, 0x00, 0xFF, 0x00}, []byte{0x00, 0xFF, 0x00, 0x00}, []byte{0xFF, 0x00, 0x00, 0x00}, []byte{0xFF, 0xFF, 0xFF, 0x00}},
		{"XBGR8888 (BGR panel)", 32, bf(0, 8), bf(8, 8), bf(16, 8), Bitfield{},
			[]byte{0xFF, 0x00, 0x00, 0x00}, []byte{0x00, 0xFF, 0x00, 0x00}, []byte{0x00, 0x00, 0xFF, 0x00}, []byte{0xFF, 0xFF, 0xFF, 0x00}},
		{"ARGB8888: alpha set opaque", 32, bf(16, 8), bf(8, 8), bf(0, 8), bf(24, 8),
			[]byte{0x00, 0x00, 0xFF, 0xFF}, []byte{0x00, 0xFF, 0x00, 0xFF}, []byte{0xFF, 0x00, 0x00, 0xFF}, []byte{0xFF, 0xFF, 0xFF, 0xFF}},
	} {
		for _, pan := range []struct{ x, y uint32 }{{0, 0}, {1, 3}} {
			info := screen(tc.bpp, tc.r, tc.g, tc.b, tc.a, pan.x, pan.y)
			bpp, stride := int(tc.bpp/8), int(info.Fix.LineLength)
			// at is the byte offset of visible pixel (x,y): the page starts
			// at row yoffset, column xoffset.
			at := func(x, y int) int { return (y+int(pan.y))*stride + (x+int(pan.x))*bpp }
			want := filled(int(info.Fix.SmemLen))
			copy(want[at(1, 1):], tc.red)
			copy(want[at(2, 1):], tc.green)
			copy(want[at(1, 2):], tc.blue)
			copy(want[at(2, 2):], tc.wht)
			for _, tg := range targets() {
				t.Run(tc.name+"/pan "+string(rune('0'+pan.x))+","+string(rune('0'+pan.y))+"/"+tg.name, func(t *testing.T) {
					d, bytesNow := tg.open(t, info)
					if err := d.Draw(image.Rect(1, 1, 3, 3), rgbw(), image.Point{}); err != nil {
						t.Fatal(err)
					}
					checkBytes(t, bytesNow(), want)
				})
			}
		}
	}
}

func TestDrawClipsConvertsAndKeepsOtherBytes(t *testing.T) {
	mem := filled(42)
	d, err := NewFromMemory(mem, rgb565())
	if err != nil {
		t.Fatal(err)
	}
	// Past the bottom-right corner: only (3,2) is written, from the
	// picture's top-left: red at 2×14 + 3×2 = 34.
	if err := d.Draw(image.Rect(3, 2, 5, 4), rgbw(), image.Point{}); err != nil {
		t.Fatal(err)
	}
	// Off screen and empty: nothing.
	for _, r := range []image.Rectangle{image.Rect(4, 0, 6, 2), image.Rect(-2, -2, 0, 0), {}} {
		if err := d.Draw(r, rgbw(), image.Point{}); err != nil {
			t.Fatal(err)
		}
	}
	// Generic path (not *image.RGBA): 0x12,0x34,0x56 truncates to 5-6-5
	// = 0x11AA, at (0,0).
	src := image.NewUniform(color.NRGBA{0x12, 0x34, 0x56, 0xFF})
	if err := d.Draw(image.Rect(0, 0, 1, 1), src, image.Point{}); err != nil {
		t.Fatal(err)
	}
	want := filled(42)
	copy(want[34:], []byte{0x00, 0xF8})
	copy(want[0:], []byte{0xAA, 0x11})
	checkBytes(t, mem, want)
}

// failWriter fails the test if anything is written.
type failWriter struct{ t *testing.T }

func (w failWriter) WriteAt(p []byte, off int64) (int, error) {
	w.t.Errorf("wrote %d bytes at %d", len(p), off)
	return len(p), nil
}

var _ io.WriterAt = failWriter{}

func TestRefusesWhatItCannotDraw(t *testing.T) {
	bf := func(off, n uint32) Bitfield { return Bitfield{Offset: off, Length: n} }
	rgb24 := screen(24, bf(16, 8), bf(8, 8), bf(0, 8), Bitfield{}, 0, 0)
	rgb24.Fix.ID = "vfb"
	pal8 := screen(8, bf(0, 8), bf(0, 8), bf(0, 8), Bitfield{}, 0, 0)
	pal8.Fix.Visual = 3 // pseudocolour
	pseudo16 := rgb565()
	pseudo16.Fix.Visual = 3
	grey := rgb565()
	grey.Var.Grayscale = 1
	noGreen := rgb565()
	noGreen.Var.Green = Bitfield{}
	narrow := rgb565()
	narrow.Fix.LineLength = 6 // 4 pixels need 8
	short := rgb565()
	short.Fix.SmemLen = 35 // the last row ends at 2×14 + 8 = 36; its padding is not needed
	planar := rgb565()
	planar.Fix.Type = 1
	for _, tc := range []struct {
		name string
		info ScreenInfo
		want string
	}{
		{"24 bpp", rgb24, `fbdev: "vfb": unsupported framebuffer: 24 bits per pixel (want 16, RGB565, or 32, XRGB8888)`},
		{"8 bpp", pal8, "8 bits per pixel"},
		{"pseudocolour", pseudo16, "visual 3 is not true colour"},
		{"greyscale", grey, "grayscale"},
		{"no green", noGreen, "green at bit 0, 0 bits"},
		{"stride too small", narrow, "line length is 6"},
		{"buffer too small", short, "the visible page ends at byte 36, the buffer has 35"},
		{"planar", planar, "not packed pixels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFromWriterAt(failWriter{t}, tc.info)
			if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want ErrUnsupported saying %q", err, tc.want)
			}
		})
	}
	if _, err := NewFromMemory(make([]byte, 35), rgb565()); err == nil || !strings.Contains(err.Error(), "the buffer has 35") {
		t.Errorf("NewFromMemory with a short slice: %v", err)
	}
}

func TestNewOnAFileThatIsNotAFramebuffer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fb0")
	if err := os.WriteFile(p, make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(p, nil)
	if err == nil || !strings.Contains(err.Error(), p+": FBIOGET_VSCREENINFO") || !strings.Contains(err.Error(), "not a framebuffer") {
		t.Errorf("New(regular file) = %v", err)
	}
	if _, err := New(filepath.Join(t.TempDir(), "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New(missing) = %v", err)
	}
}

func TestHaltUnmapsAndClosesThenRefusesToDraw(t *testing.T) {
	info := rgb565()
	f := tempScreen(t, info)
	d, err := newFromFile(f, "/dev/fb9", info, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.String(), "fbdev.Dev{/dev/fb9, 4x3, 16 bpp, mmap}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	halt(t, d)
	halt(t, d) // twice is fine
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("file still open after Halt: Close() = %v", err)
	}
	if err := d.Draw(d.Bounds(), rgbw(), image.Point{}); !errors.Is(err, device.ErrHalted) {
		t.Errorf("Draw after Halt = %v, want device.ErrHalted", err)
	}
}

func TestColorModelShowsWhatThePixelHolds(t *testing.T) {
	d, err := NewFromMemory(filled(42), rgb565())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.ColorModel().Convert(color.RGBA{0x12, 0x34, 0x56, 0xFF}), (color.RGBA{0x10, 0x34, 0x52, 0xFF}); got != want {
		t.Errorf("RGB565 Convert = %v, want %v", got, want)
	}
	if got := d.ColorModel().Convert(color.White); got != (color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}) {
		t.Errorf("RGB565 white = %v", got)
	}
	info := screen(32, Bitfield{16, 8, false}, Bitfield{8, 8, false}, Bitfield{0, 8, false}, Bitfield{}, 0, 0)
	d, err = NewFromMemory(filled(int(info.Fix.SmemLen)), info)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.ColorModel().Convert(color.NRGBA{0x12, 0x34, 0x56, 0xFF}), (color.RGBA{0x12, 0x34, 0x56, 0xFF}); got != want {
		t.Errorf("XRGB8888 Convert = %v, want %v", got, want)
	}
}
