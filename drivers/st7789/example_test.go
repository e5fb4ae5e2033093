package st7789_test

import (
	"fmt"
	"image"
	"image/color"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"

	"showpos/drivers/st7789"
)

// A 320×240 module on SPI0 CE0, D/C on GPIO25, RST on GPIO27, mounted
// landscape.
func Example() {
	if _, err := host.Init(); err != nil {
		fmt.Println(err)
		return
	}
	port, err := spireg.Open("SPI0.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer port.Close()

	opts := st7789.DefaultOpts
	opts.W, opts.H, opts.Rotation = 320, 240, 90
	dev, err := st7789.New(port, gpioreg.ByName("GPIO25"), gpioreg.ByName("GPIO27"), &opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Halt()

	// A green "PAID" banner: only its rectangle goes over the wire.
	green := image.NewUniform(color.RGBA{0, 0xC0, 0, 0xFF})
	if err := dev.Draw(image.Rect(0, 80, 320, 160), green, image.Point{}); err != nil {
		fmt.Println(err)
	}
}
