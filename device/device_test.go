package device

import (
	"image"
	"testing"
)

func TestKeyNamesRoundTrip(t *testing.T) {
	for k := Key0; k <= KeyF4; k++ {
		got, ok := ParseKey(k.String())
		if !ok || got != k {
			t.Errorf("ParseKey(%q) = %v, %v; want %v", k.String(), got, ok, k)
		}
	}
	for _, bad := range []string{"", "none", "Enter", "11", "F5"} {
		if _, ok := ParseKey(bad); ok {
			t.Errorf("ParseKey(%q) took it", bad)
		}
	}
	if d, ok := Key7.Digit(); !ok || d != 7 {
		t.Errorf("Key7.Digit() = %d, %v", d, ok)
	}
	if _, ok := KeyDot.Digit(); ok {
		t.Error("KeyDot is a digit")
	}
}

func TestClip(t *testing.T) {
	bounds := image.Rect(0, 0, 10, 10)
	src := image.Rect(0, 0, 4, 4)
	tests := []struct {
		r      image.Rectangle
		sp     image.Point
		wantR  image.Rectangle
		wantSP image.Point
	}{
		{image.Rect(2, 2, 6, 6), image.Point{}, image.Rect(2, 2, 6, 6), image.Point{}},
		{image.Rect(-2, -1, 2, 3), image.Point{}, image.Rect(0, 0, 2, 3), image.Pt(2, 1)},
		{image.Rect(8, 8, 12, 12), image.Point{}, image.Rect(8, 8, 10, 10), image.Point{}},
		{image.Rect(0, 0, 10, 10), image.Pt(2, 2), image.Rect(0, 0, 2, 2), image.Pt(2, 2)},
		{image.Rect(20, 20, 24, 24), image.Point{}, image.Rectangle{}, image.Point{}},
	}
	for _, tc := range tests {
		r, sp := Clip(tc.r, bounds, src, tc.sp)
		if r.Empty() && tc.wantR.Empty() {
			continue
		}
		if r != tc.wantR || sp != tc.wantSP {
			t.Errorf("Clip(%v, sp %v) = %v, %v; want %v, %v", tc.r, tc.sp, r, sp, tc.wantR, tc.wantSP)
		}
	}
}
