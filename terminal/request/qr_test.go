package request

import (
	"errors"
	"image"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("gozxing cannot read the QR code: %v", err)
	}
	return res.GetText()
}

func TestQRDecodesToURI(t *testing.T) {
	native := goodParams()
	native.Asset = eth()
	for _, tc := range []struct {
		name       string
		params     Params
		moduleSize int
	}{
		{"ERC-20 at 1 px", goodParams(), 1},
		{"ERC-20 at 3 px", goodParams(), 3},
		{"native at 4 px", native, 4},
		{"ERC-20 at 7 px", goodParams(), 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := mustNew(t, tc.params).URI(testReqURL)
			img, err := QR(uri, tc.moduleSize)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeQR(t, img); got != uri {
				t.Errorf("decoded %q, want %q", got, uri)
			}
		})
	}
}

func TestQRGeometry(t *testing.T) {
	uri := mustNew(t, goodParams()).URI(testReqURL)
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	bitmap := q.Bitmap()
	modules := len(bitmap) // quiet zone included
	if version := (modules - 8 - 17) / 4; modules != 17+4*version+8 {
		t.Fatalf("%d modules is not a QR symbol with a 4-module quiet zone on each side", modules)
	}
	for _, size := range []int{1, 2, 5, MaxModuleSize} {
		img, err := QR(uri, size)
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		if b.Min != (image.Point{}) || b.Dx() != modules*size || b.Dy() != modules*size {
			t.Fatalf("module size %d: image %v, want %d×%d", size, b, modules*size, modules*size)
		}
		// Every module is a uniform size×size block of its bitmap colour,
		// and the 4-module border is white.
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				r, _, _, _ := img.At(x, y).RGBA()
				dark := r < 0x8000
				mx, my := x/size, y/size
				if dark != bitmap[my][mx] {
					t.Fatalf("module size %d: pixel (%d,%d) dark=%v, module (%d,%d) dark=%v", size, x, y, dark, mx, my, bitmap[my][mx])
				}
				border := mx < 4 || my < 4 || mx >= modules-4 || my >= modules-4
				if border && dark {
					t.Fatalf("module size %d: dark pixel (%d,%d) in the quiet zone", size, x, y)
				}
			}
		}
	}
}

func TestQRRefuses(t *testing.T) {
	for _, tc := range []struct {
		name       string
		content    string
		moduleSize int
	}{
		{"zero module size", "ethereum:x", 0},
		{"negative module size", "ethereum:x", -4},
		{"huge module size", "ethereum:x", MaxModuleSize + 1},
		{"content beyond QR capacity", strings.Repeat("x", 3000), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := QR(tc.content, tc.moduleSize)
			if !errors.Is(err, ErrQR) {
				t.Fatalf("QR = %v, want ErrQR", err)
			}
			if img != nil {
				t.Error("QR returned an image with its error")
			}
		})
	}
}
