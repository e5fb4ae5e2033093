package fbdev

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
)

// Sizes of the kernel's structures (include/uapi/linux/fb.h).
const (
	// VarScreenInfoSize is struct fb_var_screeninfo: 40 __u32, the same on
	// every architecture.
	VarScreenInfoSize = 160
	// FixScreenInfoSize32 is struct fb_fix_screeninfo where unsigned long
	// is 4 bytes (arm, 386).
	FixScreenInfoSize32 = 68
	// FixScreenInfoSize64 is struct fb_fix_screeninfo where unsigned long
	// is 8 bytes (arm64, amd64).
	FixScreenInfoSize64 = 80

	// nativeFixSize is the size the running kernel's ioctl fills.
	nativeFixSize = FixScreenInfoSize32 + (strconv.IntSize-32)/32*(FixScreenInfoSize64-FixScreenInfoSize32)
)

// Values of FixScreenInfo.Type and .Visual this driver can draw on.
const (
	TypePackedPixels  = 0 // FB_TYPE_PACKED_PIXELS
	VisualTrueColor   = 2 // FB_VISUAL_TRUECOLOR
	VisualDirectColor = 4 // FB_VISUAL_DIRECTCOLOR
)

// Bitfield is where one colour channel sits in a pixel (struct
// fb_bitfield): Length bits from bit Offset, the most significant bit
// first unless MSBRight.
type Bitfield struct {
	Offset, Length uint32
	MSBRight       bool
}

// VarScreenInfo is the part of struct fb_var_screeninfo a drawer needs:
// the visible resolution, where it sits in the virtual screen (panning),
// and the pixel format.
type VarScreenInfo struct {
	XRes, YRes               uint32 // visible pixels
	XResVirtual, YResVirtual uint32 // the whole buffer, in pixels
	XOffset, YOffset         uint32 // the visible page within it
	BitsPerPixel             uint32
	Grayscale                uint32 // 0 colour, 1 grey, >1 a FOURCC
	Red, Green, Blue, Transp Bitfield
	Nonstd                   uint32
	Activate                 uint32
	HeightMM, WidthMM        uint32 // physical size, often 0 or ^0
	Rotate                   uint32 // angle the driver rotates by
}

// FixScreenInfo is struct fb_fix_screeninfo.
type FixScreenInfo struct {
	ID                            string // driver name, e.g. "simple" or "BCM2708 FB"
	SmemStart                     uint64 // physical address of the buffer
	SmemLen                       uint32 // its length: what to mmap
	Type, TypeAux, Visual         uint32
	XPanStep, YPanStep, YWrapStep uint16
	LineLength                    uint32 // bytes from one row to the next
	MMIOStart                     uint64
	MMIOLen, Accel                uint32
	Capabilities                  uint16
}

// ScreenInfo is what the two FBIOGET ioctls say about a framebuffer.
type ScreenInfo struct {
	Var VarScreenInfo
	Fix FixScreenInfo
}

// ParseVarScreenInfo decodes a struct fb_var_screeninfo, as the kernel
// (little-endian) fills it.
func ParseVarScreenInfo(b []byte) (VarScreenInfo, error) {
	if len(b) != VarScreenInfoSize {
		return VarScreenInfo{}, fmt.Errorf("fbdev: fb_var_screeninfo is %d bytes, got %d", VarScreenInfoSize, len(b))
	}
	u := func(i int) uint32 { return binary.LittleEndian.Uint32(b[4*i:]) }
	bf := func(i int) Bitfield { return Bitfield{Offset: u(i), Length: u(i + 1), MSBRight: u(i+2) != 0} }
	return VarScreenInfo{
		XRes: u(0), YRes: u(1),
		XResVirtual: u(2), YResVirtual: u(3),
		XOffset: u(4), YOffset: u(5),
		BitsPerPixel: u(6),
		Grayscale:    u(7),
		Red:          bf(8), Green: bf(11), Blue: bf(14), Transp: bf(17),
		Nonstd:   u(20),
		Activate: u(21),
		HeightMM: u(22), WidthMM: u(23),
		// 24 accel_flags, 25 pixclock, 26-29 margins, 30-31 sync lengths,
		// 32 sync, 33 vmode
		Rotate: u(34),
		// 35 colorspace, 36-39 reserved
	}, nil
}

// fixLayout is the byte offset of each fb_fix_screeninfo field after id.
type fixLayout struct {
	longSize                                  int
	smemStart, smemLen, typ, typeAux, visual  int
	xpanstep, ypanstep, ywrapstep, lineLength int
	mmioStart, mmioLen, accel, capabilities   int
}

// Offsets checked against the C structure (offsetof) on amd64 and
// against a Go mirror of it on 386 and amd64 in the tests.
func fixLayout32() fixLayout { return fixLayout{4, 16, 20, 24, 28, 32, 36, 38, 40, 44, 48, 52, 56, 60} }
func fixLayout64() fixLayout { return fixLayout{8, 16, 24, 28, 32, 36, 40, 42, 44, 48, 56, 64, 68, 72} }

// ParseFixScreenInfo decodes a struct fb_fix_screeninfo in either
// layout, told apart by length: 68 bytes where unsigned long is 32 bits
// (arm), 80 where it is 64 (arm64).
func ParseFixScreenInfo(b []byte) (FixScreenInfo, error) {
	var l fixLayout
	switch len(b) {
	case FixScreenInfoSize32:
		l = fixLayout32()
	case FixScreenInfoSize64:
		l = fixLayout64()
	default:
		return FixScreenInfo{}, fmt.Errorf("fbdev: fb_fix_screeninfo is %d or %d bytes, got %d", FixScreenInfoSize32, FixScreenInfoSize64, len(b))
	}
	le := binary.LittleEndian
	long := func(off int) uint64 {
		if l.longSize == 4 {
			return uint64(le.Uint32(b[off:]))
		}
		return le.Uint64(b[off:])
	}
	id := b[:16]
	if i := bytes.IndexByte(id, 0); i >= 0 {
		id = id[:i]
	}
	return FixScreenInfo{
		ID:           string(id),
		SmemStart:    long(l.smemStart),
		SmemLen:      le.Uint32(b[l.smemLen:]),
		Type:         le.Uint32(b[l.typ:]),
		TypeAux:      le.Uint32(b[l.typeAux:]),
		Visual:       le.Uint32(b[l.visual:]),
		XPanStep:     le.Uint16(b[l.xpanstep:]),
		YPanStep:     le.Uint16(b[l.ypanstep:]),
		YWrapStep:    le.Uint16(b[l.ywrapstep:]),
		LineLength:   le.Uint32(b[l.lineLength:]),
		MMIOStart:    long(l.mmioStart),
		MMIOLen:      le.Uint32(b[l.mmioLen:]),
		Accel:        le.Uint32(b[l.accel:]),
		Capabilities: le.Uint16(b[l.capabilities:]),
	}, nil
}
