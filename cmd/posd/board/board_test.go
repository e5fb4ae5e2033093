package board_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"showpos/cmd/posd/board"
	"showpos/device"
	"showpos/terminal/config"
	"showpos/terminal/config/configtest"
)

// boardConfig is the [board] table of board (TOML) laid over the test
// config (configtest).
func boardConfig(t *testing.T, board string) config.Board {
	t.Helper()
	return configtest.New(t, board).Board
}

func TestSimulatedBoardOpensEveryDevice(t *testing.T) {
	cfg := boardConfig(t, `
[board.display]
driver = "virtual"
width = 240
height = 240
[board.keypad]
driver = "virtual"
[board.scanner]
driver = "virtual"
[board.nfc]
driver = "virtual"
[board.indicator]
driver = "virtual"
[board.printer]
driver = "virtual"
columns = 32
[board.virtual]
listen = "127.0.0.1:0"
`)
	d, err := board.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Display == nil || d.Keypad == nil || d.Scanner == nil || d.NFC == nil || d.Indicator == nil || d.Printer == nil || d.Sim == nil {
		t.Fatalf("devices: %+v", d)
	}
	if n := d.Printer.Columns(); n != 32 {
		t.Errorf("printer of %d columns, want 32 (board.printer.columns)", n)
	}
	if b := d.Display.Bounds(); b.Dx() != 240 || b.Dy() != 240 {
		t.Errorf("display bounds %v", b)
	}
	// The terminal's devices are the simulator's: a drawn pixel shows on
	// its page, a key pressed there reaches the keypad.
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.White)
	if err := d.Display.Draw(image.Rect(5, 5, 6, 6), img, image.Point{}); err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := d.Sim.Screen().At(5, 5).RGBA(); r != 0xffff {
		t.Errorf("simulator screen at (5,5) = %v", d.Sim.Screen().At(5, 5))
	}
	resp, err := http.Post(d.Sim.URL()+"sim/key", "application/json", strings.NewReader(`{"key":"enter"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if k, err := d.Keypad.ReadKey(ctx); err != nil || k != device.KeyEnter {
		t.Errorf("key from the page: %v, %v", k, err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestHeadlessBoardHasNoDevices(t *testing.T) {
	d, err := board.Open(boardConfig(t, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Display != nil || d.Keypad != nil || d.Scanner != nil || d.NFC != nil || d.Indicator != nil || d.Printer != nil || d.Sim != nil {
		t.Errorf("a board with no [board] table opened devices: %+v", d)
	}
}

// A device that is missing or busy stops the daemon with an error that
// names the device, its config key and the path.
func TestMissingOrBusyDeviceNamesItsKey(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name, board string
		want        []string
	}{
		{"serial scanner path", "[board.scanner]\ndriver = \"serial\"\npath = \"/dev/no-such-scanner\"",
			[]string{"board.scanner", "board.scanner.path", "/dev/no-such-scanner"}},
		{"USB scanner not plugged", "[board.scanner]\ndriver = \"serial\"\nusb_vid = \"dead\"\nusb_pid = \"beef\"",
			[]string{"board.scanner", "usb_vid", "dead:beef"}},
		{"PN532 port", "[board.nfc]\ndriver = \"pn532\"\npath = \"/dev/no-such-uart\"",
			[]string{"board.nfc", "board.nfc.path", "/dev/no-such-uart"}},
		{"evdev keypad", "[board.keypad]\ndriver = \"evdev\"\ndevice = \"/dev/input/no-such-event\"",
			[]string{"board.keypad", "board.keypad.device", "/dev/input/no-such-event"}},
		{"framebuffer", "[board.display]\ndriver = \"fbdev\"\ndevice = \"/dev/no-such-fb\"",
			[]string{"board.display", "board.display.device", "/dev/no-such-fb"}},
		{"I2C bus", "[board.display]\ndriver = \"ssd1306\"\ni2c_bus = \"/dev/i2c-77\"",
			[]string{"board.display", "board.display.i2c_bus", "/dev/i2c-77"}},
		{"GPIO pin", "[board.indicator]\ndriver = \"gpio\"\nbuzzer_pin = \"GPIO999\"",
			[]string{"board.indicator", "board.indicator.buzzer_pin", "GPIO999"}},
		{"simulator port busy", "[board.keypad]\ndriver = \"virtual\"\n[board.virtual]\nlisten = \"" + busy.Addr().String() + "\"",
			[]string{"board.virtual", "board.virtual.listen", busy.Addr().String()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := board.Open(boardConfig(t, tc.board), nil)
			if err == nil {
				d.Close()
				t.Fatal("opened")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// A serial or USB printer that is off or unplugged does not stop the
// daemon: it is opened, and reported gone, naming its port.
func TestAbsentPrinterIsReportedNotFatal(t *testing.T) {
	for _, tc := range []struct{ board, name string }{
		{"[board.printer]\ndriver = \"usb\"\npath = \"/dev/usb/no-such-lp\"", "/dev/usb/no-such-lp"},
		{"[board.printer]\ndriver = \"serial\"\npath = \"/dev/no-such-tty\"\ncolumns = 32", "/dev/no-such-tty"},
	} {
		d, err := board.Open(boardConfig(t, tc.board), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if d.Printer == nil || !strings.Contains(d.Printer.String(), tc.name) {
			t.Errorf("printer %v, want one on %s", d.Printer, tc.name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := d.Printer.Status(ctx); !errors.Is(err, device.ErrPrinterGone) {
			t.Errorf("%s: Status: %v, want ErrPrinterGone", tc.name, err)
		}
		cancel()
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}
