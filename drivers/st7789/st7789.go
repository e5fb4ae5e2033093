package st7789

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"showpos/device"
)

// Commands (datasheet section 9.1).
const (
	cmdSWRESET = 0x01
	cmdSLPIN   = 0x10
	cmdSLPOUT  = 0x11
	cmdNORON   = 0x13
	cmdINVOFF  = 0x20
	cmdINVON   = 0x21
	cmdDISPOFF = 0x28
	cmdDISPON  = 0x29
	cmdCASET   = 0x2A
	cmdRASET   = 0x2B
	cmdRAMWR   = 0x2C
	cmdMADCTL  = 0x36
	cmdCOLMOD  = 0x3A

	colmodRGB565 = 0x55 // 65k colours on the RGB interface and 16 bits a pixel on the MCU interface

	madctlMY  = 0x80 // row address order
	madctlMX  = 0x40 // column address order
	madctlMV  = 0x20 // row/column exchange
	madctlBGR = 0x08 // panel sub-pixel order is BGR
)

const (
	ramCols = 240 // controller RAM, portrait
	ramRows = 320

	// defaultMaxTx is spidev's default bufsiz, used when the port does not
	// say its limit.
	defaultMaxTx = 4096

	// wakeDelay covers the datasheet's 120 ms waits: after a hardware
	// reset or SWRESET before SLPOUT, after SLPOUT before SLPIN (and
	// before the panel is stable), after SLPIN before SLPOUT.
	wakeDelay = 120 * time.Millisecond
	// resetPulse is RST's low time (tRW ≥ 10 µs).
	resetPulse = 10 * time.Microsecond
)

// DefaultOpts is a 240×240 IPS module in the controller's orientation,
// glass at RAM rows 0..239, which needs inversion to show true colours.
var DefaultOpts = Opts{
	W:      240,
	H:      240,
	Invert: true,
	// The ST7789's serial write cycle is ≥ 16 ns (62.5 MHz); 40 MHz is
	// reliable on short wires and is 25 full 240×240 frames a second.
	MaxHz: 40 * physic.MegaHertz,
}

// Opts describes the panel and how it is mounted.
type Opts struct {
	// W and H are the picture's size as drawn, after Rotation.
	W, H int
	// Rotation turns the picture clockwise by 0, 90, 180 or 270 degrees
	// from the controller's orientation.
	Rotation int
	// XOffset and YOffset are the glass's first column and row in the
	// controller's 240×320 RAM at Rotation 0.
	XOffset, YOffset int
	// Invert sends INVON: most IPS panels show negative colours without it.
	Invert bool
	// BGR sets MADCTL's BGR bit, for panels whose red and blue look swapped.
	BGR bool
	// MaxHz is the SPI clock; 0 means DefaultOpts.MaxHz.
	MaxHz physic.Frequency
	// Mode is the SPI mode; modules without a CS pin usually need spi.Mode3.
	Mode spi.Mode
	// Sleep waits out the controller's delays; nil means time.Sleep.
	Sleep func(time.Duration)
}

// Dev is an ST7789 panel.
type Dev struct {
	mu     sync.Mutex
	c      spi.Conn
	dc     gpio.PinOut
	rect   image.Rectangle
	origin image.Point // RAM address of rect.Min after MADCTL
	madctl byte
	sleep  func(time.Duration)
	buf    []byte // one transfer
	halted bool
}

var _ device.Display = (*Dev)(nil)

