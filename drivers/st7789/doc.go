// Package st7789 drives a colour TFT with a Sitronix ST7789 controller
// over 4-wire SPI (SCL, SDA/MOSI, CS, plus a D/C GPIO and optionally RST):
// the 1.3"/1.54" 240×240 IPS modules and the 2.0"/2.4" 320×240 ones.
//
// # Wire
//
// Every command byte is one SPI transfer with D/C low; its parameters and
// pixel data follow in transfers with D/C high. Pixels are RGB565, two
// bytes each, big-endian (COLMOD 0x55). A Draw sends CASET (0x2A) and
// RASET (0x2B) for the rectangle, RAMWR (0x2C), then the rectangle's pixels
// row by row in transfers no larger than the port's MaxTxSize (4096 bytes
// when the port does not say: spidev's default bufsiz). Only the rectangle
// passed to Draw is sent; the caller passes the part of the screen that
// changed.
//
// # Geometry
//
// The controller has 240×320 pixels of RAM (columns × rows, portrait).
// Opts.W and Opts.H are the picture's size as the terminal draws it, after
// Rotation: a 320×240 module is W 320, H 240 at Rotation 90 or 270.
// Opts.XOffset and Opts.YOffset say where the glass sits in that RAM in the
// controller's own orientation (Rotation 0); the driver works out the
// addresses for the other rotations. Most 240×240 modules use RAM rows
// 0..239 (offsets 0), so at Rotation 180 and 270 the driver addresses rows
// 80..319; 135×240 modules sit at XOffset 52, YOffset 40.
//
// Rotation sets MADCTL (0x36): 0 → 0x00, 90 → 0x60 (MX|MV), 180 → 0xC0
// (MX|MY), 270 → 0xA0 (MY|MV), plus 0x08 when Opts.BGR says the panel's
// sub-pixels are blue-green-red (the pixel data stays RGB; the controller
// swaps).
//
// # Colour
//
// ColorModel is RGB565Model: colours are truncated to 5-6-5 bits (alpha
// ignored, as the panel is opaque), and RGB565 values pass through
// unchanged. The terminal can render for it to know exactly what shows.
//
// # Timing
//
// New pulses RST (when wired), sends SWRESET and SLPOUT and waits 120 ms
// after each, as the datasheet asks; it then clears the glass to black
// before DISPON so no RAM noise shows. Opts.Sleep replaces time.Sleep (tests
// pass a recorder). Halt sends DISPOFF and SLPIN; the next Draw sends
// SLPOUT, waits, and DISPON first.
//
// Modules without a CS pin usually need SPI mode 3 (Opts.Mode).
//
// # Datasheets
//
// Sitronix ST7789V: the command list (SWRESET, SLPIN/SLPOUT and their
// 120 ms rules, MADCTL, COLMOD, CASET/RASET/RAMWR), "Address Control" for
// MADCTL's MY/MX/MV, and the 4-line serial interface's 16-bit pixel format:
// https://www.newhavendisplay.com/appnotes/datasheets/LCDs/ST7789V.pdf
// (mirror: https://www.rhydolabz.com/documents/33/ST7789.pdf)
package st7789
