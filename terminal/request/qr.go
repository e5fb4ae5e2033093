package request

import (
	"fmt"
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// MaxModuleSize bounds QR's moduleSize, and so what one QR code costs to
// paint: a typical request's code is 69 modules with its quiet zone, so 16
// pixels a module is 1104 pixels square (1.2 MB to paint), as tall as a
// full-HD second screen, and 9 cm wide printed at 300 dpi (5 cm at 600),
// where a phone reads a module of 0.5 mm. A bigger picture is this one
// scaled by a whole factor, which loses nothing: let the screen or printer
// do it. At 64 (the old cap) the same code was 4416 pixels square, 19.5 MB.
const MaxModuleSize = 16

// QR draws content as a QR code at error-correction level Medium, with the
// standard 4-module quiet zone, exactly moduleSize pixels per module: the
// image is (modules + 8) × moduleSize pixels square, black on white. Small
// displays want an integral module size; scaling a QR code by a fraction
// blurs module edges and costs scans.
func QR(content string, moduleSize int) (image.Image, error) {
	if moduleSize < 1 || moduleSize > MaxModuleSize {
		return nil, fmt.Errorf("qr: %w: module size %d, want 1 to %d pixels", ErrQR, moduleSize, MaxModuleSize)
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: %w: %d bytes of content: %w", ErrQR, len(content), err)
	}
	// Paint from the bitmap ourselves: qrcode's Image scales with floating
	// point, which need not give every module the same number of pixels.
	bitmap := q.Bitmap() // includes the quiet zone
	side := len(bitmap) * moduleSize
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range bitmap {
		for x, dark := range row {
			if !dark {
				continue
			}
			for py := y * moduleSize; py < (y+1)*moduleSize; py++ {
				line := img.Pix[py*img.Stride:]
				for px := x * moduleSize; px < (x+1)*moduleSize; px++ {
					line[px] = 0x00
				}
			}
		}
	}
	return img, nil
}
