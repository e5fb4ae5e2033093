package main

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // a phone photo of the screen
	_ "image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads the one QR code in an image (PNG or JPEG) and returns its
// text. It tries the image as a clean code first (what the payer API's
// qr.png is), then searches the whole picture (a screen with other things
// drawn on it, or a photo).
func decodeQR(b []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("read QR image: %w", err)
	}
	return decodeQRImage(img)
}

func decodeQRImage(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("read QR image: %w", err)
	}
	var lastErr error
	for _, hints := range []map[gozxing.DecodeHintType]any{
		{gozxing.DecodeHintType_PURE_BARCODE: true},
		{gozxing.DecodeHintType_TRY_HARDER: true},
	} {
		res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		if err == nil {
			return res.GetText(), nil
		}
		lastErr = err
	}
	return "", fmt.Errorf("no QR code found in the %dx%d image: %w", img.Bounds().Dx(), img.Bounds().Dy(), lastErr)
}