// New resets and initialises the panel on p, with dc the D/C pin and rst
// the reset pin (nil or gpio.INVALID when RST is tied high). A nil o means
// DefaultOpts. The caller keeps and closes the port and pins.
func New(p spi.Port, dc, rst gpio.PinOut, o *Opts) (*Dev, error) {
	if o == nil {
		o = &DefaultOpts
	}
	if dc == nil || dc == gpio.INVALID {
		return nil, errors.New("st7789: a D/C pin is required (3-wire 9-bit SPI is not supported)")
	}
	if rst == gpio.INVALID {
		rst = nil
	}
	origin, madctl, err := geometry(o)
	if err != nil {
		return nil, err
	}
	hz := o.MaxHz
	if hz == 0 {
		hz = DefaultOpts.MaxHz
	}
	c, err := p.Connect(hz, o.Mode, 8)
	if err != nil {
		return nil, fmt.Errorf("st7789: %w", err)
	}
	maxTx := defaultMaxTx
	if l, ok := c.(conn.Limits); ok && l.MaxTxSize() > 0 {
		maxTx = l.MaxTxSize()
	}
	maxTx &^= 1 // whole pixels in every transfer
	if maxTx < 2 {
		maxTx = 2
	}
	d := &Dev{
		c:      c,
		dc:     dc,
		rect:   image.Rect(0, 0, o.W, o.H),
		origin: origin,
		madctl: madctl,
		sleep:  o.Sleep,
		buf:    make([]byte, maxTx),
	}
	if d.sleep == nil {
		d.sleep = time.Sleep
	}
	if err := d.init(rst, o.Invert); err != nil {
		return nil, fmt.Errorf("st7789: init: %w", err)
	}
	return d, nil
}

// geometry checks o and returns the RAM address of the picture's top-left
// pixel and the MADCTL value for o.Rotation.
func geometry(o *Opts) (image.Point, byte, error) {
	if o.W <= 0 || o.H <= 0 {
		return image.Point{}, 0, fmt.Errorf("st7789: invalid size %dx%d", o.W, o.H)
	}
	if o.XOffset < 0 || o.YOffset < 0 {
		return image.Point{}, 0, fmt.Errorf("st7789: invalid offset (%d,%d)", o.XOffset, o.YOffset)
	}
	// The glass in the controller's orientation.
	w, h := o.W, o.H
	if o.Rotation == 90 || o.Rotation == 270 {
		w, h = h, w
	}
	if o.XOffset+w > ramCols || o.YOffset+h > ramRows {
		return image.Point{}, 0, fmt.Errorf("st7789: %dx%d at rotation %d and offset (%d,%d) does not fit the controller's %dx%d RAM (a landscape panel needs rotation 90 or 270)",
			o.W, o.H, o.Rotation, o.XOffset, o.YOffset, ramCols, ramRows)
	}
	var m byte
	var p image.Point
	switch o.Rotation {
	case 0:
		p = image.Pt(o.XOffset, o.YOffset)
	case 90:
		// Picture x runs down the RAM rows, y leftwards along the columns.
		m = madctlMX | madctlMV
		p = image.Pt(o.YOffset, ramCols-o.XOffset-w)
	case 180:
		m = madctlMX | madctlMY
		p = image.Pt(ramCols-o.XOffset-w, ramRows-o.YOffset-h)
	case 270:
		// Picture x runs up the RAM rows, y rightwards along the columns.
		m = madctlMY | madctlMV
		p = image.Pt(ramRows-o.YOffset-h, o.XOffset)
	default:
		return image.Point{}, 0, fmt.Errorf("st7789: invalid rotation %d (want 0, 90, 180 or 270)", o.Rotation)
	}
	if o.BGR {
		m |= madctlBGR
	}
	return p, m, nil
}

func (d *Dev) init(rst gpio.PinOut, invert bool) error {
	if err := d.dc.Out(gpio.Low); err != nil {
		return err
	}
	if rst != nil {
		if err := rst.Out(gpio.Low); err != nil {
			return err
		}
		d.sleep(resetPulse)
		if err := rst.Out(gpio.High); err != nil {
			return err
		}
		d.sleep(wakeDelay)
	}
	if err := d.command(cmdSWRESET); err != nil {
		return err
	}
	d.sleep(wakeDelay)
	if err := d.command(cmdSLPOUT); err != nil {
		return err
	}
	d.sleep(wakeDelay)
	inv := byte(cmdINVOFF)
	if invert {
		inv = cmdINVON
	}
	for _, c := range [][]byte{
		{cmdCOLMOD, colmodRGB565},
		{cmdMADCTL, d.madctl},
		{inv},
		{cmdNORON},
	} {
		if err := d.command(c[0], c[1:]...); err != nil {
			return err
		}
	}
	// RAM holds noise after power-up: paint it black before showing it.
	if err := d.draw(d.rect, image.Black, image.Point{}); err != nil {
		return err
	}
	return d.command(cmdDISPON)
}

// String names the SPI connection, the D/C pin and the size.
func (d *Dev) String() string {
	return fmt.Sprintf("st7789.Dev{%s, dc=%s, %dx%d}", d.c, d.dc, d.rect.Dx(), d.rect.Dy())
}

