package fbdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"sync"

	"showpos/device"
)

// ErrUnsupported is wrapped by the error for a framebuffer whose pixel
// format or layout this driver cannot draw on.
var ErrUnsupported = errors.New("unsupported framebuffer")

// DefaultOpts maps the framebuffer.
var DefaultOpts = Opts{}

// Opts says how New reaches the pixels.
type Opts struct {
	// NoMmap writes each row with pwrite(2) instead of mapping the
	// buffer. New also falls back to it when mmap fails.
	NoMmap bool
}

// Dev draws on a framebuffer's visible page.
type Dev struct {
	mu     sync.Mutex
	name   string
	info   ScreenInfo
	rect   image.Rectangle
	format format
	stride int
	base   int64        // byte offset of the visible (0,0)
	mem    []byte       // the mapped buffer, or nil
	w      io.WriterAt  // used when mem is nil
	close  func() error // New's unmap and close; nil otherwise
	via    string       // how pixels reach the device: "mmap", "pwrite", "memory" or "writer"
	row    []byte
	halted bool
}

var _ device.Display = (*Dev)(nil)

// NewFromMemory draws into fb, a framebuffer's whole memory (smem_len
// bytes, e.g. from mmap) laid out as info says. The caller keeps fb.
func NewFromMemory(fb []byte, info ScreenInfo) (*Dev, error) {
	d, err := newDev(info.Fix.ID, info, int64(len(fb)))
	if err != nil {
		return nil, err
	}
	d.mem, d.via = fb, "memory"
	return d, nil
}

// NewFromWriterAt draws by writing rows at their byte offsets in w (the
// framebuffer device itself, or a file standing in for one). The caller
// keeps w; Halt does not close it.
func NewFromWriterAt(w io.WriterAt, info ScreenInfo) (*Dev, error) {
	d, err := newDev(info.Fix.ID, info, -1)
	if err != nil {
		return nil, err
	}
	d.w, d.via = w, "writer"
	return d, nil
}

// newDev checks info; size is the buffer's length when known, else -1.
func newDev(name string, info ScreenInfo, size int64) (*Dev, error) {
	f, err := checkFormat(info.Var, info.Fix)
	if err != nil {
		return nil, fmt.Errorf("fbdev: %q: %w", name, err)
	}
	v := info.Var
	if v.XRes == 0 || v.YRes == 0 {
		return nil, fmt.Errorf("fbdev: %q: %w: visible size %dx%d", name, ErrUnsupported, v.XRes, v.YRes)
	}
	stride := int64(info.Fix.LineLength)
	if stride == 0 {
		stride = int64(v.XResVirtual) * int64(f.bytes)
	}
	rowEnd := (int64(v.XOffset) + int64(v.XRes)) * int64(f.bytes)
	if rowEnd > stride {
		return nil, fmt.Errorf("fbdev: %q: %w: %d pixels at x offset %d need %d bytes a row, line length is %d",
			name, ErrUnsupported, v.XRes, v.XOffset, rowEnd, stride)
	}
	end := (int64(v.YOffset)+int64(v.YRes)-1)*stride + rowEnd
	if size < 0 && info.Fix.SmemLen > 0 {
		size = int64(info.Fix.SmemLen)
	}
	if size >= 0 && end > size {
		return nil, fmt.Errorf("fbdev: %q: %w: the visible page ends at byte %d, the buffer has %d",
			name, ErrUnsupported, end, size)
	}
	return &Dev{
		name:   name,
		info:   info,
		rect:   image.Rect(0, 0, int(v.XRes), int(v.YRes)),
		format: f,
		stride: int(stride),
		base:   int64(v.YOffset)*stride + int64(v.XOffset)*int64(f.bytes),
		row:    make([]byte, int(v.XRes)*f.bytes),
	}, nil
}

// format encodes colours into pixels of 2 or 4 bytes, little-endian.
type format struct {
	bytes            int
	red, green, blue Bitfield
	alpha            uint32 // transparency bits, all set: opaque
}

func checkFormat(v VarScreenInfo, fix FixScreenInfo) (format, error) {
	if v.BitsPerPixel != 16 && v.BitsPerPixel != 32 {
		return format{}, fmt.Errorf("%w: %d bits per pixel (want 16, RGB565, or 32, XRGB8888)", ErrUnsupported, v.BitsPerPixel)
	}
	if fix.Type != TypePackedPixels {
		return format{}, fmt.Errorf("%w: type %d is not packed pixels", ErrUnsupported, fix.Type)
	}
	if fix.Visual != VisualTrueColor && fix.Visual != VisualDirectColor {
		return format{}, fmt.Errorf("%w: visual %d is not true colour", ErrUnsupported, fix.Visual)
	}
	if v.Grayscale != 0 {
		return format{}, fmt.Errorf("%w: grayscale or FOURCC mode %#x", ErrUnsupported, v.Grayscale)
	}
	for _, c := range []struct {
		name  string
		f     Bitfield
		maybe bool
	}{{"red", v.Red, false}, {"green", v.Green, false}, {"blue", v.Blue, false}, {"transp", v.Transp, true}} {
		if (c.f.Length == 0 && !c.maybe) || c.f.Length > 16 || c.f.Offset+c.f.Length > v.BitsPerPixel || c.f.MSBRight {
			return format{}, fmt.Errorf("%w: %d bpp with %s at bit %d, %d bits, msb_right %v",
				ErrUnsupported, v.BitsPerPixel, c.name, c.f.Offset, c.f.Length, c.f.MSBRight)
		}
	}
	return format{
		bytes: int(v.BitsPerPixel / 8),
		red:   v.Red, green: v.Green, blue: v.Blue,
		alpha: (1<<v.Transp.Length - 1) << v.Transp.Offset,
	}, nil
}

