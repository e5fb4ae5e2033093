package evdev

import "showpos/device"

// Linux key codes the default keymap uses (linux/input-event-codes.h).
const (
	keyEsc       = 1
	key1         = 2 // KEY_1..KEY_9 are 2..10
	key0         = 11
	keyBackspace = 14
	keyEnter     = 28
	keyDot       = 52
	keyF1        = 59 // KEY_F1..KEY_F4 are 59..62
	keyKP7       = 71
	keyKP8       = 72
	keyKP9       = 73
	keyKP4       = 75
	keyKP5       = 76
	keyKP6       = 77
	keyKP1       = 79
	keyKP2       = 80
	keyKP3       = 81
	keyKP0       = 82
	keyKPDot     = 83
	keyKPEnter   = 96
	keyDelete    = 111
)

// DefaultKeymap returns a fresh map from Linux KEY_* codes to terminal keys:
// the top-row digits and the numeric keypad's, KEY_DOT and KEY_KPDOT for the
// decimal point, KEY_ENTER and KEY_KPENTER for Enter, KEY_ESC for Cancel,
// KEY_BACKSPACE for Backspace, KEY_DELETE for Clear and KEY_F1..KEY_F4.
func DefaultKeymap() map[uint16]device.Key {
	m := map[uint16]device.Key{
		key0:         device.Key0,
		keyKP0:       device.Key0,
		keyKP1:       device.Key1,
		keyKP2:       device.Key2,
		keyKP3:       device.Key3,
		keyKP4:       device.Key4,
		keyKP5:       device.Key5,
		keyKP6:       device.Key6,
		keyKP7:       device.Key7,
		keyKP8:       device.Key8,
		keyKP9:       device.Key9,
		keyDot:       device.KeyDot,
		keyKPDot:     device.KeyDot,
		keyEnter:     device.KeyEnter,
		keyKPEnter:   device.KeyEnter,
		keyEsc:       device.KeyCancel,
		keyBackspace: device.KeyBackspace,
		keyDelete:    device.KeyClear,
	}
	for i := range 9 {
		m[uint16(key1+i)] = device.Key1 + device.Key(i)
	}
	for i := range 4 {
		m[uint16(keyF1+i)] = device.KeyF1 + device.Key(i)
	}
	return m
}
