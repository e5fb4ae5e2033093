package main

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // a phone photo of the screen
	_ "image/png"

	"showpos/tools/qrread"
)

// decodeQR reads the one QR code in an image (PNG or JPEG) and returns its
// text: a clean code (what the payer API's qr.png is), or a screen with
// other things drawn on it, or a photo (qrread says how).
func decodeQR(b []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("read QR image: %w", err)
	}
	return decodeQRImage(img)
}

func decodeQRImage(img image.Image) (string, error) {
	text, err := qrread.Read(img)
	if err != nil {
		return "", fmt.Errorf("read QR image: %w", err)
	}
	return text, nil
}
