package ssd1306_test

import (
	"fmt"
	"image"

	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/devices/v3/ssd1306/image1bit"
	"periph.io/x/host/v3"

	"showpos/drivers/ssd1306"
)

// The board's main opens the bus, hands it to the driver, and closes it.
func Example() {
	if _, err := host.Init(); err != nil {
		fmt.Println(err)
		return
	}
	bus, err := i2creg.Open("/dev/i2c-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bus.Close()

	dev, err := ssd1306.New(bus, &ssd1306.Opts{Addr: 0x3C, W: 128, H: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Halt()

	// Render for the panel: one bit per pixel.
	img := image1bit.NewVerticalLSB(dev.Bounds())
	img.SetBit(10, 10, image1bit.On)
	if err := dev.Draw(dev.Bounds(), img, image.Point{}); err != nil {
		fmt.Println(err)
	}
}
