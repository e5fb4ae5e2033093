// Package ssd1306 wires the board's 128×64 monochrome OLED (an SSD1306
// controller on I²C) to the terminal as a device.Display.
//
// It does not drive the chip itself: periph.io/x/devices/v3/ssd1306 does,
// with differential updates (only the pages and columns that changed since
// the previous Draw go on the wire). This package adds what the board
// configuration needs and periph's NewI2C lacks: a bus address other than
// 0x3C (the SA0 pin selects 0x3C or 0x3D), a check that refuses the 8-bit
// form of the address printed on many modules (0x78/0x7A), and a String
// that names the real address.
//
// # Monochrome
//
// The panel is one bit per pixel: ColorModel is image1bit.BitModel, which
// turns any colour on when its luminance is at least half. The terminal
// renders for it (black and white text and QR modules, no anti-aliasing or
// grey) rather than letting the driver threshold a colour picture.
//
// # Wire format
//
// Each I²C write starts with a control byte: 0x00 for a stream of commands,
// 0x40 for a stream of GDDRAM data. GDDRAM is 8 pages of 128 bytes; each
// byte is a vertical run of 8 pixels, bit 0 at the top. A Draw sends, per
// changed page, the command 0xB0|page, 0x00|(col&0x0F), 0x10|(col>>4) and
// then the page's changed columns. Halt sends display-off (0xAE); the next
// Draw switches the display back on (0xAF) before drawing.
//
// # Datasheets
//
// SSD1306 (Solomon Systech): the command table, the I²C control byte, and
// the recommended initialisation flow:
// https://cdn-shop.adafruit.com/datasheets/SSD1306.pdf
//
// periph's driver: https://periph.io/device/ssd1306/
package ssd1306
