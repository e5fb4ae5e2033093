package fbdev_test

import (
	"fmt"
	"image"
	"image/color"

	"showpos/drivers/fbdev"
)

// The POS box's HDMI screen.
func Example() {
	dev, err := fbdev.New("/dev/fb0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Halt()
	// A red REJECTED band across the middle of the screen.
	b := dev.Bounds()
	band := image.Rect(0, b.Dy()/3, b.Dx(), 2*b.Dy()/3)
	if err := dev.Draw(band, image.NewUniform(color.RGBA{0xC0, 0, 0, 0xFF}), image.Point{}); err != nil {
		fmt.Println(err)
	}
}

// Any buffer with a screen description: here an 800×480 XRGB8888 page in
// memory, as a test or a screenshot tool would use it.
func ExampleNewFromMemory() {
	info := fbdev.ScreenInfo{
		Var: fbdev.VarScreenInfo{
			XRes: 800, YRes: 480, XResVirtual: 800, YResVirtual: 480, BitsPerPixel: 32,
			Red:   fbdev.Bitfield{Offset: 16, Length: 8},
			Green: fbdev.Bitfield{Offset: 8, Length: 8},
			Blue:  fbdev.Bitfield{Offset: 0, Length: 8},
		},
		Fix: fbdev.FixScreenInfo{ID: "mem", SmemLen: 3200 * 480, LineLength: 3200, Visual: fbdev.VisualTrueColor},
	}
	mem := make([]byte, info.Fix.SmemLen)
	dev, err := fbdev.NewFromMemory(mem, info)
	if err != nil {
		fmt.Println(err)
		return
	}
	green := image.NewUniform(color.RGBA{0, 0xFF, 0, 0xFF})
	if err := dev.Draw(image.Rect(10, 20, 11, 21), green, image.Point{}); err != nil {
		fmt.Println(err)
		return
	}
	off := 20*3200 + 10*4
	fmt.Println(dev, mem[off:off+4])
	// Output: fbdev.Dev{mem, 800x480, 32 bpp, memory} [0 255 0 0]
}
