package fbdev

import (
	"encoding/binary"
	"go/token"
	"go/types"
	"strings"
	"testing"
	"unsafe"
)

// Fixtures are written field by field at the offsets of
// include/uapi/linux/fb.h, spelled out here independently of the decoder.

func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func put16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }

// A Raspberry Pi's 800×480 DSI screen on 32-bit ARM (Raspberry Pi OS
// armhf): unsigned long is 4 bytes, the struct is 68.
func fixtureFixArm() []byte {
	b := make([]byte, 68)
	copy(b, "BCM2708 FB")
	put32(b, 16, 0x3E402000) // smem_start
	put32(b, 20, 1536000)    // smem_len: 3200 × 480
	put32(b, 24, 0)          // type: packed pixels
	put32(b, 28, 0)          // type_aux
	put32(b, 32, 2)          // visual: true colour
	put16(b, 36, 1)          // xpanstep
	put16(b, 38, 1)          // ypanstep
	put16(b, 40, 0)          // ywrapstep
	put32(b, 44, 3200)       // line_length
	put32(b, 48, 0xFE00B880) // mmio_start
	put32(b, 52, 0x24)       // mmio_len
	put32(b, 56, 7)          // accel
	put16(b, 60, 0x1)        // capabilities
	put16(b, 62, 0xDEAD)     // reserved: ignored
	put16(b, 64, 0xBEEF)
	return b
}

// The same screen on arm64: unsigned long is 8 bytes, padded, 80 in all;
// a buffer above 4 GiB proves smem_start is read as 64 bits.
func fixtureFixArm64() []byte {
	b := make([]byte, 80)
	copy(b, "BCM2708 FB")
	binary.LittleEndian.PutUint64(b[16:], 0x1_3E40_2000) // smem_start
	put32(b, 24, 1536000)                                // smem_len
	put32(b, 28, 0)                                      // type
	put32(b, 32, 0)                                      // type_aux
	put32(b, 36, 2)                                      // visual
	put16(b, 40, 1)                                      // xpanstep
	put16(b, 42, 1)                                      // ypanstep
	put16(b, 44, 0)                                      // ywrapstep
	put32(b, 48, 3200)                                   // line_length (after 2 bytes of padding)
	binary.LittleEndian.PutUint64(b[56:], 0xFE00B880)    // mmio_start (after 4 bytes of padding)
	put32(b, 64, 0x24)                                   // mmio_len
	put32(b, 68, 7)                                      // accel
	put16(b, 72, 0x1)                                    // capabilities
	put16(b, 74, 0xDEAD)                                 // reserved
	put16(b, 76, 0xBEEF)
	return b
}

func TestParseFixScreenInfoBothLayouts(t *testing.T) {
	want := FixScreenInfo{
		ID: "BCM2708 FB", SmemStart: 0x3E402000, SmemLen: 1536000, Visual: VisualTrueColor,
		XPanStep: 1, YPanStep: 1, LineLength: 3200, MMIOStart: 0xFE00B880, MMIOLen: 0x24,
		Accel: 7, Capabilities: 1,
	}
	got, err := ParseFixScreenInfo(fixtureFixArm())
	if err != nil || got != want {
		t.Errorf("arm:\n got %+v, %v\nwant %+v", got, err, want)
	}
	want.SmemStart = 0x1_3E40_2000
	got, err = ParseFixScreenInfo(fixtureFixArm64())
	if err != nil || got != want {
		t.Errorf("arm64:\n got %+v, %v\nwant %+v", got, err, want)
	}
	// An id using all 16 bytes has no terminator.
	b := fixtureFixArm()
	copy(b, "0123456789abcdef")
	if got, _ := ParseFixScreenInfo(b); got.ID != "0123456789abcdef" {
		t.Errorf("16-byte id = %q", got.ID)
	}
	for _, n := range []int{0, 67, 72, 81} {
		if _, err := ParseFixScreenInfo(make([]byte, n)); err == nil || !strings.Contains(err.Error(), "68 or 80 bytes") {
			t.Errorf("%d bytes: err = %v", n, err)
		}
	}
}

