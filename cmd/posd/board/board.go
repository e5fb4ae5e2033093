// Package board opens the devices a config's [board] table names and
// hands the terminal its device interfaces. It is the one place that
// knows every driver; the terminal itself sees only package device.
//
// A device that cannot be opened stops the daemon with an error naming
// the device, the driver, the config key and the path or pin, so the
// person at the board knows what to plug in or fix.
package board

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"

	"showpos/device"
	"showpos/drivers/escpos"
	"showpos/drivers/evdev"
	"showpos/drivers/fbdev"
	"showpos/drivers/gpioindicator"
	"showpos/drivers/matrixkeypad"
	"showpos/drivers/pn532"
	"showpos/drivers/serialscanner"
	"showpos/drivers/ssd1306"
	"showpos/drivers/st7789"
	"showpos/drivers/virtual"
	"showpos/terminal/check"
	"showpos/terminal/config"
	"showpos/terminal/nfcpay"
)

// Devices are the terminal's opened devices; a nil field is a device the
// board does not have.
type Devices struct {
	Display   device.Display
	Keypad    device.Keypad
	Scanner   device.Scanner
	NFC       device.NFCReader
	Indicator device.Indicator
	Printer   device.Printer
	// Sim is the simulator when any device is virtual: its page, its
	// scanner pty, its NFC taps.
	Sim *virtual.Board

	closers []func() error
}

// Close halts every device and releases its bus or port, last opened first.
func (d *Devices) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		if err := d.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	d.closers = nil
	return errors.Join(errs...)
}

func (d *Devices) onClose(f func() error) { d.closers = append(d.closers, f) }

