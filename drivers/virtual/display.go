package virtual

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sync"

	"showpos/device"
)

// monoModel is a 1-bit panel's colour model: color.Gray of 0 or 255, split
// at half luminance. Transparent pixels are black (unlit).
var monoModel = color.ModelFunc(func(c color.Color) color.Color {
	if color.GrayModel.Convert(c).(color.Gray).Y >= 0x80 {
		return color.Gray{Y: 0xFF}
	}
	return color.Gray{Y: 0}
})

// display is an in-memory panel whose every Draw bumps a version the page
// follows.
type display struct {
	hub  *hub
	mono bool

	mu      sync.Mutex
	img     draw.Image // *image.RGBA, or *image.Gray holding only 0 and 255
	version uint64
	halted  bool
}

func newDisplay(w, h int, mono bool, hub *hub) *display {
	d := &display{hub: hub, mono: mono}
	r := image.Rect(0, 0, w, h)
	if mono {
		d.img = image.NewGray(r)
	} else {
		d.img = image.NewRGBA(r)
		draw.Draw(d.img, r, image.Black, image.Point{}, draw.Src)
	}
	return d
}

func (d *display) String() string {
	kind := "colour"
	if d.mono {
		kind = "mono"
	}
	b := d.img.Bounds()
	return fmt.Sprintf("virtual display %d×%d %s", b.Dx(), b.Dy(), kind)
}

func (d *display) Bounds() image.Rectangle { return d.img.Bounds() }

func (d *display) ColorModel() color.Model {
	if d.mono {
		return monoModel
	}
	return color.RGBAModel
}

// Draw copies src from sp into r, clipped to Bounds. A mono display keeps
// only black and white. Drawing outside the panel is not an error: it draws
// nothing, as a panel would show nothing.
func (d *display) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	if src == nil {
		return errors.New("virtual display: nil image")
	}
	d.mu.Lock()
	if d.halted {
		d.mu.Unlock()
		return fmt.Errorf("virtual display: %w", device.ErrHalted)
	}
	clip := r.Intersect(d.img.Bounds())
	if clip.Empty() {
		d.mu.Unlock()
		return nil
	}
	sp = sp.Add(clip.Min.Sub(r.Min))
	draw.Draw(d.img, clip, src, sp, draw.Src)
	if g, ok := d.img.(*image.Gray); ok {
		for y := clip.Min.Y; y < clip.Max.Y; y++ {
			row := g.Pix[g.PixOffset(clip.Min.X, y):g.PixOffset(clip.Max.X, y)]
			for i, v := range row {
				if v >= 0x80 {
					row[i] = 0xFF
				} else {
					row[i] = 0
				}
			}
		}
	}
	d.version++
	d.mu.Unlock()
	d.hub.notify()
	return nil
}

// Halt blanks the panel; later Draws fail with device.ErrHalted.
func (d *display) Halt() error {
	d.mu.Lock()
	if d.halted {
		d.mu.Unlock()
		return nil
	}
	d.halted = true
	draw.Draw(d.img, d.img.Bounds(), image.Black, image.Point{}, draw.Src)
	d.version++
	d.mu.Unlock()
	d.hub.notify()
	return nil
}

// snapshot copies the picture and its version.
func (d *display) snapshot() (image.Image, uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch m := d.img.(type) {
	case *image.Gray:
		c := *m
		c.Pix = append([]byte(nil), m.Pix...)
		return &c, d.version
	case *image.RGBA:
		c := *m
		c.Pix = append([]byte(nil), m.Pix...)
		return &c, d.version
	}
	panic("unreachable")
}

func (d *display) currentVersion() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// Screen returns a copy of what the display shows now.
func (b *Board) Screen() image.Image {
	img, _ := b.display.snapshot()
	return img
}
