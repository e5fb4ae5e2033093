package qrread

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// Camera is a model of what a phone's camera makes of a screen it is held
// in front of: the picture a QR decoder gets. Photo applies, in order:
//
//  1. Geometry. The panel (its pixels PitchMM apart) with BezelPx of dark
//     bezel around it, seen from DistanceMM
//     by a camera whose preview is Width pixels across a horizontal field
//     of view of FOVDeg, turned by RotateDeg (a hand never holds the phone
//     square). Each camera pixel integrates the panel over its own area
//     (4×4 samples): a sensor pixel averages the light that falls on it,
//     so a module smaller than a camera pixel comes out grey.
//  2. Contrast. Dark panel pixels are seen at Black, lit ones at White, the
//     bezel at Bezel (8-bit levels): glass reflects the room, so an unlit
//     pixel is not black, and a lit one is not the sensor's full scale
//     (the dark gaps between a panel's pixels, a few hundredths of a
//     millimetre, are far below what the lens resolves at 20 cm: they only
//     dim White).
//  3. Uneven light. Brightness falls linearly from 1 at the top-left
//     corner to 1-Falloff at the bottom-right (a lamp to one side, the
//     phone's own shadow).
//  4. Sensor noise. Gaussian, NoiseLevels (8-bit levels, sigma) a camera
//     pixel, from a generator seeded with Seed, so a photo is the same
//     every run.
//  5. Blur. A Gaussian blur of BlurPx camera pixels (sigma), after the
//     noise: the lens' spread, focus not quite on the panel, a little hand
//     motion, and the phone's own processing of the preview (demosaicing,
//     denoising, scaling), which smooths the sensor's noise as it smooths
//     the picture.
//
// Perspective (a phone not parallel to the panel), glare and moiré are not
// modelled; nor are the next frames a phone gets every 33 ms, which make a
// real scanner luckier than one photo.
type Camera struct {
	PitchMM             float64
	DistanceMM, FOVDeg  float64
	Width               int
	RotateDeg           float64
	Black, White, Bezel float64
	BlurPx              float64
	Falloff             float64
	NoiseLevels         float64
	Seed                uint64
	BezelPx             int // panel pixels of bezel on each side
}

// Phone is a phone's camera at 20 cm from a panel of pitch mm: a 1920-pixel
// preview (the stream QR scanners read on iOS and most Android phones)
// across the 69° of a 26 mm-equivalent main camera, so 0.143 mm a camera
// pixel at 20 cm; turned 4°, 6 levels of noise, blurred by 0.8 camera
// pixels, a fifth of the light lost across the picture, an unlit pixel
// seen at 30 and a lit one at 225 of 255, a black bezel.
func Phone(pitchMM float64) Camera {
	return Camera{
		PitchMM:    pitchMM,
		DistanceMM: 200, FOVDeg: 69, Width: 1920,
		RotateDeg: 4,
		Black:     30, White: 225, Bezel: 12,
		BlurPx:      0.8,
		Falloff:     0.2,
		NoiseLevels: 6,
		Seed:        1,
		BezelPx:     12,
	}
}

// Scale is how many camera pixels one panel pixel spans.
func (c Camera) Scale() float64 {
	mmPerCameraPixel := 2 * c.DistanceMM * math.Tan(c.FOVDeg/2*math.Pi/180) / float64(c.Width)
	return c.PitchMM / mmPerCameraPixel
}

// Photo is the camera's picture of screen, in grey.
func (c Camera) Photo(screen image.Image) *image.Gray {
	b := screen.Bounds()
	W, H := b.Dx()+2*c.BezelPx, b.Dy()+2*c.BezelPx // the panel with its bezel, in panel pixels
	s := c.Scale()
	th := c.RotateDeg * math.Pi / 180
	cos, sin := math.Cos(th), math.Sin(th)
	// The photo holds the turned panel: its bounding box, in camera pixels.
	pw := int(math.Ceil((float64(W)*math.Abs(cos) + float64(H)*math.Abs(sin)) * s))
	ph := int(math.Ceil((float64(W)*math.Abs(sin) + float64(H)*math.Abs(cos)) * s))
	cx, cy := float64(pw)/2, float64(ph)/2
	// Panel luminance per pixel, 0 dark to 1 lit.
	lum := make([]float64, b.Dx()*b.Dy())
	for y := range b.Dy() {
		for x := range b.Dx() {
			lum[y*b.Dx()+x] = float64(color.GrayModel.Convert(screen.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y) / 255
		}
	}
	sample := func(px, py float64) float64 { // camera coordinates → level
		// Undo the turn about the photo's centre, then the scale.
		dx, dy := px-cx, py-cy
		u := (dx*cos+dy*sin)/s + float64(W)/2 - float64(c.BezelPx)
		v := (-dx*sin+dy*cos)/s + float64(H)/2 - float64(c.BezelPx)
		if u < 0 || v < 0 || u >= float64(b.Dx()) || v >= float64(b.Dy()) {
			return c.Bezel
		}
		return c.Black + (c.White-c.Black)*lum[int(v)*b.Dx()+int(u)]
	}
	const n = 4 // samples a side per camera pixel
	img := make([]float64, pw*ph)
	for y := range ph {
		for x := range pw {
			sum := 0.0
			for j := range n {
				for i := range n {
					sum += sample(float64(x)+(float64(i)+0.5)/n, float64(y)+(float64(j)+0.5)/n)
				}
			}
			img[y*pw+x] = sum / (n * n)
		}
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x51ab))
	for y := range ph {
		for x := range pw {
			t := (float64(x)/float64(pw) + float64(y)/float64(ph)) / 2
			img[y*pw+x] = img[y*pw+x]*(1-c.Falloff*t) + rng.NormFloat64()*c.NoiseLevels
		}
	}
	img = blur(img, pw, ph, c.BlurPx)
	out := image.NewGray(image.Rect(0, 0, pw, ph))
	for i, v := range img {
		out.Pix[i] = uint8(math.Round(math.Max(0, math.Min(255, v))))
	}
	return out
}

// blur is a separable Gaussian blur of sigma pixels, the edges extended.
func blur(img []float64, w, h int, sigma float64) []float64 {
	if sigma <= 0 {
		return img
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	clampi := func(v, hi int) int { return max(0, min(hi-1, v)) }
	tmp := make([]float64, len(img))
	for y := range h {
		for x := range w {
			v := 0.0
			for i, kv := range k {
				v += kv * img[y*w+clampi(x+i-r, w)]
			}
			tmp[y*w+x] = v
		}
	}
	out := make([]float64, len(img))
	for y := range h {
		for x := range w {
			v := 0.0
			for i, kv := range k {
				v += kv * tmp[clampi(y+i-r, h)*w+x]
			}
			out[y*w+x] = v
		}
	}
	return out
}