// pixel encodes 16-bit channels, truncating each to its field's length.
func (f format) pixel(r, g, b uint32) uint32 {
	return r>>(16-f.red.Length)<<f.red.Offset |
		g>>(16-f.green.Length)<<f.green.Offset |
		b>>(16-f.blue.Length)<<f.blue.Offset |
		f.alpha
}

func (f format) put(dst []byte, v uint32) {
	if f.bytes == 2 {
		binary.LittleEndian.PutUint16(dst, uint16(v))
	} else {
		binary.LittleEndian.PutUint32(dst, v)
	}
}

// String names the device, the visible size, the depth, and how pixels
// are written (mmap, pwrite, memory or writer).
func (d *Dev) String() string {
	return fmt.Sprintf("fbdev.Dev{%s, %dx%d, %d bpp, %s}", d.name, d.rect.Dx(), d.rect.Dy(), d.info.Var.BitsPerPixel, d.via)
}

// Info is what the device said about itself.
func (d *Dev) Info() ScreenInfo {
	return d.info
}

// Bounds implements display.Drawer: the visible resolution; Min is (0,0).
func (d *Dev) Bounds() image.Rectangle {
	return d.rect
}

// ColorModel implements display.Drawer: colours as the framebuffer
// stores them, each channel truncated to its field (5-6-5 at 16 bpp,
// 8-8-8 at 32) and opaque. Convert returns a color.RGBA.
func (d *Dev) ColorModel() color.Model {
	return pixelModel{d.format}
}

// pixelModel converts a colour to what a pixel of format f shows.
type pixelModel struct{ f format }

func (m pixelModel) Convert(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	v := m.f.pixel(r, g, b)
	return color.RGBA{widen(v, m.f.red), widen(v, m.f.green), widen(v, m.f.blue), 0xFF}
}

// widen takes field bf of pixel v back to 8 bits, repeating its top bits.
func widen(v uint32, bf Bitfield) uint8 {
	x := v >> bf.Offset & (1<<bf.Length - 1)
	if bf.Length >= 8 {
		return uint8(x >> (bf.Length - 8))
	}
	var out, n uint32
	for ; n < 8; n += bf.Length {
		out = out<<bf.Length | x
	}
	return uint8(out >> (n - 8))
}

// Draw implements display.Drawer: it writes r's rows, from src at sp,
// into the visible page, and touches no byte outside r. r is clipped to
// Bounds and src's bounds.
func (d *Dev) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return fmt.Errorf("fbdev: %s: %w", d.name, device.ErrHalted)
	}
	r, sp = device.Clip(r, d.rect, src.Bounds(), sp)
	if r.Empty() {
		return nil
	}
	f := d.format
	row := d.row[:r.Dx()*f.bytes]
	for y := 0; y < r.Dy(); y++ {
		switch img := src.(type) {
		case *image.RGBA:
			pix := img.Pix[img.PixOffset(sp.X, sp.Y+y):]
			for x := 0; x < r.Dx(); x++ {
				p := pix[4*x : 4*x+3]
				f.put(row[x*f.bytes:], f.pixel(uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101))
			}
		default:
			for x := 0; x < r.Dx(); x++ {
				cr, cg, cb, _ := src.At(sp.X+x, sp.Y+y).RGBA()
				f.put(row[x*f.bytes:], f.pixel(cr, cg, cb))
			}
		}
		off := d.base + int64(r.Min.Y+y)*int64(d.stride) + int64(r.Min.X*f.bytes)
		if d.mem != nil {
			copy(d.mem[off:], row)
			continue
		}
		if _, err := d.w.WriteAt(row, off); err != nil {
			return fmt.Errorf("fbdev: %s: write row %d: %w", d.name, r.Min.Y+y, err)
		}
	}
	return nil
}

// Halt implements conn.Resource. For a Dev from New it unmaps the buffer
// and closes the device; the picture stays on the screen. Draw then fails
// with device.ErrHalted.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	d.halted = true
	d.mem, d.w = nil, nil
	if d.close != nil {
		if err := d.close(); err != nil {
			return fmt.Errorf("fbdev: %s: halt: %w", d.name, err)
		}
	}
	return nil
}
