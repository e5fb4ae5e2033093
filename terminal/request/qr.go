package request

import (
	"fmt"
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// MaxModuleSize bounds QR's moduleSize: 64 pixels a module is already a
// poster for a typical request.
const MaxModuleSize = 64

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