// Bounds implements display.Drawer. Min is (0,0).
func (d *Dev) Bounds() image.Rectangle {
	return d.rect
}

// ColorModel implements display.Drawer: RGB565Model.
func (d *Dev) ColorModel() color.Model {
	return RGB565Model{}
}

// Draw implements display.Drawer: it sends r's pixels, taken from src at
// sp, and returns once they are on the wire. r is clipped to Bounds and to
// src's bounds; an empty r sends nothing. After Halt, Draw wakes the
// panel first.
func (d *Dev) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, sp = device.Clip(r, d.rect, src.Bounds(), sp)
	if r.Empty() {
		return nil
	}
	if d.halted {
		if err := d.wake(); err != nil {
			return fmt.Errorf("st7789: wake: %w", err)
		}
	}
	if err := d.draw(r, src, sp); err != nil {
		return fmt.Errorf("st7789: draw %v: %w", r, err)
	}
	return nil
}

// Halt implements conn.Resource: display off, then sleep in.
// It does not release the port or the pins.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	if err := d.command(cmdDISPOFF); err != nil {
		return fmt.Errorf("st7789: halt: %w", err)
	}
	if err := d.command(cmdSLPIN); err != nil {
		return fmt.Errorf("st7789: halt: %w", err)
	}
	d.halted = true
	return nil
}

func (d *Dev) wake() error {
	d.sleep(wakeDelay) // SLPIN to SLPOUT
	if err := d.command(cmdSLPOUT); err != nil {
		return err
	}
	d.sleep(wakeDelay)
	if err := d.command(cmdDISPON); err != nil {
		return err
	}
	d.halted = false
	return nil
}

// draw sends r (already clipped) from src at sp.
func (d *Dev) draw(r image.Rectangle, src image.Image, sp image.Point) error {
	x0, x1 := d.origin.X+r.Min.X, d.origin.X+r.Max.X-1
	y0, y1 := d.origin.Y+r.Min.Y, d.origin.Y+r.Max.Y-1
	if err := d.command(cmdCASET, byte(x0>>8), byte(x0), byte(x1>>8), byte(x1)); err != nil {
		return err
	}
	if err := d.command(cmdRASET, byte(y0>>8), byte(y0), byte(y1>>8), byte(y1)); err != nil {
		return err
	}
	if err := d.command(cmdRAMWR); err != nil {
		return err
	}
	if err := d.dc.Out(gpio.High); err != nil {
		return err
	}
	buf, n := d.buf, 0
	put := func(v RGB565) error {
		buf[n], buf[n+1] = byte(v>>8), byte(v)
		n += 2
		if n == len(buf) {
			n = 0
			return d.c.Tx(buf, nil)
		}
		return nil
	}
	switch img := src.(type) {
	case *image.Uniform:
		v := toRGB565(img.C)
		for i := r.Dx() * r.Dy(); i > 0; i-- {
			if err := put(v); err != nil {
				return err
			}
		}
	case *image.RGBA:
		for y := 0; y < r.Dy(); y++ {
			row := img.Pix[img.PixOffset(sp.X, sp.Y+y):]
			for x := 0; x < r.Dx(); x++ {
				p := row[4*x : 4*x+3]
				if err := put(RGB565(uint16(p[0]>>3)<<11 | uint16(p[1]>>2)<<5 | uint16(p[2]>>3))); err != nil {
					return err
				}
			}
		}
	default:
		for y := 0; y < r.Dy(); y++ {
			for x := 0; x < r.Dx(); x++ {
				if err := put(toRGB565(src.At(sp.X+x, sp.Y+y))); err != nil {
					return err
				}
			}
		}
	}
	if n > 0 {
		return d.c.Tx(buf[:n], nil)
	}
	return nil
}

// command sends c with D/C low, then its parameters with D/C high.
func (d *Dev) command(c byte, params ...byte) error {
	if err := d.dc.Out(gpio.Low); err != nil {
		return err
	}
	if err := d.c.Tx([]byte{c}, nil); err != nil {
		return err
	}
	if len(params) == 0 {
		return nil
	}
	if err := d.dc.Out(gpio.High); err != nil {
		return err
	}
	return d.c.Tx(params, nil)
}
