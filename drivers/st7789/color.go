package st7789

import "image/color"

// RGB565 is a colour as the panel stores it: red in the top 5 bits, green
// in the middle 6, blue in the low 5. On the wire it is sent high byte
// first.
type RGB565 uint16

// RGBA implements color.Color. Each channel is widened by repeating its
// top bits, so 0x1F red is full red and RGB565Model.Convert gives back the
// same value.
func (c RGB565) RGBA() (r, g, b, a uint32) {
	r5 := uint32(c>>11) & 0x1F
	g6 := uint32(c>>5) & 0x3F
	b5 := uint32(c) & 0x1F
	r = (r5<<3 | r5>>2) * 0x101
	g = (g6<<2 | g6>>4) * 0x101
	b = (b5<<3 | b5>>2) * 0x101
	return r, g, b, 0xFFFF
}

// RGB565Model is the panel's color.Model: Convert returns an RGB565,
// truncating each channel to 5, 6 and 5 bits and ignoring alpha.
type RGB565Model struct{}

// Convert implements color.Model.
func (RGB565Model) Convert(c color.Color) color.Color {
	return toRGB565(c)
}

func toRGB565(c color.Color) RGB565 {
	if v, ok := c.(RGB565); ok {
		return v
	}
	r, g, b, _ := c.RGBA()
	return RGB565(r>>11<<11 | g>>10<<5 | b>>11)
}
