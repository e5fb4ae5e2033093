package ssd1306

import (
	"fmt"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/devices/v3/ssd1306"

	"showpos/device"
)

// periphAddr is the address periph's ssd1306.NewI2C always talks to.
const periphAddr = 0x3C

// DefaultOpts is the common 0.96" 128×64 module at address 0x3C, COM pins
// in the alternative configuration, not mirrored.
var DefaultOpts = Opts{Addr: 0x3C, W: 128, H: 64}

// Opts describes the panel.
type Opts struct {
	// Addr is the 7-bit I²C address: 0x3C (SA0 low, the usual) or 0x3D.
	// 0 means 0x3C.
	Addr uint16
	// W and H are the panel size in pixels: W a multiple of 8 up to 128,
	// H a multiple of 8 up to 64 (128×64 and 128×32 modules exist).
	// 0 means 128 and 64.
	W, H int
	// Rotated turns the picture by 180° (mirrors both ways), for a module
	// mounted upside down.
	Rotated bool
	// MirrorVertical and MirrorHorizontal flip one axis each (COM and SEG
	// remap); with Rotated set both are implied.
	MirrorVertical, MirrorHorizontal bool
	// Sequential selects the sequential COM pin configuration; toggle it
	// when every other row is missing.
	Sequential bool
	// SwapTopBottom swaps the COM left/right remap; toggle it when the top
	// and bottom halves of the picture are swapped.
	SwapTopBottom bool
}

// Dev is the panel. It is periph's *ssd1306.Dev (Draw, Write, Scroll,
// SetContrast, Invert, Halt, …) with the address it really uses.
type Dev struct {
	*ssd1306.Dev
	bus  i2c.Bus
	addr uint16
}

var _ device.Display = (*Dev)(nil)

// New initialises the panel on bus (which the caller keeps and closes).
// A nil o means DefaultOpts. The whole init sequence is one I²C write; an
// absent panel fails it, so New fails early.
func New(bus i2c.Bus, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	addr := o.Addr
	if addr == 0 {
		addr = periphAddr
	}
	switch addr {
	case 0x3C, 0x3D:
	case 0x78, 0x7A:
		return nil, fmt.Errorf("ssd1306: address %#x is the 8-bit form of %#x; use the 7-bit address", addr, addr>>1)
	default:
		return nil, fmt.Errorf("ssd1306: address %#x: an SSD1306 answers only at 0x3c or 0x3d", addr)
	}
	w, h := o.W, o.H
	if w == 0 {
		w = DefaultOpts.W
	}
	if h == 0 {
		h = DefaultOpts.H
	}
	po := ssd1306.Opts{
		W:                w,
		H:                h,
		MirrorVertical:   o.MirrorVertical || o.Rotated,
		MirrorHorizontal: o.MirrorHorizontal || o.Rotated,
		Sequential:       o.Sequential,
		SwapTopBottom:    o.SwapTopBottom,
	}
	var b i2c.Bus = bus
	if addr != periphAddr {
		b = &addrBus{Bus: bus, addr: addr}
	}
	d, err := ssd1306.NewI2C(b, &po)
	if err != nil {
		return nil, fmt.Errorf("ssd1306: init at %s(%#x): %w", bus, addr, err)
	}
	return &Dev{Dev: d, bus: bus, addr: addr}, nil
}

// String names the bus, the address and the size.
func (d *Dev) String() string {
	r := d.Bounds()
	return fmt.Sprintf("ssd1306.Dev{%s(%#x), %dx%d}", d.bus, d.addr, r.Dx(), r.Dy())
}

// addrBus sends periph's transactions, addressed to 0x3C, to addr.
type addrBus struct {
	i2c.Bus
	addr uint16
}

func (b *addrBus) Tx(_ uint16, w, r []byte) error {
	return b.Bus.Tx(b.addr, w, r)
}