// fixFields is struct fb_fix_screeninfo's fields, unsigned long as
// uintptr: Go's gc compiler lays such a struct out as the C ABI does on
// Linux for arm and arm64.
func fixFields() []*types.Var {
	u := func(k types.BasicKind) types.Type { return types.Typ[k] }
	var fs []*types.Var
	for _, f := range []struct {
		name string
		t    types.Type
	}{
		{"id", types.NewArray(u(types.Uint8), 16)}, {"smem_start", u(types.Uintptr)}, {"smem_len", u(types.Uint32)},
		{"type", u(types.Uint32)}, {"type_aux", u(types.Uint32)}, {"visual", u(types.Uint32)},
		{"xpanstep", u(types.Uint16)}, {"ypanstep", u(types.Uint16)}, {"ywrapstep", u(types.Uint16)},
		{"line_length", u(types.Uint32)}, {"mmio_start", u(types.Uintptr)}, {"mmio_len", u(types.Uint32)},
		{"accel", u(types.Uint32)}, {"capabilities", u(types.Uint16)}, {"reserved", types.NewArray(u(types.Uint16), 2)},
	} {
		fs = append(fs, types.NewField(token.NoPos, nil, f.name, f.t, false))
	}
	return fs
}

// The decoder's offsets are the compiler's for arm and arm64, whatever
// machine runs the test.
func TestFixLayoutsMatchTheCompiler(t *testing.T) {
	for _, tc := range []struct {
		arch string
		size int
		l    fixLayout
	}{{"arm", FixScreenInfoSize32, fixLayout32()}, {"arm64", FixScreenInfoSize64, fixLayout64()}, {"386", FixScreenInfoSize32, fixLayout32()}} {
		sizes := types.SizesFor("gc", tc.arch)
		fs := fixFields()
		st := types.NewStruct(fs, nil)
		if got := sizes.Sizeof(st); int(got) != tc.size {
			t.Errorf("%s: sizeof = %d, want %d", tc.arch, got, tc.size)
		}
		o := sizes.Offsetsof(fs)
		got := fixLayout{int(sizes.Sizeof(types.Typ[types.Uintptr])),
			int(o[1]), int(o[2]), int(o[3]), int(o[4]), int(o[5]), int(o[6]), int(o[7]), int(o[8]),
			int(o[9]), int(o[10]), int(o[11]), int(o[12]), int(o[13])}
		if got != tc.l {
			t.Errorf("%s: compiler's layout %+v, decoder's %+v", tc.arch, got, tc.l)
		}
	}
	// New asks the running kernel for its own layout.
	if want := map[uintptr]int{4: 68, 8: 80}[unsafe.Sizeof(uintptr(0))]; nativeFixSize != want {
		t.Errorf("nativeFixSize = %d on this machine", nativeFixSize)
	}
}

// An RGB565 screen panned to the second page of a double buffer.
func fixtureVar() []byte {
	b := make([]byte, 160)
	for i, v := range []uint32{
		320, 240, // xres, yres
		320, 480, // virtual
		0, 240, // xoffset, yoffset
		16, 0, // bits_per_pixel, grayscale
		11, 5, 0, // red
		5, 6, 0, // green
		0, 5, 0, // blue
		0, 0, 0, // transp
		0, 0, // nonstd, activate
		37, 49, // height, width (mm)
		0, 39721, 40, 24, 32, 11, 96, 2, 0, 0, // accel_flags … vmode
		90, // rotate
		0,  // colorspace
	} {
		put32(b, 4*i, v)
	}
	return b
}

func TestParseVarScreenInfo(t *testing.T) {
	got, err := ParseVarScreenInfo(fixtureVar())
	want := VarScreenInfo{
		XRes: 320, YRes: 240, XResVirtual: 320, YResVirtual: 480, YOffset: 240, BitsPerPixel: 16,
		Red: Bitfield{11, 5, false}, Green: Bitfield{5, 6, false}, Blue: Bitfield{0, 5, false},
		HeightMM: 37, WidthMM: 49, Rotate: 90,
	}
	if err != nil || got != want {
		t.Errorf("\n got %+v, %v\nwant %+v", got, err, want)
	}
	if _, err := ParseVarScreenInfo(make([]byte, 156)); err == nil {
		t.Error("156 bytes parsed")
	}
}

func FuzzParseFixScreenInfo(f *testing.F) {
	f.Add(fixtureFixArm())
	f.Add(fixtureFixArm64())
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseFixScreenInfo(b) // never panics, whatever the length
	})
}
