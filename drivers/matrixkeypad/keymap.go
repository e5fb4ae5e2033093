package matrixkeypad

import "showpos/device"

// DefaultKeymap returns a fresh keymap for the common 4×4 membrane keypad,
// rows top to bottom, columns left to right, with its silkscreen in
// brackets:
//
//	1      2      3       Cancel [A]
//	4      5      6       Clear  [B]
//	7      8      9       Enter  [C]
//	F1 [*] 0      . [#]   Backspace [D]
func DefaultKeymap() [][]device.Key {
	return [][]device.Key{
		{device.Key1, device.Key2, device.Key3, device.KeyCancel},
		{device.Key4, device.Key5, device.Key6, device.KeyClear},
		{device.Key7, device.Key8, device.Key9, device.KeyEnter},
		{device.KeyF1, device.Key0, device.KeyDot, device.KeyBackspace},
	}
}
