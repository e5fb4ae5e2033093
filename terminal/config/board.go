package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Board is the [board] table: which driver serves each device the
// terminal uses, and where it is attached. cmd/posd/board opens them.
type Board struct {
	Display   Display   `toml:"display"`
	Keypad    Keypad    `toml:"keypad"`
	Scanner   Scanner   `toml:"scanner"`
	NFC       NFC       `toml:"nfc"`
	Indicator Indicator `toml:"indicator"`
	Printer   Printer   `toml:"printer"`
	Virtual   Virtual   `toml:"virtual"`
}

// Display is [board.display].
type Display struct {
	Driver string `toml:"driver"` // virtual | ssd1306 | st7789 | fbdev | none
	// ssd1306
	I2CBus  string `toml:"i2c_bus"`
	I2CAddr uint16 `toml:"i2c_addr"`
	// st7789
	SPIPort  string `toml:"spi_port"`
	SPIHz    int64  `toml:"spi_hz"`
	DCPin    string `toml:"dc_pin"`
	ResetPin string `toml:"reset_pin"`
	XOffset  int    `toml:"x_offset"`
	YOffset  int    `toml:"y_offset"`
	Invert   bool   `toml:"invert"`
	BGR      bool   `toml:"bgr"`
	// fbdev
	Device string `toml:"device"`
	// st7789, virtual
	Width    int  `toml:"width"`
	Height   int  `toml:"height"`
	Rotation int  `toml:"rotation"`
	Mono     bool `toml:"mono"`
}

// Keypad is [board.keypad].
type Keypad struct {
	Driver string `toml:"driver"` // virtual | matrix | evdev | none
	// matrix
	RowPins []string   `toml:"row_pins"`
	ColPins []string   `toml:"col_pins"`
	Keymap  [][]string `toml:"keymap"` // key names per row and column; default: the driver's
	// evdev
	Device string `toml:"device"`
}

// Scanner is [board.scanner].
type Scanner struct {
	Driver     string `toml:"driver"` // virtual | serial | none
	Path       string `toml:"path"`   // "" with usb_vid/usb_pid: find the USB scanner
	USBVID     string `toml:"usb_vid"`
	USBPID     string `toml:"usb_pid"`
	Baud       int    `toml:"baud"`
	MaxPayload int    `toml:"max_payload"`
}

// NFC is [board.nfc].
type NFC struct {
	Driver string `toml:"driver"` // virtual | pn532 | none
	Path   string `toml:"path"`
	Baud   int    `toml:"baud"`
	// Tag turns the tag role on or off (default on): while a request is
	// on screen a reader that can act as a tag (pn532) alternates between
	// the tap protocol and a Type 4 tag holding the request's link.
	Tag *bool `toml:"tag"`
	// ReaderWindow, TagWindow and TagRest are the alternation's timing
	// (nfcpay.DefaultTiming when zero): each reader window, each tag
	// window, and how long the tag role rests after a phone read it.
	ReaderWindow time.Duration `toml:"reader_window"`
	TagWindow    time.Duration `toml:"tag_window"`
	TagRest      time.Duration `toml:"tag_rest"`
}

// TagOn reports whether the tag role is on (board.nfc.tag, default true).
func (n NFC) TagOn() bool { return n.Tag == nil || *n.Tag }

// Indicator is [board.indicator].
type Indicator struct {
	Driver    string `toml:"driver"` // virtual | gpio | none
	BuzzerPin string `toml:"buzzer_pin"`
	LEDPin    string `toml:"led_pin"`
}

// Printer is [board.printer]: the receipt printer.
type Printer struct {
	Driver string `toml:"driver"` // virtual | serial | usb | none
	// Path is the serial port (serial, required) or the USB printer class
	// device (usb, default "/dev/usb/lp0").
	Path string `toml:"path"`
	Baud int    `toml:"baud"` // serial; default 9600
	// Columns is the paper's width in characters: 48 on 80 mm paper (the
	// default), 32 on 58 mm.
	Columns int `toml:"columns"`
	// CodeTable is ESC t's number for code page PC858 on this model
	// (default 19, Epson's).
	CodeTable int `toml:"code_table"`
}

// Virtual is [board.virtual]: the simulator's web page.
type Virtual struct {
	Listen string `toml:"listen"` // loopback address; default 127.0.0.1:8081
}

// UsesVirtual reports whether any device is simulated.
func (b *Board) UsesVirtual() bool {
	for _, d := range []string{b.Display.Driver, b.Keypad.Driver, b.Scanner.Driver, b.NFC.Driver, b.Indicator.Driver, b.Printer.Driver} {
		if d == "virtual" {
			return true
		}
	}
	return false
}

func oneOf(key, got string, allowed ...string) error {
	if !slices.Contains(allowed, got) {
		return invalid("%s %q: want one of %s", key, got, strings.Join(allowed, ", "))
	}
	return nil
}

func need(key, value, driver string) error {
	if value == "" {
		return invalid("%s is required for driver %q", key, driver)
	}
	return nil
}

