package virtual

import (
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"

	"showpos/device"
)

// pattern is a picture whose every pixel differs from its neighbours'.
func pattern(r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8((x + y) * 3), 0xFF})
		}
	}
	return img
}

// sameImage reports the first pixel where got and want differ, in want's
// colour model.
func sameImage(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	r := want.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g, w := want.ColorModel().Convert(got.At(x, y)), want.At(x, y)
			if g != w {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

func TestScreenPNGShowsWhatWasDrawn(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Opts
	}{
		{"colour 320×240", Opts{Width: 320, Height: 240}},
		{"square 240×240", Opts{Width: 240, Height: 240}},
		{"mono 128×64", Opts{Width: 128, Height: 64, Mono: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBoard(t, &tc.opts)
			d := b.Display()
			src := pattern(d.Bounds())
			if err := d.Draw(d.Bounds(), src, image.Point{}); err != nil {
				t.Fatal(err)
			}
			// What the panel can show: the pattern through its colour model.
			want := image.NewRGBA(d.Bounds())
			for y := 0; y < tc.opts.Height; y++ {
				for x := 0; x < tc.opts.Width; x++ {
					want.Set(x, y, d.ColorModel().Convert(src.At(x, y)))
				}
			}
			resp := get(t, b, "/sim/screen.png")
			if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "image/png" || cc != "no-store" {
				t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
			}
			if v := resp.Header.Get("X-Screen-Version"); v != "1" {
				t.Errorf("X-Screen-Version %q, want 1", v)
			}
			got, err := png.Decode(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			sameImage(t, got, want)
			if tc.opts.Mono {
				if _, ok := got.(*image.Gray); !ok {
					t.Errorf("mono screen decodes as %T, want *image.Gray", got)
				}
			}
		})
	}
}

func TestMonoKeepsOnlyBlackAndWhite(t *testing.T) {
	b := newBoard(t, &Opts{Width: 128, Height: 64, Mono: true})
	d := b.Display()
	for _, tc := range []struct {
		in   color.Color
		want uint8
	}{
		{color.Black, 0},
		{color.White, 0xFF},
		{color.Gray{0x7F}, 0},
		{color.Gray{0x80}, 0xFF},
		{color.RGBA{0xFF, 0, 0, 0xFF}, 0},        // red is dark (luma 76)
		{color.RGBA{0, 0xFF, 0, 0xFF}, 0xFF},     // green is bright (luma 150)
		{color.RGBA{0, 0, 0, 0}, 0},              // transparent: unlit
		{color.NRGBA{0xFF, 0xFF, 0xFF, 0x40}, 0}, // mostly transparent white
	} {
		if got := d.ColorModel().Convert(tc.in).(color.Gray).Y; got != tc.want {
			t.Errorf("ColorModel(%v) = %d, want %d", tc.in, got, tc.want)
		}
		d.Draw(image.Rect(3, 3, 4, 4), image.NewUniform(tc.in), image.Point{})
		if got := b.Screen().At(3, 3).(color.Gray).Y; got != tc.want {
			t.Errorf("drawn %v shows %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestDrawClipsToBounds(t *testing.T) {
	b := newBoard(t, &Opts{Width: 16, Height: 8})
	d := b.Display()
	src := pattern(image.Rect(0, 0, 40, 40))
	// r hangs over the top-left and bottom-right corners; sp = (5,6).
	if err := d.Draw(image.Rect(-2, -3, 20, 20), src, image.Pt(5, 6)); err != nil {
		t.Fatal(err)
	}
	screen := b.Screen()
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			// Screen (x,y) is r's point (x+2, y+3) from r.Min: src (5+x+2, 6+y+3).
			if got, want := screen.At(x, y), src.At(x+7, y+9); got != want {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	v := b.display.currentVersion()
	if err := d.Draw(image.Rect(100, 100, 120, 120), src, image.Point{}); err != nil {
		t.Errorf("drawing off the panel: %v", err)
	}
	if b.display.currentVersion() != v {
		t.Error("drawing off the panel changed the screen version")
	}
}

func TestDrawPartOfTheScreen(t *testing.T) {
	b := newBoard(t, &Opts{Width: 32, Height: 32})
	d := b.Display()
	d.Draw(d.Bounds(), image.NewUniform(color.RGBA{0, 0, 0xFF, 0xFF}), image.Point{})
	d.Draw(image.Rect(8, 8, 16, 16), image.NewUniform(color.White), image.Point{})
	want := image.NewRGBA(d.Bounds())
	draw.Draw(want, want.Bounds(), image.NewUniform(color.RGBA{0, 0, 0xFF, 0xFF}), image.Point{}, draw.Src)
	draw.Draw(want, image.Rect(8, 8, 16, 16), image.White, image.Point{}, draw.Src)
	sameImage(t, b.Screen(), want)
}

func TestHaltedDisplayIsBlankAndRefusesDraws(t *testing.T) {
	b := newBoard(t, nil)
	d := b.Display()
	d.Draw(d.Bounds(), image.White, image.Point{})
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if got := b.Screen().At(10, 10); got != (color.RGBA{0, 0, 0, 0xFF}) {
		t.Errorf("halted screen shows %v, want black", got)
	}
	if err := d.Draw(d.Bounds(), image.White, image.Point{}); !errors.Is(err, device.ErrHalted) {
		t.Errorf("Draw after Halt: %v, want ErrHalted", err)
	}
}
