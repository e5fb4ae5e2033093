// Package qrread reads the QR code off a picture of a screen, as a payer's
// phone does: the payer simulator's -from-screen and the tests that read
// the terminal's simulated display use it.
//
// ZXing's detector (gozxing is its port) looks for the code's three finder
// patterns; on a perfectly sharp, upright screen picture it takes a run of
// data modules for one about once in forty request codes (which ones depends
// on the content: the request id and the URL's port) and gives up with
// NotFound, where zbar reads the same picture. A phone has the next camera
// frame, held a little differently; Read turns the picture as a hand would,
// and each turn changes what the detector meets first. The test of this
// package holds the rate at zero on request codes of every shape the
// terminal draws.
//
// It also makes a phone camera's picture of a screen (Camera, Phone: the
// model is documented there) and reads a picture with zbar (ReadZbar, the
// zbarimg command of Debian's zbar-tools), a decoder independent of
// gozxing: terminal/screen's tests read every display's request screen off
// such a photo at 20 cm with it.
package qrread

import (
	"errors"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// ErrNotFound is returned when no turn of the picture gives a code.
var ErrNotFound = errors.New("qrread: no QR code found")

// Read returns the text of the QR code in img: a clean code alone (what
// the payer API's qr.png is), or a screen with other things drawn beside
// it, upright or turned a quarter, a half or three quarters.
func Read(img image.Image) (string, error) {
	var last error
	for turn := range 4 {
		pic := img
		if turn > 0 {
			pic = rotate(img, []int{0, 2, 1, 3}[turn])
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(pic)
		if err != nil {
			return "", fmt.Errorf("qrread: %w", err)
		}
		hints := []map[gozxing.DecodeHintType]any{{gozxing.DecodeHintType_TRY_HARDER: true}}
		if turn == 0 {
			hints = append([]map[gozxing.DecodeHintType]any{{gozxing.DecodeHintType_PURE_BARCODE: true}}, hints...)
		}
		for _, h := range hints {
			res, err := qrcode.NewQRCodeReader().Decode(bmp, h)
			if err == nil {
				return res.GetText(), nil
			}
			last = err
		}
	}
	return "", fmt.Errorf("%w in the %dx%d picture, turned every way: %v", ErrNotFound, img.Bounds().Dx(), img.Bounds().Dy(), last)
}

// rotate turns img by quarters quarter turns clockwise.
func rotate(img image.Image, quarters int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var out *image.RGBA
	if quarters%2 == 1 {
		out = image.NewRGBA(image.Rect(0, 0, h, w))
	} else {
		out = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	for y := range h {
		for x := range w {
			c := img.At(b.Min.X+x, b.Min.Y+y)
			switch quarters {
			case 1:
				out.Set(h-1-y, x, c)
			case 2:
				out.Set(w-1-x, h-1-y, c)
			case 3:
				out.Set(y, w-1-x, c)
			}
		}
	}
	return out
}
