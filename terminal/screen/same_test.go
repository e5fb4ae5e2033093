package screen

import (
	"image"
	"image/color"
	"testing"
)

func TestSamePicture(t *testing.T) {
	r, err := New(Size{W: 128, H: 64, Mono: true})
	if err != nil {
		t.Fatal(err)
	}
	a := r.Result(Result{Kind: ResultPaid})
	// The same picture in another image type is the same picture.
	rgba := image.NewRGBA(a.Bounds())
	for y := 0; y < 64; y++ {
		for x := 0; x < 128; x++ {
			rgba.Set(x, y, a.At(x, y))
		}
	}
	if !SamePicture(a, rgba) {
		t.Error("a copy is not the same picture")
	}
	rgba.Set(3, 3, color.RGBA{R: 1, A: 0xff})
	if SamePicture(a, rgba) {
		t.Error("one changed pixel went unseen")
	}
	if SamePicture(a, r.Result(Result{Kind: ResultRejected, Reason: "underpaid"})) {
		t.Error("PAID and REJECTED look the same")
	}
	if SamePicture(a, image.NewRGBA(image.Rect(0, 0, 128, 63))) {
		t.Error("different sizes are the same picture")
	}
}