// check fills defaults and refuses what no driver could open. A board
// table that is absent altogether means no devices (a headless terminal).
func (b *Board) check() error {
	for _, d := range []*string{&b.Display.Driver, &b.Keypad.Driver, &b.Scanner.Driver, &b.NFC.Driver, &b.Indicator.Driver, &b.Printer.Driver} {
		if *d == "" {
			*d = "none"
		}
	}
	d := &b.Display
	if err := oneOf("board.display.driver", d.Driver, "none", "virtual", "ssd1306", "st7789", "fbdev"); err != nil {
		return err
	}
	switch d.Driver {
	case "ssd1306":
		if d.I2CBus == "" {
			d.I2CBus = "/dev/i2c-1"
		}
		if d.I2CAddr == 0 {
			d.I2CAddr = 0x3C
		}
	case "st7789":
		if err := need("board.display.dc_pin", d.DCPin, d.Driver); err != nil {
			return err
		}
		if d.SPIPort == "" {
			d.SPIPort = "SPI0.0"
		}
		if d.Width == 0 && d.Height == 0 {
			d.Width, d.Height = 240, 240
		}
	case "fbdev":
		if d.Device == "" {
			d.Device = "/dev/fb0"
		}
	case "virtual":
		if d.Width == 0 && d.Height == 0 {
			d.Width, d.Height = 320, 240
		}
	}
	if d.Width < 0 || d.Height < 0 || d.Width > 4096 || d.Height > 4096 {
		return invalid("board.display width/height %dx%d out of range", d.Width, d.Height)
	}
	if d.Rotation%90 != 0 || d.Rotation < 0 || d.Rotation > 270 {
		return invalid("board.display.rotation %d: want 0, 90, 180 or 270", d.Rotation)
	}

	k := &b.Keypad
	if err := oneOf("board.keypad.driver", k.Driver, "none", "virtual", "matrix", "evdev"); err != nil {
		return err
	}
	switch k.Driver {
	case "matrix":
		if len(k.RowPins) == 0 || len(k.ColPins) == 0 {
			return invalid("board.keypad.row_pins and col_pins are required for driver \"matrix\"")
		}
		if k.Keymap != nil {
			if len(k.Keymap) != len(k.RowPins) {
				return invalid("board.keypad.keymap has %d rows, row_pins %d", len(k.Keymap), len(k.RowPins))
			}
			for i, row := range k.Keymap {
				if len(row) != len(k.ColPins) {
					return invalid("board.keypad.keymap row %d has %d keys, col_pins %d", i, len(row), len(k.ColPins))
				}
			}
		}
	case "evdev":
		if err := need("board.keypad.device", k.Device, k.Driver); err != nil {
			return err
		}
	}

	s := &b.Scanner
	if err := oneOf("board.scanner.driver", s.Driver, "none", "virtual", "serial"); err != nil {
		return err
	}
	if s.Driver == "serial" && s.Path == "" && (s.USBVID == "" || s.USBPID == "") {
		return invalid("board.scanner needs path, or usb_vid and usb_pid to find a USB scanner")
	}
	if s.MaxPayload < 0 || s.MaxPayload > 1<<20 {
		return invalid("board.scanner.max_payload %d out of range", s.MaxPayload)
	}

	n := &b.NFC
	if err := oneOf("board.nfc.driver", n.Driver, "none", "virtual", "pn532"); err != nil {
		return err
	}
	if n.Driver == "pn532" {
		if err := need("board.nfc.path", n.Path, n.Driver); err != nil {
			return err
		}
	}
	for _, w := range []struct {
		key      string
		v        time.Duration
		min, max time.Duration
	}{
		{"board.nfc.reader_window", n.ReaderWindow, 50 * time.Millisecond, 10 * time.Second},
		{"board.nfc.tag_window", n.TagWindow, 50 * time.Millisecond, 10 * time.Second},
		{"board.nfc.tag_rest", n.TagRest, 50 * time.Millisecond, time.Minute},
	} {
		if w.v != 0 && (w.v < w.min || w.v > w.max) {
			return invalid("%s %s out of range (%s to %s)", w.key, w.v, w.min, w.max)
		}
	}

	ind := &b.Indicator
	if err := oneOf("board.indicator.driver", ind.Driver, "none", "virtual", "gpio"); err != nil {
		return err
	}
	if ind.Driver == "gpio" && ind.BuzzerPin == "" && ind.LEDPin == "" {
		return invalid("board.indicator needs buzzer_pin or led_pin for driver \"gpio\"")
	}
	if err := b.Printer.check(); err != nil {
		return err
	}
	if b.Virtual.Listen == "" {
		b.Virtual.Listen = "127.0.0.1:8081"
	}
	return nil
}

func (b Board) String() string {
	return fmt.Sprintf("display=%s keypad=%s scanner=%s nfc=%s indicator=%s printer=%s",
		b.Display.Driver, b.Keypad.Driver, b.Scanner.Driver, b.NFC.Driver, b.Indicator.Driver, b.Printer.Driver)
}

func (p *Printer) check() error {
	if err := oneOf("board.printer.driver", p.Driver, "none", "virtual", "serial", "usb"); err != nil {
		return err
	}
	switch p.Driver {
	case "none":
		return nil
	case "serial":
		if err := need("board.printer.path", p.Path, p.Driver); err != nil {
			return err
		}
		if p.Baud == 0 {
			p.Baud = 9600
		}
	case "usb":
		if p.Path == "" {
			p.Path = "/dev/usb/lp0"
		}
	}
	if p.Columns == 0 {
		p.Columns = 48
	}
	if p.CodeTable == 0 {
		p.CodeTable = 19
	}
	switch {
	case p.Columns < 24 || p.Columns > 64:
		return invalid("board.printer.columns %d: want 32 (58 mm paper) or 48 (80 mm)", p.Columns)
	case p.Baud < 0:
		return invalid("board.printer.baud %d out of range", p.Baud)
	case p.CodeTable < 0 || p.CodeTable > 255:
		return invalid("board.printer.code_table %d: want 0 to 255", p.CodeTable)
	}
	return nil
}