// Open opens every device cfg names. On any failure it closes what it had
// opened and returns an error naming the device and the config key.
func Open(cfg config.Board, log *slog.Logger) (_ *Devices, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Devices{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if needsPeriph(cfg) {
		if _, err := host.Init(); err != nil {
			return nil, fmt.Errorf("board: initialise GPIO/I2C/SPI drivers: %w", err)
		}
	}
	if cfg.UsesVirtual() {
		sim, err := virtual.New(&virtual.Opts{
			Listen:         cfg.Virtual.Listen,
			Width:          cfg.Display.Width,
			Height:         cfg.Display.Height,
			Mono:           cfg.Display.Mono,
			MaxPayload:     cfg.Scanner.MaxPayload,
			PrinterColumns: cfg.Printer.Columns,
			Logger:         log.With("device", "virtual"),
			TapPhone:       tapPhone,
		})
		if err != nil {
			return nil, fmt.Errorf("board.virtual: start the simulator on %s (board.virtual.listen): %w", cfg.Virtual.Listen, err)
		}
		d.Sim = sim
		d.onClose(sim.Close)
	}
	if err := d.openDisplay(cfg.Display); err != nil {
		return nil, err
	}
	if err := d.openKeypad(cfg.Keypad); err != nil {
		return nil, err
	}
	if err := d.openScanner(cfg.Scanner, log); err != nil {
		return nil, err
	}
	if err := d.openNFC(cfg.NFC); err != nil {
		return nil, err
	}
	if err := d.openIndicator(cfg.Indicator); err != nil {
		return nil, err
	}
	if err := d.openPrinter(cfg.Printer, log); err != nil {
		return nil, err
	}
	return d, nil
}

func needsPeriph(cfg config.Board) bool {
	switch {
	case cfg.Display.Driver == "ssd1306", cfg.Display.Driver == "st7789",
		cfg.Keypad.Driver == "matrix", cfg.Indicator.Driver == "gpio":
		return true
	}
	return false
}

func (d *Devices) openDisplay(c config.Display) error {
	fail := func(what, key string, err error) error {
		return fmt.Errorf("board.display (%s): %s (%s): %w", c.Driver, what, key, err)
	}
	switch c.Driver {
	case "none":
	case "virtual":
		d.Display = d.Sim.Display()
	case "ssd1306":
		bus, err := i2creg.Open(c.I2CBus)
		if err != nil {
			return fail("open I2C bus "+c.I2CBus, "board.display.i2c_bus", err)
		}
		d.onClose(bus.Close)
		o := ssd1306.DefaultOpts
		o.Addr = c.I2CAddr
		dev, err := ssd1306.New(bus, &o)
		if err != nil {
			return fail(fmt.Sprintf("no SSD1306 answers at 0x%02x on %s", c.I2CAddr, c.I2CBus), "board.display.i2c_addr", err)
		}
		d.Display = dev
		d.onClose(dev.Halt)
	case "st7789":
		port, err := spireg.Open(c.SPIPort)
		if err != nil {
			return fail("open SPI port "+c.SPIPort, "board.display.spi_port", err)
		}
		d.onClose(port.Close)
		dc, err := pin(c.DCPin, "board.display.dc_pin")
		if err != nil {
			return fail("DC pin", "board.display.dc_pin", err)
		}
		var rst gpio.PinOut
		if c.ResetPin != "" {
			if rst, err = pin(c.ResetPin, "board.display.reset_pin"); err != nil {
				return fail("reset pin", "board.display.reset_pin", err)
			}
		}
		o := st7789.DefaultOpts
		o.W, o.H, o.Rotation = c.Width, c.Height, c.Rotation
		o.XOffset, o.YOffset, o.Invert, o.BGR = c.XOffset, c.YOffset, c.Invert, c.BGR
		if c.SPIHz > 0 {
			o.MaxHz = physic.Frequency(c.SPIHz) * physic.Hertz
		}
		dev, err := st7789.New(port, dc, rst, &o)
		if err != nil {
			return fail("start ST7789 on "+c.SPIPort, "board.display", err)
		}
		d.Display = dev
		d.onClose(dev.Halt)
	case "fbdev":
		dev, err := fbdev.New(c.Device, nil)
		if err != nil {
			return fail("open framebuffer "+c.Device, "board.display.device", err)
		}
		d.Display = dev
		d.onClose(dev.Halt)
	}
	return nil
}

func (d *Devices) openKeypad(c config.Keypad) error {
	fail := func(what, key string, err error) error {
		return fmt.Errorf("board.keypad (%s): %s (%s): %w", c.Driver, what, key, err)
	}
	switch c.Driver {
	case "none":
	case "virtual":
		d.Keypad = d.Sim.Keypad()
	case "matrix":
		rows := make([]gpio.PinIO, len(c.RowPins))
		for i, name := range c.RowPins {
			p := gpioreg.ByName(name)
			if p == nil {
				return fail("no GPIO pin named "+name, "board.keypad.row_pins", errNoPin)
			}
			rows[i] = p
		}
		cols := make([]gpio.PinOut, len(c.ColPins))
		for i, name := range c.ColPins {
			p, err := pin(name, "board.keypad.col_pins")
			if err != nil {
				return fail("column pin", "board.keypad.col_pins", err)
			}
			cols[i] = p
		}
		keymap := matrixkeypad.DefaultKeymap()
		if c.Keymap != nil {
			var err error
			if keymap, err = parseKeymap(c.Keymap); err != nil {
				return fail("keymap", "board.keypad.keymap", err)
			}
		}
		dev, err := matrixkeypad.New(rows, cols, keymap, nil)
		if err != nil {
			return fail("start the matrix keypad", "board.keypad", err)
		}
		d.Keypad = dev
		d.onClose(dev.Halt)
	case "evdev":
		dev, err := evdev.New(c.Device, nil)
		if err != nil {
			return fail("open input device "+c.Device, "board.keypad.device", err)
		}
		d.Keypad = dev
		d.onClose(dev.Halt)
	}
	return nil
}

func (d *Devices) openScanner(c config.Scanner, log *slog.Logger) error {
	switch c.Driver {
	case "none":
	case "virtual":
		d.Scanner = d.Sim.Scanner()
	case "serial":
		o := serialscanner.DefaultOpts
		o.Path, o.VID, o.PID = c.Path, c.USBVID, c.USBPID
		if c.Baud > 0 {
			o.Baud = c.Baud
		}
		if c.MaxPayload > 0 {
			o.MaxPayload = c.MaxPayload
		}
		o.Logger = log.With("device", "scanner")
		dev, err := serialscanner.New(&o)
		if err != nil {
			key, where := "board.scanner.path", c.Path
			if c.Path == "" {
				key, where = "board.scanner.usb_vid/usb_pid", c.USBVID+":"+c.USBPID
			}
			return fmt.Errorf("board.scanner (serial): open %s (%s): %w", where, key, err)
		}
		d.Scanner = dev
		d.onClose(dev.Halt)
	}
	return nil
}

func (d *Devices) openNFC(c config.NFC) error {
	switch c.Driver {
	case "none":
	case "virtual":
		d.NFC = d.Sim.NFC()
	case "pn532":
		o := pn532.DefaultOpts
		if c.Baud > 0 {
			o.Baud = c.Baud
		}
		dev, err := pn532.New(c.Path, &o)
		if err != nil {
			return fmt.Errorf("board.nfc (pn532): open %s (board.nfc.path): %w", c.Path, err)
		}
		d.NFC = dev
		d.onClose(dev.Halt)
	}
	return nil
}

func (d *Devices) openIndicator(c config.Indicator) error {
	switch c.Driver {
	case "none":
	case "virtual":
		d.Indicator = d.Sim.Indicator()
	case "gpio":
		var buzzer, led gpio.PinOut
		var err error
		if c.BuzzerPin != "" {
			if buzzer, err = pin(c.BuzzerPin, "board.indicator.buzzer_pin"); err != nil {
				return fmt.Errorf("board.indicator (gpio): buzzer (board.indicator.buzzer_pin): %w", err)
			}
		}
		if c.LEDPin != "" {
			if led, err = pin(c.LEDPin, "board.indicator.led_pin"); err != nil {
				return fmt.Errorf("board.indicator (gpio): LED (board.indicator.led_pin): %w", err)
			}
		}
		dev, err := gpioindicator.New(buzzer, led, nil)
		if err != nil {
			return fmt.Errorf("board.indicator (gpio): %w", err)
		}
		d.Indicator = dev
		d.onClose(dev.Halt)
	}
	return nil
}

// openPrinter opens the receipt printer. A serial or USB printer that is
// off or unplugged is not an error here: the driver reports it gone, and
// opens it when it comes (a sale never waits on the printer).
func (d *Devices) openPrinter(c config.Printer, log *slog.Logger) error {
	o := escpos.DefaultOpts
	o.Columns, o.CodeTable, o.Logger = c.Columns, byte(c.CodeTable), log.With("device", "printer")
	var (
		dev *escpos.Dev
		err error
	)
	switch c.Driver {
	case "none":
		return nil
	case "virtual":
		d.Printer = d.Sim.Printer()
		return nil
	case "serial":
		dev, err = escpos.OpenSerial(c.Path, c.Baud, &o)
	case "usb":
		dev, err = escpos.OpenUSB(c.Path, &o)
	}
	if err != nil {
		return fmt.Errorf("board.printer (%s): %s (board.printer): %w", c.Driver, c.Path, err)
	}
	d.Printer = dev
	d.onClose(dev.Halt)
	return nil
}

var errNoPin = errors.New("no such GPIO pin on this board")

func pin(name, key string) (gpio.PinIO, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("%s = %q: %w", key, name, errNoPin)
	}
	return p, nil
}

// parseKeymap turns key names (as device.Key.String writes them) into keys.
func parseKeymap(rows [][]string) ([][]device.Key, error) {
	out := make([][]device.Key, len(rows))
	for i, row := range rows {
		out[i] = make([]device.Key, len(row))
		for j, name := range row {
			k, ok := device.ParseKey(name)
			if !ok {
				k, ok = device.ParseKey(strings.ToLower(name))
			}
			if !ok {
				return nil, fmt.Errorf("row %d column %d: unknown key %q", i, j, name)
			}
			out[i][j] = k
		}
	}
	return out, nil
}

// tapPhone makes the simulator's phone for POST /sim/tap: the body is the
// payer's signed transaction in hex, and the phone answers the terminal's
// tap protocol (nfcpay) with it, as a payer's phone app would.
func tapPhone(body []byte) (virtual.Phone, error) {
	raw, err := check.DecodeHex(string(body))
	if err != nil {
		return nil, err
	}
	p := &nfcpay.Phone{Sign: func([]byte) ([]byte, error) { return raw, nil }}
	var mu sync.Mutex
	return func(ctx context.Context, apdu []byte) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		return p.Respond(apdu), nil
	}, nil
}
